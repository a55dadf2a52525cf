#!/bin/bash
#
# apply.sh: part 2, how long a change of the allowlist takes to land in
# the kernel, against its size.
#
# In a namespace with Docker's iptables layout (rfba), for each size N:
#
#   ringfence  first   `ringfence apply` with no ringfence table loaded
#              again   `ringfence apply` of the same policy over itself
#                      (the daemon's case: a whole table is replaced)
#   ringfence  check / plan / nft -f: where the time goes: parse and
#              compile; plus rendering the nft text; loading that text
#              with `nft -f` (libnftables and the kernel, no ringfence)
#   iptables   first / again: `iptables-restore --noflush` of DOCKER-USER
#              as one rule per prefix (what datapath.sh calls linear)
#   firewalld  add / reload: in its own namespace (rfbf) with a private
#              D-Bus, an nftables-backed ipset (hash:net) used by one rich
#              rule: `firewall-cmd --permanent --ipset=NAME
#              --add-entries-from-file=FILE` into an empty ipset, then the
#              reload that puts the entries in the kernel (timed until
#              firewalld answers)
#
# Every time is wall clock of the whole command, with user and system CPU
# and peak memory from /usr/bin/time.
#
# Environment (set by bench/run): BENCH_APPLY_SIZES, BENCH_REPS,
# BENCH_REPS_HUGE (runs at 1,000,000), BENCH_FW_BUDGET (seconds: a
# firewalld size is skipped when the previous one, times ten, would pass
# it), BENCH_FIREWALLD (path of a firewalld tree, see find_firewalld).
# Writes $BENCH_OUT/apply-raw.csv:
#   tool,phase,size,rep,wall_ms,user_s,sys_s,maxrss_kb
set -u
. "$(dirname "$0")/lib.sh"

: "${BENCH_APPLY_SIZES:=1000 10000 100000 1000000}"
: "${BENCH_REPS:=3}"
: "${BENCH_REPS_HUGE:=3}"
: "${BENCH_FW_BUDGET:=240}"
RAW=$BENCH_OUT/apply-raw.csv
NOTES=$BENCH_OUT/apply-notes.txt
A_NS=rfba
A_ENTER=(nsenter --net=/run/netns/rfba)
F_NS=rfbf
SRC=203.0.113.7
FW_PIDS=()

# timed TOOL PHASE N REP CMD...: run CMD under /usr/bin/time, append a
# CSV row; fails if CMD fails
timed() {
	local tool=$1 phase=$2 n=$3 rep=$4 rc=0 t0 t1 tf=$BENCH_TMP/time.out
	shift 4
	t0=$(date +%s%N)
	/usr/bin/time -o "$tf" -f '%U,%S,%M' "$@" >>"$BENCH_TMP/timed.out" \
	    2>&1 || rc=$?
	t1=$(date +%s%N)
	if [ "$rc" != 0 ]; then
		say "apply: $tool $phase $n failed (exit $rc): $*"
		tail -3 "$BENCH_TMP/timed.out" >&2
		return 1
	fi
	printf '%s,%s,%s,%s,%s,%s\n' "$tool" "$phase" "$n" "$rep" \
	    "$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", d / 1e6 }')" \
	    "$(tail -1 "$tf")" >>"$RAW"
}

reps_for() {
	[ "$1" -ge 1000000 ] && echo "$BENCH_REPS_HUGE" || echo "$BENCH_REPS"
}

# ---- ringfence and iptables ----

bench_ringfence() {
	local n=$1 reps rep pol=$BENCH_TMP/policy-$1.conf
	reps=$(reps_for "$n")
	gen_policy "$n" "$SRC" >"$pol"
	say "apply: ringfence, $n prefixes, $reps runs"
	for rep in $(seq 1 "$reps"); do
		ns "$A_NS" "$RINGFENCE" flush >/dev/null 2>&1
		timed ringfence first "$n" "$rep" \
		    "${A_ENTER[@]}" "$RINGFENCE" -f "$pol" apply || return 1
		timed ringfence again "$n" "$rep" \
		    "${A_ENTER[@]}" "$RINGFENCE" -f "$pol" apply || return 1
		timed ringfence check "$n" "$rep" \
		    "$RINGFENCE" -f "$pol" check || return 1
		timed ringfence plan "$n" "$rep" \
		    sh -c '"$1" -f "$2" plan >"$3"' sh "$RINGFENCE" "$pol" \
		    "$BENCH_TMP/plan.nft" || return 1
		ns "$A_NS" "$RINGFENCE" flush >/dev/null 2>&1
		timed ringfence nft-f "$n" "$rep" \
		    "${A_ENTER[@]}" nft -f "$BENCH_TMP/plan.nft" || return 1
	done
	ns "$A_NS" "$RINGFENCE" flush >/dev/null 2>&1
	rm -f "$pol" "$BENCH_TMP/plan.nft"
}

