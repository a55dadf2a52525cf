# shellcheck shell=bash
#
# lib.sh: test topology and assertions for ringfence's end-to-end tests.
# Sourced by every tests/e2e/*.sh file and by tests/demo.sh; needs root.
#
# Topology (every namespace starts with "rft", so leftovers can be found):
#
#   rfto-a  203.0.113.7/24   2001:db8:a::7/64  --vo-a--+
#   rfto-b  198.51.100.9/24  2001:db8:b::9/64  --vo-b--+  rfth (the host)
#   rfto-x  192.0.2.66/24    2001:db8:c::66/64 --vo-x--+  .1 / ::1 on each
#                                                      |
#                            rfbr0 172.20.0.1/16 fd20::1/64
#                              |            |            |
#                     rftc-cybex .2   rftc-other .3   rftc-peer .4
#
# The namespaces are wired only to each other: no interface leads out of
# the topology, so no test packet can leave it. rfth holds iptables and
# ip6tables laid out as Docker lays them out (FORWARD policy DROP, the
# DOCKER-USER chain); ringfence runs inside rfth. Every namespace runs a
# netprobe server named after its role.
#
# Environment: RINGFENCE and NETPROBE (default build/ringfence and
# build/netprobe, absolute), RFT_WAIT (ms a probe waits when a timeout is
# expected, default 700), RFT_VERBOSE=1 to trace topology commands.

RFT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${RINGFENCE:=$RFT_ROOT/build/ringfence}"
: "${NETPROBE:=$RFT_ROOT/build/netprobe}"
: "${RFT_WAIT:=700}"
# ringfence configures firewalld when one answers on the system bus: it
# must never reach the machine's own from here.
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/ringfence-no-bus
RFT_WAIT_ANSWER=2000		# ms for probes expected to get an answer
RFT_HOST=rfth
RFT_BRIDGE=rfbr0
RFT_NAME=$(basename "$0" .sh)

RFT_PASS=0
RFT_FAIL=0
RFT_PIDS=()
RFT_TMP=
RFT_UP=0

# role -> namespace, server name, addresses
declare -A RFT_NS=(
	[host]=rfth [cybex]=rftc-cybex [other]=rftc-other [peer]=rftc-peer
	[a]=rfto-a [b]=rfto-b [x]=rfto-x
)
declare -A RFT_V4=(
	[cybex]=172.20.0.2 [other]=172.20.0.3 [peer]=172.20.0.4
	[a]=203.0.113.7 [b]=198.51.100.9 [x]=192.0.2.66
)
declare -A RFT_V6=(
	[cybex]=fd20::2 [other]=fd20::3 [peer]=fd20::4
	[a]=2001:db8:a::7 [b]=2001:db8:b::9 [x]=2001:db8:c::66
)
# host-side addresses of the outside hosts' links
declare -A RFT_GW4=([a]=203.0.113.1 [b]=198.51.100.1 [x]=192.0.2.1)
declare -A RFT_GW6=([a]=2001:db8:a::1 [b]=2001:db8:b::1 [x]=2001:db8:c::1)
declare -A RFT_LINK=([a]=vo-a [b]=vo-b [x]=vo-x)

# use_family 4|6: set V (v4/v6) and the addresses of one family:
# A B X outside hosts, CY OT PE containers, HA HB HX the host's address on
# each outside link, HBR the host's bridge address.
use_family() {
	if [ "$1" = 4 ]; then
		V=v4 A=203.0.113.7 B=198.51.100.9 X=192.0.2.66
		CY=172.20.0.2 OT=172.20.0.3 PE=172.20.0.4
		HA=203.0.113.1 HB=198.51.100.1 HX=192.0.2.1 HBR=172.20.0.1
	else
		V=v6 A=2001:db8:a::7 B=2001:db8:b::9 X=2001:db8:c::66
		CY=fd20::2 OT=fd20::3 PE=fd20::4
		HA=2001:db8:a::1 HB=2001:db8:b::1 HX=2001:db8:c::1 HBR=fd20::1
	fi
}

# ---- small helpers ----

rft_diag() {
	local line
	for line in "$@"; do
		printf '# %s\n' "$line"
	done
}

rft_die() {
	printf 'Bail out! %s\n' "$*"
	exit 1
}

# nsx ROLE|NS CMD...: run CMD in a test namespace
nsx() {
	local ns=${RFT_NS[$1]:-$1}
	shift
	ip netns exec "$ns" "$@"
}

