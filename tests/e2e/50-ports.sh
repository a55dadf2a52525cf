#!/bin/bash
# Port ranges, port lists, proto alone, ICMP and ICMPv6.
. "$(dirname "$0")/lib.sh"

topo_up
P=$(policy ports <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow out to { 203.0.113.7, 2001:db8:a::7 } port { 53/udp, 5000/tcp }
	allow out to { 198.51.100.9, 2001:db8:b::9 } port 4000-5500/udp
	allow out to { 192.0.2.66, 2001:db8:c::66 } proto udp
	allow out to 203.0.113.7 proto icmp
	allow out to 2001:db8:a::7 proto icmpv6
	allow in from { 203.0.113.7, 2001:db8:a::7 } port 5500-6500/tcp
	allow in from { 203.0.113.7, 2001:db8:a::7 } port { 53/udp, 7777/udp }
	allow in from { 198.51.100.9, 2001:db8:b::9 } proto udp
}
POL
)
expect_apply "$P" "apply a policy with ranges, lists and protocols" ||
	rft_done

for fam in 4 6; do
	use_family $fam
	# outbound port list
	expect cybex udp $A 53 ok:a "$V list: cybex -> a:53/udp"
	expect cybex tcp $A 5000 ok:a "$V list: cybex -> a:5000/tcp"
	expect cybex udp $A 5000 prohibited "$V list: cybex -> a:5000/udp not listed"
	expect cybex tcp $A 53 refused "$V list: cybex -> a:53/tcp not listed"
	expect cybex tcp $A 6000 refused "$V list: cybex -> a:6000/tcp not listed"
	# outbound range
	expect cybex udp $B 5000 ok:b "$V range: cybex -> b:5000/udp"
	expect cybex udp $B 6000 prohibited "$V range: cybex -> b:6000/udp outside"
	expect cybex udp $B 53 prohibited "$V range: cybex -> b:53/udp outside"
	expect cybex tcp $B 5000 refused "$V range: cybex -> b:5000/tcp wrong protocol"
	# proto alone
	expect cybex udp $X 5000 ok:x "$V proto udp: cybex -> x:5000/udp"
	expect cybex udp $X 53 ok:x "$V proto udp: cybex -> x:53/udp"
	expect cybex tcp $X 5000 refused "$V proto udp: cybex -> x/tcp rejected"
	# ICMP echo
	expect cybex icmp $A - ok "$V proto icmp: cybex pings a"
	expect cybex icmp $X - prohibited "$V proto icmp: cybex -> x ping rejected"
	expect cybex icmp $B - prohibited "$V proto icmp: cybex -> b ping rejected"
	expect a icmp $CY - timeout "$V proto icmp: a -> cybex ping dropped"
	# inbound range and list
	expect a tcp $CY 6000 ok:cybex "$V range: a -> cybex:6000/tcp"
	expect a tcp $CY 5000 timeout "$V range: a -> cybex:5000/tcp outside"
	expect a udp $CY 6000 timeout "$V range: a -> cybex:6000/udp wrong protocol"
	# the answer crosses the egress reject as part of the inbound flow
	expect a udp $CY 53 ok:cybex "$V list: a -> cybex:53/udp and its reply"
	expect a udp $CY 7777 refused "$V cybex's port unreachable for an allowed flow passes"
	expect a udp $CY 5000 timeout "$V list: a -> cybex:5000/udp not listed"
	expect b udp $CY 5000 ok:cybex "$V proto udp: b -> cybex:5000/udp"
	expect b udp $CY 53 ok:cybex "$V proto udp: b -> cybex:53/udp"
	expect b tcp $CY 5000 timeout "$V proto udp: b -> cybex/tcp dropped"
done
rft_done
