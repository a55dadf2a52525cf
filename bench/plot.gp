# plot.gp: throughput against allowlist size, for bench/report.sh.
# Called with dir (where plot-*.dat are) and out (the PNG) set.
# Columns: index, size label, then median min max for none, linear,
# ringfence.
set terminal pngcairo size 1500,520 font "sans,11"
set output out
set multiplot layout 1,3 title "Forwarded traffic to one container, medians with min-max bars (log scale)"
set logscale y
set grid ytics mytics
set xlabel "allowlist size (prefixes)"
set key bottom left
set offsets 0.3, 0.3, 0, 0
set style line 1 lc rgb "#555555" lw 2 pt 7 ps 1.2
set style line 2 lc rgb "#d62728" lw 2 pt 5 ps 1.2
set style line 3 lc rgb "#1f77b4" lw 2 pt 9 ps 1.4
do for [m in "tcp_mbps udp_pps conn_per_s"] {
	f = dir . "/plot-" . m . ".dat"
	if (m eq "tcp_mbps") { set title "TCP throughput"; set ylabel "Mbit/s" }
	if (m eq "udp_pps") { set title "64-byte UDP"; set ylabel "packets/s received" }
	if (m eq "conn_per_s") { set title "new TCP connections"; set ylabel "connections/s" }
	plot f using 1:3:4:5:xtic(2) with yerrorlines ls 1 title "(a) no firewall", \
	     f using ($1-0.06):6:7:8 with yerrorlines ls 2 title "(b) linear iptables", \
	     f using ($1+0.06):9:10:11 with yerrorlines ls 3 title "(c) ringfence"
}
unset multiplot
