#!/bin/bash
# firewalld's disruptive operations with ringfence running: each of
# `firewall-cmd --reload`, `firewall-cmd --complete-reload`, a restart of
# firewalld (SIGTERM to its PID, then a new one) and firewalld starting
# while the ringfence daemon (restarted just before, without firewalld)
# already runs, RFF_ROUNDS times (default 10). All the while:
#
#   - cybex, confined, runs a loop that sends UDP and TCP to x (IPv4 and
#     IPv6) and UDP to b, which the policy allows; x and b count what
#     arrives for the loop's port: x must count nothing, b proves the loop
#     ran;
#   - a connects to the host's port 5000, which ringfence publishes to
#     cybex, once every 50 ms, logging a timestamp per attempt.
#
# After each operation returns: the published port must answer a again
# within 1 s (the gap: from the end of the operation to the first success
# after it), ringfence's DOCKER-USER rule must be back within 1 s, and a
# must reach cybex's own address (routed, through firewalld's policy)
# within 1 s. Printed per operation: the longest gap and the longest
# interval between two successes around the operation (from the start of
# the disruption to the first success after it).
. "$(dirname "$0")/lib.sh"

ROUNDS=${RFF_ROUNDS:-10}
PORT=5999
LIMIT=1000			# ms allowed for each recovery
WAIT_MAX=5000			# ms a recovery is waited for
DEADLINE_S=${RFF_OPS_SECONDS:-420}	# for all operations together
PROBER_LOG=$RFD_TMP/prober.log
PROBER_PID=

rff_up
counter_up x "$PORT" || rfd_die "cannot set up the counter in rftd-x"
counter_up b "$PORT" || rfd_die "cannot set up the counter in rftd-b"
P=$(scenario_policy cybex | policy cybex)
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }
ctr_serve cybex || rfd_die "container cybex did not start"
CY=$(ctr_ip cybex)
if ! poll_probe a tcp "$HA" 5000 ok:cybex 5000 >/dev/null; then
	rfd_fail "a -> host:5000 is published to cybex before the operations" \
	    "no answer within 5 s"
	rfd_done
fi

# the loop in cybex, bounded in time; it ends with the container anyway
dk exec -d cybex /bin/sh -c "end=\$((\$(date +%s) + $DEADLINE_S + 120))
while [ \$(date +%s) -lt \$end ]; do
/bin/netprobe connect -u -w 20 $X $PORT
/bin/netprobe connect -t -w 20 $X $PORT
/bin/netprobe connect -u -w 20 $X6 $PORT
/bin/netprobe connect -t -w 20 $X6 $PORT
/bin/netprobe connect -u -w 20 $B $PORT
usleep 20000
done >/dev/null 2>&1" || rfd_die "cannot start the loop in cybex"

# the prober: a -> host:5000, one attempt every 50 ms, "MS VERDICT" lines
prober() {
	local end=$(( $(ms) + $1 * 1000 )) got
	while [ "$(ms)" -lt "$end" ]; do
		got=$(in_ns a "$NETPROBE" connect -t -w 150 "$HA" 5000 2>&1)
		echo "$(ms) $got"
		sleep 0.05
	done
}
prober_stop() {
	[ -n "$PROBER_PID" ] || return 0
	kill "$PROBER_PID" 2>/dev/null
	wait "$PROBER_PID" 2>/dev/null
	PROBER_PID=
}
RFD_DOWN_HOOKS=(prober_stop "${RFD_DOWN_HOOKS[@]}")
prober $((DEADLINE_S + 120)) >"$PROBER_LOG" 2>&1 &
PROBER_PID=$!

# first_ok_after MS: time of a's first success after MS, if any
first_ok_after() {
	awk -v e="$1" '$1 > e && $2 == "ok:cybex" { print $1; exit }' \
	    "$PROBER_LOG"
}

# longest_interval FROM TO: the longest time between two successes, the
# last one before FROM included, up to TO
longest_interval() {
	awk -v s="$1" -v r="$2" '$2 == "ok:cybex" {
		if ($1 <= s) { prev = $1; next }
		if ($1 > r) exit
		if (prev != "" && $1 - prev > m) m = $1 - prev
		prev = $1
	} END { print m + 0 }' "$PROBER_LOG"
}

sleep 1
if [ -n "$(first_ok_after 0)" ]; then
	rfd_pass "a's connections through the published port succeed"
else
	rfd_fail "a's connections through the published port succeed" \
	    "$(tail -n 3 "$PROBER_LOG" | tr '\n' ' ')"
fi
counter_reset x
counter_reset b

# ---- the operations ----

op_reload() { fwcmd --reload >>"$RFD_TMP/ops.out" 2>&1; }
op_complete_reload() { fwcmd --complete-reload >>"$RFD_TMP/ops.out" 2>&1; }
op_restart() { fw_stop; fw_start; }
op_start() { fw_start; }
# before op_start: firewalld gone, then the daemon started without it
prep_start() {
	fw_stop
	rf_daemon_stop
	rf_daemon_start "$P"
}

deadline=$(( $(ms) + DEADLINE_S * 1000 ))
SUMMARY=()
declare -A MAX=() SLOW=()

