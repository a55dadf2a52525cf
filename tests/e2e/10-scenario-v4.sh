#!/bin/bash
# The issue's scenario, its policy word for word (IPv4).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.bash"

topo_up
P=$(policy cybex <<'POL'
# /etc/ringfence/ringfence.conf
define peers = { 203.0.113.7, 198.51.100.9 }

container cybex address 172.20.0.2 {
	allow in from 203.0.113.7 port 5000/tcp publish 5000
	allow in from 198.51.100.9
	allow out to 203.0.113.7 port 5000/tcp
	allow out to 198.51.100.9
}
POL
)
expect_apply "$P" "apply the scenario policy" || rft_done
scenario_checks 4
rft_done
