#!/bin/bash
# log: the rule still allows, and its counter counts the new connection.
. "$(dirname "$0")/lib.sh"

topo_up
P=$(policy log <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow in from { 198.51.100.9, 2001:db8:b::9 } port 5000/tcp log
	allow out to { 203.0.113.7, 2001:db8:a::7 } port 5000/tcp log
}
POL
)
expect_apply "$P" "apply a policy with log rules" || rft_done
for fam in 4 6; do
	use_family $fam
	expect b tcp $CY 5000 ok:cybex "$V logged inbound rule still allows"
	expect cybex tcp $A 5000 ok:a "$V logged outbound rule still allows"
	expect x tcp $CY 5000 timeout "$V x -> cybex still dropped"
done
nsx host nft list ruleset >"$RFT_TMP/ruleset" 2>/dev/null
expect_grep "a log rule counted packets" \
    'packets [1-9].*log prefix|log prefix.*packets [1-9]' "$RFT_TMP/ruleset"
expect_grep "the log prefix names the container" \
    'log prefix "[^"]*cybex' "$RFT_TMP/ruleset"
rft_done
