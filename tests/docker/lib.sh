# shellcheck shell=bash
#
# lib.sh: a real Docker host in a network namespace, for the tests of
# `ringfence daemon`. Sourced by every tests/docker/NN-*.sh; needs root,
# dockerd (docker.io), the docker CLI, busybox-static, nft and iptables.
#
# Topology (the namespace names are fixed; only these four are ours):
#
#   rftd-a  203.0.113.7/24   2001:db8:a::7/64  --vd-a--+
#   rftd-b  198.51.100.9/24  2001:db8:b::9/64  --vd-b--+  rftd-host
#   rftd-x  192.0.2.66/24    2001:db8:c::66/64 --vd-x--+  .1 / ::1 on each
#                                                      |
#                   dockerd's bridge for "rftnet": 172.30.0.0/24, fd30::/64
#                   (containers from the test image rftest:latest)
#
# rftd-host runs a dedicated dockerd (entered with nsenter --net, not
# `ip netns exec`, which remounts /sys and hides the cgroup mounts) with its
# own data root, exec root, pidfile and socket under a temporary directory,
# and the ringfence daemon under test. The veth pairs are created inside the
# namespaces: nothing of the machine's own network namespace is involved, so
# no test packet can leave the topology. x is the forbidden destination and
# the unallowed source; a and b are allowed peers.
#
# dockerd enables IPv4 forwarding itself, and therefore sets the FORWARD
# policy to DROP, as on a fresh Docker host. It runs with --ip6tables=false
# (Docker 20.10 has no ip6tables DOCKER-USER chain), so IPv6 is forwarded
# without any Docker filtering and only ringfence stands in the way.
#
# Environment: RINGFENCE, NETPROBE (defaults build/ringfence and
# build/netprobe), NETPROBE_STATIC (a statically linked netprobe for the
# image; built from tests/netprobe.c when missing), RFD_WAIT (ms a probe
# waits when a timeout is expected, default 700), RFD_VERBOSE=1 to trace
# setup commands, RFD_KEEP=1 to keep the temporary directory.

RFD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${RINGFENCE:=$RFD_ROOT/build/ringfence}"
: "${NETPROBE:=$RFD_ROOT/build/netprobe}"
: "${RFD_WAIT:=700}"
RFD_WAIT_ANSWER=2000		# ms for probes expected to get an answer
RFD_NAME=$(basename "$0" .sh)
RFD_HOST=rftd-host
RFD_NSLIST=(rftd-host rftd-a rftd-b rftd-x)
RFD_NET=rftnet
RFD_SUBNET4=172.30.0.0/24
RFD_SUBNET6=fd30::/64
RFD_GW4=172.30.0.1
RFD_IMAGE=rftest:latest
# Records the temporary directory of a run in progress, so that a run that
# died can be cleaned up by the next one without touching anything else.
RFD_STATE=/run/ringfence-docker-tests.dir

RFD_PASS=0
RFD_FAIL=0
RFD_TMP=
RFD_SOCK=
RFD_CTL=
RFD_LOG=
RFD_DOCKERD_PID=
RFD_DOCKERD_ARGS=()
RFD_RF_PID=
RFD_LOG_MARK=0
RFD_SERVER_PIDS=()

# role -> namespace, addresses
declare -A RFD_NS=([host]=rftd-host [a]=rftd-a [b]=rftd-b [x]=rftd-x)
declare -A RFD_V4=([a]=203.0.113.7 [b]=198.51.100.9 [x]=192.0.2.66)
declare -A RFD_V6=([a]=2001:db8:a::7 [b]=2001:db8:b::9 [x]=2001:db8:c::66)
declare -A RFD_HV4=([a]=203.0.113.1 [b]=198.51.100.1 [x]=192.0.2.1)
declare -A RFD_HV6=([a]=2001:db8:a::1 [b]=2001:db8:b::1 [x]=2001:db8:c::1)
A=203.0.113.7 B=198.51.100.9 X=192.0.2.66
HA=203.0.113.1 HB=198.51.100.1 HX=192.0.2.1
A6=2001:db8:a::7 B6=2001:db8:b::9 X6=2001:db8:c::66
HA6=2001:db8:a::1 HB6=2001:db8:b::1 HX6=2001:db8:c::1

# ---- small helpers ----

diag() {
	local line
	for line in "$@"; do
		printf '# %s\n' "$line"
	done
}

# diag_file FILE [N]: the last N (default 30) lines of FILE as comments
diag_file() {
	[ -s "$1" ] || return 0
	tail -n "${2:-30}" "$1" | sed 's/^/#   /'
}

rfd_die() {
	printf 'Bail out! %s\n' "$*"
	exit 1
}

rfd_run() {
	[ "${RFD_VERBOSE:-0}" = 1 ] && printf '+ %s\n' "$*" >&2
	"$@" || rfd_die "setup command failed: $*"
}