# rft_sysctl NS KEY=VALUE...: set sysctls inside NS through /proc/sys
# (no procps needed)
rft_sysctl() {
	local ns=$1 kv
	shift
	for kv in "$@"; do
		printf '%s\n' "${kv#*=}" | ip netns exec "$ns" \
		    tee "/proc/sys/$(printf '%s' "${kv%%=*}" | tr . /)" \
		    >/dev/null || return 1
	done
}

rft_run() {
	[ "${RFT_VERBOSE:-0}" = 1 ] && printf '+ %s\n' "$*" >&2
	"$@" || rft_die "topology command failed: $*"
}

# ---- topology ----

# Remove namespaces left by an earlier run that died. Their processes are
# ours (nothing else lives in an rft* namespace) and are ended by PID.
rft_cleanup_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^rft/ { print $1 }'); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
}

rft_ns_add() {
	local ns=$1
	rft_run ip netns add "$ns"
	rft_run ip -n "$ns" link set lo up
	rft_run rft_sysctl "$ns" \
	    net.ipv6.conf.all.accept_dad=0 \
	    net.ipv6.conf.default.accept_dad=0
}

rft_container_add() {
	local role=$1 ns=${RFT_NS[$1]} link=vc-$1
	rft_ns_add "$ns"
	rft_run ip -n "$RFT_HOST" link add "$link" type veth \
	    peer name eth0 netns "$ns"
	rft_run ip -n "$RFT_HOST" link set "$link" master "$RFT_BRIDGE" up
	rft_run ip -n "$ns" addr add "${RFT_V4[$role]}/16" dev eth0
	rft_run ip -n "$ns" addr add "${RFT_V6[$role]}/64" dev eth0 nodad
	rft_run ip -n "$ns" link set eth0 up
	rft_run ip -n "$ns" route add default via 172.20.0.1
	rft_run ip -n "$ns" -6 route add default via fd20::1
}

rft_outside_add() {
	local role=$1 ns=${RFT_NS[$1]} link=${RFT_LINK[$1]}
	rft_ns_add "$ns"
	rft_run ip -n "$RFT_HOST" link add "$link" type veth \
	    peer name eth0 netns "$ns"
	rft_run ip -n "$RFT_HOST" addr add "${RFT_GW4[$role]}/24" dev "$link"
	rft_run ip -n "$RFT_HOST" addr add "${RFT_GW6[$role]}/64" dev "$link" nodad
	rft_run ip -n "$RFT_HOST" link set "$link" up
	rft_run ip -n "$ns" addr add "${RFT_V4[$role]}/24" dev eth0
	rft_run ip -n "$ns" addr add "${RFT_V6[$role]}/64" dev eth0 nodad
	rft_run ip -n "$ns" link set eth0 up
	rft_run ip -n "$ns" route add default via "${RFT_GW4[$role]}"
	rft_run ip -n "$ns" -6 route add default via "${RFT_GW6[$role]}"
}

# Docker's filter and nat layout for one bridge (docker 20.10/24). $1 is the
# source prefix masqueraded on the way out.
rft_docker_rules() {
	local src=$1 br=$RFT_BRIDGE
	cat <<EOF
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o $br -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o $br -j DOCKER
-A FORWARD -i $br ! -o $br -j ACCEPT
-A FORWARD -i $br -o $br -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i $br ! -o $br -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s $src ! -o $br -j MASQUERADE
-A DOCKER -i $br -j RETURN
COMMIT
EOF
}

rft_server_start() {
	local role=$1
	shift
	ip netns exec "${RFT_NS[$role]}" "$NETPROBE" serve -n "$role" "$@" \
	    </dev/null >/dev/null 2>>"$RFT_TMP/servers.err" &
	RFT_PIDS+=($!)
}

# wait until ROLE's server answers on its own loopback
rft_server_ready() {
	local role=$1 i got
	for i in $(seq 1 50); do
		got=$(nsx "$role" "$NETPROBE" connect -t -w 200 127.0.0.1 5000)
		[ "$got" = "ok:$role" ] && return 0
		sleep 0.05
	done
	rft_die "netprobe server in ${RFT_NS[$role]} did not come up"
}

