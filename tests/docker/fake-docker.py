#!/usr/bin/env python3
"""fake-docker.py SOCKET SCENARIO: a fake Docker Engine API on a unix socket.

Serves canned answers to GET /v1.41/containers/json, /v1.41/networks and
/v1.41/events for one scenario, many of them hostile, so that the client's
checks can be tested without a Docker that would never send such data.
Any other path, another API version, or an events filter other than the
one ringfence sends, is answered 404 or 400.  Runs until SIGTERM or SIGINT.
Standard library only.
"""
import json
import os
import select
import signal
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

API = "/v1.41"
EVENTS_FILTER = {
    "type": ["container", "network"],
    "event": ["start", "die", "stop", "destroy", "rename", "connect",
              "disconnect", "create", "remove"],
}


def hid(n):
    """A valid 64-digit id from a number below 256."""
    return "%02x" % n * 32


NET_BRIDGE, NET_FRONT, NET_HOST, NET_NONE, NET_CUSTOM = (
    hid(0xb0), hid(0xb1), hid(0xb2), hid(0xb3), hid(0xb4))


def attach(net_id, v4="", v6=""):
    return {"IPAMConfig": None, "Links": None, "Aliases": None,
            "NetworkID": net_id, "EndpointID": hid(0xee), "Gateway": "",
            "IPAddress": v4, "IPPrefixLen": 16, "IPv6Gateway": "",
            "GlobalIPv6Address": v6, "GlobalIPv6PrefixLen": 64,
            "MacAddress": "02:42:ac:11:00:02", "DriverOpts": None}


def container(cid, names, labels=None, networks=None, **extra):
    c = {"Id": cid, "Names": names, "Image": "rftest",
         "ImageID": "sha256:" + hid(0xaa), "Command": "sleep 600",
         "Created": 1700000000, "Ports": [], "Labels": labels,
         "State": "running", "Status": "Up 1 second",
         "HostConfig": {"NetworkMode": "default"},
         "NetworkSettings": {"Networks": networks}, "Mounts": []}
    c.update(extra)
    return c


def network(nid, name, driver="bridge", options=None, **extra):
    n = {"Name": name, "Id": nid, "Created": "2024-01-01T00:00:00Z",
         "Scope": "local", "Driver": driver, "EnableIPv6": False,
         "IPAM": {"Driver": "default", "Options": None, "Config": []},
         "Internal": False, "Attachable": False, "Ingress": False,
         "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
         "Containers": {}, "Options": options if options is not None
         else {}, "Labels": {}}
    n.update(extra)
    return n


BASIC_NETWORKS = [
    network(NET_BRIDGE, "bridge", options={
        "com.docker.network.bridge.default_bridge": "true",
        "com.docker.network.bridge.name": "docker0"}),
    network(NET_FRONT, "front"),
    network(NET_HOST, "host", driver="host"),
    network(NET_NONE, "none", driver="null", options=None),
    network(NET_CUSTOM, "custom", options={
        "com.docker.network.bridge.name": ""}),
]

BASIC_CONTAINERS = [
    container(hid(1), ["/web"],
              {"com.docker.compose.service": "cybex", "tier": "front"},
              {"front": attach(NET_FRONT, "172.18.0.2", "fd00:18::2"),
               "bridge": attach(NET_BRIDGE, "172.17.0.2")}),
    container(hid(2), ["/web/db", "/db"], None,
              {"host": attach(NET_HOST)}),
    container(hid(3), ["/solo"], {}, {}),
    {"Id": hid(4), "Names": ["/nonet"], "Labels": {"x": ""}},
]