now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# in_ns ROLE|NS CMD...: run CMD in a test namespace (network only)
in_ns() {
	local ns=${RFD_NS[$1]:-$1}
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# in_host CMD...: run CMD in the Docker host's namespace
in_host() {
	nsenter --net="/run/netns/$RFD_HOST" "$@"
}

# rfd_sysctl NS KEY=VALUE...: set sysctls inside NS through /proc/sys
rfd_sysctl() {
	local ns=$1 kv
	shift
	for kv in "$@"; do
		printf '%s\n' "${kv#*=}" | in_ns "$ns" \
		    tee "/proc/sys/$(printf '%s' "${kv%%=*}" | tr . /)" \
		    >/dev/null || return 1
	done
}

# dk ARGS...: the docker CLI, talking to the test dockerd
dk() {
	timeout 120 docker -H "unix://$RFD_SOCK" "$@"
}

# ---- cleanup of what an earlier run left ----

# Processes of ours: everything inside our namespaces, and whatever names
# our temporary directory on its command line (dockerd, its containerd,
# the shims that outlive them) or lives in our cgroup parent.
rfd_kill_ours() {
	local dir=$1 ns pid pids=()
	for ns in "${RFD_NSLIST[@]}"; do
		[ -e "/run/netns/$ns" ] || continue
		mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null)
	done
	for pid in /proc/[0-9]*; do
		pid=${pid#/proc/}
		if [ -n "$dir" ] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } \
		    2>/dev/null | grep -qF -- "$dir/"; then
			pids+=("$pid")
		elif grep -q ":/$RFD_HOST/" "/proc/$pid/cgroup" 2>/dev/null; then
			pids+=("$pid")
		fi
	done
	[ ${#pids[@]} = 0 ] && return 0
	kill -KILL "${pids[@]}" 2>/dev/null
	sleep 0.2
}

# rfd_unmount_under DIR: lazily unmount every mount below DIR, deepest first
rfd_unmount_under() {
	local dir=$1 m
	[ -n "$dir" ] || return 0
	awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts |
	    sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
}

# rfd_cgroups_remove: the (empty) cgroups of our --cgroup-parent
rfd_cgroups_remove() {
	local d
	for d in /sys/fs/cgroup/*/"$RFD_HOST"/* /sys/fs/cgroup/*/"$RFD_HOST"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	return 0
}

rfd_cleanup_stale() {
	local dir='' ns
	[ -f "$RFD_STATE" ] && dir=$(cat "$RFD_STATE")
	case $dir in /tmp/rfd.*|"${TMPDIR:-/tmp}"/rfd.*) ;; *) dir= ;; esac
	rfd_kill_ours "$dir"
	for ns in "${RFD_NSLIST[@]}"; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$dir" ]; then
		rfd_unmount_under "$dir"
		rm -rf "$dir"
	fi
	rfd_cgroups_remove
	rm -f "$RFD_STATE"
}

# ---- dockerd ----

