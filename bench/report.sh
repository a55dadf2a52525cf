#!/bin/bash
#
# report.sh: turn the raw CSV files of one run into summaries, the plot,
# and bench/results/latest.md.  Reads $BENCH_OUT/*-raw.csv and
# $BENCH_OUT/run-info.txt (written by bench/run); prints the tables too.
set -u
. "$(dirname "$0")/lib.sh"

OUT=$BENCH_OUT
MD=$OUT/latest.md

# cell MEDIAN MIN MAX: "median (min-max)", one value when min = max
cell() {
	if [ "$1" = nan ]; then
		echo "n/a"
	elif [ "$2" = "$3" ]; then
		fmt_num "$1"
	else
		printf '%s (%s-%s)\n' "$(fmt_num "$1")" "$(fmt_num "$2")" \
		    "$(fmt_num "$3")"
	fi
}

# ---- part 1 ----

# datapath_summary: setup,size,metric,median,min,max,n
datapath_summary() {
	local raw=$OUT/datapath-raw.csv key
	echo 'setup,size,metric,median,min,max,n'
	tail -n +2 "$raw" | cut -d, -f1-3 | sort -u -t, -k1,1 -k2,2n -k3,3 |
	    while read -r key; do
		printf '%s,%s\n' "$key" "$(awk -F, -v k="$key" \
		    '$1 "," $2 "," $3 == k && $5 != "nan" { print $5 }' \
		    "$raw" | stats | tr ' ' ,)"
	done
}

# dp SETUP SIZE METRIC FIELD: one field of the summary (4 median, 5 min,
# 6 max); the limit "none" is looked up at size 0 whatever SIZE is
dp() {
	local size=$2
	[ "$1" = none ] && size=0
	awk -F, -v s="$1" -v n="$size" -v m="$3" -v f="$4" \
	    '$1 == s && $2 == n && $3 == m { print $f; found = 1 }
	     END { if (!found) print "nan" }' "$OUT/datapath-summary.csv"
}

dp_cell() {
	cell "$(dp "$1" "$2" "$3" 4)" "$(dp "$1" "$2" "$3" 5)" \
	    "$(dp "$1" "$2" "$3" 6)"
}

metric_label() {
	case $1 in
	tcp_mbps) echo 'TCP Mbit/s' ;;
	udp_pps) echo 'UDP 64 B, received pps' ;;
	conn_per_s) echo 'new TCP conns/s' ;;
	esac
}

datapath_table() {
	local metric label size sizes
	sizes=$(awk -F, 'NR > 1 && $1 != "none" { print $2 }' \
	    "$OUT/datapath-summary.csv" | sort -un)
	echo '| metric | prefixes | (a) no firewall | (b) linear iptables | (b)/(a) | (c) ringfence | (c)/(a) |'
	echo '|---|--:|--:|--:|--:|--:|--:|'
	for metric in tcp_mbps udp_pps conn_per_s; do
		label=$(metric_label "$metric")
		for size in $sizes; do
			printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" \
			    "$(fmt_num "$size")" "$(dp_cell none 0 $metric)" \
			    "$(dp_cell linear "$size" $metric)" \
			    "$(ratio "$(dp linear "$size" $metric 4)" \
			    "$(dp none 0 $metric 4)")" \
			    "$(dp_cell ringfence "$size" $metric)" \
			    "$(ratio "$(dp ringfence "$size" $metric 4)" \
			    "$(dp none 0 $metric 4)")"
		done
	done
}

# plot_data METRIC: size-index label then median min max for each setup
plot_data() {
	local i=0 size
	for size in $(awk -F, 'NR > 1 && $1 != "none" { print $2 }' \
	    "$OUT/datapath-summary.csv" | sort -un); do
		printf '%d %s' "$i" "$(fmt_num "$size")"
		for s in none linear ringfence; do
			printf ' %s %s %s' "$(dp $s "$size" "$1" 4)" \
			    "$(dp $s "$size" "$1" 5)" "$(dp $s "$size" "$1" 6)"
		done
		printf '\n'
		i=$((i + 1))
	done
}

