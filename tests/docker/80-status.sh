#!/bin/bash
# ringfence status, text and --json: every confined container with name,
# id, addresses, networks, whether it runs, and each rule as written with
# its source location; for the daemon its policy file, the time of the
# last reconcile and the count of restores. Also the control socket's
# mode, and malformed requests on it.
. "$(dirname "$0")/lib.sh"

rfd_up
ctr_serve cybex || rfd_die "container cybex did not start"
ctr_serve w1 --label rft.role=worker || rfd_die "container w1 did not start"
ctr_serve w2 --label rft.role=worker || rfd_die "container w2 did not start"
ctr_serve legacy --ip 172.30.0.99 || rfd_die "container legacy did not start"
ctr_serve other || rfd_die "container other did not start"
# line numbers matter: the rules' locations are checked below
P=$(policy status <<'POL'
define b = { 198.51.100.9, 2001:db8:b::9 }

container cybex {
	allow in from 203.0.113.7 port 5000/tcp
	allow out to $b
}

container label rft.role=worker {
	allow out to $b port 5000/tcp
}

container ghost {
	allow out to $b
}

container legacy address 172.30.0.99 {
	deny out drop
}
POL
)
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }
CYID=$(ctr_id cybex) CY=$(ctr_ip cybex) CY6=$(ctr_ip6 cybex)
W1ID=$(ctr_id w1) W2ID=$(ctr_id w2)

expect_eq "the control socket is mode 0600" "$(stat -c %a "$RFD_CTL")" 600
expect_eq "the control socket is owned by root" "$(stat -c %U "$RFD_CTL")" root

rc=0
rf_status >"$RFD_TMP/status.txt" 2>&1 || rc=$?
expect_eq "status exits 0" "$rc" 0
rc=0
rf_status --json >"$RFD_TMP/status.json" 2>&1 || rc=$?
expect_eq "status --json exits 0" "$rc" 0
diag "status --json:"
diag_file "$RFD_TMP/status.json" 400 | head -n 80

# ---- text ----
T=$RFD_TMP/status.txt
expect_grep "text: names cybex" 'cybex' "$T"
expect_grep "text: cybex's id" "${CYID:0:12}" "$T"
expect_grep "text: cybex's IPv4 address" "${CY//./\\.}" "$T"
expect_grep "text: cybex's IPv6 address" "$CY6" "$T"
expect_grep "text: the network" "$RFD_NET" "$T"
expect_grep "text: the worker containers' ids" "${W1ID:0:12}" "$T"
expect_grep "text: a rule as written" 'allow in from 203\.0\.113\.7 port 5000/tcp' "$T"
expect_grep "text: a rule's location" "status\.conf:4" "$T"
expect_grep "text: the policy file" "${P//./\\.}" "$T"
expect_grep "text: restores" 'restore' "$T"
expect_grep "text: last reconcile" 'reconcile' "$T"
expect_grep "text: ghost" 'ghost' "$T"

# ---- JSON ----
J=$RFD_TMP/status.json
if ! command -v jq >/dev/null; then
	diag "jq missing: JSON checked with grep only"
	expect_grep "json: cybex's id" "\"$CYID\"" "$J"
	expect_grep "json: the policy file" "\"${P//./\\.}\"" "$J"
	expect_grep "json: restores" '"restores": *0' "$J"
	rfd_done
fi
# jqt DESCRIPTION FILTER: the filter holds for the JSON document
jqt() {
	if jq -e --arg cyid "$CYID" --arg cy "$CY" --arg cy6 "$CY6" \
	    --arg w1 "$W1ID" --arg w2 "$W2ID" --arg net "$RFD_NET" \
	    --arg pol "$P" "$2" "$J" >/dev/null 2>"$RFD_TMP/jq.err"; then
		rfd_pass "$1"
	else
		rfd_fail "$1" "jq: $2 $(head -c 200 "$RFD_TMP/jq.err")"
	fi
}
expect_true "json: parses" jq . "$J"
# a container as Docker runs it, wherever the document puts it
CTR='[.. | objects | select(.id? == $cyid)] | first'
jqt "json: cybex by its full id" "$CTR | .name == \"cybex\""
jqt "json: cybex is running" "$CTR | .running == true"
jqt "json: cybex's IPv4 address" "$CTR | [.. | strings] | any(. == \$cy or startswith(\$cy + \"/\"))"
jqt "json: cybex's IPv6 address" "$CTR | [.. | strings] | any(. == \$cy6 or startswith(\$cy6 + \"/\"))"
jqt "json: cybex's network" "$CTR | [.. | strings] | any(. == \$net)"
jqt "json: both worker containers" \
    '([.. | objects | select(.id? == $w1)] | length > 0) and ([.. | objects | select(.id? == $w2)] | length > 0)'
