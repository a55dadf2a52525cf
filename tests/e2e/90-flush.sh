#!/bin/bash
# flush restores the untouched state byte for byte, with and without an
# ip6tables DOCKER-USER chain; while applied, DOCKER-USER holds exactly one
# extra rule ahead of Docker's RETURN.
. "$(dirname "$0")/lib.sh"

P=$(policy scenario <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow in from { 203.0.113.7, 2001:db8:a::7 } port 5000/tcp publish 5000
	allow in from { 198.51.100.9, 2001:db8:b::9 }
	allow out to { 203.0.113.7, 2001:db8:a::7 } port 5000/tcp
	allow out to { 198.51.100.9, 2001:db8:b::9 }
}
POL
)
S=$RFT_TMP

untouched_checks() {
	expect a tcp $CY 5000 timeout "$V $1: a -> cybex dropped by Docker again"
	expect a tcp $HA 5000 ok:host "$V $1: host:5000 no longer published"
	expect cybex tcp $X 5000 ok:x "$V $1: cybex -> x no longer rejected"
}

# ---- Docker with ip6tables ----
topo_up
ruleset_snapshot >"$S/before"
expect_eq "iptables DOCKER-USER before apply" "$(count_docker_user iptables)" 1
expect_eq "ip6tables DOCKER-USER before apply" "$(count_docker_user ip6tables)" 1

expect_apply "$P" "apply" || rft_done
expect_eq "iptables DOCKER-USER holds one extra rule" \
    "$(count_docker_user iptables)" 2
expect_eq "ip6tables DOCKER-USER holds one extra rule" \
    "$(count_docker_user ip6tables)" 2
expect_eq "iptables DOCKER-USER still ends with RETURN" \
    "$(nsx host iptables -S DOCKER-USER | tail -n 1)" "-A DOCKER-USER -j RETURN"
expect_eq "ip6tables DOCKER-USER still ends with RETURN" \
    "$(nsx host ip6tables -S DOCKER-USER | tail -n 1)" "-A DOCKER-USER -j RETURN"
diff <(sed -n '/^==== iptables-save/,$p' "$S/before") \
    <(ruleset_snapshot | sed -n '/^==== iptables-save/,$p') |
    grep -c '^[<>]' >"$S/ndiff"
expect_eq "iptables and ip6tables differ by exactly two added lines" \
    "$(cat "$S/ndiff")" 2
for fam in 4 6; do
	use_family $fam
	expect a tcp $HA 5000 ok:cybex "$V applied: publish works"
done

expect_apply "$P" "apply the same policy again" || rft_done
expect_eq "still one extra DOCKER-USER rule" "$(count_docker_user iptables)" 2

expect_flush "flush" || rft_done
ruleset_snapshot >"$S/after"
expect_same_snapshot "snapshot after flush equals snapshot before apply" \
    "$S/before" "$S/after"
expect_eq "no ringfence table left" \
    "$(nsx host nft list tables | grep -c -v -E '^table (ip|ip6) (filter|nat)$')" 0
for fam in 4 6; do
	use_family $fam
	untouched_checks "after flush"
done
expect_flush "flush with nothing installed" || true
ruleset_snapshot >"$S/after2"
expect_same_snapshot "second flush changes nothing" "$S/before" "$S/after2"

# ---- Docker without ip6tables support: no ip6tables chains at all ----
topo_up --no-ip6-docker
ruleset_snapshot >"$S/before"
expect_eq "no ip6tables DOCKER-USER chain" "$(count_docker_user ip6tables)" -1

expect_apply "$P" "apply without an ip6tables DOCKER-USER chain" || rft_done
expect_eq "iptables DOCKER-USER holds one extra rule" \
    "$(count_docker_user iptables)" 2
expect_eq "ip6tables still has no DOCKER-USER chain" \
    "$(count_docker_user ip6tables)" -1
expect_eq "ip6tables untouched" \
    "$(ruleset_snapshot | sed -n '/^==== ip6tables-save/,$p')" \
    "$(sed -n '/^==== ip6tables-save/,$p' "$S/before")"
use_family 6
expect a tcp $HA 5000 ok:cybex "$V no DOCKER-USER: publish works"
expect b tcp $CY 6000 ok:cybex "$V no DOCKER-USER: b -> cybex allowed"
expect x tcp $CY 5000 timeout "$V no DOCKER-USER: x -> cybex dropped"
expect cybex tcp $X 5000 refused "$V no DOCKER-USER: cybex -> x rejected"
expect x tcp $OT 5000 ok:other "$V no DOCKER-USER: x -> unconfined other unaffected"
use_family 4
expect a tcp $HA 5000 ok:cybex "$V no ip6 DOCKER-USER: v4 publish works"

expect_flush "flush" || rft_done
ruleset_snapshot >"$S/after"
expect_same_snapshot "snapshot after flush equals snapshot before apply" \
    "$S/before" "$S/after"
rft_done