def hostile():
    many = {"k%d" % i: "v" for i in range(4097)}
    labels = {
        "ok": "yes",
        "big": "x" * (2 << 20),
        "a\u0000b": "nul in key",
        "nulval": "a\u0000b",
        "num": 5,
        "k" * 5000: "long key",
        "inject": '"; flush ruleset; "',
        "edge": "v" * 4096,
    }
    containers = [
        container(hid(0x10), ['/we"ird'], labels,
                  {"front": attach(NET_FRONT, "172.18.0.10")}),
        container(hid(0x11), ["/a\nb"]),
        container(hid(0x12), ["/x}"]),
        container(hid(0x13), ["/a;b"]),
        container(hid(0x14), ['/"; flush ruleset; "']),
        container(hid(0x15), ["/" + "n" * 129]),
        container(hid(0x16), ["/" + "n" * 128]),
        container(hid(0x17), ["/-dash"]),
        container("g" * 64, ["/nonhex"]),
        container("AB" * 32, ["/upper"]),
        container("a" * 63, ["/short"]),
        container(12345, ["/numid"]),
        42,
        None,
        container(hid(0x18), ["/netlist"], None, [attach(NET_FRONT)]),
        container(hid(0x19), ["/ipnum"], None,
                  {"front": dict(attach(NET_FRONT, v6="fd00:18::19"),
                                 IPAddress=172180019)}),
        container(hid(0x1a), ["/badip"], None, {
            "front": attach(NET_FRONT, "172.18.0.300", "fd00::zz"),
            "bridge": attach(NET_BRIDGE, "10.0.0.0/24", "10.0.0.5"),
            "custom": attach(NET_CUSTOM, "10.0.0.1\u0000x", "::1/128"),
            "none": attach(NET_NONE, "::1", "fe80::1%eth0")}),
        container(hid(0x1b), ["/badnet"], None, {
            "front": attach("bad"),
            '"; flush ruleset; "': attach(NET_CUSTOM, "172.19.0.2"),
            "bridge": "not an object"}),
        container(hid(0x1c), ["/labellist"], ["a=b"]),
        dict(container(hid(0x1d), ["/settingsstr"]),
             NetworkSettings="x"),
        container(hid(0x1e), ["/dup"]),
        container(hid(0x1e), ["/dup"]),
        container(hid(0x1f), ["/twin"]),
        container(hid(0x20), ["/twin"]),
        container(hid(0x21), ["/manylabels"], many),
        container(hid(0x23), "/str"),
    ]
    networks = BASIC_NETWORKS[:3] + [
        network(hid(0xc0), "semi", options={
            "com.docker.network.bridge.name": "br0; flush ruleset"}),
        network(hid(0xc1), "long16", options={
            "com.docker.network.bridge.name": "abcdefghijklmnop"}),
        network(hid(0xc2), "long15", options={
            "com.docker.network.bridge.name": "abcdefghijklmno"}),
        network(hid(0xc3), "shell", options={
            "com.docker.network.bridge.name": "$(reboot)"}),
        network(hid(0xc4), "dotdot", options={
            "com.docker.network.bridge.name": ".."}),
        network(hid(0xc5), "numopt", options={
            "com.docker.network.bridge.name": 7}),
        network(hid(0xc6), "listopt", options=["a"]),
        network(hid(0xc7), '"; flush ruleset; "'),
        network("z" * 64, "nonhex"),
        network(hid(0xc8), "drivernum", driver=3),
        network(hid(0xc9), "caf\u00e9"),
        network(hid(0xca), "nl\nname", options={
            "com.docker.network.bridge.name": "eth0\n"}),
        "not an object",
    ]
    return containers, networks


def ev(typ, action, **attrs):
    return json.dumps({
        "status": action, "id": hid(1), "from": "rftest", "Type": typ,
        "Action": action, "Actor": {"ID": hid(1), "Attributes": attrs},
        "scope": "local", "time": 1700000000,
        "timeNano": 1700000000000000000}).encode()


# Events on the first connection, then the server closes it.  Expected
# notifications: on connecting, start, net connect, junk, over-long, die,
# no-Type; not exec_start, create, the empty line.
FIRST_EVENTS = [
    ev("container", "start", name="web"),
    ev("container", "exec_start: sh -c true"),
    ev("container", "create"),
    ev("network", "connect", container=hid(1)),
    b"{not json",
    b'{"Type": "container", "Action": "start", "pad": "' +
    b"x" * (2 << 20) + b'"}',
    ev("container", "die", exitCode="0"),
    b'{"Action": "start"}',
    b"",
]


