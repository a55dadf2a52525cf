# shellcheck shell=bash
#
# lib.sh: the Docker host of tests/docker/lib.sh, with firewalld in front of
# it, as on a Fedora, RHEL or Debian host that runs both. Sourced by every
# tests/firewalld/NN-*.sh; needs what tests/docker needs plus firewalld
# (1.3.3 here), dbus-daemon, dbus-send and, for the iptables backend, ipset.
#
# Everything of firewalld's is the test's own:
#
#   - a private system bus: dbus-daemon with its own configuration and
#     socket under the temporary directory. DBUS_SYSTEM_BUS_ADDRESS points
#     at it for firewalld, firewall-cmd, dockerd and ringfence, so none of
#     them can reach the machine's bus (or a firewalld running there);
#   - firewalld --system-config DIR, DIR being the test's own directory
#     with its own firewalld.conf: firewalld keeps its permanent
#     configuration there instead of /etc/firewalld, and reads the shipped
#     defaults (zones, services) from /usr/lib/firewalld without writing
#     them. It runs in rftd-host, entered with nsenter --net like dockerd,
#     logs to a file in the temporary directory and writes no pid file.
#     It needs no polkit: without one on the bus it authorises uid 0.
#
# firewalld starts before dockerd, so that dockerd finds it on the bus,
# makes its `docker` zone, puts its bridges there and follows firewalld's
# Reloaded signal, as it does on a real host. Every interface of rftd-host
# is in the default zone, public: the host's port 5000 is closed to the
# outside hosts (firewalld rejects with admin-prohibited), 22 (ssh) is open.
#
# Environment, besides tests/docker's: RFF_BACKEND (nftables, the default,
# or iptables), firewalld's FirewallBackend for this run.

. "$(dirname "${BASH_SOURCE[0]}")/../docker/lib.sh"

: "${RFF_BACKEND:=nftables}"
case $RFF_BACKEND in
nftables|iptables) ;;
*) rfd_die "RFF_BACKEND must be nftables or iptables, not $RFF_BACKEND" ;;
esac
RFD_NAME="${RFD_NAME}[$RFF_BACKEND]"

for cmd in firewalld firewall-cmd dbus-daemon dbus-send; do
	command -v "$cmd" >/dev/null || rfd_die "$cmd missing"
done
if [ "$RFF_BACKEND" = iptables ]; then
	command -v ipset >/dev/null ||
	    rfd_die "ipset missing (firewalld's iptables backend needs it)"
fi

RFF_BUS=$RFD_TMP/bus.sock
RFF_BUS_ADDR=unix:path=$RFF_BUS
export DBUS_SYSTEM_BUS_ADDRESS=$RFF_BUS_ADDR
RFF_ETC=$RFD_TMP/firewalld
RFF_LOG=$RFD_TMP/firewalld.log
RFF_PID=
RFF_BUS_PID=
RFD_DOWN_HOOKS+=(rff_down)
# What the end of firewalld's public zone answers: ICMP admin-prohibited
# with the nftables backend, port-unreachable with the iptables one. A
# source the host's port 5000 is not published for meets it, not the
# host's server.
case $RFF_BACKEND in
nftables) RFF_REJECT=prohibited ;;
iptables) RFF_REJECT=refused ;;
esac
RFD_HOST_5000=$RFF_REJECT

FW_SERVICE=org.fedoraproject.FirewallD1
FW_PATH=/org/fedoraproject/FirewallD1

# ---- the private bus ----

rff_bus_start() {
	local i
	cat >"$RFD_TMP/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$RFF_BUS_ADDR</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
	RFF_BUS_PID=$(dbus-daemon --config-file="$RFD_TMP/bus.conf" --fork \
	    --print-pid </dev/null 2>"$RFD_TMP/bus.err") ||
	    rfd_die "dbus-daemon: $(head -n 3 "$RFD_TMP/bus.err")"
	[[ $RFF_BUS_PID =~ ^[0-9]+$ ]] || rfd_die "dbus-daemon printed no pid"
	for i in $(seq 1 100); do
		[ -S "$RFF_BUS" ] && return 0
		sleep 0.05
	done
	rfd_die "the private bus has no socket after 5 s"
}

rff_bus_stop() {
	stop_pid "$RFF_BUS_PID" 3 dbus-daemon
	RFF_BUS_PID=
}

# ---- firewalld ----

# fwcmd ARGS...: firewall-cmd on the private bus, bounded
fwcmd() {
	DBUS_SYSTEM_BUS_ADDRESS=$RFF_BUS_ADDR timeout 60 firewall-cmd "$@"
}

# fw_state: firewalld's state property (RUNNING once it has loaded its
# rules), read with dbus-send, which starts in a millisecond where
# firewall-cmd takes a fifth of a second
fw_state() {
	dbus-send --bus="$RFF_BUS_ADDR" --reply-timeout=10000 --print-reply \
	    --dest="$FW_SERVICE" "$FW_PATH" org.freedesktop.DBus.Properties.Get \
	    string:"$FW_SERVICE" string:state 2>/dev/null |
	    awk -F'"' '/string/ { print $2 }'
}

