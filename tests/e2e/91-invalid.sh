#!/bin/bash
# A rejected policy leaves the kernel untouched and exits 2, whether or not
# a policy is in force.
. "$(dirname "$0")/lib.sh"

topo_up
GOOD=$(policy good <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow in from { 203.0.113.7, 2001:db8:a::7 } port 5000/tcp publish 5000
	allow out to { 198.51.100.9, 2001:db8:b::9 }
}
POL
)
policy bad-keyword >/dev/null <<'POL'
container cybex address 172.20.0.2 {
	allow inn from 203.0.113.7
}
POL
policy bad-cidr >/dev/null <<'POL'
container cybex address 172.20.0.2 {
	allow in from 203.0.113.0/33
}
POL
policy bad-port >/dev/null <<'POL'
container cybex address 172.20.0.2 {
	allow in from 203.0.113.7 port 5000
}
POL
policy bad-publish >/dev/null <<'POL'
container cybex address 172.20.0.2 {
	allow in from 203.0.113.7 port 5000-5001/tcp publish 5000
}
POL
policy bad-undefined >/dev/null <<'POL'
container cybex address 172.20.0.2 {
	allow out to $nowhere
}
POL
policy bad-late >/dev/null <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow in from 198.51.100.9
	allow out to 198.51.100.9
}
container cybex address 172.20.0.9 {
}
POL
: | policy bad-empty >/dev/null
BAD="bad-keyword bad-cidr bad-port bad-publish bad-undefined bad-late bad-empty"

try_bad() {
	local when=$1 name rc
	for name in $BAD; do
		rc=0
		rf_apply "$RFT_TMP/$name.conf" || rc=$?
		expect_eq "$when: apply $name exits 2" $rc 2
		ruleset_snapshot >"$RFT_TMP/after"
		expect_same_snapshot "$when: $name leaves the kernel untouched" \
		    "$RFT_TMP/before" "$RFT_TMP/after"
	done
}

ruleset_snapshot >"$RFT_TMP/before"
try_bad "nothing applied"
rc=0
nsx host "$RINGFENCE" -f "$RFT_TMP/bad-cidr.conf" check \
    >"$RFT_TMP/check.out" 2>&1 || rc=$?
expect_eq "check of a bad policy exits 2" $rc 2
expect_grep "check names file, line and column" \
    'bad-cidr\.conf:2:[0-9]+: error: ' "$RFT_TMP/check.out"

expect_apply "$GOOD" "apply a good policy" || rft_done
ruleset_snapshot >"$RFT_TMP/before"
try_bad "policy in force"
for fam in 4 6; do
	use_family $fam
	expect a tcp $HA 5000 ok:cybex "$V the good policy is still enforced"
	expect x tcp $CY 5000 timeout "$V the good policy still drops x"
	expect cybex tcp $B 5000 ok:b "$V the good policy still allows cybex -> b"
	expect b tcp $CY 5000 timeout "$V the bad policy's rules are not in force"
done
rft_done