plot() {
	local m
	command -v gnuplot >/dev/null || { say "no gnuplot: no plot"; return 0; }
	for m in tcp_mbps udp_pps conn_per_s; do
		plot_data $m >"$OUT/plot-$m.dat"
	done
	gnuplot -e "dir='$OUT'; out='$OUT/throughput.png'" \
	    "$(dirname "$0")/plot.gp" 2>"$OUT/gnuplot.err" ||
	    say "gnuplot failed: $(head -3 "$OUT/gnuplot.err")"
}

# ---- part 2 ----

apply_summary() {
	local raw=$OUT/apply-raw.csv key
	echo 'tool,phase,size,median_ms,min_ms,max_ms,n,median_user_s,median_sys_s,max_rss_kb'
	tail -n +2 "$raw" | cut -d, -f1-3 | sort -u -t, -k1,1 -k2,2 -k3,3n |
	    while read -r key; do
		printf '%s,%s,%s,%s,%s\n' "$key" \
		    "$(awk -F, -v k="$key" '$1 "," $2 "," $3 == k { print $5 }' \
		    "$raw" | stats | tr ' ' ,)" \
		    "$(awk -F, -v k="$key" '$1 "," $2 "," $3 == k { print $6 }' \
		    "$raw" | stats | cut -d' ' -f1)" \
		    "$(awk -F, -v k="$key" '$1 "," $2 "," $3 == k { print $7 }' \
		    "$raw" | stats | cut -d' ' -f1)" \
		    "$(awk -F, -v k="$key" '$1 "," $2 "," $3 == k { print $8 }' \
		    "$raw" | stats | cut -d' ' -f3)"
	done
}

# ap TOOL PHASE SIZE FIELD (4 median, 5 min, 6 max, 7 n, 8 user, 9 sys,
# 10 peak RSS)
ap() {
	awk -F, -v t="$1" -v p="$2" -v n="$3" -v f="$4" \
	    '$1 == t && $2 == p && $3 == n { print $f; found = 1 }
	     END { if (!found) print "nan" }' "$OUT/apply-summary.csv"
}

ap_cell() {
	local c
	c=$(cell "$(ap "$1" "$2" "$3" 4)" "$(ap "$1" "$2" "$3" 5)" \
	    "$(ap "$1" "$2" "$3" 6)")
	[ "$c" = n/a ] && { echo 'not run'; return; }
	printf '%s ms' "$c"
	[ "$(ap "$1" "$2" "$3" 7)" = 1 ] && printf ' (1 run)'
	printf '\n'
}

# per1000 MS SIZE
per1000() {
	awk -v t="$1" -v n="$2" 'BEGIN {
		if (t == "nan") print "n/a"; else printf "%.1f\n", t * 1000 / n }'
}

# fw_total SIZE: median over runs of add + reload
fw_total() {
	awk -F, -v n="$1" '$1 == "firewalld" && $3 == n { s[$4] += $5 }
	    END { for (r in s) print s[r] }' "$OUT/apply-raw.csv" | stats |
	    cut -d' ' -f1
}

apply_table() {
	local size sizes fw
	sizes=$(awk -F, 'NR > 1 { print $3 }' "$OUT/apply-summary.csv" |
	    sort -un)
	echo '| prefixes | ringfence apply, first | ringfence apply, replacing | ms per 1,000 (replacing) | iptables-restore, first | iptables-restore, replacing | ms per 1,000 | firewalld add + reload | ms per 1,000 |'
	echo '|--:|--:|--:|--:|--:|--:|--:|--:|--:|'
	for size in $sizes; do
		fw=$(fw_total "$size")
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		    "$(fmt_num "$size")" \
		    "$(ap_cell ringfence first "$size")" \
		    "$(ap_cell ringfence again "$size")" \
		    "$(per1000 "$(ap ringfence again "$size" 4)" "$size")" \
		    "$(ap_cell iptables first "$size")" \
		    "$(ap_cell iptables again "$size")" \
		    "$(per1000 "$(ap iptables again "$size" 4)" "$size")" \
		    "$([ "$fw" = nan ] && echo 'not run' || echo "$(fmt_num "$fw") ms")" \
		    "$(per1000 "$fw" "$size")"
	done
}

