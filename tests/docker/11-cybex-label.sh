#!/bin/bash
# The cybex scenario with Docker discovery by label, as Compose users write
# it: `container label com.docker.compose.service=cybex`. The labelled
# container runs before the daemon starts (found in the initial listing).
# A second label block confines every container carrying its label, and a
# container whose label value differs stays unconfined.
. "$(dirname "$0")/lib.sh"

rfd_up
ctr_serve proj-cybex-1 --label com.docker.compose.service=cybex \
    --label com.docker.compose.project=proj ||
    rfd_die "container proj-cybex-1 did not start"
ctr_serve other --label com.docker.compose.service=other ||
    rfd_die "container other did not start"
P=$( {
	scenario_policy 'label com.docker.compose.service=cybex'
	cat <<'POL'

container label rft.role=worker {
	allow out to $b
}
POL
} | policy label)
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }
rfd_pass "daemon starts with the labelled container running"
scenario_checks proj-cybex-1 other

# every container with the worker label, started after the daemon
for w in w1 w2; do
	ctr_serve "$w" --label rft.role=worker || rfd_die "container $w did not start"
done
ctr_serve idle --label rft.role=idler || rfd_die "container idle did not start"
for w in w1 w2; do
	if ms=$(poll_probe "$w" tcp "$X" 5000 refused 3000); then
		expect_le "$w -> x rejected within 1 s of the start" "$ms" 1000 " ms"
	else
		rfd_fail "$w -> x rejected after the start" "last verdict $ms after 3 s"
	fi
	expect "$w" tcp "$B" 5000 ok:b "$w -> b allowed by the label block"
	expect "$w" udp "$A" 5000 prohibited "$w -> a/udp rejected by the label block"
	expect b tcp "$(ctr_ip6 "$w")" 5000 timeout "v6 b -> $w dropped (no allow in)"
done
expect idle tcp "$X" 5000 ok:x "a container with another label value is unconfined"
expect proj-cybex-1 tcp "$(ctr_ip w1)" 5000 refused \
    "the cybex block still rejects cybex -> w1"
expect_alive "the daemon still runs"
rfd_done