bench_iptables() {
	local n=$1 reps rep rules=$BENCH_TMP/linear-$1.rules
	reps=$(reps_for "$n")
	[ "$n" -ge 1000000 ] && reps=1
	gen_linear "$n" "$SRC" >"$rules"
	say "apply: iptables-restore, $n rules, $reps runs"
	for rep in $(seq 1 "$reps"); do
		printf '*filter\n:DOCKER-USER - [0:0]\n-A DOCKER-USER -j RETURN\nCOMMIT\n' |
		    ns "$A_NS" iptables-restore --noflush
		timed iptables first "$n" "$rep" timeout 600 \
		    "${A_ENTER[@]}" iptables-restore --noflush "$rules" ||
		    return 1
		timed iptables again "$n" "$rep" timeout 600 \
		    "${A_ENTER[@]}" iptables-restore --noflush "$rules" ||
		    return 1
	done
	printf '*filter\n:DOCKER-USER - [0:0]\n-A DOCKER-USER -j RETURN\nCOMMIT\n' |
	    ns "$A_NS" iptables-restore --noflush
	rm -f "$rules"
}

# ---- firewalld ----

# find_firewalld: set FW_DAEMON, FW_CMD (command arrays) and FW_DEFAULTS,
# from BENCH_FIREWALLD (a tree unpacked from the firewalld .deb, made by
# bench/run so that nothing is installed that could start a host
# firewall), else from an installed firewalld
find_firewalld() {
	local root=${BENCH_FIREWALLD:-}
	if [ -n "$root" ] && [ -f "$root/usr/sbin/firewalld" ]; then
		FW_DAEMON=(/usr/bin/python3 "$root/usr/sbin/firewalld")
		FW_CMD=(/usr/bin/python3 "$root/usr/bin/firewall-cmd")
		FW_DEFAULTS=$root/usr/lib/firewalld
	elif [ -x /usr/sbin/firewalld ] && [ -x /usr/bin/firewall-cmd ]; then
		FW_DAEMON=(/usr/sbin/firewalld)
		FW_CMD=(/usr/bin/firewall-cmd)
		FW_DEFAULTS=/usr/lib/firewalld
	else
		return 1
	fi
	/usr/bin/python3 -c 'import firewall.config, nftables, dbus, gi' \
	    2>/dev/null
}

fw() {
	nsenter --net="/run/netns/$F_NS" env DBUS_SYSTEM_BUS_ADDRESS="$FW_BUS" \
	    timeout 600 "${FW_CMD[@]}" "$@"
}

# fw_reload_argv: a reload that waits for its answer however long it
# takes (firewall-cmd gives up after 25 s while the reload goes on)
fw_reload_argv() {
	FW_RELOAD=(nsenter --net="/run/netns/$F_NS" env DBUS_SYSTEM_BUS_ADDRESS="$FW_BUS"
	    timeout 900 dbus-send --system --print-reply
	    --reply-timeout=900000 --dest=org.fedoraproject.FirewallD1
	    /org/fedoraproject/FirewallD1 org.fedoraproject.FirewallD1.reload)
}

fw_ipset_xml() {
	printf '<?xml version="1.0" encoding="utf-8"?>\n'
	printf '<ipset type="hash:net">\n  <option name="family" value="inet"/>\n'
	[ -n "${1:-}" ] && sed 's|.*|  <entry>&</entry>|' "$1"
	printf '</ipset>\n'
}

fw_start() {
	local d=$BENCH_TMP/fw i
	mkdir -p "$d/etc/ipsets" "$d/etc/zones"
	FW_BUS=unix:path=$d/bus
	fw_reload_argv
	cat >"$d/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$FW_BUS</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
	cat >"$d/etc/firewalld.conf" <<EOF
DefaultZone=public
CleanupOnExit=yes
CleanupModulesOnExit=no
Lockdown=no
IPv6_rpfilter=yes
IndividualCalls=no
LogDenied=off
FirewallBackend=nftables
FlushAllOnReload=yes
RFC3964_IPv4=yes
EOF
	fw_ipset_xml >"$d/etc/ipsets/rfb_allow.xml"
	cat >"$d/etc/zones/public.xml" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<zone>
  <short>Public</short>
  <service name="ssh"/>
  <rule family="ipv4">
    <source ipset="rfb_allow"/>
    <accept/>
  </rule>
</zone>
EOF
	bench_ns_add "$F_NS"
	ip netns exec "$F_NS" timeout 3600 dbus-daemon \
	    --config-file="$d/bus.conf" --nofork --nopidfile \
	    </dev/null >>"$d/bus.log" 2>&1 &
	FW_PIDS+=($!)
	for i in $(seq 1 50); do
		[ -S "$d/bus" ] && break
		sleep 0.1
	done
	ip netns exec "$F_NS" env DBUS_SYSTEM_BUS_ADDRESS="$FW_BUS" \
	    timeout 3600 "${FW_DAEMON[@]}" --nofork --nopid \
	    --system-config "$d/etc" --default-config "$FW_DEFAULTS" \
	    --log-target file --log-file "$d/firewalld.log" \
	    </dev/null >>"$d/firewalld.out" 2>&1 &
	FW_PIDS+=($!)
	for i in $(seq 1 300); do
		[ "$(fw --state 2>/dev/null)" = running ] && return 0
		sleep 0.1
	done
	return 1
}

