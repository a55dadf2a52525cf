#!/bin/bash
# Baseline: the harness itself, before ringfence runs. firewalld runs in
# rftd-host on the private bus with the backend asked for, Docker has put
# its bridge into firewalld's docker zone, the public zone closes the
# host's port 5000 and routed traffic to a container, and the machine's
# own namespace holds no firewalld table. Then, by hand, the firewalld
# objects ringfence's design relies on: a policy from ANY to ANY whose rich
# rules accept `destination ipset`, with two hash:net ipsets, loads in
# firewalld 1.3.3 with this backend and opens routed traffic to a
# container's own address.
. "$(dirname "$0")/lib.sh"

machine_had_fw=0
nft list table inet firewalld >/dev/null 2>&1 && machine_had_fw=1

rff_up
ctr_serve cybex || rfd_die "container cybex did not start"
CY=$(ctr_ip cybex) CY6=$(ctr_ip6 cybex)

expect_eq "firewalld runs on the private bus" "$(fw_state)" RUNNING
backend=$(awk -F= '$1 == "FirewallBackend" { print $2 }' "$RFF_ETC/firewalld.conf")
expect_eq "firewalld.conf of the test sets the backend" "$backend" "$RFF_BACKEND"
if [ "$RFF_BACKEND" = nftables ]; then
	expect_true "firewalld's table is in $RFD_HOST" \
	    in_host nft list table inet firewalld
else
	expect_true "firewalld's chains are in $RFD_HOST's iptables" \
	    sh -c "nsenter --net=/run/netns/$RFD_HOST iptables -w 5 -S | grep -q IN_public"
	if in_host nft list table inet firewalld >/dev/null 2>&1; then
		rfd_fail "no inet firewalld table with the iptables backend" "it is there"
	else
		rfd_pass "no inet firewalld table with the iptables backend"
	fi
fi
if [ "$machine_had_fw" = 0 ]; then
	if nft list table inet firewalld >/dev/null 2>&1; then
		rfd_fail "the machine's namespace has no firewalld table" "it has one now"
	else
		rfd_pass "the machine's namespace has no firewalld table"
	fi
fi
expect_true "the permanent configuration is the test's own" \
    test -f "$RFF_ETC/zones/docker.xml"
expect_grep "dockerd put $RFD_BRIDGE into firewalld's docker zone" \
    "(^| )$RFD_BRIDGE( |$)" <(fwcmd --zone=docker --list-interfaces)
expect_true "Docker made DOCKER-USER" \
    in_host iptables -w 5 -S DOCKER-USER

# what firewalld does without ringfence
expect a tcp "$HA" 22 ok:host "a -> host:22 (ssh in the public zone)"
expect a tcp "$HA" 5000 "$RFF_REJECT" "a -> host:5000 closed by the public zone"
# IPv4 to a container's own address: with the nftables backend, Docker's
# FORWARD policy DROP (priority 0) comes before firewalld (+10); with the
# iptables backend both share one FORWARD chain, whose policy firewalld
# sets to ACCEPT, and the public zone's reject ends it.
if [ "$RFF_BACKEND" = nftables ]; then
	v4_closed=timeout
else
	v4_closed=refused
fi
expect a tcp "$CY" 5000 "$v4_closed" "a -> cybex:5000 routed: closed by Docker and firewalld"
expect a tcp "$CY6" 5000 "$RFF_REJECT" "v6 a -> cybex:5000 routed: the public zone rejects it"
expect cybex tcp "$X" 5000 ok:x "cybex -> x (the docker zone accepts)"
expect cybex tcp "$RFD_GW4" 5000 ok:host "cybex -> host through the bridge"