# Malformed answers to a listing, sent as they are: the client must refuse
# each with the error run-fake.sh expects, and hold no more than its bounds.
HEAD_CHUNKED = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
RAW_LISTINGS = {
    "no-answer": b"",
    "head-cut": b"HTTP/1.1 200 OK\r\nContent-Type: appl",
    "http2": b"HTTP/2 200\r\n\r\n",
    "header-long": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 9000 +
    b"\r\nContent-Length: 2\r\n\r\n[]",
    "headers-huge": b"HTTP/1.1 200 OK\r\n" +
    b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 4000) for i in range(20)) +
    b"Content-Length: 2\r\n\r\n[]",
    "folded": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n  folded\r\n"
    b"\r\n[]",
    "nul-header": b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2"
    b"\r\n\r\n[]",
    "bad-length": b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n[]",
    "two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
    b"Content-Length: 3\r\n\r\n[] ",
    "te-gzip": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
    b"\r\n",
    "bad-chunk-size": HEAD_CHUNKED + b"zz\r\n[]\r\n0\r\n\r\n",
    "chunk-overflow": HEAD_CHUNKED + b"1" + b"0" * 16 + b"\r\n[]\r\n",
    "chunk-too-long": HEAD_CHUNKED + b"2\r\n[]]\r\n0\r\n\r\n",
    "chunk-cut": HEAD_CHUNKED + b"10\r\n[{\"Id\"",
    "chunk-no-last": HEAD_CHUNKED + b"2\r\n[]\r\n",
    "chunk-line-long": HEAD_CHUNKED + b"2;" + b"x" * 10000 +
    b"\r\n[]\r\n0\r\n\r\n",
    "trailers-long": HEAD_CHUNKED + b"2\r\n[]\r\n0\r\n" +
    b"".join(b"X-T%d: %s\r\n" % (i, b"y" * 1000) for i in range(70)) +
    b"\r\n",
}


