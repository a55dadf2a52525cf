#!/bin/bash
#
# daemon.sh: parts 3 and 4, the daemon against a real Docker.
#
# A dedicated dockerd runs in the namespace rfbd (entered with nsenter
# --net: `ip netns exec` remounts /sys and hides the cgroup mounts dockerd
# needs), with its data, exec root and sockets under the run's scratch
# directory, and a network rfbnet (172.31.0.0/16).  Containers run a
# busybox-static image made on the spot.  `ringfence daemon` runs in the
# same namespace with a policy that confines every container labelled
# bench=yes.
#
# 3. Reaction time.  nftwatch listens to the kernel's nftables
#    notifications and stamps every container address that enters
#    ringfence's maps (in_v4, fwd_in_v4, out_v4: the container's rules).  Docker's own event stream gives the time of each
#    container's start.  Reaction = first notification holding the
#    container's new address - the start event.  Events: new containers
#    (docker run), then restarts with a new address (docker stop, network
#    disconnect, network connect --ip NEW, docker start: Docker itself
#    gives a restarted container its old address back).  One event at a
#    time: the next one starts when the last is in force.
# 4. Footprint.  With BENCH_FP_CONTAINERS confined containers running and
#    a policy of BENCH_FP_PREFIXES prefixes in force: the daemon's VmRSS
#    (split into RssAnon, its own memory, and RssFile, mapped libraries)
#    and VmHWM, then its CPU time (and that of the programs it runs),
#    context switches and log lines over BENCH_FP_IDLE seconds without
#    events.
#
# Skips with a message when `ringfence daemon` or Docker is missing.
# Environment: BENCH_REACT_EVENTS (default 100), BENCH_REACT_PREFIXES
# (1000), BENCH_REACT_BIG (1: also BENCH_REACT_BIG_EVENTS=100 events under
# a BENCH_FP_PREFIXES policy), BENCH_FP_CONTAINERS (100),
# BENCH_FP_PREFIXES (100000), BENCH_FP_IDLE (60).
# Writes reaction-raw.csv, reaction.md, footprint.md in $BENCH_OUT, and
# the daemon's log and nftwatch's output as daemon-*.log.
set -u
. "$(dirname "$0")/lib.sh"

: "${BENCH_REACT_EVENTS:=100}"
: "${BENCH_REACT_PREFIXES:=1000}"
: "${BENCH_REACT_BIG:=1}"
: "${BENCH_REACT_BIG_EVENTS:=100}"
: "${BENCH_FP_CONTAINERS:=100}"
: "${BENCH_FP_PREFIXES:=100000}"
: "${BENCH_FP_IDLE:=60}"
D_NS=rfbd
D_NET=rfbnet
D_SUBNET=172.31.0.0/16
D_IMAGE=rfbench:latest
D_DIR=$BENCH_TMP/docker
D_SOCK=$D_DIR/docker.sock
D_CTL=$D_DIR/ringfence.sock
RAW=$BENCH_OUT/reaction-raw.csv
DOCKERD_PID=
RF_PID=
WATCH_PID=
EVENTS_PID=
NFTWATCH=$BENCH_BIN/nftwatch

dk() {
	timeout 120 docker -H "unix://$D_SOCK" "$@"
}

skip_both() {
	say "daemon: skipped: $1"
	printf 'Skipped: %s.\n' "$1" >"$BENCH_OUT/reaction.md"
	printf 'Skipped: %s.\n' "$1" >"$BENCH_OUT/footprint.md"
	exit 0
}

find_busybox() {
	local f
	for f in /bin/busybox /usr/bin/busybox; do
		if [ -x "$f" ] && ! ldd "$f" >/dev/null 2>&1; then
			printf '%s\n' "$f"
			return 0
		fi
	done
	return 1
}

# ---- dockerd ----

