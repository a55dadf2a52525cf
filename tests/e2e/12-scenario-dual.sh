#!/bin/bash
# The scenario for a dual-stack container, with mixed-family lists and
# $NAME references.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.bash"

topo_up
P=$(policy dual <<'POL'
define a = { 203.0.113.7, 2001:db8:a::7 }
define b = { 198.51.100.9, 2001:db8:b::9 }

container cybex address 172.20.0.2, fd20::2 {
	allow in from $a port 5000/tcp publish 5000
	allow in from $b
	allow out to $a port 5000/tcp
	allow out to { $b }
}
POL
)
expect_apply "$P" "apply the dual-stack scenario policy" || rft_done
scenario_checks 4
scenario_checks 6
rft_done
