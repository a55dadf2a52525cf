# shellcheck shell=bash
#
# lib.sh: shared pieces of the benchmarks: the test topology, the
# allowlists, statistics, and the bookkeeping that lets every script clean
# up after itself.  Sourced by bench/*.sh; needs root.
#
# Topology (every namespace starts with "rfb", so leftovers can be found;
# the end-to-end tests use "rft", so the two never collide):
#
#   rfbo (outside)  203.0.113.7/24 --vo0--  rfbh (the host)  203.0.113.1/24
#                                              |
#                                    rfbbr0 172.20.0.1/16
#                                              |
#                                   rfbc (the container) 172.20.0.2/16
#
# The namespaces are wired only to each other, so no packet can leave the
# topology.  rfbh holds iptables laid out as Docker lays it out (FORWARD
# policy DROP, DOCKER-USER, the nat table so conntrack is on, and
# bridge-nf-call-iptables=1) plus one rule in the DOCKER chain that lets
# forwarded traffic reach the container, as `docker run -p` would for a
# port.  That is setup (a), "no firewall": the path every other setup
# adds to.
#
# Environment: RINGFENCE (default build/ringfence), BENCH_OUT (results
# directory), BENCH_TMP (scratch, made by bench/run), BENCH_VERBOSE=1.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${RINGFENCE:=$BENCH_ROOT/build/ringfence}"
: "${BENCH_OUT:=$BENCH_ROOT/bench/results}"
: "${BENCH_BIN:=$BENCH_ROOT/bench/build}"
# ringfence configures firewalld when one answers on the system bus: it
# must never reach the machine's own from here.
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/ringfence-no-bus

B_HOST=rfbh
B_CONT=rfbc
B_OUT=rfbo
B_BRIDGE=rfbbr0
B_CONT_ADDR=172.20.0.2
B_OUT_ADDR=203.0.113.7
B_PIDS=()

# ---- messages ----

say() {
	printf 'bench: %s\n' "$*" >&2
}

die() {
	printf 'bench: error: %s\n' "$*" >&2
	exit 1
}

vrun() {
	[ "${BENCH_VERBOSE:-0}" = 1 ] && printf '+ %s\n' "$*" >&2
	"$@" || die "command failed: $*"
}

# ns NAME CMD...: run CMD in a benchmark namespace.  nsenter enters only
# the network namespace; `ip netns exec` also makes a mount namespace and
# remounts /sys, which costs 5-200 ms per call, more on a busy machine,
# and would be counted in the timings.
ns() {
	local n=$1
	shift
	nsenter --net="/run/netns/$n" "$@"
}

# bench_sysctl NS KEY=VALUE...: through /proc/sys, so procps is not needed
bench_sysctl() {
	local n=$1 kv
	shift
	for kv in "$@"; do
		printf '%s\n' "${kv#*=}" | ip netns exec "$n" \
		    tee "/proc/sys/$(printf '%s' "${kv%%=*}" | tr . /)" \
		    >/dev/null || return 1
	done
}

now_ms() {
	local t
	t=$(date +%s%N)
	printf '%s\n' $((t / 1000000))
}

# ---- processes ----

# bg_start NS CMD...: start CMD in namespace NS in the background and
# remember its PID.  nsenter execs CMD, so $! is CMD's own PID (a shell
# function here would leave a subshell between, and CMD orphaned when
# only the subshell is ended).
bg_start() {
	local n=$1
	shift
	nsenter --net="/run/netns/$n" "$@" </dev/null \
	    >>"$BENCH_TMP/bg.out" 2>&1 &
	B_PIDS+=($!)
}

# bg_stop_all: end every process bg_start started, by PID
bg_stop_all() {
	local pid
	for pid in "${B_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${B_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	B_PIDS=()
}