# docker_start [EXTRA_ARGS...]: start the test dockerd in rftd-host (again),
# with the arguments of the last start when none are given; wait until it
# answers (bounded).
docker_start() {
	local i
	[ $# -gt 0 ] && RFD_DOCKERD_ARGS=("$@")
	[ -n "$RFD_DOCKERD_PID" ] && rfd_die "docker_start: dockerd runs already"
	nsenter --net="/run/netns/$RFD_HOST" dockerd \
	    --data-root "$RFD_TMP/docker/data" \
	    --exec-root "$RFD_TMP/docker/exec" \
	    --pidfile "$RFD_TMP/docker/dockerd.pid" \
	    -H "unix://$RFD_SOCK" \
	    --iptables=true --ip6tables=false \
	    --cgroup-parent "$RFD_HOST" \
	    "${RFD_DOCKERD_ARGS[@]}" \
	    </dev/null >>"$RFD_TMP/dockerd.log" 2>&1 &
	RFD_DOCKERD_PID=$!
	for i in $(seq 1 150); do
		if [ -S "$RFD_SOCK" ] && dk version >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$RFD_DOCKERD_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag "dockerd did not come up; its log:"
	diag_file "$RFD_TMP/dockerd.log" 20
	rfd_die "dockerd did not answer within 15 s"
}

# docker_stop: stop the test dockerd (SIGTERM, then SIGKILL after 20 s) and
# wait for it. Containers stop with it unless it runs with --live-restore.
docker_stop() {
	[ -n "$RFD_DOCKERD_PID" ] || return 0
	stop_pid "$RFD_DOCKERD_PID" 20 dockerd
	RFD_DOCKERD_PID=
	# a killed dockerd leaves its socket behind
	rm -f "$RFD_SOCK"
}

docker_restart() {
	docker_stop
	docker_start
}

docker_running() {
	[ -n "$RFD_DOCKERD_PID" ] && kill -0 "$RFD_DOCKERD_PID" 2>/dev/null
}

# ---- the test image ----

# rfd_netprobe_static: path of a statically linked netprobe
rfd_netprobe_static() {
	if [ -n "${NETPROBE_STATIC:-}" ] && [ -x "$NETPROBE_STATIC" ]; then
		printf '%s\n' "$NETPROBE_STATIC"
	elif ! ldd "$NETPROBE" >/dev/null 2>&1; then
		printf '%s\n' "$NETPROBE"
	else
		gcc -static -O2 -o "$RFD_TMP/netprobe-static" \
		    "$RFD_ROOT/tests/netprobe.c" 2>"$RFD_TMP/gcc.err" ||
		    rfd_die "cannot build a static netprobe: $(head -3 "$RFD_TMP/gcc.err")"
		printf '%s\n' "$RFD_TMP/netprobe-static"
	fi
}

# image_build: rftest:latest from busybox-static and a static netprobe
image_build() {
	local r=$RFD_TMP/rootfs np applet
	np=$(rfd_netprobe_static)
	rfd_run mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev"
	rfd_run cp "$RFD_BUSYBOX" "$r/bin/busybox"
	for applet in $("$RFD_BUSYBOX" --list); do
		[ -e "$r/bin/$applet" ] || ln -s busybox "$r/bin/$applet"
	done
	rfd_run cp "$np" "$r/bin/netprobe"
	printf 'root:x:0:0:root:/:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\n' >"$r/etc/group"
	tar -C "$r" -c . | dk import - "$RFD_IMAGE" >/dev/null ||
	    rfd_die "docker import failed"
}

# ---- containers ----

RFD_SERVE=(/bin/netprobe serve -t 5000 -t 6000 -t 80 -u 5000 -u 6000 -u 53)

# ctr_run NAME [DOCKER_RUN_OPTIONS...] [-- CMD...]: start a container on
# rftnet running CMD (default: a netprobe server named NAME).
ctr_run() {
	local name=$1 opts=() cmd=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	if [ "${1:-}" = -- ]; then
		shift
		cmd=("$@")
	else
		cmd=(/bin/netprobe serve -n "$name" "${RFD_SERVE[@]:2}")
	fi
	dk run -d --name "$name" --network "$RFD_NET" --init \
	    --stop-timeout 2 "${opts[@]}" "$RFD_IMAGE" "${cmd[@]}" \
	    >"$RFD_TMP/run.out" 2>&1 ||
	    { diag_file "$RFD_TMP/run.out" 5; return 1; }
}

# ctr_serve NAME [OPTIONS...]: ctr_run with the default server, then wait
# until the server answers inside the container
ctr_serve() {
	ctr_run "$@" || return 1
	ctr_ready "$1"
}

ctr_ready() {
	local name=$1 i
	for i in $(seq 1 50); do
		[ "$(in_ctr "$name" "$NETPROBE" connect -t -w 200 127.0.0.1 \
		    5000 2>/dev/null)" = "ok:$name" ] && return 0
		sleep 0.05
	done
	diag "the server in container $name did not come up"
	return 1
}

# ctr_pid NAME: the container's main PID from Docker; while dockerd is
# stopped, the PID that ctr_remember stored (containers kept running by
# --live-restore)
declare -A RFD_CPID=()
ctr_pid() {
	local pid=
	docker_running && pid=$(dk inspect -f '{{.State.Pid}}' "$1" 2>/dev/null)
	printf '%s\n' "${pid:-${RFD_CPID[$1]:-}}"
}

ctr_remember() {
	local name
	for name in "$@"; do
		RFD_CPID[$name]=$(dk inspect -f '{{.State.Pid}}' "$name" 2>/dev/null)
	done
}

ctr_id() {
	dk inspect -f '{{.Id}}' "$1" 2>/dev/null
}

# ctr_ip NAME [NETWORK]: the container's IPv4 address on NETWORK (rftnet)
ctr_ip() {
	dk inspect -f "{{with index .NetworkSettings.Networks \"${2:-$RFD_NET}\"}}{{.IPAddress}}{{end}}" \
	    "$1" 2>/dev/null
}

ctr_ip6() {
	dk inspect -f "{{with index .NetworkSettings.Networks \"${2:-$RFD_NET}\"}}{{.GlobalIPv6Address}}{{end}}" \
	    "$1" 2>/dev/null
}

# in_ctr NAME CMD...: run a host command in the container's network
# namespace (host tools give exact verdicts)
in_ctr() {
	local name=$1 pid
	shift
	pid=$(ctr_pid "$name")
	if [ -z "$pid" ] || [ "$pid" = 0 ]; then
		echo "error:not-running"
		return 1
	fi
	nsenter --net="/proc/$pid/ns/net" "$@"
}

# ---- the topology ----

rfd_outside_add() {
	local role=$1 ns=${RFD_NS[$1]} link=vd-$1
	rfd_run ip netns add "$ns"
	rfd_run ip -n "$ns" link set lo up
	rfd_run rfd_sysctl "$ns" net.ipv6.conf.all.accept_dad=0 \
	    net.ipv6.conf.default.accept_dad=0
	rfd_run ip -n "$RFD_HOST" link add "$link" type veth \
	    peer name eth0 netns "$ns"
	rfd_run ip -n "$RFD_HOST" addr add "${RFD_HV4[$role]}/24" dev "$link"
	rfd_run ip -n "$RFD_HOST" addr add "${RFD_HV6[$role]}/64" dev "$link" nodad
	rfd_run ip -n "$RFD_HOST" link set "$link" up
	rfd_run ip -n "$ns" addr add "${RFD_V4[$role]}/24" dev eth0
	rfd_run ip -n "$ns" addr add "${RFD_V6[$role]}/64" dev eth0 nodad
	rfd_run ip -n "$ns" link set eth0 up
	rfd_run ip -n "$ns" route add default via "${RFD_HV4[$role]}"
	rfd_run ip -n "$ns" -6 route add default via "${RFD_HV6[$role]}"
}

rfd_server_start() {
	local role=$1
	shift
	# nsenter execs the server: $! is the server's own PID
	nsenter --net="/run/netns/${RFD_NS[$role]}" "$NETPROBE" serve \
	    -n "$role" "$@" </dev/null >/dev/null 2>>"$RFD_TMP/servers.err" &
	RFD_SERVER_PIDS+=($!)
}

rfd_server_ready() {
	local role=$1 i
	for i in $(seq 1 50); do
		[ "$(in_ns "$role" "$NETPROBE" connect -t -w 200 127.0.0.1 \
		    5000)" = "ok:$role" ] && return 0
		sleep 0.05
	done
	rfd_die "netprobe server in ${RFD_NS[$role]} did not come up"
}

# rfd_up [DOCKERD_ARGS...]: namespaces, outside hosts and their servers,
# dockerd, the test image and the network rftnet.
rfd_up() {
	rfd_topology_up
	rfd_docker_up "$@"
}

# rfd_topology_up: the namespaces, the outside hosts and every server
rfd_topology_up() {
	local role
	rfd_run ip netns add "$RFD_HOST"
	rfd_run ip -n "$RFD_HOST" link set lo up
	# dockerd turns IPv4 forwarding on itself and sets FORWARD to DROP
	rfd_run rfd_sysctl "$RFD_HOST" net.ipv4.ip_forward=0 \
	    net.ipv6.conf.all.forwarding=1 \
	    net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	for role in a b x; do
		rfd_outside_add "$role"
	done
	for role in a b x; do
		rfd_server_start "$role" -t 5000 -t 6000 -t 80 \
		    -u 5000 -u 6000 -u 53
	done
	rfd_server_start host -t 5000 -t 22 -u 53
	for role in a b x host; do
		rfd_server_ready "$role"
	done
}

# rfd_docker_up [DOCKERD_ARGS...]: dockerd in rftd-host, the test image and
# the network rftnet
rfd_docker_up() {
	mkdir -p "$RFD_TMP/docker"
	docker_start "$@"
	[ "$(in_host cat /proc/sys/net/ipv4/ip_forward)" = 1 ] ||
	    rfd_die "dockerd did not enable IPv4 forwarding"
	image_build
	dk network create --ipv6 --subnet "$RFD_SUBNET4" \
	    --subnet "$RFD_SUBNET6" "$RFD_NET" >"$RFD_TMP/net.out" 2>&1 ||
	    rfd_die "docker network create: $(cat "$RFD_TMP/net.out")"
	RFD_BRIDGE=br-$(dk network inspect -f '{{.Id}}' "$RFD_NET" | cut -c1-12)
}

# RFD_DOWN_HOOKS: functions rfd_down calls once Docker is gone, before it
# kills what is left in the namespaces (a suite's own services)
RFD_DOWN_HOOKS=()

rfd_down() {
	local pid hook
	rf_daemon_stop
	if [ -e "/run/netns/$RFD_HOST" ] && [ -x "$RINGFENCE" ]; then
		in_host "$RINGFENCE" flush >/dev/null 2>&1
	fi
	if [ -n "$RFD_SOCK" ]; then
		# containers kept by --live-restore need dockerd to go away
		if ! docker_running && [ -d "$RFD_TMP/docker/data" ] &&
		    [ ${#RFD_DOCKERD_ARGS[@]} -gt 0 ]; then
			RFD_DOCKERD_PID=
			docker_start >/dev/null 2>&1
		fi
		if docker_running; then
			dk ps -aq 2>/dev/null | xargs -r timeout 60 \
			    docker -H "unix://$RFD_SOCK" rm -f >/dev/null 2>&1
			docker_stop
		fi
	fi
	for hook in "${RFD_DOWN_HOOKS[@]}"; do
		"$hook"
	done
	for pid in "${RFD_SERVER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${RFD_SERVER_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	RFD_SERVER_PIDS=()
	rfd_kill_ours "$RFD_TMP"
	for pid in "${RFD_NSLIST[@]}"; do
		[ -e "/run/netns/$pid" ] && ip netns del "$pid" 2>/dev/null
	done
	rfd_unmount_under "$RFD_TMP"
	rfd_cgroups_remove
}

# ---- ringfence ----

# policy NAME: store stdin as a policy file, print its path
policy() {
	cat >"$RFD_TMP/$1.conf"
	printf '%s\n' "$RFD_TMP/$1.conf"
}

# rf_daemon_start POLICY [EXTRA_ARGS...]: start `ringfence daemon` in the
# host namespace, logging to $RFD_LOG; wait (bounded) until its control
# socket answers `status`. Returns 1 if it does not. RFD_RF_DOCKER_ARGS
# (default --docker-socket of the test dockerd) may be emptied to test
# DOCKER_HOST.
rf_daemon_start() {
	local pol=$1 i
	shift
	[ -n "$RFD_RF_PID" ] && rfd_die "rf_daemon_start: the daemon runs already"
	[ -x "$RINGFENCE" ] || rfd_die "no ringfence at $RINGFENCE (run make)"
	echo "---- daemon start $(date +%T.%N)" >>"$RFD_LOG"
	log_mark
	# nsenter execs ringfence: $! is the daemon's own PID
	nsenter --net="/run/netns/$RFD_HOST" "$RINGFENCE" -f "$pol" daemon \
	    "${RFD_RF_DOCKER_ARGS[@]}" --control-socket "$RFD_CTL" \
	    --log-level debug "$@" </dev/null >>"$RFD_LOG" 2>&1 &
	RFD_RF_PID=$!
	for i in $(seq 1 100); do
		if [ -S "$RFD_CTL" ] && rf_status >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$RFD_RF_PID" 2>/dev/null; then
			wait "$RFD_RF_PID" 2>/dev/null
			diag "ringfence daemon exited with status $? at start"
			RFD_RF_PID=
			return 1
		fi
		sleep 0.1
	done
	diag "ringfence daemon: control socket did not answer within 10 s"
	return 1
}

# rf_daemon_stop: SIGTERM, bounded wait, SIGKILL
rf_daemon_stop() {
	stop_pid "$RFD_RF_PID" 5 "ringfence daemon"
	RFD_RF_PID=
}

rf_daemon_alive() {
	[ -n "$RFD_RF_PID" ] && kill -0 "$RFD_RF_PID" 2>/dev/null
}

rf_signal() {
	kill "-$1" "$RFD_RF_PID"
}

# stop_pid PID SECONDS WHAT: SIGTERM, a bounded wait, then SIGKILL, for
# a process this test started (reaped when it is this shell's child)
stop_pid() {
	local i
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 1 $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$1" 2>/dev/null; then
		diag "$3 ignored SIGTERM for $2 s; killing it"
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	return 0
}

# ---- packet counters in the outside hosts ----

# counter_up ROLE PORT: count TCP and UDP arriving for PORT in ROLE's
# namespace, before anything there could answer or drop it
counter_up() {
	in_ns "$1" nft -f - <<NFT
table inet rfdcount {
	counter hits {}
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		meta l4proto { tcp, udp } th dport $2 counter name hits
	}
}
NFT
}

counter() {
	in_ns "$1" nft list counter inet rfdcount hits 2>/dev/null | awk '
	    /packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}

counter_reset() {
	in_ns "$1" nft reset counter inet rfdcount hits >/dev/null
}

# rf_status [ARGS...]: ringfence status through the test control socket
rf_status() {
	in_host "$RINGFENCE" status --control-socket "$RFD_CTL" "$@"
}

rf_reload() {
	in_host "$RINGFENCE" reload --control-socket "$RFD_CTL" "$@"
}

rf_flush() {
	in_host "$RINGFENCE" flush
}

# status_docker_connected: the daemon's status says Docker is connected
status_docker_connected() {
	local s
	s=$(rf_status --json 2>/dev/null) || return 1
	if command -v jq >/dev/null; then
		jq -e '.daemon.docker_connected == true' <<<"$s" >/dev/null
	else
		grep -Eq '"docker_connected": *true' <<<"$s"
	fi
}

# table_snapshot: ringfence's table without handles and counters, so two
# snapshots compare
table_snapshot() {
	in_host timeout 10 nft list table inet ringfence 2>&1 | sed -E \
	    -e 's/ # handle [0-9]+//' \
	    -e 's/counter packets [0-9]+ bytes [0-9]+/counter/g' \
	    -e 's/ (expires|timeout) [0-9dhms.]+//g'
}

# log_mark: later wait_for_log / log_since look only at lines after here
log_mark() {
	RFD_LOG_MARK=$(wc -l <"$RFD_LOG")
}

log_since() {
	tail -n +"$((RFD_LOG_MARK + 1))" "$RFD_LOG"
}

# wait_for_log REGEX [SECONDS]: wait (default 5 s) for a daemon log line
# after the mark matching the extended REGEX (case-insensitive)
wait_for_log() {
	local re=$1 limit=$(( $(now_ms) + ${2:-5} * 1000 ))
	while :; do
		log_since | grep -Eqi -- "$re" && return 0
		[ "$(now_ms)" -ge "$limit" ] && return 1
		sleep 0.05
	done
}

# rf_table_present: ringfence's table exists in the host namespace
rf_table_present() {
	in_host timeout 10 nft list table inet ringfence >/dev/null 2>&1
}

# docker_user_rules: the rules in DOCKER-USER other than Docker's RETURN
docker_user_rules() {
	in_host timeout 10 iptables -S DOCKER-USER 2>/dev/null |
	    grep '^-A DOCKER-USER ' | grep -v -- '^-A DOCKER-USER -j RETURN$'
}

docker_user_count() {
	docker_user_rules | grep -c .
}

# ---- probes ----

# probe SRC tcp|udp|icmp ADDR [PORT [WAIT_MS]]: one word, as netprobe
# prints it. SRC is a role (a, b, x, host) or a container name.
probe() {
	local src=$1 proto=$2 addr=$3 port=${4:-0} wait=${5:-$RFD_WAIT} out
	local run=(in_ns "$src")
	[ -n "${RFD_NS[$src]:-}" ] || run=(in_ctr "$src")
	case $proto in
	tcp|udp)
		"${run[@]}" "$NETPROBE" connect "-${proto:0:1}" -w "$wait" \
		    "$addr" "$port" 2>&1
		;;
	icmp)
		if out=$("${run[@]}" ping -n -c 1 -W "$(awk -v w="$wait" \
		    'BEGIN { printf "%.3f", w / 1000 }')" "$addr" 2>&1); then
			echo ok
		elif [[ $out == *"not permitted"* ]]; then
			echo eperm
		elif [[ $out == *ilter* || $out == *rohibited* ]]; then
			echo prohibited
		elif [[ $out == *nreachable* ]]; then
			echo unreachable
		elif [[ $out == error:* ]]; then
			echo "$out"
		else
			echo timeout
		fi
		;;
	*)
		echo "error:bad-proto-$proto"
		;;
	esac
}

