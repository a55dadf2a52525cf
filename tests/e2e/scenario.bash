# shellcheck shell=bash
# The cybex scenario, checked for one address family. Sourced by
# the scenario tests and expecting a policy equivalent to:
#
#	container cybex {
#		allow in from A port 5000/tcp publish 5000
#		allow in from B
#		allow out to A port 5000/tcp
#		allow out to B
#	}
#
# scenario_checks 4|6

scenario_checks() {
	use_family "$1"

	# inbound, through the published host port and directly
	expect a tcp $HA 5000 ok:cybex "$V a -> host:5000 is published to cybex"
	expect a tcp $HB 5000 ok:cybex "$V a -> other host address:5000 is published too"
	expect x tcp $HX 5000 ok:host "$V x -> host:5000 sees the host's own port"
	expect x tcp $HA 5000 ok:host "$V x -> published address:5000 sees the host's port"
	expect b tcp $HB 5000 ok:host "$V b -> host:5000 is not published for b"
	expect a tcp $CY 5000 ok:cybex "$V a -> cybex:5000 direct"
	expect a tcp $CY 6000 timeout "$V a -> cybex:6000 dropped (deny in drop)"
	expect a udp $CY 5000 timeout "$V a -> cybex:5000/udp dropped"
	local p
	for p in 5000 6000 80; do
		expect b tcp $CY $p ok:cybex "$V b -> cybex:$p/tcp"
	done
	for p in 5000 6000 53; do
		expect b udp $CY $p ok:cybex "$V b -> cybex:$p/udp"
	done
	expect x tcp $CY 5000 timeout "$V x -> cybex:5000/tcp dropped"
	expect x udp $CY 5000 timeout "$V x -> cybex:5000/udp dropped"

	# outbound
	expect cybex tcp $A 5000 ok:a "$V cybex -> a:5000/tcp"
	expect cybex tcp $A 6000 refused "$V cybex -> a:6000/tcp rejected with a reset"
	expect cybex tcp $A 80 refused "$V cybex -> a:80/tcp rejected with a reset"
	expect cybex udp $A 5000 prohibited "$V cybex -> a:5000/udp admin-prohibited"
	for p in 5000 6000 80; do
		expect cybex tcp $B $p ok:b "$V cybex -> b:$p/tcp"
	done
	for p in 5000 6000 53; do
		expect cybex udp $B $p ok:b "$V cybex -> b:$p/udp"
	done
	expect cybex tcp $X 5000 refused "$V cybex -> x/tcp rejected with a reset"
	expect cybex udp $X 5000 prohibited "$V cybex -> x/udp admin-prohibited"
	expect cybex icmp $X - prohibited "$V cybex -> x ping admin-prohibited"

	# errors of allowed flows come back
	expect cybex udp $B 7777 refused "$V ICMP port unreachable of an allowed flow passes"
	expect cybex tcp $B 7777 refused "$V reset of an allowed flow passes"

	# the host's own traffic and the unconfined container are untouched
	expect host tcp $A 5000 ok:a "$V host -> a unaffected"
	expect a tcp $HA 22 ok:host "$V a -> host:22 unaffected"
	expect other tcp $X 5000 ok:x "$V other -> x unaffected"
}