# Remove namespaces left by an earlier run that died.  Processes in an
# rfb* namespace are the benchmarks' own (nothing else lives there) and are
# ended by PID.
bench_cleanup_stale() {
	local n pid
	for n in $(ip netns list 2>/dev/null | awk '$1 ~ /^rfb/ { print $1 }'); do
		for pid in $(ip netns pids "$n" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
		sleep 0.2
		for pid in $(ip netns pids "$n" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
		ip netns del "$n" 2>/dev/null
	done
}

bench_ns_add() {
	vrun ip netns add "$1"
	vrun ip -n "$1" link set lo up
}

# ---- the datapath topology ----

# Docker's filter and nat layout for one bridge (docker 20.10/24), plus the
# DOCKER-chain rule that stands for a published port (all ports here).
bench_docker_rules() {
	local br=$B_BRIDGE
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
-A DOCKER -d $B_CONT_ADDR/32 ! -i $br -o $br -j ACCEPT
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
-A POSTROUTING -s 172.20.0.0/16 ! -o $br -j MASQUERADE
-A DOCKER -i $br -j RETURN
COMMIT
EOF
}

topo_up() {
	bench_ns_add "$B_HOST"
	bench_ns_add "$B_CONT"
	bench_ns_add "$B_OUT"
	vrun bench_sysctl "$B_HOST" net.ipv4.ip_forward=1
	vrun ip -n "$B_HOST" link add "$B_BRIDGE" type bridge forward_delay 0
	vrun ip -n "$B_HOST" addr add 172.20.0.1/16 dev "$B_BRIDGE"
	vrun ip -n "$B_HOST" link set "$B_BRIDGE" up
	vrun bench_sysctl "$B_HOST" net.bridge.bridge-nf-call-iptables=1

	vrun ip -n "$B_HOST" link add vc0 type veth peer name eth0 \
	    netns "$B_CONT"
	vrun ip -n "$B_HOST" link set vc0 master "$B_BRIDGE" up
	vrun ip -n "$B_CONT" addr add "$B_CONT_ADDR/16" dev eth0
	vrun ip -n "$B_CONT" link set eth0 up
	vrun ip -n "$B_CONT" route add default via 172.20.0.1

	vrun ip -n "$B_HOST" link add vo0 type veth peer name eth0 \
	    netns "$B_OUT"
	vrun ip -n "$B_HOST" addr add 203.0.113.1/24 dev vo0
	vrun ip -n "$B_HOST" link set vo0 up
	vrun ip -n "$B_OUT" addr add "$B_OUT_ADDR/24" dev eth0
	vrun ip -n "$B_OUT" link set eth0 up
	vrun ip -n "$B_OUT" route add default via 203.0.113.1
	# more ephemeral ports for the connection-rate client
	vrun bench_sysctl "$B_OUT" net.ipv4.ip_local_port_range="1024 65535"

	vrun ns "$B_HOST" iptables-restore < <(bench_docker_rules)
}

topo_down() {
	bg_stop_all
	ip netns del "$B_OUT" 2>/dev/null
	ip netns del "$B_CONT" 2>/dev/null
	ip netns del "$B_HOST" 2>/dev/null
	return 0
}

# ---- allowlists ----

# gen_prefixes N: N IPv4 prefixes, one per /24 from 1.0.0.0 upwards, of
# lengths /25 to /32 in turn, each at the start of its /24.  No two are
# adjacent or overlap, so no set implementation can merge them into
# fewer intervals, and none covers the tested source or the container
# (1,000,000 of them end below 17.0.0.0).
gen_prefixes() {
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++) {
			len = 25 + (i * 7 + int(i / 8)) % 8
			b = 16777216 + i * 256
			printf "%d.%d.%d.%d/%d\n", int(b / 16777216),
			    int(b / 65536) % 256, int(b / 256) % 256, b % 256,
			    len
		}
	}'
}

# gen_policy N SOURCE: a ringfence policy whose container allows in N
# generated prefixes and then SOURCE, last
gen_policy() {
	printf 'container c address %s {\n\tallow in from {\n' "$B_CONT_ADDR"
	gen_prefixes "$1" | sed 's/^/\t\t/; s/$/,/'
	printf '\t\t%s }\n}\n' "$2"
}

# gen_linear N SOURCE: the same allowlist as one iptables rule per prefix
# in DOCKER-USER, as hand-written setups do: each allowed prefix returns
# to FORWARD (where the DOCKER chain accepts), then everything else to the
# container is dropped.  SOURCE comes last.  For iptables-restore
# --noflush: only DOCKER-USER is rewritten.
gen_linear() {
	printf '*filter\n:DOCKER-USER - [0:0]\n'
	{ gen_prefixes "$1"; printf '%s/32\n' "$2"; } |
	    awk -v d="$B_CONT_ADDR" '{
		printf "-A DOCKER-USER -s %s -d %s/32 -j RETURN\n", $1, d
	    }'
	printf -- '-A DOCKER-USER -d %s/32 -j DROP\n' "$B_CONT_ADDR"
	printf -- '-A DOCKER-USER -j RETURN\nCOMMIT\n'
}

# ---- statistics ----

# stats: read numbers, print "median min max n" (median of an even count
# is the mean of the middle two)
stats() {
	sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "nan nan nan 0"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.6g %.6g %.6g %d\n", m, v[1], v[NR], NR
		}'
}

# fmt_num X: thousands separators, no decimals past the first for small
fmt_num() {
	awk -v x="$1" 'BEGIN {
		if (x == "nan" || x == "") { print "n/a"; exit }
		if (x < 10 && x != int(x)) { printf "%.2f\n", x; exit }
		if (x < 100 && x != int(x)) { printf "%.1f\n", x; exit }
		s = sprintf("%.0f", x); o = ""
		while (length(s) > 3) {
			o = "," substr(s, length(s) - 2) o
			s = substr(s, 1, length(s) - 3)
		}
		print s o
	}'
}

# ratio A B: A / B to two decimals, or n/a
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "nan" || b == "nan" || b + 0 == 0) print "n/a"
		else printf "%.2f\n", a / b
	}'
}
