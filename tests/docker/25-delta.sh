#!/bin/bash
# Incremental updates. Under a policy with a large set of peers (20,000
# prefixes), containers start, move to a new address and stop; for each
# event the daemon sends only what changed, in one transaction. After each
# the packets follow, the table is still the same kernel object, nft
# monitor saw no change of the large set, and the table equals what a
# whole replace of the same state makes (a reload replaces it whole). A
# delta the kernel refuses
# (RINGFENCE_FAULT_INJECT=delta-refuse) changes nothing, and a whole
# replace follows.
. "$(dirname "$0")/lib.sh"

BIG=lpeers_0_r1_v4

rfd_up
ctr_serve cybex || rfd_die "container cybex did not start"
P=$( {
	echo 'define big = {'
	awk 'BEGIN { for (i = 0; i < 20000; i++)
		printf "\t%d.%d.%d.0/%d,\n", 1 + int(i / 65536),
		    int(i / 256) % 256, i % 256, 25 + i % 8 }'
	echo '	203.0.113.7, 2001:db8:a::7'
	echo '}'
	cat <<'POL'
container label rft.role=web {
	allow in from $big port 5000/tcp
	allow out to { 198.51.100.9, 2001:db8:b::9 }
}
POL
	scenario_policy cybex
} | policy delta)
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }

# table_handle: the kernel's handle of ringfence's table, new each time
# the table is replaced whole
table_handle() {
	in_host timeout 10 nft -a list table inet ringfence 2>/dev/null |
	    sed -nE '1s/.*# handle ([0-9]+).*/\1/p'
}

# monitor_start, monitor_stop: what nft monitor reports meanwhile
MON_PID=
monitor_start() {
	in_host timeout 120 nft monitor >"$RFD_TMP/monitor.out" 2>&1 &
	MON_PID=$!
	sleep 0.3
}

monitor_stop() {
	kill "$MON_PID" 2>/dev/null
	wait "$MON_PID" 2>/dev/null
	MON_PID=
}

# sorted_table: the table with each set, map and chain on one line, in
# name order (a listing shows them in the order they were created)
sorted_table() {
	table_snapshot |
	    awk -f "$(dirname "${BASH_SOURCE[0]}")/../table-objects.awk" | sort
}

restores() {
	rf_status --json 2>/dev/null |
	    sed -nE 's/.*"restores": *([0-9]+).*/\1/p'
}

# updated WHAT: since monitor_start, events were applied as deltas, not
# whole loads, and left the large set alone
updated() {
	local what=$1 bytes
	expect_log "$what: applied as an update" 'ruleset updated in' 5
	monitor_stop
	bytes=$(log_since | sed -nE 's/.*updating ([0-9]+) bytes.*/\1/p' |
	    sort -n | tail -n 1)
	diag "$what: largest update ${bytes:-?} bytes"
	expect_le "$what: the updates are small" "${bytes:-999999}" 20000 " bytes"
	expect_eq "$what: the table is the same object" "$(table_handle)" \
	    "$HANDLE"
	expect_grep "$what: nft monitor saw the update" \
	    'element inet ringfence (in|out|fwd_in)_v4' "$RFD_TMP/monitor.out"
	if grep -q "$BIG" "$RFD_TMP/monitor.out"; then
		rfd_fail "$what: the large set untouched" \
		    "$(grep -c "$BIG" "$RFD_TMP/monitor.out") monitor lines"
	else
		rfd_pass "$what: the large set untouched"
	fi
	if log_since | grep -q 'ruleset loaded in'; then
		rfd_fail "$what: no whole load" "$(log_since | grep 'loaded in')"
	else
		rfd_pass "$what: no whole load"
	fi
}

# web_checks NAME WHAT: the label block's rules for container NAME
web_checks() {
	local w=$1 what=$2 ip ms
	ip=$(ctr_ip "$w")
	if ms=$(poll_probe a tcp "$ip" 5000 "ok:$w" 3000); then
		expect_le "$what: a -> $w at $ip within 1 s" "$ms" 1000 " ms"
	else
		rfd_fail "$what: a -> $w at $ip" "last verdict $ms after 3 s"
	fi
	expect x tcp "$ip" 5000 timeout "$what: x -> $w dropped"
	expect a tcp "$ip" 6000 timeout "$what: a -> $w:6000 dropped"
	expect "$w" tcp "$B" 5000 ok:b "$what: $w -> b allowed"
	expect "$w" tcp "$X" 5000 refused "$what: $w -> x rejected"
}

HANDLE=$(table_handle)
expect_true "the table is in force" test -n "$HANDLE"
expect a tcp "$(ctr_ip cybex)" 5000 ok:cybex "start: a -> cybex allowed"
expect cybex tcp "$X" 5000 refused "start: cybex -> x rejected"
sleep 1.5

log_mark
monitor_start
ctr_serve web1 --label rft.role=web || rfd_die "container web1 did not start"
web_checks web1 "web1 started"
updated "web1 started"

log_mark
monitor_start
dk network disconnect "$RFD_NET" web1
dk network connect --ip 172.30.0.99 "$RFD_NET" web1
expect_eq "web1 has its new address" "$(ctr_ip web1)" 172.30.0.99
web_checks web1 "web1 moved"
updated "web1 moved"

log_mark
monitor_start
ctr_serve web2 --label rft.role=web || rfd_die "container web2 did not start"
web_checks web2 "web2 started"
dk stop web1 >/dev/null
expect_log "web1 stopped: released" 'released' 5
updated "web2 started, web1 stopped"
expect a tcp "$(ctr_ip cybex)" 5000 ok:cybex "cybex unaffected by the updates"
expect cybex tcp "$X" 5000 refused "cybex still confined"
expect_eq "the daemon's own updates are not taken for foreign changes" \
    "$(restores)" 0

# the same state loaded whole: let Docker settle (the daemon lists again
# 150 ms and 1 s after an event), then reload, which replaces the table
sleep 1.5
sorted_table >"$RFD_TMP/after-updates"
log_mark
rf_reload >/dev/null 2>&1
expect_log "reload: the table is replaced whole" \
    'ruleset loaded in .*policy reloaded' 10
sorted_table >"$RFD_TMP/after-reload"
if cmp -s "$RFD_TMP/after-updates" "$RFD_TMP/after-reload"; then
	rfd_pass "the updated table equals a whole load of the same state"
else
	rfd_fail "the updated table equals a whole load" "tables differ"
	diff "$RFD_TMP/after-reload" "$RFD_TMP/after-updates" |
	    tr '\001' '\n' | head -30 | sed 's/^/#   /'
fi
expect_true "the reload made the table anew" \
    test "$(table_handle)" != "$HANDLE"

# a refused update: nothing changes, then the whole table is replaced
rf_daemon_stop
export RINGFENCE_FAULT_INJECT=delta-refuse
rf_daemon_start "$P" || { rfd_fail "daemon restarts" "see its log"; rfd_done; }
unset RINGFENCE_FAULT_INJECT
log_mark
ctr_serve web3 --label rft.role=web || rfd_die "container web3 did not start"
expect_log "refused update: logged" 'did not accept the update' 5
expect_log "refused update: the whole table is replaced instead" \
    'ruleset loaded in .*Docker' 5
web_checks web3 "after a refused update"
web_checks web2 "web2 after a refused update"
if in_host nft list chain inet ringfence fault_a >/dev/null 2>&1; then
	rfd_fail "nothing of the refused update is in force" "chain fault_a exists"
else
	rfd_pass "nothing of the refused update is in force"
fi

expect_alive "the daemon still runs"
rfd_done
