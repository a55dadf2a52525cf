#!/bin/bash
#
# demo.sh: the cybex scenario on real packets. Builds a Docker-like host in
# network namespaces (the host, the container cybex, an unconfined
# container, allowed outside hosts a and b, an unallowed host x), applies
# the scenario policy with ringfence, probes every case with real TCP, UDP
# and ICMP exchanges, prints expected and observed verdicts, and cleans up.
# Needs root. Exit status 0 only if every row passes.
#
#   tests/demo.sh            RINGFENCE / NETPROBE override the binaries
#
# Verdicts: ok:NAME (the named server answered), refused (TCP reset or ICMP
# port unreachable), prohibited (ICMP administratively prohibited), timeout
# (silently dropped).

. "$(dirname "$0")/e2e/lib.sh"

if [ ! -x "$RINGFENCE" ] || [ ! -x "$NETPROBE" ]; then
	make -C "$RFT_ROOT" -s >/dev/null || rft_die "build failed: run make"
fi

if [ -t 1 ]; then
	C_PASS=$'\e[32m' C_FAIL=$'\e[31m' C_OFF=$'\e[0m' C_BOLD=$'\e[1m'
else
	C_PASS='' C_FAIL='' C_OFF='' C_BOLD=''
fi
rows_pass=0
rows_fail=0
W=62	# width of the path column

line() {
	printf '%s\n' "$(printf '%*s' "$1" '' | tr ' ' -)"
}

section() {
	printf '%s%s%s\n' "$C_BOLD" "$1" "$C_OFF"
}

# row WHO PROTO ADDR PORT EXPECTED PATH
row() {
	local who=$1 proto=$2 addr=$3 port=$4 want=$5 path=$6 wait got verdict
	wait=$RFT_WAIT
	[ "$want" = timeout ] || wait=$RFT_WAIT_ANSWER
	got=$(probe "$who" "$proto" "$addr" "$port" "$wait")
	if [ "$got" = "$want" ]; then
		verdict="${C_PASS}PASS${C_OFF}"
		rows_pass=$((rows_pass + 1))
	else
		verdict="${C_FAIL}FAIL${C_OFF}"
		rows_fail=$((rows_fail + 1))
	fi
	printf '%-*s | %-10s | %-10s | %s\n' "$W" "$path" "$want" "$got" \
	    "$verdict"
}

header() {
	echo
	section "$1"
	printf '%-*s | %-10s | %-10s | %s\n' "$W" path expected observed verdict
	line $((W + 38))
}

# cases FAMILY: every path of the scenario for one address family
cases() {
	use_family "$1"
	local a="a $A" b="b $B" x="x $X" c="cybex $CY"

	header "$V inbound: who may reach cybex"
	row a tcp $HA 5000 ok:cybex "$a -> host $HA:5000/tcp (publish)"
	row b tcp $HB 5000 ok:host "$b -> host $HB:5000/tcp (not for b)"
	row x tcp $HX 5000 ok:host "$x -> host $HX:5000/tcp (not for x)"
	row a tcp $CY 5000 ok:cybex "$a -> cybex:5000/tcp (routed)"
	row a tcp $CY 6000 timeout "$a -> cybex:6000/tcp (port not allowed)"
	row b tcp $CY 6000 ok:cybex "$b -> cybex:6000/tcp (any port)"
	row b udp $CY 53 ok:cybex "$b -> cybex:53/udp (any port)"
	row x tcp $CY 5000 timeout "$x -> cybex:5000/tcp (deny in drop)"
	row x udp $CY 53 timeout "$x -> cybex:53/udp (deny in drop)"
	row host tcp $CY 5000 timeout "host -> cybex:5000/tcp (deny in drop)"

	header "$V outbound: where cybex may connect"
	row cybex tcp $A 5000 ok:a "$c -> a:5000/tcp (allowed)"
	row cybex tcp $A 6000 refused "$c -> a:6000/tcp (reject: reset)"
	row cybex udp $A 5000 prohibited "$c -> a:5000/udp (reject: icmp)"
	row cybex tcp $B 6000 ok:b "$c -> b:6000/tcp (any port)"
	row cybex udp $B 53 ok:b "$c -> b:53/udp (any port)"
	row cybex udp $B 7777 refused "$c -> b:7777/udp closed (icmp error passes)"
	row cybex tcp $X 5000 refused "$c -> x:5000/tcp (reject: reset)"
	row cybex udp $X 53 prohibited "$c -> x:53/udp (reject: icmp)"
	row cybex icmp $X - prohibited "$c -> x ping (reject: icmp)"
	row cybex tcp $HBR 22 refused "$c -> host $HBR:22/tcp (input path)"
	row cybex udp $HBR 53 prohibited "$c -> host $HBR:53/udp (input path)"

	header "$V everything else is untouched"
	row other tcp $X 5000 ok:x "other $OT -> x:5000/tcp"
	row other tcp $HBR 22 ok:host "other $OT -> host:22/tcp"
	row host tcp $A 5000 ok:a "host -> a:5000/tcp"
	row host tcp $OT 5000 ok:other "host -> other:5000/tcp"
	row x tcp $OT 5000 timeout "$x -> other:5000/tcp (Docker's DROP)"
}

