#!/bin/bash
# The daemon's incremental updates, without Docker: delta-probe binds
# addresses to the policy's blocks step by step, as Docker events would,
# and writes each step's delta and the whole ruleset of the same state.
# The deltas go into the host one after another, the whole rulesets into
# a scratch namespace; after every step both tables must be the same, the
# large set of peers must never be in a delta, and the packets must
# follow the new bindings.
. "$(dirname "$0")/lib.sh"

DELTA_PROBE=${DELTA_PROBE:-$(dirname "$RINGFENCE")/delta-probe}
SCRATCH=rft-dfull
[ -x "$DELTA_PROBE" ] || rft_die "no delta-probe at $DELTA_PROBE (run make)"

delta_exit() {
	local rc=$?
	ip netns del "$SCRATCH" 2>/dev/null
	(exit "$rc")
	rft_exit_trap
}

topo_up
rft_ns_add "$SCRATCH"
trap delta_exit EXIT

# Block 0 by label with 20,000 prefixes and a; block 1 as the scenario's
# cybex, with publish and peers taken from block 2; block 2 reaches block
# 1's addresses only.
P=$RFT_TMP/delta.conf
{
	echo 'define big = {'
	awk 'BEGIN { for (i = 0; i < 20000; i++)
		printf "\t%d.%d.%d.0/%d,\n", 1 + int(i / 65536),
		    int(i / 256) % 256, i % 256, 25 + i % 8 }'
	echo '	203.0.113.7, 2001:db8:a::7'
	echo '}'
	cat <<'POL'
container label app=web {
	allow in from $big port 5000/tcp
	allow out to { 198.51.100.9, 2001:db8:b::9 }
}
container cybex {
	allow in from { 203.0.113.7, 2001:db8:a::7 } port 5000/tcp publish 5000
	allow in from container client
	allow out to { 198.51.100.9, 2001:db8:b::9 }
}
container client {
	allow out to container cybex port 5000/tcp
}
POL
} >"$P"

# The steps.  Block 1 (cybex) moves from the namespace cybex to peer, and
# the namespace cybex becomes block 2; block 0 gains an IPv6 address;
# then nothing changes; then every container goes away.
S1='0=172.20.0.3;1=172.20.0.2,fd20::2'
S2='0=172.20.0.3;1=172.20.0.4,fd20::4;2=172.20.0.2'
S3='0=172.20.0.3,fd20::3;1=172.20.0.4,fd20::4'
mkdir -p "$RFT_TMP/steps"
if ! "$DELTA_PROBE" "$P" "$RFT_TMP/steps" "$S1" "$S2" "$S3" "$S3" - "$S1" \
    >"$RFT_TMP/probe.out" 2>&1; then
	rft_fail "delta-probe runs" "$(head -c 300 "$RFT_TMP/probe.out")"
	rft_done
fi
expect_eq "every step after the first has a delta" \
    "$(grep -c ': full$' "$RFT_TMP/probe.out")" 0

# table NS: ringfence's table, each set, map and chain on one line
# (their order in a listing is the order they were created), sorted
table() {
	nsx "$1" nft list table inet ringfence |
	    awk -f "$(dirname "${BASH_SOURCE[0]}")/../table-objects.awk" | sort
}

# step N WHAT: load step N both ways and compare
step() {
	local n=$1 what=$2 f=$RFT_TMP/steps/$1
	if ! nsx host nft -f "$f.delta" >"$RFT_TMP/nft.out" 2>&1; then
		rft_fail "$what: the kernel takes the delta" \
		    "$(head -c 300 "$RFT_TMP/nft.out")"
		return 1
	fi
	nsx "$SCRATCH" nft -f "$f.full" >/dev/null 2>&1 ||
	    rft_die "step $n: the whole ruleset did not load"
	table host >"$RFT_TMP/delta.table"
	table "$SCRATCH" >"$RFT_TMP/full.table"
	if cmp -s "$RFT_TMP/delta.table" "$RFT_TMP/full.table"; then
		rft_pass "$what: the table equals a whole load of the same state"
	else
		rft_fail "$what: the table equals a whole load" "tables differ"
		diff "$RFT_TMP/full.table" "$RFT_TMP/delta.table" |
		    tr '\001' '\n' | head -30 | sed 's/^/#   /'
	fi
	[ "$n" = 1 ] && return 0
	if grep -q 'set lpeers_0_' "$f.delta"; then
		rft_fail "$what: the large set stays out of the delta" \
		    "$(wc -c <"$f.delta") bytes"
	else
		rft_pass "$what: the large set stays out of the delta ($(wc -c \
		    <"$f.delta") of $(wc -c <"$f.full") bytes)"
	fi
}

# The DOCKER-USER rule comes with a full apply; the steps replace its table.
expect_apply "$P" "apply the policy (nothing bound)" || rft_done
use_family 4
step 1 "step 1" || rft_done
expect a tcp 172.20.0.2 5000 ok:cybex "step 1: a -> cybex"
expect a tcp "$HA" 5000 ok:cybex "step 1: publish reaches cybex"
expect x tcp 172.20.0.2 5000 timeout "step 1: x -> cybex dropped"
expect a tcp 172.20.0.3 5000 ok:other "step 1: a (in the large set) -> other"
expect other tcp "$X" 5000 refused "step 1: other -> x rejected"
expect other tcp "$B" 5000 ok:b "step 1: other -> b"

step 2 "step 2 (cybex moves, client appears)"
expect a tcp 172.20.0.4 5000 ok:peer "step 2: a -> cybex's new address"
expect a tcp "$HA" 5000 ok:peer "step 2: publish follows to the new address"
expect x tcp 172.20.0.4 5000 timeout "step 2: x -> new address dropped"
expect cybex tcp 172.20.0.4 5000 ok:peer "step 2: client -> cybex allowed"
expect cybex tcp 172.20.0.4 6000 refused "step 2: client -> cybex:6000 rejected"
expect cybex tcp "$B" 5000 refused "step 2: client -> b rejected"
expect a tcp 172.20.0.3 5000 ok:other "step 2: other unchanged"

step 3 "step 3 (client gone, other gains IPv6)"
use_family 6
expect a tcp fd20::3 5000 ok:other "step 3: v6 a -> other"
expect x tcp fd20::3 5000 timeout "step 3: v6 x -> other dropped"
expect other tcp "$X" 5000 refused "step 3: v6 other -> x rejected"
use_family 4
expect cybex tcp "$X" 5000 timeout \
    "step 3: the old client, now unknown, is held by the guard"

expect_eq "step 4: nothing changed, nothing to load" \
    "$(wc -c <"$RFT_TMP/steps/4.delta")" 0
step 5 "step 5 (every container gone)"
expect a tcp "$HA" 5000 ok:host "step 5: nothing published any more"
step 6 "step 6 (back to step 1)"
expect a tcp "$HA" 5000 ok:cybex "step 6: publish reaches cybex again"
expect x tcp 172.20.0.2 5000 timeout "step 6: x -> cybex dropped"
rft_done