# match GOT WANT: WANT may list alternatives, "refused|timeout"
match() {
	local alt w
	IFS='|' read -r -a alt <<<"$2"
	for w in "${alt[@]}"; do
		[ "$1" = "$w" ] && return 0
	done
	return 1
}

# poll_probe SRC PROTO ADDR PORT WANT MAX_MS: probe again and again until
# the verdict matches WANT; prints the milliseconds it took (from the call)
# and returns 0, or prints the last verdict and returns 1 after MAX_MS.
poll_probe() {
	local src=$1 proto=$2 addr=$3 port=$4 want=$5 max=$6 t0 got w=150
	t0=$(now_ms)
	while :; do
		got=$(probe "$src" "$proto" "$addr" "$port" "$w")
		if match "$got" "$want"; then
			echo $(( $(now_ms) - t0 ))
			return 0
		fi
		if [ $(( $(now_ms) - t0 )) -ge "$max" ]; then
			echo "$got"
			return 1
		fi
		sleep 0.02
	done
}

# poll_cmd MAX_MS CMD...: run CMD until it succeeds; prints the
# milliseconds it took, or returns 1 after MAX_MS
poll_cmd() {
	local max=$1 t0
	shift
	t0=$(now_ms)
	while :; do
		if "$@" >/dev/null 2>&1; then
			echo $(( $(now_ms) - t0 ))
			return 0
		fi
		[ $(( $(now_ms) - t0 )) -ge "$max" ] && return 1
		sleep 0.01
	done
}

