#!/bin/bash
# publish HOSTADDR:PORT forwards only that host address; publish with
# another host port; publish for UDP.
. "$(dirname "$0")/lib.sh"

topo_up
P=$(policy publish <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow in from 203.0.113.7 port 5000/tcp publish 198.51.100.1:5000
	allow in from 2001:db8:a::7 port 5000/tcp publish [2001:db8:b::1]:5000
	allow in from { 203.0.113.7, 2001:db8:a::7 } port 6000/tcp publish 7000
	allow in from { 198.51.100.9, 2001:db8:b::9 } port 53/udp publish 5353
}
POL
)
expect_apply "$P" "apply publish rules" || rft_done

for fam in 4 6; do
	use_family $fam
	expect a tcp $HB 5000 ok:cybex "$V a -> the published address:5000"
	expect a tcp $HA 5000 ok:host "$V a -> another host address:5000 not forwarded"
	expect a tcp $HBR 5000 ok:host "$V a -> bridge address:5000 not forwarded"
	expect x tcp $HB 5000 ok:host "$V x -> the published address:5000 not forwarded"
	expect a tcp $CY 5000 ok:cybex "$V a -> cybex:5000 direct"
	expect a tcp $HA 7000 ok:cybex "$V a -> host:7000 forwarded to cybex:6000"
	expect a tcp $HB 7000 ok:cybex "$V a -> other host address:7000 forwarded"
	expect x tcp $HX 7000 refused "$V x -> host:7000 sees a closed port"
	expect a tcp $HA 6000 refused "$V a -> host:6000 is not published"
	expect b udp $HB 5353 ok:cybex "$V b -> host:5353/udp forwarded to cybex:53"
	expect a udp $HA 5353 refused "$V a -> host:5353/udp sees a closed port"
	expect x tcp $CY 6000 timeout "$V x -> cybex:6000 dropped"
done
rft_done
