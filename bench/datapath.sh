#!/bin/bash
#
# datapath.sh: part 1, the cost of the firewall on the datapath against
# the size of the allowlist.
#
# Traffic goes from the outside namespace through the host (forwarded,
# Docker's iptables layout) to the container on the bridge.  Setups:
#
#   none       (a) no firewall: Docker's layout with conntrack, the limit
#   linear     (b) the allowlist as one DOCKER-USER rule per prefix
#   ringfence  (c) `ringfence apply` of `allow in from { prefixes }`
#
# For each allowlist size N, the allowlist holds N generated prefixes that
# do not cover the tested source, then the tested source, last.  Each
# repetition measures TCP throughput (iperf3), the received rate of
# 64-byte UDP datagrams (iperf3 -u -l 64 -b 0) and the rate of new TCP
# connections (connrate: connect, server closes, client closes).
#
# Environment (set by bench/run): BENCH_SIZES, BENCH_REPS, BENCH_SECS,
# BENCH_REPS_SLOW (repetitions for linear rules at 100,000 and more),
# BENCH_PAIRS (8).
# Writes $BENCH_OUT/datapath-raw.csv: setup,size,metric,rep,value, and
# datapath-paired.csv (the same columns) for BENCH_PAIRS paired runs of no
# firewall and ringfence at the largest size.
set -u
. "$(dirname "$0")/lib.sh"

: "${BENCH_SIZES:=0 1000 10000 100000}"
: "${BENCH_REPS:=5}"
: "${BENCH_SECS:=3}"
: "${BENCH_REPS_SLOW:=3}"
: "${BENCH_PAIRS:=8}"
CONNRATE=$BENCH_BIN/connrate
PY=/usr/bin/python3
RAW=$BENCH_OUT/datapath-raw.csv
PAIRED=$BENCH_OUT/datapath-paired.csv
IPERF_PORT=5201
CONN_PORT=8080
# A second outside address, never allowed: proves a setup enforces.
DENIED_SRC=203.0.113.8

# iperf_field JSON-FILE tcp|udp: the figure of one iperf3 run
iperf_field() {
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    if sys.argv[2] == "tcp":
        print("%.1f" % (j["end"]["sum_received"]["bits_per_second"] / 1e6))
    else:
        s = j["end"]["sum"]
        print("%.0f" % ((s["packets"] - s["lost_packets"]) / s["seconds"]))
except Exception:
    print("nan")
EOF
}

measure_tcp() {
	ns "$B_OUT" timeout $((BENCH_SECS + 20)) iperf3 -c "$B_CONT_ADDR" \
	    -p "$IPERF_PORT" -t "$BENCH_SECS" -J >"$BENCH_TMP/iperf.json" \
	    2>/dev/null
	iperf_field "$BENCH_TMP/iperf.json" tcp
}

measure_udp() {
	ns "$B_OUT" timeout $((BENCH_SECS + 20)) iperf3 -c "$B_CONT_ADDR" \
	    -p "$IPERF_PORT" -t "$BENCH_SECS" -u -l 64 -b 0 \
	    -J >"$BENCH_TMP/iperf.json" 2>/dev/null
	iperf_field "$BENCH_TMP/iperf.json" udp
}

measure_conn() {
	local out
	out=$(ns "$B_OUT" timeout $((BENCH_SECS + 20)) "$CONNRATE" run \
	    "$B_CONT_ADDR" "$CONN_PORT" -t "$BENCH_SECS" -p 4 2>/dev/null)
	case $out in
	*rate=*)
		printf '%s\n' "${out##*rate=}"
		;;
	*)
		echo nan
		;;
	esac
	[[ $out == *errors=0* ]] || say "connrate: $out"
}

# ---- setups ----

docker_user_reset() {
	printf '*filter\n:DOCKER-USER - [0:0]\n-A DOCKER-USER -j RETURN\nCOMMIT\n' |
	    ns "$B_HOST" iptables-restore --noflush
}

# setup_load SETUP N: put SETUP in place for N prefixes, from the state
# "none"; prints how long the load took, in ms
setup_load() {
	local t0 t1
	case $1 in
	none)
		echo 0
		return 0
		;;
	linear)
		gen_linear "$2" "$B_OUT_ADDR" >"$BENCH_TMP/linear.rules"
		t0=$(now_ms)
		ns "$B_HOST" iptables-restore --noflush \
		    <"$BENCH_TMP/linear.rules" || return 1
		;;
	ringfence)
		gen_policy "$2" "$B_OUT_ADDR" >"$BENCH_TMP/policy.conf"
		t0=$(now_ms)
		ns "$B_HOST" "$RINGFENCE" -f "$BENCH_TMP/policy.conf" apply \
		    >/dev/null || return 1
		;;
	esac
	t1=$(now_ms)
	echo $((t1 - t0))
}

setup_unload() {
	case $1 in
	linear)
		docker_user_reset
		;;
	ringfence)
		ns "$B_HOST" "$RINGFENCE" flush
		;;
	esac
}

