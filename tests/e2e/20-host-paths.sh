#!/bin/bash
# Container -> host goes through INPUT, host -> container through OUTPUT:
# both are filtered like any other peer, through every host address.
. "$(dirname "$0")/lib.sh"

topo_up
P1=$(policy defaults <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow out to { 198.51.100.9, 2001:db8:b::9 }
}
POL
)
P2=$(policy host <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow out to { 198.51.100.9, 2001:db8:b::9 }
	allow out to host port 53/udp
	allow in from host port 5000/tcp
}
POL
)

expect_apply "$P1" "apply a policy without host rules" || rft_done
for fam in 4 6; do
	use_family $fam
	expect cybex tcp $HBR 22 refused "$V cybex -> host:22/tcp rejected"
	expect cybex udp $HBR 53 prohibited "$V cybex -> host:53/udp rejected"
	expect cybex tcp $HA 5000 refused "$V cybex -> host's outside address rejected"
	# a drop in OUTPUT: TCP retries the SYN silently, UDP sees EPERM
	expect host tcp $CY 5000 timeout "$V host -> cybex:5000/tcp dropped"
	expect host udp $CY 5000 eperm "$V host -> cybex:5000/udp dropped"
	expect host tcp $OT 5000 ok:other "$V host -> unconfined container unaffected"
	expect other tcp $HBR 22 ok:host "$V unconfined container -> host unaffected"
done

expect_apply "$P2" "apply a policy with host rules" || rft_done
for fam in 4 6; do
	use_family $fam
	expect cybex udp $HBR 53 ok:host "$V cybex -> host:53/udp allowed"
	expect cybex udp $HA 53 ok:host "$V cybex -> host's outside address:53/udp allowed"
	expect cybex tcp $HBR 22 refused "$V cybex -> host:22/tcp still rejected"
	expect cybex tcp $HBR 5000 refused "$V cybex -> host:5000/tcp still rejected"
	expect host tcp $CY 5000 ok:cybex "$V host -> cybex:5000/tcp allowed"
	expect host tcp $CY 6000 timeout "$V host -> cybex:6000/tcp still dropped"
	expect host udp $CY 5000 eperm "$V host -> cybex:5000/udp still dropped"
	expect a tcp $CY 5000 timeout "$V 'host' does not admit outside hosts"
done
rft_done
