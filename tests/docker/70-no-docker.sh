#!/bin/bash
# Docker is not there when the daemon starts: it says so, loads what it
# can (a container with a static address is confined at once), keeps
# retrying, and catches up when Docker appears (a name-bound container
# becomes confined). Twice: the socket missing (dockerd stopped), and a
# socket nobody listens on (dockerd killed), the second time with the
# socket given through DOCKER_HOST.
. "$(dirname "$0")/lib.sh"

# --live-restore: the containers run on while dockerd is stopped
rfd_up --live-restore
ctr_serve legacy --ip 172.30.0.99 || rfd_die "container legacy did not start"
ctr_serve cybex || rfd_die "container cybex did not start"
ctr_remember legacy cybex
CY=$(ctr_ip cybex)
P=$(policy nodocker <<'POL'
define b = { 198.51.100.9, 2001:db8:b::9 }

container legacy address 172.30.0.99 {
	allow out to $b
}

container cybex {
	allow in from 203.0.113.7 port 5000/tcp
	allow out to $b
}
POL
)

# catch_up WHAT: after Docker is back, cybex becomes confined
catch_up() {
	local what=$1 ms
	if ms=$(poll_probe cybex tcp "$X" 5000 refused 10000); then
		diag "$what: cybex confined $ms ms after Docker came back"
		expect_le "$what: cybex confined within 6 s of Docker's return (retry backoff)" \
		    "$ms" 6000 " ms"
	else
		rfd_fail "$what: cybex confined after Docker came back" \
		    "cybex -> x: $ms after 10 s"
	fi
	expect a tcp "$CY" 5000 ok:cybex "$what: a -> cybex allowed"
	expect cybex tcp "$B" 5000 ok:b "$what: cybex -> b allowed"
	expect legacy tcp "$X" 5000 refused "$what: legacy -> x still rejected"
	expect_true "$what: status says Docker is connected" status_docker_connected
}

# ---- 1. the socket is missing ----
docker_stop
expect_eq "dockerd stopped, its socket gone" "$(test -e "$RFD_SOCK"; echo $?)" 1
expect legacy tcp "$X" 5000 ok:x "before the daemon: legacy -> x open"
rf_daemon_start "$P" || { rfd_fail "daemon starts without Docker" "see its log"; rfd_done; }
rfd_pass "daemon starts without Docker"
expect_log "the daemon says Docker is not there" \
    'docker.*(no such file|not found|missing|cannot|unreach|not running|refused|fail)' 3
expect legacy tcp "$X" 5000 refused "static address: legacy -> x rejected at once"
expect legacy udp "$X" 5000 prohibited "static address: legacy -> x/udp rejected"
expect legacy tcp "$B" 5000 ok:b "static address: legacy -> b allowed"
expect_true "ringfence's table is loaded without Docker" rf_table_present
diag "without Docker, name-bound cybex -> x: $(probe cybex tcp "$X" 5000)"
if rf_status --json >"$RFD_TMP/status.json" 2>&1; then
	expect_grep "status says Docker is not connected" \
	    '"docker_connected": *false' "$RFD_TMP/status.json"
else
	rfd_fail "status answers without Docker" "$(head -3 "$RFD_TMP/status.json")"
fi
sleep 3
expect_alive "the daemon keeps running without Docker"
log_mark
docker_start
catch_up "socket missing"
expect_log "the daemon logs that it reached Docker" 'docker' 1

# ---- 2. a socket nobody listens on, given through DOCKER_HOST ----
rf_daemon_stop
rf_flush >/dev/null 2>&1
docker_stop
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])' "$RFD_SOCK" || rfd_die "cannot make a stale socket"
expect legacy tcp "$X" 5000 ok:x "after flush: legacy -> x open"
RFD_RF_DOCKER_ARGS=()
export DOCKER_HOST=unix://$RFD_SOCK
rf_daemon_start "$P" || { rfd_fail "daemon starts with a dead socket" "see its log"; rfd_done; }
unset DOCKER_HOST
rfd_pass "daemon starts with a dead Docker socket"
expect_log "the daemon says Docker refuses connections" \
    'docker.*(refused|cannot|unreach|not running|fail)' 3
expect legacy tcp "$X" 5000 refused "dead socket: legacy -> x rejected at once"
sleep 2
expect_alive "the daemon keeps running with a dead socket"
log_mark
docker_start
catch_up "dead socket, DOCKER_HOST"
rfd_done
