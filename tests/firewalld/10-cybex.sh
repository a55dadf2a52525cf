#!/bin/bash
# The cybex scenario of tests/docker/10-cybex-name.sh on a host that runs
# firewalld: the container is bound by name after the daemon starts, its
# port 5000 is published to a by ringfence (no docker -p), b may reach
# every port, the egress allowlist holds, the host is filtered, replies
# pass. Routed inbound to the container's own address from an allowed
# source is the path firewalld's public zone rejects unless ringfence
# opens it: the daemon keeps a firewalld policy `ringfence` that accepts
# the confined containers' addresses (ipsets ringfence4 and ringfence6),
# and its own table decides the rest.
. "$(dirname "$0")/lib.sh"

rff_up
ctr_serve other || rfd_die "container other did not start"
P=$(scenario_policy cybex | policy cybex)
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }
rfd_pass "daemon starts beside firewalld, cybex not running yet"

log_mark
ctr_run cybex || rfd_die "container cybex did not start"
CY=$(ctr_ip cybex) CY6=$(ctr_ip6 cybex) OT=$(ctr_ip other)
if ms=$(poll_probe a tcp "$CY" 5000 ok:cybex 3000); then
	diag "a -> cybex routed allowed ${ms} ms after docker run returned"
	expect_le "a -> cybex routed allowed within 1 s of the start" "$ms" 1000 " ms"
else
	rfd_fail "a -> cybex routed allowed after the start" "last verdict $ms after 3 s"
fi

# what the daemon keeps in firewalld
expect_true "firewalld has the permanent policy ringfence" \
    fw_has policies ringfence --permanent
expect_true "the policy ringfence is active" fw_has policies ringfence
fwcmd --info-policy=ringfence >"$RFD_TMP/policy.out" 2>&1
expect_grep "the policy goes from any zone" '^ *ingress-zones: ANY$' "$RFD_TMP/policy.out"
expect_grep "the policy goes to any zone" '^ *egress-zones: ANY$' "$RFD_TMP/policy.out"
expect_grep "the policy accepts IPv4 to ipset ringfence4" \
    'rule family="ipv4" destination ipset="ringfence4" accept' "$RFD_TMP/policy.out"
expect_grep "the policy accepts IPv6 to ipset ringfence6" \
    'rule family="ipv6" destination ipset="ringfence6" accept' "$RFD_TMP/policy.out"
for s in ringfence4 ringfence6; do
	expect_true "firewalld has the permanent ipset $s" fw_has ipsets "$s" --permanent
done
expect_true "ringfence4 holds cybex's address $CY" fw_ipset_has ringfence4 "$CY"
expect_true "ringfence6 holds cybex's address $CY6" fw_ipset_has ringfence6 "$CY6"
if fw_ipset_has ringfence4 "$OT"; then
	rfd_fail "ringfence4 does not hold the unconfined other's $OT" "it does"
else
	rfd_pass "ringfence4 does not hold the unconfined other's $OT"
fi
expect_true "DOCKER-USER has ringfence's rule" docker_user_ringfence

scenario_checks cybex other
expect_alive "the daemon still runs"
[ "$RFD_FAIL" = 0 ] || rff_evidence
rfd_done
