#!/bin/bash
# IPv6 neighbour discovery keeps working under the strictest policy:
# after the neighbour caches are flushed, allowed flows still connect.
. "$(dirname "$0")/lib.sh"

topo_up
P=$(policy strict <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow in from 2001:db8:b::9
	allow out to 2001:db8:b::9
	allow out to container peer
	deny in drop
	deny out drop
}

container peer address 172.20.0.4, fd20::4 {
	allow in from container cybex
	deny in drop
	deny out drop
}
POL
)
expect_apply "$P" "apply a drop-everything-else policy" || rft_done

flush_neighbours() {
	local ns
	for ns in cybex peer host; do
		nsx $ns ip -6 neigh flush all
	done
	expect_eq "$1: neighbour caches flushed" \
	    "$(nsx cybex ip -6 neigh show | grep -v -c FAILED)" 0
}

flush_neighbours "before cybex -> b"
expect cybex tcp 2001:db8:b::9 5000 ok:b "cybex -> b after flush"
expect_eq "cybex resolved the host's address" \
    "$(nsx cybex ip -6 neigh show fd20::1 | grep -c -E 'REACHABLE|STALE|DELAY|PROBE')" 1
expect_eq "the host resolved cybex's address" \
    "$(nsx host ip -6 neigh show fd20::2 | grep -c -E 'REACHABLE|STALE|DELAY|PROBE')" 1
flush_neighbours "before b -> cybex"
expect b tcp fd20::2 5000 ok:cybex "b -> cybex after flush"
flush_neighbours "before cybex -> peer"
expect cybex tcp fd20::4 5000 ok:peer "cybex -> peer across the bridge after flush"
expect_eq "cybex resolved peer's address" \
    "$(nsx cybex ip -6 neigh show fd20::4 | grep -c -E 'REACHABLE|STALE|DELAY|PROBE')" 1
expect cybex tcp 2001:db8:a::7 5000 timeout "cybex -> a still dropped"
rft_done
