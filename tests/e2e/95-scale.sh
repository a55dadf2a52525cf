#!/bin/bash
# 100,000 source prefixes load, filter, and do not become 100,000 rules.
. "$(dirname "$0")/lib.sh"

topo_up
P=$RFT_TMP/scale.conf
# 99,999 distinct, non-adjacent /26 prefixes from 10.0.0.0/8 and
# 100.64.0.0/10 (none covers a, b or x), then a's address last.
awk 'BEGIN {
	print "container cybex address 172.20.0.2 {"
	print "\tallow in from {"
	n = 0
	for (i = 0; i < 256 && n < 80000; i++)
		for (j = 0; j < 256 && n < 80000; j++)
			for (k = 0; k < 256 && n < 80000; k += 128) {
				printf "\t\t10.%d.%d.%d/26,\n", i, j, k
				n++
			}
	for (i = 64; i < 128 && n < 99999; i++)
		for (j = 0; j < 256 && n < 99999; j++)
			for (k = 64; k < 256 && n < 99999; k += 128) {
				printf "\t\t100.%d.%d.%d/26,\n", i, j, k
				n++
			}
	print "\t\t203.0.113.7"
	print "\t} port 5000/tcp"
	print "\tallow out to 198.51.100.9"
	print "}"
}' >"$P"
expect_eq "the policy lists 100,000 prefixes" \
    "$(grep -c -E '^[[:space:]]+[0-9.]+(/26,)?$' "$P")" 100000

start=$(date +%s%N)
expect_apply "$P" "apply 100,000 source prefixes" || rft_done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
rft_diag "apply of 100,000 prefixes took $ms ms"

expect a tcp 172.20.0.2 5000 ok:cybex "v4 a (the last prefix) -> cybex"
expect x tcp 172.20.0.2 5000 timeout "v4 x -> cybex still dropped"
expect b tcp 172.20.0.2 5000 timeout "v4 b -> cybex still dropped"
expect a tcp 172.20.0.2 6000 timeout "v4 a -> cybex:6000 still dropped"
expect cybex tcp 198.51.100.9 5000 ok:b "v4 cybex -> b"

# rules carry "# handle N" in nft -a output, set elements do not
rules=$(nsx host nft -a list ruleset 2>/dev/null | grep -c -E '^[[:space:]]+[^[:space:]].* # handle [0-9]+$')
expect_eq "the ruleset stays small ($rules rules and chains)" \
    "$([ "$rules" -lt 500 ] && echo small || echo large)" small
rft_done
