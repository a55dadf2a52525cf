#!/bin/bash
# No leak window: a confined container whose command, from its first
# instruction, loops sending UDP and TCP to x (IPv4 and IPv6) is restarted
# at least 50 times: docker restart, stop + start, and restarts in which it
# takes over the address an unconfined container held a moment before.
# x counts every packet that arrives for the loop's port and must count
# none. b, which the policy allows, counts too, proving the loop ran.
. "$(dirname "$0")/lib.sh"

PORT=5999
RESTARTS=${RFD_RESTARTS:-52}
DEADLINE_S=${RFD_NOLEAK_SECONDS:-200}

rfd_up

# an input counter for the loop's port, in x's and b's own namespaces
counter_up x "$PORT" || rfd_die "cannot set up the counter in rftd-x"
counter_up b "$PORT" || rfd_die "cannot set up the counter in rftd-b"

LOOP="while :; do
/bin/netprobe connect -u -w 20 $X $PORT
/bin/netprobe connect -t -w 20 $X $PORT
/bin/netprobe connect -u -w 20 $X6 $PORT
/bin/netprobe connect -u -w 20 $B $PORT
done >/dev/null 2>&1"

# looper NAME [OPTIONS...]: the loop as the container's own command, with
# no init in front of it
looper() {
	local name=$1
	shift
	dk run -d --name "$name" --network "$RFD_NET" "$@" "$RFD_IMAGE" \
	    /bin/sh -c "$LOOP" >/dev/null
}

P=$(policy noleak <<'POL'
define b = { 198.51.100.9, 2001:db8:b::9 }

container leaky {
	allow out to $b
}
POL
)
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }

# The counter sees what a leak would look like: the same loop, unconfined.
looper leakctl || rfd_die "container leakctl did not start"
sleep 1.5
dk rm -f leakctl >/dev/null
n=$(counter x)
diag "an unconfined loop delivered $n packets to x in 1.5 s"
if [ "${n:-0}" -gt 0 ]; then
	rfd_pass "x counts the loop's packets when nothing confines it"
else
	rfd_fail "x counts the loop's packets when nothing confines it" "counted ${n:-nothing}"
fi
sleep 0.3
counter_reset x
counter_reset b

# fill: an unconfined container whose address leaky will take over
dk run -d --name fill --network "$RFD_NET" --init "$RFD_IMAGE" \
    /bin/sleep 3600 >/dev/null || rfd_die "container fill did not start"
looper leaky || rfd_die "container leaky did not start"
sleep 0.5
diag "fill at $(ctr_ip fill), leaky at $(ctr_ip leaky)"

restarts=0 takeovers=0 t0=$(now_ms)
deadline=$(( t0 + DEADLINE_S * 1000 ))
i=0
while [ "$restarts" -lt "$RESTARTS" ] && [ "$(now_ms)" -lt "$deadline" ]; do
	i=$((i + 1))
	case $((i % 10)) in
	0|5)	dk stop -t 0 leaky >/dev/null && dk start leaky >/dev/null ;;
	1)	# leaky takes the address fill held a moment ago
		before=$(ctr_ip fill)
		dk stop -t 0 fill >/dev/null
		dk restart -t 0 leaky >/dev/null
		dk start fill >/dev/null
		[ "$(ctr_ip leaky)" = "$before" ] && takeovers=$((takeovers + 1))
		;;
	2)	# and the other way round
		before=$(ctr_ip fill)
		dk stop -t 0 leaky >/dev/null
		dk restart -t 0 fill >/dev/null
		dk start leaky >/dev/null
		[ "$(ctr_ip leaky)" = "$before" ] && takeovers=$((takeovers + 1))
		;;
	*)	dk restart -t 0 leaky >/dev/null ;;
	esac
	restarts=$((restarts + 1))
done
elapsed=$(( $(now_ms) - t0 ))
diag "$restarts restarts of leaky ($takeovers took over an unconfined address) in $elapsed ms"
if [ "$restarts" -ge 50 ]; then
	rfd_pass "leaky restarted $restarts times"
else
	rfd_fail "leaky restarted at least 50 times" "only $restarts in ${DEADLINE_S} s"
fi
if [ "$takeovers" -gt 0 ]; then
	rfd_pass "leaky took over an unconfined container's address $takeovers times"
else
	rfd_fail "leaky took over an unconfined container's address" "Docker never reused fill's address"
fi

# let the last run of the loop go on, then count
sleep 1
expect_eq "leaky is running" "$(dk inspect -f '{{.State.Running}}' leaky)" true
expect leaky tcp "$X" "$PORT" refused "leaky -> x rejected after the restarts"
nb=$(counter b) nx=$(counter x)
diag "b counted ${nb:-nothing}, x counted ${nx:-nothing}"
if [ "${nb:-0}" -gt 0 ]; then
	rfd_pass "the loop ran: b received its packets"
else
	rfd_fail "the loop ran: b received its packets" "b counted ${nb:-nothing}"
fi
expect_eq "x received nothing from the loop during $restarts restarts" "${nx:-none}" 0
expect_alive "the daemon still runs"
rfd_done