# tally KEY ROUND VALUE [LIMIT]: keep the largest VALUE of KEY (a number of
# ms, or ">N" when it was not seen within N) and the rounds over LIMIT
tally() {
	local key=$1 i=$2 v=$3 limit=${4:-}
	if [[ $v =~ ^[0-9]+$ ]]; then
		[[ ${MAX[$key]:-0} =~ ^[0-9]+$ ]] && [ "$v" -gt "${MAX[$key]:-0}" ] &&
		    MAX[$key]=$v
		[ -z "$limit" ] || [ "$v" -le "$limit" ] ||
		    SLOW[$key]+=" $i:${v}ms"
	else
		MAX[$key]=$v
		SLOW[$key]+=" $i:$v"
	fi
}

# judge KEY DESCRIPTION: pass when no round of KEY was over the limit
judge() {
	if [ -z "${SLOW[$1]:-}" ]; then
		rfd_pass "$2 (longest ${MAX[$1]:-0} ms)"
	else
		rfd_fail "$2" "rounds over $LIMIT ms:${SLOW[$1]}"
	fi
}

# one_round NAME I FUNCTION PREP: one disruption, then the recoveries
one_round() {
	local name=$1 i=$2 fn=$3 prep=$4 t0 s e r gap=">$WAIT_MAX" iv du rt

	t0=$(ms)
	[ -z "$prep" ] || "$prep" || SLOW[$name fail]+=" $i:prep"
	s=$(ms)
	"$fn" || SLOW[$name fail]+=" $i"
	e=$(ms)

	# ringfence's DOCKER-USER rule, then a to cybex's own address
	du=">3000" rt=">2000"
	poll_cmd 3000 docker_user_ringfence >/dev/null && du=$(( $(ms) - e ))
	poll_probe a tcp "$CY" 5000 ok:cybex 2000 >/dev/null &&
	    rt=$(( $(ms) - e ))
	# the published port, as the prober saw it
	while [ "$(ms)" -lt $((e + WAIT_MAX)) ]; do
		r=$(first_ok_after "$e")
		[ -n "$r" ] && break
		sleep 0.05
	done
	iv=$gap
	if [ -n "$r" ]; then
		gap=$((r - e))
		iv=$(longest_interval "$t0" "$r")
	fi
	printf '# %s %s/%s: took %s ms; published port back after %s ms' \
	    "$name" "$i" "$ROUNDS" $((e - s)) "$gap"
	printf ' (longest interval %s ms); DOCKER-USER rule after %s ms;' \
	    "$iv" "$du"
	printf ' routed after %s ms\n' "$rt"
	tally "$name op" "$i" $((e - s))
	tally "$name gap" "$i" "$gap" "$LIMIT"
	tally "$name iv" "$i" "$iv"
	tally "$name du" "$i" "$du" "$LIMIT"
	tally "$name rt" "$i" "$rt" "$LIMIT"
}

# run_op NAME FUNCTION [PREP]: ROUNDS rounds, the assertions, a summary
run_op() {
	local name=$1 fn=$2 prep=${3:-} i rounds=0 nx nb

	for i in $(seq 1 "$ROUNDS"); do
		if [ "$(ms)" -ge "$deadline" ]; then
			diag "$name: the ${DEADLINE_S} s for all operations are up"
			break
		fi
		one_round "$name" "$i" "$fn" "$prep"
		rounds=$i
		sleep 0.3
	done

	if [ "$rounds" -ge "$ROUNDS" ] && [ -z "${SLOW[$name fail]:-}" ]; then
		rfd_pass "$name: $rounds rounds, each succeeded (longest ${MAX[$name op]} ms)"
	else
		rfd_fail "$name: $ROUNDS rounds, each succeeded" \
		    "$rounds rounds, failed:${SLOW[$name fail]:- none}"
		diag_file "$RFD_TMP/ops.out" 5
	fi
	judge "$name gap" "$name: the published port answers a within 1 s after each"
	judge "$name du" "$name: ringfence's DOCKER-USER rule back within 1 s after each"
	judge "$name rt" "$name: a reaches cybex routed within 1 s after each"
	nx=$(counter x) nb=$(counter b)
	expect_eq "$name: x received nothing from cybex's loop" "${nx:-none}" 0
	if [ "${nb:-0}" -gt 0 ]; then
		rfd_pass "$name: the loop ran (b received $nb packets)"
	else
		rfd_fail "$name: the loop ran" "b counted ${nb:-nothing}"
	fi
	counter_reset x
	counter_reset b
	SUMMARY+=("$(printf '%-16s %-8s %6s ms %8s ms %6s ms %6s ms' \
	    "$name" "$RFF_BACKEND" "${MAX[$name gap]}" "${MAX[$name iv]}" \
	    "${MAX[$name du]}" "${MAX[$name rt]}")")
}

run_op reload op_reload
run_op complete-reload op_complete_reload
run_op restart op_restart
run_op start-after op_start prep_start

prober_stop
expect_alive "the daemon still runs"
expect cybex tcp "$X" "$PORT" refused "cybex -> x still rejected"
diag "longest per operation ($ROUNDS rounds):" \
    "operation        backend     gap       interval  DOCKER-USER  routed"
diag "${SUMMARY[@]}"
[ "$RFD_FAIL" = 0 ] || rff_evidence
rfd_done