docker_up() {
	local i bb r=$D_DIR/rootfs applet
	bench_ns_add "$D_NS"
	mkdir -p "$D_DIR"
	# a test dockerd turns on forwarding itself, as on a real host
	nsenter --net="/run/netns/$D_NS" dockerd \
	    --data-root "$D_DIR/data" --exec-root "$D_DIR/exec" \
	    --pidfile "$D_DIR/dockerd.pid" -H "unix://$D_SOCK" \
	    --iptables=true --ip6tables=false --cgroup-parent "$D_NS" \
	    </dev/null >>"$D_DIR/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	for i in $(seq 1 150); do
		[ -S "$D_SOCK" ] && dk version >/dev/null 2>&1 && break
		kill -0 "$DOCKERD_PID" 2>/dev/null || break
		sleep 0.1
	done
	dk version >/dev/null 2>&1 || {
		tail -5 "$D_DIR/dockerd.log" >&2
		return 1
	}
	bb=$(find_busybox) || return 1
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev"
	cp "$bb" "$r/bin/busybox"
	for applet in sh sleep; do
		ln -s busybox "$r/bin/$applet"
	done
	printf 'root:x:0:0:root:/:/bin/sh\n' >"$r/etc/passwd"
	tar -C "$r" -c . | dk import - "$D_IMAGE" >/dev/null || return 1
	dk network create --subnet "$D_SUBNET" "$D_NET" >/dev/null
}