# rff_conf: the test's own firewalld.conf, firewalld's defaults but the
# backend
rff_conf() {
	mkdir -p "$RFF_ETC"
	cat >"$RFF_ETC/firewalld.conf" <<EOF
DefaultZone=public
CleanupOnExit=yes
CleanupModulesOnExit=no
Lockdown=no
IPv6_rpfilter=yes
IndividualCalls=no
LogDenied=off
FirewallBackend=$RFF_BACKEND
FlushAllOnReload=yes
RFC3964_IPv4=yes
EOF
}

# fw_start: start firewalld in rftd-host; wait (bounded) until it runs.
# Returns 1 if it does not.
fw_start() {
	local i
	[ -n "$RFF_PID" ] && rfd_die "fw_start: firewalld runs already"
	echo "---- firewalld start $(date +%T.%N)" >>"$RFF_LOG"
	# nsenter execs firewalld: $! is firewalld's own PID
	nsenter --net="/run/netns/$RFD_HOST" firewalld --nofork --nopid \
	    --system-config "$RFF_ETC" --log-target file \
	    --log-file "$RFF_LOG" </dev/null >>"$RFD_TMP/firewalld.out" 2>&1 &
	RFF_PID=$!
	for i in $(seq 1 600); do
		[ "$(fw_state)" = RUNNING ] && return 0
		kill -0 "$RFF_PID" 2>/dev/null || break
		sleep 0.05
	done
	diag "firewalld did not come up; its log:"
	diag_file "$RFF_LOG" 20
	diag_file "$RFD_TMP/firewalld.out" 10
	return 1
}

# fw_stop: SIGTERM (firewalld removes its rules), bounded wait, SIGKILL
fw_stop() {
	stop_pid "$RFF_PID" 15 firewalld
	RFF_PID=
}

fw_running() {
	[ -n "$RFF_PID" ] && kill -0 "$RFF_PID" 2>/dev/null
}

rff_down() {
	fw_stop
	rff_bus_stop
}

# rff_up [DOCKERD_ARGS...]: the topology, the private bus, firewalld, then
# dockerd on that bus, the image and rftnet
rff_up() {
	rfd_topology_up
	# firewalld's rejects are what several checks expect: no ICMP rate
	# limit may turn one into a timeout when probes follow each other
	rfd_run rfd_sysctl "$RFD_HOST" net.ipv4.icmp_ratelimit=0 \
	    net.ipv6.icmp.ratelimit=0
	rff_bus_start
	rff_conf
	fw_start || rfd_die "firewalld did not start"
	rfd_docker_up "$@"
}

# ---- what ringfence keeps in firewalld ----

# fw_list WHAT [--permanent]: one name per line of --get-WHAT
# (policies, ipsets, zones)
fw_list() {
	fwcmd ${2:+"$2"} "--get-$1" 2>/dev/null | tr ' ' '\n' | grep .
}

fw_has() {
	fw_list "$1" ${3:+"$3"} | grep -qx -- "$2"
}

# fw_ipset_has SET ADDR: ADDR is a runtime entry of firewalld's SET
fw_ipset_has() {
	fwcmd --ipset="$1" --get-entries 2>/dev/null | tr ' ' '\n' |
	    grep -qxE -- "$2(/(32|128))?"
}

# docker_user_ringfence: ringfence's rule is in DOCKER-USER
docker_user_ringfence() {
	in_host timeout 10 iptables -w 5 -S DOCKER-USER 2>/dev/null |
	    grep -q -- '--comment ringfence'
}

# rff_evidence: what firewalld and netfilter hold, as comments
rff_evidence() {
	diag "firewalld: state $(fw_state), policies: $(fw_list policies |
	    tr '\n' ' '), ipsets: $(fw_list ipsets | tr '\n' ' ')"
	diag "permanent policies: $(fw_list policies --permanent | tr '\n' ' ')"
	diag "permanent ipsets: $(fw_list ipsets --permanent | tr '\n' ' ')"
	diag "docker zone: $(fwcmd --zone=docker --list-interfaces 2>&1)"
	diag "DOCKER-USER: $(in_host iptables -w 5 -S DOCKER-USER 2>&1 |
	    tr '\n' ';')"
	diag "nft tables in $RFD_HOST: $(in_host nft list tables 2>&1 |
	    tr '\n' ';')"
	diag "firewalld's own forward chain:"
	if [ "$RFF_BACKEND" = nftables ]; then
		in_host nft list chain inet firewalld filter_FORWARD 2>&1 |
		    grep -E 'jump|goto|reject|accept' | sed 's/^\s*/#   /'
	else
		in_host iptables -w 5 -S FORWARD 2>&1 | sed 's/^/#   /'
	fi
	diag "last lines of firewalld's log:"
	grep . "$RFF_LOG" | tail -n 8 | sed 's/^/#   /'
}

# ---- time ----

# ms: wall-clock milliseconds, without a fork (same clock as now_ms)
ms() {
	echo $(( ${EPOCHREALTIME/./} / 1000 ))
}
