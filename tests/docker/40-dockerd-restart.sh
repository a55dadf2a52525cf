#!/bin/bash
# dockerd restarted under the daemon. Confined containers stay confined
# throughout, and the ruleset is whole again within a second of Docker
# coming back.
#
# 1. Without --live-restore: the containers die with dockerd and come back
#    (--restart always) while the event stream is down. looper, confined,
#    loops sending to x from its first instruction; it comes back at the
#    address the unconfined container other held before the restart (other
#    has no restart policy, and Docker hands out the lowest free address),
#    and x counts nothing.
# 2. With --live-restore: the containers run on while dockerd is away;
#    probed all along, IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"

PORT=5999
rfd_up

counter_up x "$PORT" || rfd_die "cannot set up the counter in rftd-x"

P=$( {
	scenario_policy cybex
	cat <<'POL'

container looper {
	allow out to $b
}
POL
} | policy restart)
ctr_serve other || rfd_die "container other did not start"
ctr_serve cybex --restart always --ip 172.30.0.20 ||
    rfd_die "container cybex did not start"
dk run -d --name looper --network "$RFD_NET" --restart always \
    --stop-timeout 1 "$RFD_IMAGE" \
    /bin/sh -c "while :; do
/bin/netprobe connect -u -w 20 $X $PORT
/bin/netprobe connect -t -w 20 $X $PORT
/bin/netprobe connect -u -w 20 $X6 $PORT
done >/dev/null 2>&1" >/dev/null || rfd_die "container looper did not start"
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }
expect a tcp "$(ctr_ip cybex)" 5000 ok:cybex "a -> cybex allowed"
expect cybex tcp "$X" 5000 refused "cybex -> x rejected"
# looper ran unconfined until the daemon started: count from here on
if ms=$(poll_probe looper tcp "$X" 5000 refused 3000); then
	rfd_pass "looper confined"
else
	rfd_fail "looper confined" "looper -> x: $ms"
fi
counter_reset x

# addresses WHEN: where the containers are, for the record
addresses() {
	diag "$1: cybex $(ctr_ip cybex), other $(ctr_ip other), looper $(ctr_ip looper)"
}
addresses "before"

# whole WHAT: after Docker came back, everything is in place again;
# measured from the moment the Docker API answers
whole_check() {
	[ "$(probe a tcp "$(ctr_ip cybex)" 5000 150)" = ok:cybex ] &&
	    [ "$(probe cybex tcp "$X" 5000 150)" = refused ] &&
	    [ "$(probe cybex tcp "$B" 5000 300)" = ok:b ] &&
	    rf_table_present && [ "$(docker_user_count)" = 1 ]
}
whole() {
	local what=$1 ms
	if ms=$(poll_cmd 10000 whole_check); then
		diag "$what: whole again $ms ms after the Docker API answered"
		expect_le "$what: ruleset whole within 1 s of Docker's return" \
		    "$ms" 1000 " ms"
	else
		rfd_fail "$what: ruleset whole again" "not within 10 s"
		diag "a -> cybex: $(probe a tcp "$(ctr_ip cybex)" 5000)," \
		    "cybex -> x: $(probe cybex tcp "$X" 5000)," \
		    "table: $(rf_table_present && echo present || echo missing)," \
		    "DOCKER-USER rules: $(docker_user_count)"
	fi
}

# running_again NAME...: wait (bounded) for --restart always to act
running_again() {
	local n i
	for n in "$@"; do
		for i in $(seq 1 100); do
			[ "$(dk inspect -f '{{.State.Running}}' "$n" 2>/dev/null)" = true ] &&
			    break
			sleep 0.05
		done
	done
}

# ---- 1. without --live-restore ----
OTHER_WAS=$(ctr_ip other)
log_mark
docker_stop
expect_log "the daemon notices that Docker went away" \
    'docker.*(lost|closed|end|gone|disconnect|unreach|refused|cannot|fail|retry|reconnect)|(lost|closed|reconnect).*docker' 5
sleep 1
expect_alive "the daemon runs on while Docker is away"
expect_true "ringfence's table stays while Docker is away" rf_table_present
docker_start
running_again cybex looper
whole "restart"
addresses "after the restart"
if [ "$(ctr_ip looper)" = "$OTHER_WAS" ]; then
	diag "looper came back at $OTHER_WAS, other's address before the restart"
else
	diag "looper did not take other's address $OTHER_WAS this time"
fi
dk start other >/dev/null
ctr_ready other || rfd_die "container other did not start again"
expect_log "the daemon logs Docker's return" 'docker' 5
scenario_checks cybex other
N1=$(counter x)
expect_eq "x counted nothing from looper across the restart" "$N1" 0

# ---- 2. with --live-restore ----
docker_stop
docker_start --live-restore
dk start other >/dev/null
running_again cybex other looper
whole "switch to --live-restore"
addresses "after the restart with --live-restore"
N2=$(counter x)
expect_eq "x counted nothing more from looper across the second restart" \
    "$((N2 - N1))" 0
CY=$(ctr_ip cybex) CY6=$(ctr_ip6 cybex)
ctr_remember cybex other looper

# probe all along in the background: one line per round
prober() {
	local end=$(( $(now_ms) + $1 ))
	while [ "$(now_ms)" -lt "$end" ]; do
		printf '%s %s %s %s\n' \
		    "$(probe cybex tcp "$X" 5000 200)" \
		    "$(probe cybex udp "$X6" 5000 200)" \
		    "$(probe x tcp "$CY6" 5000 200)" \
		    "$(probe a tcp "$CY" 5000 500)"
	done
}
prober 6000 >"$RFD_TMP/rounds" 2>&1 &
PROBER=$!
sleep 0.5
log_mark
docker_stop
expect_eq "cybex keeps running while dockerd is stopped (live restore)" \
    "$(in_ctr cybex "$NETPROBE" connect -t -w 200 127.0.0.1 5000)" ok:cybex
sleep 2
docker_start
if ms=$(poll_cmd 10000 status_docker_connected); then
	diag "live restore: status says Docker connected $ms ms after it came back"
	expect_le "live restore: the daemon is in sync within 1 s of Docker's return" \
	    "$ms" 1000 " ms"
else
	rfd_fail "live restore: the daemon reconnects to Docker" "not within 10 s"
fi
wait "$PROBER"
rounds=$(grep -c . "$RFD_TMP/rounds")
bad=$(grep -v -c '^refused prohibited timeout ok:cybex$' "$RFD_TMP/rounds")
diag "$rounds probe rounds around the dockerd restart, $bad off"
[ "$bad" = 0 ] || sort "$RFD_TMP/rounds" | uniq -c | sed 's/^/#   /' | head
expect_eq "every round: cybex -> x rejected, v6 x -> cybex dropped, a -> cybex allowed" \
    "$bad" 0
[ "$rounds" -ge 5 ] || rfd_fail "enough probe rounds" "only $rounds"
whole "live restore"
expect_eq "x counted nothing more from looper across the live restore" \
    "$(( $(counter x) - N2 ))" 0
expect_alive "the daemon still runs"
rfd_done