# conn_probe SRC: ok if a connection from SRC to the container succeeds
conn_probe() {
	local out
	out=$(ns "$B_OUT" "$CONNRATE" run "$B_CONT_ADDR" "$CONN_PORT" -n 1 \
	    -p 1 -t 2 -b "$1" 2>/dev/null)
	[[ $out == conns=1* ]] && echo ok || echo fail
}

# check_enforced SETUP: the tested source connects; for a firewall, the
# denied source does not
check_enforced() {
	local want=fail
	[ "$1" = none ] && want=ok
	[ "$(conn_probe "$B_OUT_ADDR")" = ok ] ||
	    die "$1: the tested source cannot connect"
	[ "$(conn_probe "$DENIED_SRC")" = "$want" ] ||
	    die "$1: a source outside the allowlist got $(conn_probe \
	    "$DENIED_SRC"), expected $want"
}

# run_setup SETUP N REPS [FIRST_REP]
run_setup() {
	local setup=$1 n=$2 reps=$3 from=${4:-1} ms rep v
	ms=$(setup_load "$setup" "$n") || die "$setup: loading $n failed"
	check_enforced "$setup"
	say "datapath: $setup, $n prefixes (loaded in $ms ms), $reps runs"
	for rep in $(seq "$from" $((from + reps - 1))); do
		v=$(measure_tcp)
		printf '%s,%s,tcp_mbps,%s,%s\n' "$setup" "$n" "$rep" "$v" >>"$RAW"
		v=$(measure_udp)
		printf '%s,%s,udp_pps,%s,%s\n' "$setup" "$n" "$rep" "$v" >>"$RAW"
		v=$(measure_conn)
		printf '%s,%s,conn_per_s,%s,%s\n' "$setup" "$n" "$rep" "$v" \
		    >>"$RAW"
	done
	setup_unload "$setup"
}

# measure_all SETUP N REP: one run of the three measurements, into PAIRED
measure_all() {
	printf '%s,%s,tcp_mbps,%s,%s\n' "$1" "$2" "$3" "$(measure_tcp)" \
	    >>"$PAIRED"
	printf '%s,%s,udp_pps,%s,%s\n' "$1" "$2" "$3" "$(measure_udp)" \
	    >>"$PAIRED"
	printf '%s,%s,conn_per_s,%s,%s\n' "$1" "$2" "$3" "$(measure_conn)" \
	    >>"$PAIRED"
}

# paired N PAIRS: no firewall and ringfence at N, one run each in turn,
# the order swapped every pair.  A pair is a few seconds apart, so the
# drift of a shared, stolen-from CPU (which moves (a) by 10-30% over a
# run) cancels out of each pair's ratio.
paired() {
	local n=$1 pairs=$2 rep
	say "datapath: paired runs, no firewall and ringfence at $n, $pairs pairs"
	echo 'setup,size,metric,rep,value' >"$PAIRED"
	for rep in $(seq 1 "$pairs"); do
		if [ $((rep % 2)) = 1 ]; then
			measure_all none 0 "$rep"
		fi
		setup_load ringfence "$n" >/dev/null ||
		    die "ringfence: loading $n failed"
		check_enforced ringfence
		measure_all ringfence "$n" "$rep"
		setup_unload ringfence
		if [ $((rep % 2)) = 0 ]; then
			measure_all none 0 "$rep"
		fi
	done
}

datapath_exit() {
	local rc=$?
	topo_down
	exit "$rc"
}

main() {
	local n reps first second
	[ -x "$CONNRATE" ] || die "no $CONNRATE (bench/run builds it)"
	[ -x "$RINGFENCE" ] || die "no $RINGFENCE"
	trap datapath_exit EXIT
	trap 'exit 130' INT TERM
	bench_cleanup_stale
	topo_up
	vrun ip -n "$B_OUT" addr add "$DENIED_SRC/24" dev eth0
	bg_start "$B_CONT" timeout 3600 iperf3 -s -B "$B_CONT_ADDR" \
	    -p "$IPERF_PORT"
	bg_start "$B_CONT" timeout 3600 "$CONNRATE" serve "$B_CONT_ADDR" \
	    "$CONN_PORT" -w 2 -T 3600
	sleep 0.5
	echo 'setup,size,metric,rep,value' >"$RAW"

	# The limit is measured before and after the rest, half each way, so
	# drift over the run shows in its min-max.
	first=$(((BENCH_REPS + 1) / 2))
	second=$((BENCH_REPS - first))
	run_setup none 0 "$first"
	for n in $BENCH_SIZES; do
		reps=$BENCH_REPS
		[ "$n" -ge 100000 ] && reps=$BENCH_REPS_SLOW
		run_setup linear "$n" "$reps"
		run_setup ringfence "$n" "$BENCH_REPS"
	done
	[ "$second" -gt 0 ] && run_setup none 0 "$second" $((first + 1))
	[ "$BENCH_PAIRS" -gt 0 ] && paired "${BENCH_SIZES##* }" "$BENCH_PAIRS"
	return 0
}

main "$@"
