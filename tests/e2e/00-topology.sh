#!/bin/bash
# The topology before ringfence: Docker's verdicts, and netprobe's own
# verdicts checked against rules whose effect is known.
. "$(dirname "$0")/lib.sh"

topo_up

for fam in 4 6; do
	use_family $fam
	expect cybex tcp $A 5000 ok:a "$V container -> outside tcp"
	expect cybex udp $A 5000 ok:a "$V container -> outside udp"
	expect cybex tcp $A 7777 refused "$V closed tcp port is refused"
	expect cybex udp $A 7777 refused "$V closed udp port is refused"
	expect cybex icmp $A - ok "$V ping container -> outside"
	expect a tcp $CY 5000 timeout "$V outside -> container dropped by Docker"
	expect x tcp $OT 5000 timeout "$V outside -> unconfined dropped by Docker"
	expect a tcp $B 5000 timeout "$V outside -> outside dropped by Docker"
	expect a tcp $HA 5000 ok:host "$V outside -> host port"
	expect a udp $HB 53 ok:host "$V udp answer comes from the address asked"
	expect other tcp $X 5000 ok:x "$V unconfined -> outside"
	expect host tcp $CY 5000 ok:cybex "$V host -> container"
	expect cybex tcp $OT 5000 ok:other "$V container -> container"
	expect cybex tcp $HBR 22 ok:host "$V container -> host tcp"
	expect cybex udp $HBR 53 ok:host "$V container -> host udp"
done

# netprobe's verdicts for a local drop and an administrative reject
nsx b nft -f - <<'NFT'
table inet rftself {
	chain out {
		type filter hook output priority 0
		meta l4proto { tcp, udp } th dport 7001 drop
	}
	chain in {
		type filter hook input priority 0
		meta l4proto { tcp, udp } th dport 7002 reject with icmpx admin-prohibited
		icmp type echo-request reject with icmpx admin-prohibited
		icmpv6 type echo-request reject with icmpx admin-prohibited
	}
}
NFT
for fam in 4 6; do
	use_family $fam
	expect b udp $A 7001 eperm "$V netprobe: udp local drop is eperm"
	expect b tcp $A 7001 timeout "$V netprobe: tcp local drop is a timeout"
	expect cybex tcp $B 7002 prohibited "$V netprobe: tcp admin-prohibited"
	expect cybex udp $B 7002 prohibited "$V netprobe: udp admin-prohibited"
	expect cybex icmp $B - prohibited "$V netprobe: ping admin-prohibited"
	expect cybex icmp $X - ok "$V ping passes"
done
nsx b nft delete table inet rftself

rft_done