# ---- the cybex scenario of the policy-engine issue ----

# scenario_policy SELECTOR: the scenario's policy, IPv4 and IPv6, for the
# block "container SELECTOR" (a name, or label KEY=VALUE)
scenario_policy() {
	cat <<EOF
define a = { 203.0.113.7, 2001:db8:a::7 }
define b = { 198.51.100.9, 2001:db8:b::9 }

container $1 {
	allow in from \$a port 5000/tcp publish 5000
	allow in from \$b
	allow out to \$a port 5000/tcp
	allow out to \$b
}
EOF
}

# scenario_checks CTR OTHER: every path of the scenario for the confined
# container CTR, with OTHER an unconfined container on the same network.
# The containers run the default netprobe server. RFD_HOST_5000 is what a
# source the port is not published for gets from the host's port 5000:
# the host's own server (ok:host), unless a host firewall closes it.
RFD_HOST_5000=ok:host
scenario_checks() {
	local c=$1 o=$2 cy cy6 ot p
	cy=$(ctr_ip "$c") cy6=$(ctr_ip6 "$c") ot=$(ctr_ip "$o")
	diag "$c at $cy $cy6, $o at $ot"

	# inbound: publish without docker -p, for a only
	expect a tcp "$HA" 5000 "ok:$c" "a -> host:5000 is published to $c"
	expect a tcp "$HB" 5000 "ok:$c" "a -> other host address:5000 published too"
	expect a tcp "$HA6" 5000 "ok:$c" "v6 a -> host:5000 published to $c"
	expect x tcp "$HX" 5000 "$RFD_HOST_5000" "x -> host:5000 sees the host's own port"
	expect x tcp "$HA" 5000 "$RFD_HOST_5000" "x -> published address:5000 sees the host's port"
	expect b tcp "$HB" 5000 "$RFD_HOST_5000" "b -> host:5000 is not published for b"
	# inbound, directly
	expect a tcp "$cy" 5000 "ok:$c" "a -> $c:5000 direct"
	expect a tcp "$cy6" 5000 "ok:$c" "v6 a -> $c:5000 direct"
	expect a tcp "$cy" 6000 timeout "a -> $c:6000 dropped"
	expect a udp "$cy" 5000 timeout "a -> $c:5000/udp dropped"
	for p in 5000 6000 80; do
		expect b tcp "$cy" $p "ok:$c" "b -> $c:$p/tcp"
	done
	expect b udp "$cy" 53 "ok:$c" "b -> $c:53/udp"
	expect b udp "$cy6" 6000 "ok:$c" "v6 b -> $c:6000/udp"
	expect x tcp "$cy" 5000 timeout "x -> $c:5000 dropped"
	expect x udp "$cy" 5000 timeout "x -> $c:5000/udp dropped"
	expect x tcp "$cy6" 5000 timeout "v6 x -> $c:5000 dropped (Docker would let it in)"
	expect host tcp "$cy" 5000 timeout "host -> $c:5000 dropped"
	expect "$o" tcp "$cy" 5000 timeout "$o -> $c:5000 dropped on the bridge"

	# outbound
	expect "$c" tcp "$A" 5000 ok:a "$c -> a:5000/tcp"
	expect "$c" tcp "$A6" 5000 ok:a "v6 $c -> a:5000/tcp"
	expect "$c" tcp "$A" 6000 refused "$c -> a:6000/tcp rejected with a reset"
	expect "$c" udp "$A" 5000 prohibited "$c -> a:5000/udp admin-prohibited"
	for p in 5000 80; do
		expect "$c" tcp "$B" $p ok:b "$c -> b:$p/tcp"
	done
	expect "$c" udp "$B" 53 ok:b "$c -> b:53/udp"
	expect "$c" udp "$B6" 53 ok:b "v6 $c -> b:53/udp"
	expect "$c" tcp "$X" 5000 refused "$c -> x/tcp rejected with a reset"
	expect "$c" udp "$X" 5000 prohibited "$c -> x/udp admin-prohibited"
	expect "$c" icmp "$X" - prohibited "$c -> x ping admin-prohibited"
	expect "$c" tcp "$X6" 5000 refused "v6 $c -> x/tcp rejected"
	expect "$c" tcp "$RFD_GW4" 5000 refused "$c -> host through the bridge rejected"
	expect "$c" tcp "$HA" 22 refused "$c -> host's address on a's link rejected"
	expect "$c" tcp "$ot" 5000 refused "$c -> $o on the same bridge rejected"

	# errors of allowed flows come back
	expect "$c" udp "$B" 7777 refused "ICMP port unreachable of an allowed flow passes"
	expect "$c" tcp "$B" 7777 refused "reset of an allowed flow passes"

	# the host's own traffic and the unconfined container are untouched
	expect host tcp "$A" 5000 ok:a "host -> a unaffected"
	expect a tcp "$HA" 22 ok:host "a -> host:22 unaffected"
	expect "$o" tcp "$X" 5000 ok:x "$o -> x unaffected"
	expect "$o" tcp "$RFD_GW4" 5000 ok:host "$o -> host unaffected"
}

