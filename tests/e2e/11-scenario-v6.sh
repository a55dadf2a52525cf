#!/bin/bash
# The issue's scenario for an IPv6-only container.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.bash"

topo_up
P=$(policy cybex6 <<'POL'
define peers = { 2001:db8:a::7, 2001:db8:b::9 }

container cybex address fd20::2 {
	allow in from 2001:db8:a::7 port 5000/tcp publish 5000
	allow in from 2001:db8:b::9
	allow out to 2001:db8:a::7 port 5000/tcp
	allow out to 2001:db8:b::9
}
POL
)
expect_apply "$P" "apply the IPv6 scenario policy" || rft_done
scenario_checks 6
rft_done
