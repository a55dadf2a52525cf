#!/bin/bash
# The Docker client against a fake Engine API (fake-docker.py), hostile
# data included.
#
#   tests/docker/run-fake.sh [BUILD_DIR]... [--update]
#
# Without BUILD_DIR: build, and build-san too if it holds a docker-probe
# (make SANITIZE=1 BUILD=build-san).  Listings are golden files:
# expected/NAME.out is the exact stdout of `docker-probe list`, and
# expected/NAME.err its exact stderr, with the socket path as SOCK.
# --update rewrites them from the current output: read the diff first.
#
# shellcheck disable=SC2016 # check's expressions are evaluated in check
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
update=0
builds=()
for a in "$@"; do
	case $a in
	--update) update=1 ;;
	*) builds+=("$a") ;;
	esac
done
if [ ${#builds[@]} -eq 0 ]; then
	builds=(build)
	[ -x "$root/build-san/docker-probe" ] && builds+=(build-san)
fi

pass=0 fail=0
tmp=$(mktemp -d /tmp/rftd-api-fake.XXXXXX)
sock=$tmp/d.sock
srv=

ok()  { pass=$((pass + 1)); echo "ok - $1"; }
bad() {
	fail=$((fail + 1))
	echo "not ok - $1"
	if [ -n "${2:-}" ]; then sed 's/^/#   /' "$2" | head -n 40; fi
}

server_start() {
	python3 "$here/fake-docker.py" "$sock" "$1" &
	srv=$!
	for _ in $(seq 100); do
		[ -S "$sock" ] && return 0
		sleep 0.05
	done
	echo "run-fake: fake-docker.py did not start" >&2
	return 1
}

server_stop() {
	[ -n "$srv" ] || return 0
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	srv=
}

trap 'server_stop; rm -rf "$tmp"' EXIT

# Sanitizer reports go to stderr; any of them fails the test.
sanitizer_clean() {
	! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"
}

# list SCENARIO [NAME]: compare with expected/NAME.out and .err (NAME is
# SCENARIO unless given; --update writes only a scenario's own files)
golden_list() {
	local scen=$1 name=${2:-$1} out=$tmp/out err=$tmp/err
	server_start "$scen" || { bad "$b: list $scen: no server"; return; }
	"$probe" list "$sock" >"$out" 2>"$tmp/err.raw"
	server_stop
	sed "s|$sock|SOCK|g" "$tmp/err.raw" >"$err"
	if [ $update = 1 ] && [ "$b" = "${builds[0]}" ] &&
	    [ "$name" = "$scen" ]; then
		cp "$out" "$here/expected/$scen.out"
		cp "$err" "$here/expected/$scen.err"
	fi
	if ! sanitizer_clean "$err"; then
		bad "$b: list $scen: sanitizer report" "$err"
	elif ! diff -u "$here/expected/$name.out" "$out" >"$tmp/diff"; then
		bad "$b: list $scen: output differs" "$tmp/diff"
	elif ! diff -u "$here/expected/$name.err" "$err" >"$tmp/diff"; then
		bad "$b: list $scen: log differs" "$tmp/diff"
	else
		ok "$b: list $scen"
	fi
}

# list_error SCENARIO PATTERN: one line on stdout matching the glob
# PATTERN (socket path as SOCK), exit status 1.
list_error() {
	local scen=$1 want=$2 got rc
	if [ "$scen" != - ]; then
		server_start "$scen" || { bad "$b: $scen: no server"; return; }
	fi
	"$probe" list "${3:-$sock}" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	server_stop
	got=$(sed "s|$sock|SOCK|g" "$tmp/out")
	# shellcheck disable=SC2053 # want is a glob on purpose
	if ! sanitizer_clean "$tmp/err"; then
		bad "$b: list $scen: sanitizer report" "$tmp/err"
	elif [ $rc -ne 1 ] || [[ $got != $want ]]; then
		echo "exit $rc, printed: $got" >"$tmp/why"
		echo "wanted: $want" >>"$tmp/why"
		bad "$b: list $scen: $want" "$tmp/why"
	else
		ok "$b: list $scen: ${got:0:100}"
	fi
}

# events SECONDS: run the event thread, leave stdout in $tmp/out and the
# log in $tmp/err; sets nnotify and stop_ms.
events() {
	"$probe" -v events "$sock" "$1" >"$tmp/out" 2>"$tmp/err.raw"
	sed "s|$sock|SOCK|g" "$tmp/err.raw" >"$tmp/err"
	nnotify=$(grep -cx notify "$tmp/out")
	stop_ms=$(sed -n 's/^stopped in \([0-9]*\) ms$/\1/p' "$tmp/err")
	stop_ms=${stop_ms:-99999}
}

# check NAME EXPR: ok if the shell expression EXPR holds
check() {
	if ! sanitizer_clean "$tmp/err"; then
		bad "$b: $1: sanitizer report" "$tmp/err"
	elif eval "$2"; then
		ok "$b: $1"
	else
		{ echo "condition: $2"; echo "notifications: $nnotify," \
		    "stop took $stop_ms ms"; cat "$tmp/err"; } >"$tmp/why"
		bad "$b: $1" "$tmp/why"
	fi
}

log_count() {
	grep -cF -- "$1" "$tmp/err"
}

for b in "${builds[@]}"; do
	case $b in
	/*) probe=$b/docker-probe ;;
	*) probe=$root/$b/docker-probe ;;
	esac
	if [ ! -x "$probe" ]; then
		bad "$b: no docker-probe (run make)"
		continue
	fi

	for scen in basic empty hostile; do
		golden_list "$scen"
	done
	# The same answer in chunks (with extensions and a trailer), after
	# two interim 1xx answers, and delimited by the end of the connection.
	for scen in chunked interim eof-body; do
		golden_list "$scen" basic
	done

	list_error - "error: ENOENT: cannot connect to Docker at SOCK: No such file or directory"
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
	list_error - "error: ECONNREFUSED: cannot connect to Docker at SOCK: Connection refused"
	rm -f "$sock"
	list_error - "error: ENAMETOOLONG: Docker socket path is longer than 107 bytes: /*" \
	    "/$(printf 'x%.0s' $(seq 120))"
	list_error truncated "error: EPROTO: Docker's list of containers is not valid JSON: * at byte 200"
	list_error short-body "error: EPROTO: GET /containers/json from Docker at SOCK: transfer closed *"
	list_error http500 "error: EPROTO: Docker answered GET /containers/json with HTTP 500: boom ?[31mred?"
	list_error networks404 "error: EPROTO: Docker answered GET /networks with HTTP 404"
	list_error not-array "error: EPROTO: Docker's list of containers is not a JSON array"
	list_error deep "error: EPROTO: Docker's list of containers is not valid JSON: maximum parsing depth reached *"
	list_error huge "error: EPROTO: Docker's answer to GET /containers/json is larger than 64 MiB"
	list_error huge-length "error: EPROTO: Docker's answer to GET /containers/json is larger than 64 MiB"
	list_error garbage "error: EPROTO: GET /containers/json from Docker at SOCK: *"
	list_error no-such-scenario "error: EPROTO: Docker answered GET /containers/json with HTTP 404: no such scenario"
	# Malformed HTTP: every framing rule broken once, every bound
	# passed once.
	g="error: EPROTO: GET /containers/json from Docker at SOCK:"
	list_error no-answer "$g transfer closed in the middle of the status line"
	list_error head-cut "$g transfer closed in the middle of a header line"
	list_error http2 "$g not an HTTP/1.x answer"
	list_error header-long "$g a header line is longer than 8192 bytes"
	list_error headers-huge "$g headers longer than 65536 bytes"
	list_error folded "$g malformed header line '  folded'"
	list_error nul-header "$g a header line holds a NUL byte"
	list_error bad-length "$g bad Content-Length '-2'"
	list_error two-lengths "$g bad Content-Length '3'"
	list_error te-gzip "$g unsupported Transfer-Encoding 'gzip, chunked'"
	list_error bad-chunk-size "$g bad chunk size 'zz'"
	list_error chunk-overflow "$g bad chunk size '10000000000000000'"
	list_error chunk-too-long "$g a chunk is longer than its size line says"
	list_error chunk-cut "$g transfer closed in the middle of a chunk"
	list_error chunk-no-last "$g transfer closed in the middle of a chunk-size line"
	list_error chunk-line-long "$g a chunk-size line is longer than 8192 bytes"
	list_error trailers-long "$g trailers longer than 65536 bytes"

	# shellcheck disable=SC2034 # read in check's expression
	start=$SECONDS
	list_error slow "error: ETIMEDOUT: GET /containers/json from Docker at SOCK: no complete answer within 10 s"
	check "list slow: gave up after 10 s" \
	    '[ $((SECONDS - start)) -le 12 ]'
	# A byte every 0.5 s: the bound is on the whole listing, not on
	# silence.
	start=$SECONDS
	list_error slow-body "error: ETIMEDOUT: GET /containers/json from Docker at SOCK: no complete answer within 10 s"
	check "list slow-body: gave up after 10 s" \
	    '[ $((SECONDS - start)) -le 12 ]'

	# Events: start, net connect, junk, over-long, die and no-Type
	# notify; exec_start, create and the empty line do not; then one
	# notification for connecting, one for losing the stream (the owner
	# stops trusting its picture) and one for reconnecting.
	server_start events
	events 1.5
	server_stop
	check "events: 9 notifications" \
	    '[ "$nnotify" = 9 ]'
	check "events: connected twice" \
	    '[ "$(log_count "info: connected to Docker at SOCK")" = 2 ]'
	check "events: reconnects after the stream ends" \
	    '[ "$(log_count "warning: lost Docker event stream: Docker closed it; retrying in 100 ms")" = 1 ]'
	check "events: over-long line dropped" \
	    '[ "$(log_count "warning: Docker sent an event longer than 1048576 bytes; dropped it and looking again")" = 1 ]'
	check "events: junk line noticed" \
	    '[ "$(log_count "debug: Docker sent an event that is not JSON; looking again")" = 1 ]'
	check "events: stop within 300 ms" \
	    '[ "$stop_ms" -lt 300 ]'

	server_start events-500
	events 1.2
	server_stop
	check "events-500: no notification" \
	    '[ "$nnotify" = 0 ]'
	check "events-500: one warning, then debug" \
	    '[ "$(log_count "warning: no Docker event stream: Docker answered GET /events with HTTP 500; retrying in 100 ms")" = 1 ] && [ "$(log_count "warning:")" = 1 ] && [ "$(log_count "debug: still no Docker event stream")" -ge 2 ]'

	# Up, then closed at once, every time: backoff keeps it to 100,
	# 200, 400, 800 ms apart, so 5 connections in 1.6 s, not 16; each
	# notifies twice (connected, lost).
	server_start events-flap
	events 1.6
	server_stop
	check "events-flap: backoff ($nnotify notifications)" \
	    '[ "$nnotify" -ge 6 ] && [ "$nnotify" -le 12 ]'

	events 2.5
	check "events, no socket: no notification" \
	    '[ "$nnotify" = 0 ]'
	check "events, no socket: one warning" \
	    '[ "$(log_count "warning: no Docker event stream: cannot connect to Docker at SOCK: No such file or directory; retrying in 100 ms")" = 1 ] && [ "$(log_count "warning:")" = 1 ]'
	check "events, no socket: stop during backoff within 300 ms" \
	    '[ "$stop_ms" -lt 300 ]'

	# A broken stream is lost like a closed one, and followed again.
	server_start events-badchunk
	events 1
	server_stop
	check "events-badchunk: 4 notifications" \
	    '[ "$nnotify" = 4 ]'
	check "events-badchunk: lost, with the reason" \
	    '[ "$(log_count "warning: lost Docker event stream: GET /events from Docker at SOCK: bad chunk size '"'zz'"'; retrying in 100 ms")" = 1 ]'
	server_start events-cut
	events 1
	server_stop
	check "events-cut: 3 notifications" \
	    '[ "$nnotify" = 3 ]'
	check "events-cut: lost, with the reason" \
	    '[ "$(log_count "warning: lost Docker event stream: GET /events from Docker at SOCK: transfer closed in the middle of a chunk; retrying in 100 ms")" = 1 ]'

	# 100,000 levels of nesting never reach the parser (the thread's
	# stack is small); brackets inside a string do not count.
	server_start events-deep
	events 1
	server_stop
	check "events-deep: 3 notifications" \
	    '[ "$nnotify" = 3 ]'
	check "events-deep: refused before parsing, once" \
	    '[ "$(log_count "debug: Docker sent an event nested deeper than 32 levels; looking again")" = 1 ] && [ "$(log_count "debug: Docker sent an event without Type and Action")" = 1 ]'

	server_start events-head-huge
	events 1
	server_stop
	check "events-head-huge: refused" \
	    '[ "$nnotify" = 0 ] && [ "$(log_count "warning: no Docker event stream: GET /events from Docker at SOCK: headers longer than 65536 bytes; retrying in 100 ms")" = 1 ]'

	# A server that accepts and never answers: stop still works at once,
	# and the head is given 10 s.
	server_start events-silent
	events 1
	check "events-silent: stop within 300 ms" \
	    '[ "$nnotify" = 0 ] && [ "$stop_ms" -lt 300 ]'
	events 10.6
	server_stop
	check "events-silent: gave up on the head after 10 s" \
	    '[ "$nnotify" = 0 ] && [ "$(log_count "warning: no Docker event stream: GET /events from Docker at SOCK: no complete answer within 10 s; retrying in 100 ms")" = 1 ]'

	server_start hold
	events 1
	server_stop
	check "events, held open: 1 notification" \
	    '[ "$nnotify" = 1 ]'
	check "events, held open: stop within 300 ms" \
	    '[ "$stop_ms" -lt 300 ]'

	# Retries are 3.1 s and 6.3 s after the start by backoff alone; a
	# socket that appears at 3.2 s is caught by watching its directory.
	( sleep 3.2; exec python3 "$here/fake-docker.py" "$sock" hold ) &
	late=$!
	events 4.5
	kill $late 2>/dev/null
	wait $late 2>/dev/null
	check "events: socket appears late, caught at once" \
	    '[ "$nnotify" = 1 ]'

	# A Docker restart: the stream ends, the socket goes and comes back.
	server_start hold
	first=$srv
	( sleep 1; kill "$first"; sleep 0.5
	    exec python3 "$here/fake-docker.py" "$sock" hold ) &
	srv=$!
	events 3
	wait "$first" 2>/dev/null
	server_stop
	check "events, server restarted: 3 notifications" \
	    '[ "$nnotify" = 3 ]'
	check "events, server restarted: lost, then connected again" \
	    '[ "$(log_count "warning: lost Docker event stream")" = 1 ] && [ "$(log_count "info: connected to Docker at SOCK")" = 2 ]'
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