# topo_up [--no-ip6-docker]: build the topology. --no-ip6-docker leaves
# ip6tables empty, as Docker does without ip6tables support (no DOCKER-USER
# chain for IPv6, FORWARD policy ACCEPT).
topo_up() {
	local ip6docker=1 role
	[ "${1:-}" = --no-ip6-docker ] && ip6docker=0
	[ -x "$NETPROBE" ] || rft_die "no netprobe at $NETPROBE (run make)"
	[ "$RFT_UP" = 1 ] && topo_down
	rft_cleanup_stale
	RFT_UP=1

	rft_ns_add "$RFT_HOST"
	rft_run rft_sysctl "$RFT_HOST" \
	    net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1
	rft_run ip -n "$RFT_HOST" link add "$RFT_BRIDGE" type bridge \
	    forward_delay 0
	rft_run ip -n "$RFT_HOST" addr add 172.20.0.1/16 dev "$RFT_BRIDGE"
	rft_run ip -n "$RFT_HOST" addr add fd20::1/64 dev "$RFT_BRIDGE" nodad
	rft_run ip -n "$RFT_HOST" link set "$RFT_BRIDGE" up
	# per namespace here; br_netfilter is built in
	rft_run rft_sysctl "$RFT_HOST" \
	    net.bridge.bridge-nf-call-iptables=1 \
	    net.bridge.bridge-nf-call-ip6tables=1

	for role in cybex other peer; do
		rft_container_add "$role"
	done
	for role in a b x; do
		rft_outside_add "$role"
	done

	rft_run nsx host iptables-restore < <(rft_docker_rules 172.20.0.0/16)
	if [ "$ip6docker" = 1 ]; then
		rft_run nsx host ip6tables-restore < <(rft_docker_rules fd20::/64)
	fi

	for role in cybex other peer a b x; do
		rft_server_start "$role" -t 5000 -t 6000 -t 80 \
		    -u 5000 -u 6000 -u 53
	done
	rft_server_start host -t 5000 -t 22 -u 53
	for role in cybex other peer a b x host; do
		rft_server_ready "$role"
	done
}

topo_down() {
	local pid role
	for pid in "${RFT_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${RFT_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	RFT_PIDS=()
	for role in cybex other peer a b x host; do
		ip netns del "${RFT_NS[$role]}" 2>/dev/null
	done
	RFT_UP=0
}

# ---- ringfence ----

# policy NAME: store stdin as a policy file, print its path
policy() {
	cat >"$RFT_TMP/$1.conf"
	printf '%s\n' "$RFT_TMP/$1.conf"
}

# rf_apply FILE: apply in the host namespace; output goes to $RFT_TMP/rf.out
rf_apply() {
	ip netns exec "$RFT_HOST" "$RINGFENCE" -f "$1" apply \
	    >"$RFT_TMP/rf.out" 2>&1
}

rf_flush() {
	ip netns exec "$RFT_HOST" "$RINGFENCE" flush >"$RFT_TMP/rf.out" 2>&1
}

# expect_apply FILE DESC: apply must succeed
expect_apply() {
	local rc=0
	rf_apply "$1" || rc=$?
	expect_eq "$2" "$rc" 0
	if [ "$rc" != 0 ]; then
		rft_diag "ringfence apply exited $rc:"
		sed 's/^/#   /' "$RFT_TMP/rf.out" | head -20
	fi
	return "$rc"
}

expect_flush() {
	local rc=0
	rf_flush || rc=$?
	expect_eq "$1" "$rc" 0
	[ "$rc" = 0 ] || sed 's/^/#   /' "$RFT_TMP/rf.out" | head -20
	return "$rc"
}

# ruleset_snapshot: the whole netfilter state of the host namespace, with
# counters, comment lines and timestamps removed, so two snapshots taken
# around an operation compare byte for byte.
ruleset_snapshot() {
	{
		echo '==== nft list ruleset'
		nsx host nft list ruleset
		echo '==== iptables-save'
		nsx host iptables-save
		echo '==== ip6tables-save'
		nsx host ip6tables-save
	} 2>&1 | sed -E \
	    -e '/^[[:space:]]*#/d' \
	    -e 's/counter packets [0-9]+ bytes [0-9]+/counter/g' \
	    -e 's/\[[0-9]+:[0-9]+\]/[0:0]/g' \
	    -e 's/ (expires|timeout) [0-9dhms.]+//g'
}

# expect_same_snapshot DESC FILE1 FILE2
expect_same_snapshot() {
	if cmp -s "$2" "$3"; then
		rft_pass "$1"
	else
		rft_fail "$1" "snapshots differ"
		diff -u "$2" "$3" | head -40 | sed 's/^/#   /'
	fi
}