breakdown_table() {
	local size sizes
	sizes=$(awk -F, 'NR > 1 && $1 == "ringfence" { print $3 }' \
	    "$OUT/apply-summary.csv" | sort -un)
	echo '| prefixes | check (parse + compile) | plan (+ render nft text) | nft -f of that text | apply, first: user / sys CPU s | apply peak RSS | iptables-restore peak RSS | firewalld reload |'
	echo '|--:|--:|--:|--:|--:|--:|--:|--:|'
	for size in $sizes; do
		printf '| %s | %s | %s | %s | %s / %s | %s MiB | %s MiB | %s |\n' \
		    "$(fmt_num "$size")" \
		    "$(ap_cell ringfence check "$size")" \
		    "$(ap_cell ringfence plan "$size")" \
		    "$(ap_cell ringfence nft-f "$size")" \
		    "$(ap ringfence first "$size" 8)" \
		    "$(ap ringfence first "$size" 9)" \
		    "$(awk -v k="$(ap ringfence first "$size" 10)" \
		    'BEGIN { printf "%.0f", k / 1024 }')" \
		    "$(awk -v k="$(ap iptables first "$size" 10)" \
		    'BEGIN { if (k == "nan") print "n/a"; else printf "%.0f", k / 1024 }')" \
		    "$(ap_cell firewalld reload "$size")"
	done
}

# paired_table: per pair, ringfence / no firewall; the median, min-max
paired_table() {
	local metric label line
	echo '| metric | pairs | ringfence / no firewall, median (min-max) |'
	echo '|---|--:|--:|'
	for metric in tcp_mbps udp_pps conn_per_s; do
		label=$(metric_label "$metric")
		line=$(awk -F, -v m="$metric" '
		    NR > 1 && $3 == m { v[$4, $1] = $5; r[$4] = 1 }
		    END { for (k in r) if (v[k, "none"] > 0)
			printf "%.4f\n", v[k, "ringfence"] / v[k, "none"] }' \
		    "$OUT/datapath-paired.csv" | stats)
		set -- $line
		printf '| %s | %s | %.2f (%.2f-%.2f) |\n' "$label" "$4" "$1" "$2" "$3"
	done
}

# ---- the report ----

section() {
	local f=$1
	[ -s "$OUT/$f" ] && cat "$OUT/$f"
}

main() {
	{
		echo '# ringfence benchmarks: latest run'
		echo
		section run-info.txt
		echo
		echo '## 1. Datapath cost against allowlist size'
		echo
		if [ -s "$OUT/datapath-raw.csv" ]; then
			datapath_summary >"$OUT/datapath-summary.csv"
			echo 'Median of the runs, (min-max) in brackets; ratios are'
			echo 'medians against (a), the no-firewall limit.'
			echo
			datapath_table
			plot
			[ -s "$OUT/throughput.png" ] &&
			    printf '\n![throughput](throughput.png)\n'
			if [ -s "$OUT/datapath-paired.csv" ]; then
				echo
				echo 'Paired runs at the largest size: no firewall'
				echo 'and ringfence in turn, a few seconds apart; each'
				echo "pair's ratio, then their median (min-max):"
				echo
				paired_table
			fi
		else
			echo 'Not run.'
		fi
		echo
		echo '## 2. Apply time against allowlist size'
		echo
		if [ -s "$OUT/apply-raw.csv" ]; then
			apply_summary >"$OUT/apply-summary.csv"
			apply_table
			echo
			echo 'Where ringfence'"'"'s apply time goes, and memory:'
			echo
			breakdown_table
			if [ -s "$OUT/apply-notes.txt" ]; then
				echo
				sed 's/^/- /' "$OUT/apply-notes.txt"
			fi
		else
			echo 'Not run.'
		fi
		echo
		echo '## 3. Reaction time to Docker events'
		echo
		section reaction.md || echo 'Not run.'
		echo
		echo '## 4. Daemon footprint'
		echo
		section footprint.md || echo 'Not run.'
	} >"$MD"
	cat "$MD"
}

main "$@"