# ---- assertions ----

rfd_pass() {
	RFD_PASS=$((RFD_PASS + 1))
	printf 'ok - %s: %s\n' "$RFD_NAME" "$1"
}

rfd_fail() {
	RFD_FAIL=$((RFD_FAIL + 1))
	printf 'not ok - %s: %s (%s)\n' "$RFD_NAME" "$1" "$2"
}

# expect SRC PROTO ADDR PORT EXPECTED DESCRIPTION
expect() {
	local src=$1 proto=$2 addr=$3 port=$4 want=$5 desc=$6 wait got
	wait=$RFD_WAIT
	match timeout "$want" || wait=$RFD_WAIT_ANSWER
	got=$(probe "$src" "$proto" "$addr" "$port" "$wait")
	if match "$got" "$want"; then
		rfd_pass "$desc"
	else
		rfd_fail "$desc" "expected $want, got $got"
	fi
}

# expect_eq DESCRIPTION GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		rfd_pass "$1"
	else
		rfd_fail "$1" "expected $3, got $2"
	fi
}

# expect_true DESCRIPTION CMD...: CMD must succeed
expect_true() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		rfd_pass "$desc"
	else
		rfd_fail "$desc" "command failed: $*"
	fi
}

# expect_le DESCRIPTION VALUE LIMIT [UNIT]: a measured value within a bound
expect_le() {
	if [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -le "$3" ]; then
		rfd_pass "$1 (${2}${4:-})"
	else
		rfd_fail "$1" "expected at most $3${4:-}, got $2"
	fi
}

