#!/bin/bash
# A transaction the kernel refuses leaves the previous state byte for byte
# (RINGFENCE_FAULT_INJECT=kernel-refuse makes the kernel refuse the commit).
. "$(dirname "$0")/lib.sh"

topo_up
P1=$(policy first <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow in from { 203.0.113.7, 2001:db8:a::7 } port 5000/tcp publish 5000
	allow out to { 198.51.100.9, 2001:db8:b::9 }
}
POL
)
P2=$(policy second <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow in from { 198.51.100.9, 2001:db8:b::9 } port 5000/tcp
	allow out to { 203.0.113.7, 2001:db8:a::7 }
}
POL
)

refused_apply() {
	local rc=0
	RINGFENCE_FAULT_INJECT=kernel-refuse rf_apply "$1" || rc=$?
	expect_eq "$2: refused apply exits 1" $rc 1
	expect_eq "$2: refused apply reports an error" \
	    "$([ -s "$RFT_TMP/rf.out" ] && echo yes || echo no)" yes
}

# nothing in force yet: not even the DOCKER-USER rule may appear
ruleset_snapshot >"$RFT_TMP/before"
refused_apply "$P1" "first apply"
ruleset_snapshot >"$RFT_TMP/after"
expect_same_snapshot "first apply refused: kernel untouched" \
    "$RFT_TMP/before" "$RFT_TMP/after"
expect a tcp 172.20.0.2 5000 timeout "v4 first apply refused: Docker still drops"

expect_apply "$P1" "apply the first policy" || rft_done
ruleset_snapshot >"$RFT_TMP/before"
refused_apply "$P2" "replacement"
ruleset_snapshot >"$RFT_TMP/after"
expect_same_snapshot "replacement refused: previous ruleset byte-identical" \
    "$RFT_TMP/before" "$RFT_TMP/after"
for fam in 4 6; do
	use_family $fam
	expect a tcp $HA 5000 ok:cybex "$V old policy still enforced: publish"
	expect b tcp $CY 5000 timeout "$V new policy not in force: b dropped"
	expect cybex tcp $B 5000 ok:b "$V old policy still enforced: cybex -> b"
	expect cybex tcp $A 5000 refused "$V new policy not in force: cybex -> a"
done

expect_apply "$P2" "a normal apply afterwards works" || rft_done
use_family 4
expect b tcp $CY 5000 ok:cybex "$V second policy now in force"
rft_done
