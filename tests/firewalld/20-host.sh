#!/bin/bash
# Host protection is not weakened: what firewalld (and Docker) keep closed
# before ringfence runs stays closed while the daemon runs with the cybex
# policy, and after a firewalld reload with it running: an unconfined
# container's ports (none published), from every outside host, IPv4 and
# IPv6; the host's ports that the public zone closes (5000/tcp for the
# sources it is not published for, 53/udp for all).
. "$(dirname "$0")/lib.sh"

# every path is expected closed, and answers come within milliseconds here
RFD_WAIT=400

rff_up
ctr_serve other || rfd_die "container other did not start"
ctr_serve cybex || rfd_die "container cybex did not start"
OT=$(ctr_ip other) OT6=$(ctr_ip6 other)
diag "other (unconfined) at $OT $OT6, cybex at $(ctr_ip cybex)"

# closed paths: "SRC PROTO ADDR PORT"
paths=()
for src in a b x; do
	paths+=("$src tcp $OT 5000" "$src tcp $OT 6000" "$src udp $OT 53")
	paths+=("$src tcp $OT6 5000" "$src udp ${RFD_HV4[$src]} 53")
done
paths+=("b tcp $HB 5000" "x tcp $HX 5000" "x tcp $HA 5000" "b tcp $HB6 5000")

declare -A before=()
for path in "${paths[@]}"; do
	read -r src proto addr port <<<"$path"
	before[$path]=$(probe "$src" "$proto" "$addr" "$port")
	case ${before[$path]} in
	ok:*) rfd_die "without ringfence, $path is open (${before[$path]}): the harness is wrong" ;;
	esac
done
rfd_pass "without ringfence, ${#paths[@]} paths are closed"

P=$(scenario_policy cybex | policy cybex)
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }
poll_probe a tcp "$HA" 5000 ok:cybex 3000 >/dev/null ||
    diag "a -> host:5000 is not published to cybex yet"

# still_closed WHEN: every path closed; a changed verdict is shown
still_closed() {
	local path src proto addr port got open=()
	for path in "${paths[@]}"; do
		read -r src proto addr port <<<"$path"
		got=$(probe "$src" "$proto" "$addr" "$port")
		case $got in
		ok:*) open+=("$path: $got") ;;
		esac
		[ "$got" = "${before[$path]}" ] ||
		    diag "$1: $path now $got (was ${before[$path]})"
	done
	if [ ${#open[@]} = 0 ]; then
		rfd_pass "$1: all ${#paths[@]} paths still closed"
	else
		rfd_fail "$1: all ${#paths[@]} paths still closed" \
		    "open: ${open[*]}"
	fi
}
still_closed "daemon running"
expect a tcp "$HA" 22 ok:host "a -> host:22 (open in the public zone) still open"
expect a tcp "$HA" 5000 ok:cybex "a -> host:5000 published to cybex, as the policy says"

fwcmd --reload >/dev/null 2>&1 || rfd_fail "firewall-cmd --reload" "it failed"
sleep 1
still_closed "after firewall-cmd --reload"
expect_alive "the daemon still runs"
[ "$RFD_FAIL" = 0 ] || rff_evidence
rfd_done
