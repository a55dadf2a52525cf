#!/bin/bash
# The cybex scenario with Docker discovery by name: `container cybex`
# without an address binds to the running container called cybex, started
# after the daemon (so the daemon learns it from the event stream), on a
# user-defined network, without docker -p. Every allowed and denied path is
# proven with real connections, IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"

rfd_up
ctr_serve other || rfd_die "container other did not start"
P=$(scenario_policy cybex | policy cybex)
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }
rfd_pass "daemon starts with cybex not running yet"
expect_log "the daemon logs the ruleset it loaded" 'loaded'

log_mark
ctr_run cybex || rfd_die "container cybex did not start"
CY=$(ctr_ip cybex)
# measured from the moment docker run returns, the container running
if ms=$(poll_probe a tcp "$CY" 5000 ok:cybex 3000); then
	diag "a -> cybex allowed ${ms} ms after docker run returned"
	expect_le "a -> cybex allowed within 1 s of the start" "$ms" 1000 " ms"
else
	rfd_fail "a -> cybex allowed after the start" "last verdict $ms after 3 s"
fi
expect_log "the daemon logs the container it bound" "cybex.*${CY//./\\.}|${CY//./\\.}.*cybex"
scenario_checks cybex other
expect_alive "the daemon still runs"
rfd_done