# expect_grep DESCRIPTION REGEX FILE|- : some line matches (grep -E -i)
expect_grep() {
	if grep -Eqi -- "$2" "$3"; then
		rfd_pass "$1"
	else
		rfd_fail "$1" "no line matches /$2/"
		[ "$3" = - ] || diag_file "$3" 10
	fi
}

# expect_log DESCRIPTION REGEX [SECONDS]: a daemon log line after the mark
expect_log() {
	if wait_for_log "$2" "${3:-5}"; then
		rfd_pass "$1"
	else
		rfd_fail "$1" "no daemon log line matches /$2/"
	fi
}

# expect_alive DESCRIPTION: the ringfence daemon still runs
expect_alive() {
	if rf_daemon_alive; then
		rfd_pass "$1"
	else
		rfd_fail "$1" "the ringfence daemon is gone"
	fi
}

# rfd_done: summary line for this file (with the daemon's log when
# anything failed); exit status 1 if anything failed
rfd_done() {
	if [ "$RFD_FAIL" != 0 ] && [ -s "$RFD_LOG" ]; then
		diag "last lines of the ringfence daemon log ($RFD_LOG):"
		diag_file "$RFD_LOG" 40
	fi
	printf '# %s done: %d ok, %d not ok\n' "$RFD_NAME" "$RFD_PASS" \
	    "$RFD_FAIL"
	[ "$RFD_FAIL" = 0 ]
	exit
}