# count_docker_user iptables|ip6tables: rules in DOCKER-USER, -1 if none
count_docker_user() {
	local out
	out=$(nsx host "$1" -S DOCKER-USER 2>/dev/null) || { echo -1; return; }
	printf '%s\n' "$out" | grep -c '^-A DOCKER-USER '
}

# ---- probes ----

# probe ROLE|NS tcp|udp|icmp ADDR [PORT [WAIT_MS]]: one word, as netprobe
# prints it. icmp sends one echo request: ok, prohibited, eperm,
# unreachable or timeout.
probe() {
	local ns=${RFT_NS[$1]:-$1} proto=$2 addr=$3 port=${4:-0}
	local wait=${5:-$RFT_WAIT} out
	case $proto in
	tcp|udp)
		ip netns exec "$ns" "$NETPROBE" connect "-${proto:0:1}" \
		    -w "$wait" "$addr" "$port" 2>&1
		;;
	icmp)
		if out=$(ip netns exec "$ns" ping -n -c 1 \
		    -W "$(awk -v w="$wait" 'BEGIN { printf "%.3f", w / 1000 }')" \
		    "$addr" 2>&1); then
			echo ok
		elif [[ $out == *"not permitted"* ]]; then
			echo eperm
		elif [[ $out == *ilter* || $out == *rohibited* ]]; then
			echo prohibited
		elif [[ $out == *nreachable* ]]; then
			echo unreachable
		else
			echo timeout
		fi
		;;
	*)
		echo "error:bad-proto-$proto"
		;;
	esac
}

# ---- assertions ----

rft_pass() {
	RFT_PASS=$((RFT_PASS + 1))
	printf 'ok - %s: %s\n' "$RFT_NAME" "$1"
}

rft_fail() {
	RFT_FAIL=$((RFT_FAIL + 1))
	printf 'not ok - %s: %s (%s)\n' "$RFT_NAME" "$1" "$2"
}

# rft_match GOT WANT: WANT may list alternatives, "refused|timeout"
rft_match() {
	local alt w
	IFS='|' read -r -a alt <<<"$2"
	for w in "${alt[@]}"; do
		[ "$1" = "$w" ] && return 0
	done
	return 1
}

# expect ROLE|NS PROTO ADDR PORT EXPECTED DESCRIPTION
expect() {
	local ns=$1 proto=$2 addr=$3 port=$4 want=$5 desc=$6 wait got
	wait=$RFT_WAIT
	rft_match timeout "$want" || wait=$RFT_WAIT_ANSWER
	got=$(probe "$ns" "$proto" "$addr" "$port" "$wait")
	if rft_match "$got" "$want"; then
		rft_pass "$desc"
	else
		rft_fail "$desc" "expected $want, got $got"
	fi
}

# expect_eq DESCRIPTION GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		rft_pass "$1"
	else
		rft_fail "$1" "expected $3, got $2"
	fi
}

# expect_cmd_fails DESCRIPTION CMD...: CMD must exit non-zero
expect_cmd_fails() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		rft_fail "$desc" "command succeeded: $*"
	else
		rft_pass "$desc"
	fi
}

# expect_grep DESCRIPTION REGEX FILE: some line of FILE matches REGEX
expect_grep() {
	if grep -Eq -- "$2" "$3"; then
		rft_pass "$1"
	else
		rft_fail "$1" "no line matches /$2/"
	fi
}

# rft_done: summary line for this file; exit status 1 if anything failed
rft_done() {
	printf '# %s done: %d ok, %d not ok\n' "$RFT_NAME" "$RFT_PASS" \
	    "$RFT_FAIL"
	[ "$RFT_FAIL" = 0 ]
	exit
}

rft_exit_trap() {
	local rc=$?
	[ "$RFT_UP" = 1 ] && topo_down
	[ -n "$RFT_TMP" ] && rm -rf "$RFT_TMP"
	exit "$rc"
}

# ---- setup on source ----

[ "$(id -u)" = 0 ] || rft_die "the end-to-end tests need root"
# One run at a time: the namespace names are fixed. The runner takes the
# lock once for all files and exports RFT_LOCKED.
if [ -z "${RFT_LOCKED:-}" ]; then
	exec 9>/run/ringfence-e2e.lock
	flock -w 600 9 || rft_die "another end-to-end run holds the lock"
	export RFT_LOCKED=1
fi
command -v ping >/dev/null || rft_die "ping missing (apt-get install iputils-ping)"
RFT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rft.XXXXXX") || rft_die "mktemp failed"
trap rft_exit_trap EXIT
trap 'exit 130' INT TERM