# summary of what ringfence loaded: its tables' chains, and DOCKER-USER
ruleset_summary() {
	local t
	echo
	section "ruleset applied in the host namespace"
	for t in $(comm -13 "$RFT_TMP/tables.before" "$RFT_TMP/tables.after" |
	    awk '{ print $2 "/" $3 }'); do
		nsx host nft list table "${t%/*}" "${t#*/}" >"$RFT_TMP/table"
		printf 'table %s %s: %d sets, %d maps, %d chains, %d rules\n' \
		    "${t%/*}" "${t#*/}" \
		    "$(grep -c '^	set ' "$RFT_TMP/table")" \
		    "$(grep -c '^	map ' "$RFT_TMP/table")" \
		    "$(grep -c '^	chain ' "$RFT_TMP/table")" \
		    "$(awk '/^	chain /{ c = 1; next } /^	}/{ c = 0 }
			c && !/^		type / && NF' "$RFT_TMP/table" | wc -l)"
		awk '/^	chain /{ c = 1 } c { print } /^	}/{ c = 0 }' \
		    "$RFT_TMP/table" | sed 's/^	/  /'
	done
	echo
	echo "iptables DOCKER-USER:"
	nsx host iptables -S DOCKER-USER | sed 's/^/  /'
	echo "ip6tables DOCKER-USER:"
	nsx host ip6tables -S DOCKER-USER | sed 's/^/  /'
}

section "ringfence demo: the cybex scenario in network namespaces"
echo "setting up: host rfth (bridge rfbr0, Docker's iptables layout),"
echo "containers cybex 172.20.0.2 / fd20::2 and other 172.20.0.3 / fd20::3,"
echo "outside hosts a 203.0.113.7, b 198.51.100.9, x 192.0.2.66 (and IPv6)"
topo_up

POLICY=$(policy ringfence <<'POL'
# the issue's scenario, for IPv4 and IPv6
define a = { 203.0.113.7, 2001:db8:a::7 }
define b = { 198.51.100.9, 2001:db8:b::9 }

container cybex address 172.20.0.2, fd20::2 {
	allow in from $a port 5000/tcp publish 5000
	allow in from $b
	allow out to $a port 5000/tcp
	allow out to $b
}
POL
)
echo
section "policy"
sed 's/^/  /' "$POLICY"

nsx host nft list tables | sort >"$RFT_TMP/tables.before"
echo
if ! rf_apply "$POLICY"; then
	cat "$RFT_TMP/rf.out"
	rft_die "ringfence apply failed"
fi
sed 's/^/  /' "$RFT_TMP/rf.out"
nsx host nft list tables | sort >"$RFT_TMP/tables.after"

cases 4
cases 6
ruleset_summary

echo
if rf_flush; then
	echo "cleanup: ringfence flush done; removing the namespaces"
else
	rows_fail=$((rows_fail + 1))
	echo "cleanup: ringfence flush failed:"
	sed 's/^/  /' "$RFT_TMP/rf.out"
fi
echo
if [ "$rows_fail" = 0 ]; then
	printf '%sdemo: all %d paths behave as the policy says%s\n' \
	    "$C_PASS" "$rows_pass" "$C_OFF"
	exit 0
fi
printf '%sdemo: %d of %d paths differ from the policy%s\n' "$C_FAIL" \
    "$rows_fail" $((rows_pass + rows_fail)) "$C_OFF"
exit 1