# let a's IPv4 past Docker's DROP, as ringfence's DOCKER-USER rule would
# (again after each reload: Docker makes DOCKER-USER anew)
du_open() {
	poll_cmd 5000 in_host iptables -w 5 -S DOCKER-USER >/dev/null &&
	    in_host iptables -w 5 -I DOCKER-USER -s "$A" -d "$CY" -j ACCEPT
}
du_open
# An ACCEPT in DOCKER-USER is final in the iptables backend's shared
# FORWARD chain: there, ringfence's DOCKER-USER rule alone gets IPv4 past
# firewalld too. IPv6 has no DOCKER-USER here.
if [ "$RFF_BACKEND" = nftables ]; then
	expect a tcp "$CY" 5000 prohibited "a -> cybex:5000 routed, past Docker: the public zone rejects it"
else
	expect a tcp "$CY" 5000 ok:cybex "a -> cybex:5000 routed: a DOCKER-USER accept is final"
fi

# ringfence's design, by hand, under other names
fwp() {
	fwcmd --permanent "$@" >>"$RFD_TMP/fw-by-hand.out" 2>&1 ||
	    { echo "failed: firewall-cmd --permanent $*" >>"$RFD_TMP/fw-by-hand.out"; return 1; }
}
ok=1
fwp --new-ipset=rfprobe4 --type=hash:net || ok=0
fwp --new-ipset=rfprobe6 --type=hash:net --option=family=inet6 || ok=0
fwp --new-policy=rfprobe || ok=0
fwp --policy=rfprobe --add-ingress-zone=ANY || ok=0
fwp --policy=rfprobe --add-egress-zone=ANY || ok=0
fwp --policy=rfprobe --add-rich-rule='rule family="ipv4" destination ipset="rfprobe4" accept' || ok=0
fwp --policy=rfprobe --add-rich-rule='rule family="ipv6" destination ipset="rfprobe6" accept' || ok=0
fwcmd --reload >>"$RFD_TMP/fw-by-hand.out" 2>&1 || ok=0
fwcmd --ipset=rfprobe4 --add-entry="$CY" >>"$RFD_TMP/fw-by-hand.out" 2>&1 || ok=0
fwcmd --ipset=rfprobe6 --add-entry="$CY6" >>"$RFD_TMP/fw-by-hand.out" 2>&1 || ok=0
if [ "$ok" = 1 ]; then
	rfd_pass "firewalld takes a policy ANY -> ANY with destination-ipset rich rules"
else
	rfd_fail "firewalld takes a policy ANY -> ANY with destination-ipset rich rules" \
	    "see below"
	diag_file "$RFD_TMP/fw-by-hand.out" 20
fi
fwcmd --info-policy=rfprobe >"$RFD_TMP/info.out" 2>&1
expect_grep "the policy is active after one reload" '^rfprobe \(active\)' \
    "$RFD_TMP/info.out"
expect_true "the runtime ipset holds cybex's address" fw_ipset_has rfprobe4 "$CY"
du_open
expect a tcp "$CY" 5000 ok:cybex "a -> cybex:5000 routed, opened by the policy"
expect a tcp "$CY6" 5000 ok:cybex "v6 a -> cybex:5000 routed, opened by the policy"
expect a tcp "$HA" 5000 "$RFF_REJECT" "a -> host:5000 still closed"
expect x tcp "$CY6" 5000 ok:cybex "v6 x -> cybex:5000 too: the policy opens the address to all"
fwp --delete-policy=rfprobe
fwp --delete-ipset=rfprobe4
fwp --delete-ipset=rfprobe6
fwcmd --reload >/dev/null 2>&1
du_open
expect a tcp "$CY6" 5000 "$RFF_REJECT" "v6 a -> cybex:5000 routed rejected again without the policy"
expect_true "the objects made by hand went to the test's own directory" \
    test -f "$RFF_ETC/policies/rfprobe.xml.old"
if [ -d /etc/firewalld ]; then
	changed=$(find /etc/firewalld -newer "$RFD_TMP/bus.conf" | head -n 3)
	expect_eq "nothing in /etc/firewalld changed" "${changed:-nothing}" nothing
fi
rfd_done