fw_stop() {
	local pid
	# firewalld first, so it can remove its table while D-Bus is up
	for pid in $(printf '%s\n' "${FW_PIDS[@]}" | tac); do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	FW_PIDS=()
	ip netns del "$F_NS" 2>/dev/null
	return 0
}

bench_firewalld() {
	local n rep reps prev_ms=0 list=$BENCH_TMP/fw-entries d=$BENCH_TMP/fw
	if ! find_firewalld; then
		say "apply: firewalld skipped: not available"
		echo "firewalld: skipped, not available (no firewalld tree and" \
		    "none installed, or its Python modules are missing)" >>"$NOTES"
		return 0
	fi
	if ! fw_start; then
		say "apply: firewalld skipped: it did not start"
		tail -5 "$d/firewalld.log" "$d/firewalld.out" >&2 2>/dev/null
		echo "firewalld: skipped, the daemon did not start in its" \
		    "namespace" >>"$NOTES"
		fw_stop
		return 0
	fi
	for n in $BENCH_APPLY_SIZES; do
		if [ $((prev_ms * 10 / 1000)) -gt "$BENCH_FW_BUDGET" ]; then
			say "apply: firewalld, $n entries skipped"
			echo "firewalld: $n entries not run: the previous size" \
			    "took $((prev_ms / 1000)) s, so this one would pass" \
			    "the ${BENCH_FW_BUDGET} s budget" >>"$NOTES"
			continue
		fi
		reps=$(reps_for "$n")
		[ "$n" -ge 100000 ] && reps=1
		gen_prefixes "$n" >"$list"
		echo "$SRC" >>"$list"
		say "apply: firewalld, $n entries, $reps runs"
		for rep in $(seq 1 "$reps"); do
			fw_ipset_xml >"$d/etc/ipsets/rfb_allow.xml"
			"${FW_RELOAD[@]}" >/dev/null ||
			    { say "apply: firewalld reload failed"; break; }
			timed firewalld add "$n" "$rep" \
			    nsenter --net="/run/netns/$F_NS" \
			    env DBUS_SYSTEM_BUS_ADDRESS="$FW_BUS" timeout 600 \
			    "${FW_CMD[@]}" --permanent --ipset=rfb_allow \
			    --add-entries-from-file="$list" || break
			timed firewalld reload "$n" "$rep" "${FW_RELOAD[@]}" ||
			    break
		done
		# the mean of add + reload per run
		prev_ms=$(awk -F, -v n="$n" -v r="$reps" '
		    $1 == "firewalld" && $3 == n { s += $5 }
		    END { printf "%d", s / r }' "$RAW")
		# check the entries are in the kernel (elements counted once)
		ip netns exec "$F_NS" nft list set inet firewalld rfb_allow \
		    2>/dev/null | grep -q "${SRC//./\\.}" ||
		    say "apply: firewalld: the tested entry is not in the kernel set"
	done
	fw_stop
}

apply_exit() {
	local rc=$?
	fw_stop
	ip netns del "$A_NS" 2>/dev/null
	exit "$rc"
}

main() {
	local n
	[ -x "$RINGFENCE" ] || die "no $RINGFENCE"
	trap apply_exit EXIT
	trap 'exit 130' INT TERM
	ip netns del "$A_NS" 2>/dev/null
	ip netns del "$F_NS" 2>/dev/null
	bench_ns_add "$A_NS"
	vrun ns "$A_NS" iptables-restore < <(bench_docker_rules)
	echo 'tool,phase,size,rep,wall_ms,user_s,sys_s,maxrss_kb' >"$RAW"
	: >"$NOTES"
	for n in $BENCH_APPLY_SIZES; do
		bench_ringfence "$n" || die "ringfence apply failed at $n"
		bench_iptables "$n" || die "iptables-restore failed at $n"
	done
	bench_firewalld
	return 0
}

main "$@"
