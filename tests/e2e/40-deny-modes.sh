#!/bin/bash
# deny in reject / deny out drop, and the defaults written out.
. "$(dirname "$0")/lib.sh"

topo_up
P1=$(policy flipped <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow in from { 198.51.100.9, 2001:db8:b::9 }
	allow out to { 198.51.100.9, 2001:db8:b::9 }
	deny in reject
	deny out drop
}
POL
)
P2=$(policy explicit <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow in from { 198.51.100.9, 2001:db8:b::9 }
	allow out to { 198.51.100.9, 2001:db8:b::9 }
	deny in drop
	deny out reject
}
POL
)

expect_apply "$P1" "apply deny in reject, deny out drop" || rft_done
for fam in 4 6; do
	use_family $fam
	expect x tcp $CY 6000 refused "$V deny in reject: x -> cybex/tcp reset"
	expect x udp $CY 6000 prohibited "$V deny in reject: x -> cybex/udp prohibited"
	expect x icmp $CY - prohibited "$V deny in reject: x ping prohibited"
	expect host tcp $CY 5000 refused "$V deny in reject: host -> cybex/tcp reset"
	expect cybex tcp $X 5000 timeout "$V deny out drop: cybex -> x/tcp"
	expect cybex udp $X 5000 timeout "$V deny out drop: cybex -> x/udp"
	expect cybex icmp $X - timeout "$V deny out drop: cybex ping x"
	expect cybex tcp $HBR 22 timeout "$V deny out drop: cybex -> host"
	expect b tcp $CY 5000 ok:cybex "$V b -> cybex allowed"
	expect cybex udp $B 53 ok:b "$V cybex -> b allowed"
done

expect_apply "$P2" "apply the defaults written out" || rft_done
for fam in 4 6; do
	use_family $fam
	expect x tcp $CY 6000 timeout "$V deny in drop: x -> cybex/tcp"
	expect x udp $CY 6000 timeout "$V deny in drop: x -> cybex/udp"
	expect cybex tcp $X 5000 refused "$V deny out reject: cybex -> x/tcp"
	expect cybex udp $X 5000 prohibited "$V deny out reject: cybex -> x/udp"
	expect b tcp $CY 5000 ok:cybex "$V b -> cybex allowed"
done
rft_done