def chunked(body):
    """body in uneven chunks, with what the grammar allows besides."""
    out, i = [], 0
    for n in (1, 7, 100, 4096):
        part = body[i:i + n]
        i += n
        if part:
            out.append(b"%X;ext=\"v\"\r\n%s\r\n" % (len(part), part))
    if body[i:]:
        out.append(b"%x \r\n%s\r\n" % (len(body[i:]), body[i:]))
    return b"".join(out) + b"0\r\nX-Trailer: yes\r\n\r\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-docker"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, close_early=False, length=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length",
                         str(len(body) if length is None else length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if not url.path.startswith(API + "/"):
            return self.reply(404, b'{"message":"wrong API version"}')
        path = url.path[len(API):]
        scen = self.server.scenario
        if path == "/events":
            q = urllib.parse.parse_qs(url.query)
            try:
                filters = json.loads(q["filters"][0])
            except (KeyError, ValueError):
                filters = None
            if filters != EVENTS_FILTER:
                return self.reply(400, b'{"message":"bad filters"}')
            return self.events()
        if path not in ("/containers/json", "/networks") or url.query:
            return self.reply(404, b'{"message":"page not found"}')
        which = 0 if path == "/containers/json" else 1
        return self.listing(scen, which)

    def listing(self, scen, which):
        if scen == "basic":
            data = (BASIC_CONTAINERS, BASIC_NETWORKS)[which]
        elif scen == "empty":
            data = []
        elif scen == "hostile":
            data = hostile()[which]
        elif scen == "truncated":
            body = json.dumps(BASIC_CONTAINERS).encode()[:200]
            return self.reply(200, body)
        elif scen == "short-body":
            self.reply(200, b'[{"Id": "', length=1000)
            return
        elif scen == "http500":
            return self.reply(500, b'{"message":"boom \\u001b[31mred\\n"}')
        elif scen == "networks404":
            if which == 0:
                data = BASIC_CONTAINERS
            else:
                return self.reply(404, b"not json")
        elif scen == "not-array":
            data = {"Id": hid(1)}
        elif scen == "deep":
            return self.reply(200, b"[" * 100000 + b"]" * 100000)
        elif scen == "huge":
            # No Content-Length: only the client's own count can stop it.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            chunk = b" " * (1 << 20)
            try:
                self.wfile.write(b"[")
                for _ in range(80):
                    self.wfile.write(chunk)
                self.wfile.write(b"]")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        elif scen == "huge-length":
            self.reply(200, b"[", length=80 << 20)
            return
        elif scen == "slow":
            time.sleep(30)
            return
        elif scen == "garbage":
            self.wfile.write(b"garbage\r\n\r\n")
            self.close_connection = True
            return
        elif scen in RAW_LISTINGS:
            return self.raw(RAW_LISTINGS[scen])
        elif scen in ("chunked", "interim", "eof-body"):
            body = json.dumps((BASIC_CONTAINERS, BASIC_NETWORKS)[which])
            return self.framed(scen, body.encode())
        elif scen == "slow-body":
            # Alive but never done: only the whole-listing bound ends it.
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
                     hang_up=False)
            try:
                for _ in range(60):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.5)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        else:
            return self.reply(404, b'{"message":"no such scenario"}')
        self.reply(200, json.dumps(data).encode())

    def raw(self, data, hang_up=True):
        """Send bytes as they are."""
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = hang_up

    def framed(self, scen, body):
        """A good answer, framed other than by Content-Length alone."""
        if scen == "chunked":
            return self.raw(HEAD_CHUNKED + chunked(body))
        if scen == "interim":
            return self.raw(b"HTTP/1.1 100 Continue\r\n\r\n"
                            b"HTTP/1.1 102 Processing\r\nX-A: b\r\n\r\n"
                            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                            b"\r\n%s" % (len(body), body))
        # HTTP/1.0 style: the body ends where the connection does.
        return self.raw(b"HTTP/1.0 200 OK\n\n" + body)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def hold(self):
        """Keep the stream open until the client goes away."""
        self.request.setblocking(True)
        while True:
            r, _, _ = select.select([self.request], [], [], 1.0)
            if r and not self.request.recv(4096):
                return

    def events(self):
        scen = self.server.scenario
        with self.server.lock:
            self.server.connections += 1
            n = self.server.connections
        if scen == "events-500":
            return self.reply(500, b'{"message":"no events today"}')
        if scen == "events-silent":
            return self.hold()
        if scen == "events-head-huge":
            return self.raw(RAW_LISTINGS["headers-huge"])
        if scen in ("events-badchunk", "events-cut", "events-deep") and n > 1:
            scen = "hold"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        try:
            if scen == "events" and n == 1:
                for line in FIRST_EVENTS:
                    if line.startswith(b'{"status": "die"'):
                        # One event across three chunks.
                        self.chunk(line[:10])
                        self.chunk(line[10:20])
                        self.chunk(line[20:] + b"\n")
                    else:
                        self.chunk(line + b"\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            if scen == "events-flap":
                self.wfile.write(b"0\r\n\r\n")
                return
            if scen == "events-badchunk":
                self.chunk(ev("container", "start") + b"\n")
                self.wfile.write(b"zz\r\n")
                return
            if scen == "events-cut":
                self.wfile.write(b"1000\r\n" + ev("container", "start"))
                return
            if scen == "events-deep":
                self.chunk(b"[" * 100000 + b"\n")
                self.chunk(b'{"a": [[[{"b": "[[[[["}]]], "Type": 1}\n')
            self.hold()
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up early is what some scenarios are for.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main():
    if len(sys.argv) != 3:
        print("usage: fake-docker.py SOCKET SCENARIO", file=sys.stderr)
        sys.exit(2)
    path, scenario = sys.argv[1], sys.argv[2]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = Server(path, Handler)
    srv.scenario = scenario
    srv.lock = threading.Lock()
    srv.connections = 0

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


if __name__ == "__main__":
    main()