# Processes of ours: whatever names our scratch directory on its command
# line (dockerd, containerd, the shims) or lives in our cgroup parent.
docker_kill_ours() {
	local p pids=()
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		if { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null |
		    grep -qF -- "$D_DIR/"; then
			pids+=("$p")
		elif grep -q ":/$D_NS/" "/proc/$p/cgroup" 2>/dev/null; then
			pids+=("$p")
		fi
	done
	[ ${#pids[@]} = 0 ] || kill -KILL "${pids[@]}" 2>/dev/null
}

docker_down() {
	local i m
	if [ -n "$DOCKERD_PID" ]; then
		dk ps -aq 2>/dev/null | xargs -r timeout 120 \
		    docker -H "unix://$D_SOCK" rm -f >/dev/null 2>&1
		kill -TERM "$DOCKERD_PID" 2>/dev/null
		for i in $(seq 1 200); do
			kill -0 "$DOCKERD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DOCKERD_PID" 2>/dev/null
		wait "$DOCKERD_PID" 2>/dev/null
		DOCKERD_PID=
	fi
	docker_kill_ours
	sleep 0.2
	awk -v d="$D_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts |
	    sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
}

# ---- the daemon and the watchers ----

rf_start() {
	local i
	nsenter --net="/run/netns/$D_NS" "$RINGFENCE" -f "$1" daemon \
	    --docker-socket "$D_SOCK" --control-socket "$D_CTL" \
	    </dev/null >>"$D_DIR/ringfence.log" 2>&1 &
	RF_PID=$!
	for i in $(seq 1 300); do
		nsenter --net="/run/netns/$D_NS" "$RINGFENCE" status \
		    --control-socket "$D_CTL" >/dev/null 2>&1 && return 0
		kill -0 "$RF_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -5 "$D_DIR/ringfence.log" >&2
	return 1
}

rf_stop() {
	local i
	[ -n "$RF_PID" ] || return 0
	kill -TERM "$RF_PID" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$RF_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$RF_PID" 2>/dev/null
	wait "$RF_PID" 2>/dev/null
	RF_PID=
	nsenter --net="/run/netns/$D_NS" "$RINGFENCE" flush >/dev/null 2>&1
}

watchers_start() {
	nsenter --net="/run/netns/$D_NS" "$NFTWATCH" ringfence "$D_SUBNET" \
	    -T 3600 </dev/null >"$D_DIR/watch.log" 2>&1 &
	WATCH_PID=$!
	timeout 3600 docker -H "unix://$D_SOCK" events \
	    --filter type=container --filter type=network \
	    --filter event=start --filter event=connect \
	    --format '{{.TimeNano}} {{.Type}} {{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "container"}}' \
	    </dev/null >"$D_DIR/events.log" 2>/dev/null &
	EVENTS_PID=$!
	sleep 0.3
}

watchers_stop() {
	local p
	for p in "$WATCH_PID" "$EVENTS_PID"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	WATCH_PID= EVENTS_PID=
}

# policy N: every container labelled bench=yes allows in N prefixes + one
label_policy() {
	printf 'container label bench=yes {\n\tallow in from {\n'
	gen_prefixes "$1" | sed 's/^/\t\t/; s/$/,/'
	printf '\t\t%s }\n}\n' "$B_OUT_ADDR"
}

# ---- part 3 ----

ms_now() {
	date +%s%3N
}

# event_ms TYPE ACTION ID SINCE_MS: time of the first Docker event of
# that type and action for container ID at or after SINCE_MS, waiting for
# it (bounded: 2 s)
event_ms() {
	local i v
	for i in $(seq 1 100); do
		v=$(awk -v t="$1" -v a="$2" -v id="$3" -v s="$4" '
		    $2 == t && $3 == a && ($4 == id || $5 == id) &&
		    $1 / 1e6 >= s - 5 { printf "%.3f\n", $1 / 1e6; exit }' \
		    "$D_DIR/events.log")
		[ -n "$v" ] && { echo "$v"; return 0; }
		sleep 0.02
	done
	return 1
}

# rule_ms IP SINCE_MS: time the address first entered ringfence's maps
# at or after SINCE_MS, waiting for it (bounded: 10 s).  Only the maps
# that confine a container count: the bridge guard's set of known
# addresses (known_v4) says nothing about its rules.
rule_ms() {
	local i v
	for i in $(seq 1 500); do
		v=$(awk -v ip="$1" -v s="$2" '$3 == ip &&
		    $2 ~ /^(in|fwd_in|out)_v4$/ {
		    split($1, t, "."); ms = t[1] * 1000 + substr(t[2], 1, 6) / 1000
		    if (ms >= s - 5) { printf "%.3f\n", ms; exit } }' \
		    "$D_DIR/watch.log")
		[ -n "$v" ] && { echo "$v"; return 0; }
		sleep 0.02
	done
	return 1
}

ctr_ip() {
	dk inspect -f "{{(index .NetworkSettings.Networks \"$D_NET\").IPAddress}}" "$1"
}

# delta A B: A - B in ms, or nan
delta() {
	awk -v a="$1" -v b="$2" 'BEGIN {
	    if (a == "nan" || b == "nan" || a == "" || b == "") print "nan"
	    else printf "%.1f\n", a - b }'
}

READDRESS=0
# one_event KIND NAME SERIES: start a new container NAME (run), or stop
# NAME, move it to a new address and start it again (readdress); append
# a CSV row
one_event() {
	local kind=$1 name=$2 series=$3 t0 id ip old= ts tc=nan tr
	if [ "$kind" = run ]; then
		t0=$(ms_now)
		dk run -d --name "$name" --network "$D_NET" --label bench=yes \
		    "$D_IMAGE" sleep 3600 >/dev/null || return 1
	else
		old=$(ctr_ip "$name")
		READDRESS=$((READDRESS + 1))
		ip=172.31.$((100 + READDRESS / 250)).$((READDRESS % 250 + 2))
		dk stop -t 0 "$name" >/dev/null &&
		    dk network disconnect "$D_NET" "$name" &&
		    dk network connect --ip "$ip" "$D_NET" "$name" || return 1
		t0=$(ms_now)
		dk start "$name" >/dev/null || return 1
	fi
	id=$(dk inspect -f '{{.Id}}' "$name") || return 1
	ip=$(ctr_ip "$name")
	ts=$(event_ms container start "$id" "$t0") ||
	    { say "daemon: no start event for $name"; return 1; }
	[ "$kind" = run ] && tc=$(event_ms network connect "$id" "$t0")
	if ! tr=$(rule_ms "$ip" "$t0"); then
		say "daemon: $name ($ip) not in the ruleset after 10 s"
		tr=nan
	fi
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$series" "$kind" "$name" \
	    "$ip" "${old:-}" "$ts" "${tc:-nan}" "$(delta "$tr" "$ts")" \
	    "$(delta "$tr" "${tc:-nan}")" "$(delta "$tr" "$t0")" >>"$RAW"
}

# percentile P: the P-th percentile (nearest rank) of numbers on stdin
percentile() {
	sort -g | awk -v p="$1" '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1
		print v[r] }'
}

react_series() {
	local series=$1 events=$2 i half name
	half=$(((events + 1) / 2))
	for i in $(seq 1 "$half"); do
		one_event run "rfbr$i" "$series" || return 1
		sleep 0.05
	done
	for i in $(seq 1 $((events - half))); do
		one_event readdress "rfbr$i" "$series" || return 1
		sleep 0.05
	done
}

# col_vals SERIES KIND COLUMN: the numbers of one column
col_vals() {
	awk -F, -v s="$1" -v k="$2" -v c="$3" \
	    '($1 == s || s == "") && ($2 == k || k == "") && $c != "nan" { print $c }' "$RAW"
}

react_summary() {
	local series kind vals n
	echo 'Reaction: from Docker'"'"'s `start` event of the container to the kernel'
	echo 'notification of the transaction that put its address in ringfence'"'"'s'
	echo 'maps.  A negative figure means the address was in force before Docker'
	echo 'reported the start.'
	echo
	echo '| policy | events | median | p99 | max | min | not in force after 10 s |'
	echo '|---|--:|--:|--:|--:|--:|--:|'
	for series in $(tail -n +2 "$RAW" | cut -d, -f1 | sort -un); do
		vals=$(col_vals "$series" "" 8)
		n=$(awk -F, -v s="$series" '$1 == s' "$RAW" | wc -l)
		printf '| %s prefixes | %s | %s ms | %s ms | %s ms | %s ms | %s |\n' \
		    "$(fmt_num "$series")" "$n" \
		    "$(printf '%s\n' "$vals" | percentile 50)" \
		    "$(printf '%s\n' "$vals" | percentile 99)" \
		    "$(printf '%s\n' "$vals" | percentile 100)" \
		    "$(printf '%s\n' "$vals" | sort -g | head -1)" \
		    "$(awk -F, -v s="$series" '$1 == s && $8 == "nan"' "$RAW" | wc -l)"
	done
	echo
	for series in $(tail -n +2 "$RAW" | cut -d, -f1 | sort -un); do
		for kind in run readdress; do
			n=$(awk -F, -v s="$series" -v k="$kind" \
			    '$1 == s && $2 == k' "$RAW" | wc -l)
			[ "$n" = 0 ] && continue
			printf -- '- %s prefixes, %s: %s events, median %s ms, p99 %s ms after the start event' \
			    "$(fmt_num "$series")" "$kind" "$n" \
			    "$(col_vals "$series" "$kind" 8 | percentile 50)" \
			    "$(col_vals "$series" "$kind" 8 | percentile 99)"
			[ "$kind" = run ] && printf '; median %s ms, p99 %s ms after the network connect event (when the address is assigned)' \
			    "$(col_vals "$series" run 9 | percentile 50)" \
			    "$(col_vals "$series" run 9 | percentile 99)"
			printf '; median %s ms, p99 %s ms after the docker command was issued\n' \
			    "$(col_vals "$series" "$kind" 10 | percentile 50)" \
			    "$(col_vals "$series" "$kind" 10 | percentile 99)"
		done
	done
}

# ---- part 4 ----

# proc_field PID KEY: a kB value from /proc/PID/status
proc_field() {
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}

# cpu_ns PID: CPU time of all of PID's threads in ns, from schedstat
# (utime and stime in /proc/PID/stat count in 10 ms ticks: too coarse to
# tell a little from nothing)
cpu_ns() {
	cat "/proc/$1"/task/*/schedstat 2>/dev/null |
	    awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# child_ms PID: CPU time of the programs PID ran and waited for (the
# iptables checks), in ms, counted in ticks
child_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%d\n", ($16 + $17) * 1000 / hz }' \
	    "/proc/$1/stat"
}

footprint() {
	local n have i ip c0 c1 cpu k0 k1 v0 v1 nv0 nv1 rss hwm anon file rss1 l0 l1
	have=$(dk ps -q --filter label=bench=yes | wc -l)
	for i in $(seq $((have + 1)) "$BENCH_FP_CONTAINERS"); do
		dk run -d --name "rfbf$i" --network "$D_NET" --label bench=yes \
		    "$D_IMAGE" sleep 3600 >/dev/null || return 1
	done
	n=$(dk ps -q --filter label=bench=yes | wc -l)
	# wait until every container's address is in force (bounded)
	for ip in $(dk ps -q --filter label=bench=yes | xargs docker -H \
	    "unix://$D_SOCK" inspect -f "{{(index .NetworkSettings.Networks \"$D_NET\").IPAddress}}"); do
		rule_ms "$ip" 0 >/dev/null || say "daemon: $ip not in force"
	done
	sleep 2
	rss=$(proc_field "$RF_PID" VmRSS)
	hwm=$(proc_field "$RF_PID" VmHWM)
	anon=$(proc_field "$RF_PID" RssAnon)
	file=$(proc_field "$RF_PID" RssFile)
	c0=$(cpu_ns "$RF_PID")
	k0=$(child_ms "$RF_PID")
	v0=$(proc_field "$RF_PID" voluntary_ctxt_switches)
	nv0=$(proc_field "$RF_PID" nonvoluntary_ctxt_switches)
	l0=$(wc -l <"$D_DIR/ringfence.log")
	say "daemon: idle for $BENCH_FP_IDLE s"
	sleep "$BENCH_FP_IDLE"
	l1=$(wc -l <"$D_DIR/ringfence.log")
	c1=$(cpu_ns "$RF_PID")
	k1=$(child_ms "$RF_PID")
	cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
	v1=$(proc_field "$RF_PID" voluntary_ctxt_switches)
	nv1=$(proc_field "$RF_PID" nonvoluntary_ctxt_switches)
	rss1=$(proc_field "$RF_PID" VmRSS)
	{
		echo "With $n confined containers running and a policy of"
		echo "$(fmt_num "$BENCH_FP_PREFIXES") prefixes in force:"
		echo
		echo '| figure | value |'
		echo '|---|--:|'
		printf '| resident memory (VmRSS) | %s MiB |\n' \
		    "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
		printf '| of which private (RssAnon) | %s MiB |\n' \
		    "$(awk -v k="$anon" 'BEGIN { printf "%.1f", k / 1024 }')"
		printf '| of which mapped files, mostly shared libraries (RssFile) | %s MiB |\n' \
		    "$(awk -v k="$file" 'BEGIN { printf "%.1f", k / 1024 }')"
		printf '| peak resident memory (VmHWM) | %s MiB |\n' \
		    "$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')"
		printf '| resident memory after the idle time | %s MiB |\n' \
		    "$(awk -v k="$rss1" 'BEGIN { printf "%.1f", k / 1024 }')"
		printf '| CPU time while idle for %s s | %s ms |\n' "$BENCH_FP_IDLE" \
		    "$cpu"
		printf '| CPU time of the programs it ran meanwhile (iptables checks) | %s ms |\n' \
		    "$((k1 - k0))"
		printf '| wake-ups while idle (voluntary context switches) | %s |\n' \
		    "$((v1 - v0))"
		printf '| involuntary context switches while idle | %s |\n' \
		    "$((nv1 - nv0))"
		printf '| lines the daemon logged while idle | %s |\n' \
		    "$((l1 - l0))"
		if [ $((l1 - l0)) -gt 0 ]; then
			echo
			echo 'Most frequent log lines while idle:'
			echo
			tail -n $((l1 - l0)) "$D_DIR/ringfence.log" | sort |
			    uniq -c | sort -rn | head -3 |
			    sed 's/^ *\([0-9]*\) /- \1 x `/; s/$/`/'
		fi
	} >"$BENCH_OUT/footprint.md"
	echo "containers,prefixes,vmrss_kb,rssanon_kb,rssfile_kb,vmhwm_kb,idle_s,idle_cpu_ms,idle_child_cpu_ms,voluntary_cs,vmrss_after_kb" \
	    >"$BENCH_OUT/footprint.csv"
	echo "$n,$BENCH_FP_PREFIXES,$rss,$anon,$file,$hwm,$BENCH_FP_IDLE,$cpu,$((k1 - k0)),$((v1 - v0)),$rss1" \
	    >>"$BENCH_OUT/footprint.csv"
}

daemon_exit() {
	local rc=$?
	watchers_stop
	rf_stop
	# kept for explaining the figures: what the daemon did, and when
	# each address reached the kernel
	cp "$D_DIR/ringfence.log" "$BENCH_OUT/daemon-ringfence.log" 2>/dev/null
	cp "$D_DIR/watch.log" "$BENCH_OUT/daemon-nftwatch.log" 2>/dev/null
	docker_down
	ip netns del "$D_NS" 2>/dev/null
	exit "$rc"
}

main() {
	local pol
	"$RINGFENCE" --help 2>&1 | grep -qw daemon ||
	    skip_both "this ringfence has no daemon command yet"
	command -v dockerd >/dev/null && command -v docker >/dev/null ||
	    skip_both "Docker is not installed (apt-get install docker.io)"
	find_busybox >/dev/null ||
	    skip_both "no static busybox (apt-get install busybox-static)"
	[ -x "$NFTWATCH" ] || die "no $NFTWATCH (bench/run builds it)"
	trap daemon_exit EXIT
	trap 'exit 130' INT TERM
	ip netns del "$D_NS" 2>/dev/null
	docker_up || die "the test dockerd did not come up"
	watchers_start
	echo 'series,kind,container,ip,old_ip,start_ms,connect_ms,reaction_ms,after_connect_ms,after_command_ms' >"$RAW"

	pol=$D_DIR/react.conf
	label_policy "$BENCH_REACT_PREFIXES" >"$pol"
	rf_start "$pol" || die "ringfence daemon did not start"
	say "daemon: reaction, $BENCH_REACT_EVENTS events, $BENCH_REACT_PREFIXES prefixes"
	react_series "$BENCH_REACT_PREFIXES" "$BENCH_REACT_EVENTS" ||
	    die "a Docker event failed"
	rf_stop

	pol=$D_DIR/fp.conf
	label_policy "$BENCH_FP_PREFIXES" >"$pol"
	dk ps -aq | xargs -r timeout 120 docker -H "unix://$D_SOCK" rm -f \
	    >/dev/null
	rf_start "$pol" || die "ringfence daemon did not start"
	if [ "$BENCH_REACT_BIG" = 1 ]; then
		say "daemon: reaction, $BENCH_REACT_BIG_EVENTS events, $BENCH_FP_PREFIXES prefixes"
		react_series "$BENCH_FP_PREFIXES" "$BENCH_REACT_BIG_EVENTS" ||
		    die "a Docker event failed"
	fi
	react_summary >"$BENCH_OUT/reaction.md"
	say "daemon: footprint, $BENCH_FP_CONTAINERS containers"
	footprint || die "footprint failed"
	return 0
}

main "$@"
