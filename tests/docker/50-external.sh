#!/bin/bash
# Someone else removes or alters what ringfence installed: its table
# deleted, one of its chains flushed, DOCKER-USER flushed, the whole
# ruleset flushed (inside the test namespace only). Each time the daemon
# restores it within a second, logs what was missing, counts the restore,
# and the containers are confined as before.
. "$(dirname "$0")/lib.sh"

rfd_up
ctr_serve cybex || rfd_die "container cybex did not start"
ctr_serve other || rfd_die "container other did not start"
P=$(scenario_policy cybex | policy cybex)
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }
CY=$(ctr_ip cybex) CY6=$(ctr_ip6 cybex)
expect a tcp "$CY" 5000 ok:cybex "a -> cybex allowed before"
expect cybex tcp "$X" 5000 refused "cybex -> x rejected before"
table_snapshot >"$RFD_TMP/table.before"
expect_eq "one ringfence rule in DOCKER-USER" "$(docker_user_count)" 1

restores() {
	local s
	s=$(rf_status --json 2>/dev/null) || { echo "?"; return; }
	if command -v jq >/dev/null; then
		jq -r '.daemon.restores' <<<"$s"
	else
		sed -nE 's/.*"restores": *([0-9]+).*/\1/p' <<<"$s"
	fi
}

confined_checks() {
	expect a tcp "$CY" 5000 ok:cybex "$1: a -> cybex allowed"
	expect b tcp "$CY6" 6000 ok:cybex "$1: v6 b -> cybex allowed"
	expect x tcp "$CY6" 5000 timeout "$1: v6 x -> cybex dropped"
	expect cybex tcp "$X" 5000 refused "$1: cybex -> x rejected"
	expect cybex tcp "$B" 5000 ok:b "$1: cybex -> b allowed"
	expect a tcp "$HA" 5000 ok:cybex "$1: publish works"
	expect other tcp "$X" 5000 ok:x "$1: other unaffected"
}

table_whole() {
	rf_table_present && table_snapshot | cmp -s - "$RFD_TMP/table.before"
}

# disrupt WHAT CHECK CMD...: run CMD in the host namespace, then measure
# until CHECK holds again
disrupt() {
	local what=$1 check=$2 n0 ms out
	shift 2
	n0=$(restores)
	log_mark
	if ! out=$(in_host "$@" 2>&1); then
		if [[ $out == *"Operation not permitted"* ]]; then
			rfd_pass "$what: refused outright ($out)"
		else
			rfd_fail "$what" "the command failed: $out"
		fi
		return
	fi
	if ms=$(poll_cmd 5000 "$check"); then
		diag "$what: restored after $ms ms"
		expect_le "$what: restored within 1 s" "$ms" 1000 " ms"
	else
		rfd_fail "$what: restored" "not within 5 s"
		return
	fi
	expect_log "$what: the restore is logged" 'restor' 2
	expect_true "$what: the restore is counted" \
	    test "$(restores)" -gt "${n0:-0}"
	expect_true "$what: ringfence's table is as before" table_whole
	expect_eq "$what: one ringfence rule in DOCKER-USER" "$(docker_user_count)" 1
	confined_checks "$what"
}

du_whole() {
	[ "$(docker_user_count)" = 1 ]
}

disrupt "nft delete table inet ringfence" table_whole \
    nft delete table inet ringfence
chain=$(in_host nft list table inet ringfence |
    awk '$1 == "chain" { c = $2 } /type filter hook forward/ { print c; exit }')
if [ -n "$chain" ]; then
	disrupt "nft flush chain inet ringfence $chain" table_whole \
	    nft flush chain inet ringfence "$chain"
else
	rfd_fail "ringfence's table has a forward chain" "none found"
fi
disrupt "iptables -F DOCKER-USER" du_whole iptables -F DOCKER-USER

# Last: flush ruleset also takes Docker's own tables, which Docker puts
# back only when it restarts.
n0=$(restores)
log_mark
in_host nft flush ruleset
if ms=$(poll_cmd 5000 table_whole); then
	diag "nft flush ruleset: ringfence's table back after $ms ms"
	expect_le "nft flush ruleset: ringfence's table restored within 1 s" \
	    "$ms" 1000 " ms"
else
	rfd_fail "nft flush ruleset: ringfence's table restored" "not within 5 s"
fi
expect_log "nft flush ruleset: the restore is logged" 'restor' 2
expect_true "nft flush ruleset: the restore is counted" \
    test "$(restores)" -gt "${n0:-0}"
expect x tcp "$CY6" 5000 timeout "flush ruleset: v6 x -> cybex dropped"
expect x tcp "$CY" 5000 timeout "flush ruleset: x -> cybex dropped without Docker's rules"
expect cybex tcp "$X" 5000 refused "flush ruleset: cybex -> x rejected"
expect cybex tcp "$B" 5000 ok:b "flush ruleset: cybex -> b allowed"
expect a tcp "$CY" 5000 ok:cybex "flush ruleset: a -> cybex allowed"
# Docker restarted: its chains come back, and so does the DOCKER-USER rule
log_mark
docker_restart
if ms=$(poll_cmd 5000 du_whole); then
	diag "dockerd restarted after flush ruleset: DOCKER-USER rule back $ms ms after Docker answered"
	expect_le "DOCKER-USER rule back within 1 s of Docker's return" "$ms" 1000 " ms"
else
	rfd_fail "DOCKER-USER rule back after Docker restarted" "$(docker_user_count) rules"
fi
expect a tcp "$HA" 5000 ok:host "after dockerd's restart: cybex is gone, host:5000 is the host's"
expect_alive "the daemon still runs"
rfd_done
