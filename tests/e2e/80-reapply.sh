#!/bin/bash
# A second apply replaces the first: what was allowed is denied and the
# other way round; DOCKER-USER still holds exactly one extra rule.
. "$(dirname "$0")/lib.sh"

topo_up
P1=$(policy first <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow in from { 203.0.113.7, 2001:db8:a::7 } port 5000/tcp
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

first_checks() {
	expect a tcp $CY 5000 ok:cybex "$V $1: a -> cybex allowed"
	expect b tcp $CY 5000 timeout "$V $1: b -> cybex dropped"
	expect cybex tcp $B 5000 ok:b "$V $1: cybex -> b allowed"
	expect cybex tcp $A 5000 refused "$V $1: cybex -> a rejected"
}

base4=$(count_docker_user iptables)
base6=$(count_docker_user ip6tables)
expect_apply "$P1" "apply the first policy" || rft_done
for fam in 4 6; do
	use_family $fam
	first_checks "first policy"
done

expect_apply "$P2" "apply the second policy" || rft_done
for fam in 4 6; do
	use_family $fam
	expect a tcp $CY 5000 timeout "$V second policy: a -> cybex now dropped"
	expect b tcp $CY 5000 ok:cybex "$V second policy: b -> cybex now allowed"
	expect cybex tcp $B 5000 refused "$V second policy: cybex -> b now rejected"
	expect cybex tcp $A 5000 ok:a "$V second policy: cybex -> a now allowed"
done
expect_eq "one DOCKER-USER rule after two applies" \
    "$(count_docker_user iptables)" $((base4 + 1))
expect_eq "one ip6tables DOCKER-USER rule after two applies" \
    "$(count_docker_user ip6tables)" $((base6 + 1))

expect_apply "$P1" "apply the first policy again" || rft_done
for fam in 4 6; do
	use_family $fam
	first_checks "first policy again"
done
expect_eq "still one DOCKER-USER rule" \
    "$(count_docker_user iptables)" $((base4 + 1))
rft_done