jqt "json: other is not listed" \
    "[.. | objects | select(.name? == \"other\")] | length == 0"
# the blocks and their rules
RULES='[.. | objects | select(has("rule"))]'
jqt "json: cybex's rule as written" \
    "$RULES | any(.rule == \"allow in from 203.0.113.7 port 5000/tcp\")"
jqt "json: the rule's location is the policy file, line 4" \
    "$RULES | map(select(.rule == \"allow in from 203.0.113.7 port 5000/tcp\")) | first | [.. | strings] | any(test(\"status[.]conf:4(:|\$)\"))"
jqt "json: the label block's rule" \
    "$RULES | any(.rule == \"allow out to \$b port 5000/tcp\")"
jqt "json: ghost is listed and not running" \
    '[.. | objects | select(.name? == "ghost")] | length > 0 and all(.running != true)'
jqt "json: legacy's static address" \
    '[.. | objects | select(.name? == "legacy")] | first | [.. | strings] | any(startswith("172.30.0.99"))'
# the daemon
jqt "json: the daemon's policy file" '[.. | strings] | any(. == $pol)'
jqt "json: the last reconcile time" \
    '[paths | map(tostring) | join(".")] | any(test("reconcile"))'
jqt "json: restores counted, none yet" '.daemon.restores == 0'

# a restore shows in the count; a stop shows as not running
in_host nft delete table inet ringfence
poll_cmd 3000 rf_table_present >/dev/null
sleep 0.2
rf_status --json >"$J" 2>&1
jqt "json: one restore counted" '.daemon.restores >= 1'
dk stop cybex >/dev/null
ok=0
for i in $(seq 1 40); do
	rf_status --json >"$J" 2>&1
	if jq -e --arg cyid "$CYID" \
	    '[.. | objects | select(.id? == $cyid and .running == true)] | length == 0' \
	    "$J" >/dev/null 2>&1; then
		ok=1
		break
	fi
	sleep 0.05
done
expect_eq "json: cybex no longer running within 2 s of its stop" "$ok" 1
jqt "json: cybex's block is still listed" \
    '[.. | objects | select(.name? == "cybex")] | length > 0'

# ---- malformed requests on the control socket ----
# ctl_send WHAT: send one kind of malformed request, print the first line
# of the answer
ctl_send() {
	python3 - "$RFD_CTL" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
s.connect(sys.argv[1])
data = {"unknown": b"bogus request\n",
        "binary": b"\xff\xfe\x01\n",
        "nul-then-newline": b"\x00\xffbogus request\n",
        "no-newline": b"status",
        "huge": b"status " + b"A" * (1 << 20) + b"\n",
        "long-line": b"status json " + b"B" * 70000 + b"\n",
        "empty": b""}[sys.argv[2]]
try:
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    reply = s.recv(4096)
except OSError as e:
    reply = str(e).encode()
lines = reply.decode("utf-8", "replace").splitlines()
print(" / ".join(lines[:2]) if lines else "(closed without an answer)")
PY
}
for what in unknown binary nul-then-newline no-newline huge long-line empty; do
	reply=$(ctl_send "$what" 2>&1 | tail -n 1)
	diag "control socket, $what request: $reply"
	sleep 0.2
	if rf_daemon_alive; then
		rfd_pass "a $what request on the control socket: the daemon runs on"
	else
		wait "$RFD_RF_PID" 2>/dev/null
		rfd_fail "a $what request on the control socket: the daemon runs on" \
		    "the daemon died with status $?"
		RFD_RF_PID=
		rf_daemon_start "$P" || rfd_die "the daemon does not start again"
	fi
done
expect_true "status still answers after malformed requests" rf_status
# a client that connects and says nothing holds the daemon up only briefly
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(3)' \
    "$RFD_CTL" &
SILENT=$!
sleep 0.2
t0=$(now_ms)
rc=0
rf_status >/dev/null 2>&1 || rc=$?
ms=$(( $(now_ms) - t0 ))
expect_eq "status answers while a silent client is connected" "$rc" 0
expect_le "status answers within 2 s while a silent client is connected" "$ms" 2000 " ms"
wait "$SILENT"

rf_daemon_stop
rc=0
rf_status >"$RFD_TMP/status.txt" 2>&1 || rc=$?
expect_eq "status without a daemon exits 1" "$rc" 1
rfd_done