rfd_exit_trap() {
	local rc=$?
	trap - EXIT INT TERM
	rfd_down
	if [ -n "$RFD_TMP" ]; then
		if [ "${RFD_KEEP:-0}" = 1 ]; then
			printf '# kept %s\n' "$RFD_TMP"
		else
			rm -rf "$RFD_TMP"
		fi
	fi
	rm -f "$RFD_STATE"
	exit "$rc"
}

# ---- setup on source ----

[ "$(id -u)" = 0 ] || rfd_die "the Docker tests need root"
# One run at a time, and never together with tests/e2e: its cleanup removes
# every rft* namespace. The runners take the lock once and export
# RFT_LOCKED.
if [ -z "${RFT_LOCKED:-}" ]; then
	exec 9>/run/ringfence-e2e.lock
	flock -w 600 9 || rfd_die "another test run holds the lock"
	export RFT_LOCKED=1
fi
for cmd in dockerd docker nft iptables nsenter ping; do
	command -v "$cmd" >/dev/null || rfd_die "$cmd missing"
done
RFD_BUSYBOX=
for f in /bin/busybox /usr/bin/busybox; do
	if [ -x "$f" ] && ! ldd "$f" >/dev/null 2>&1; then
		RFD_BUSYBOX=$f
		break
	fi
done
[ -n "$RFD_BUSYBOX" ] || rfd_die "no static busybox (apt-get install busybox-static)"
[ -x "$NETPROBE" ] || rfd_die "no netprobe at $NETPROBE (run make)"

rfd_cleanup_stale
RFD_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rfd.XXXXXX") || rfd_die "mktemp failed"
printf '%s\n' "$RFD_TMP" >"$RFD_STATE"
RFD_SOCK=$RFD_TMP/docker.sock
RFD_CTL=$RFD_TMP/ringfence.sock
RFD_LOG=$RFD_TMP/daemon.log
RFD_RF_DOCKER_ARGS=(--docker-socket "$RFD_SOCK")
: >"$RFD_LOG"
# dockerd and ringfence talk to firewalld on the system bus when it is
# there: never the machine's. A suite with its own bus sets this again.
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$RFD_TMP/no-system-bus
export DOCKER_CONFIG=$RFD_TMP/cli DOCKER_CLI_HINTS=false
trap rfd_exit_trap EXIT
trap 'exit 130' INT TERM
