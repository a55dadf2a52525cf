#!/bin/bash
# The harness before ringfence: a real dockerd in rftd-host, containers on
# rftnet, the outside hosts, and Docker's own verdicts, so that every later
# test starts from a known state.
. "$(dirname "$0")/lib.sh"

rfd_up
expect_eq "FORWARD policy is Docker's DROP" \
    "$(in_host iptables -S FORWARD | head -n 1)" "-P FORWARD DROP"
expect_eq "DOCKER-USER holds only Docker's RETURN" \
    "$(in_host iptables -S DOCKER-USER | grep -c '^-A')" 1
expect_eq "no nft table of ringfence" \
    "$(in_host nft list tables | grep -c ringfence)" 0

ctr_serve cybex || rfd_die "container cybex did not start"
ctr_serve other || rfd_die "container other did not start"
CY=$(ctr_ip cybex) CY6=$(ctr_ip6 cybex) OT=$(ctr_ip other)
diag "cybex at $CY $CY6, other at $OT, bridge $RFD_BRIDGE"
expect_eq "cybex has an address on rftnet" "${CY%.*}" 172.30.0
expect_eq "cybex has an IPv6 address on rftnet" "${CY6%::*}" fd30

expect a tcp "$CY" 5000 timeout "a -> cybex without -p: Docker drops"
expect x tcp "$CY" 5000 timeout "x -> cybex without -p: Docker drops"
expect x udp "$CY" 5000 timeout "x -> cybex/udp without -p: Docker drops"
expect x tcp "$CY6" 5000 ok:cybex "v6 x -> cybex: no ip6tables filtering"
expect a tcp "$HA" 5000 ok:host "a -> host:5000 is the host's own port"
expect cybex tcp "$A" 5000 ok:a "cybex -> a through masquerade"
expect cybex tcp "$X" 5000 ok:x "cybex -> x through masquerade"
expect cybex udp "$X" 5000 ok:x "cybex -> x/udp through masquerade"
expect cybex icmp "$X" - ok "cybex -> x ping"
expect cybex tcp "$X6" 5000 ok:x "v6 cybex -> x routed"
expect cybex tcp "$RFD_GW4" 5000 ok:host "cybex -> host through the bridge"
expect cybex tcp "$HA" 22 ok:host "cybex -> host's address on a's link"
expect cybex tcp "$OT" 5000 ok:other "cybex -> other on the same bridge"
expect host tcp "$CY" 6000 ok:cybex "host -> cybex"

# the container's own first packets: a fresh container reaches x at once
ctr_run early -- /bin/sh -c \
    "/bin/netprobe connect -t -w 2000 $X 5000 >/tmp/first; sleep 60"
sleep 1
expect_eq "a fresh container's first connection reaches x" \
    "$(dk exec early cat /tmp/first 2>&1)" ok:x

# restart keeps the name, gets an address
dk restart -t 0 cybex >/dev/null
ctr_ready cybex
expect_eq "cybex restarted still on rftnet" "$(ctr_ip cybex | cut -d. -f1-3)" \
    172.30.0

# dockerd restart: containers come back with --restart always
ctr_serve keeper --restart always || rfd_die "container keeper did not start"
docker_restart
ok=0
for i in $(seq 1 50); do
	[ "$(dk inspect -f '{{.State.Running}}' keeper 2>/dev/null)" = true ] &&
	    { ok=1; break; }
	sleep 0.1
done
expect_eq "a --restart always container runs again after a dockerd restart" \
    "$ok" 1
expect_eq "FORWARD policy still DROP after the dockerd restart" \
    "$(in_host iptables -S FORWARD | head -n 1)" "-P FORWARD DROP"
rfd_done
