#!/bin/bash
# Containers on the same bridge: filtered when one is confined, untouched
# when neither is; two confined containers talk only in the allowed
# direction.
. "$(dirname "$0")/lib.sh"

topo_up

unconfined_checks() {
	local when=$1
	expect other tcp $A 5000 ok:a "$V $when: other -> a"
	expect other tcp $X 5000 ok:x "$V $when: other -> x"
	expect other udp $X 53 ok:x "$V $when: other -> x/udp"
	expect host tcp $OT 5000 ok:other "$V $when: host -> other"
	expect other tcp $HBR 22 ok:host "$V $when: other -> host"
	expect x tcp $OT 5000 timeout "$V $when: x -> other dropped by Docker"
	expect a tcp $OT 5000 timeout "$V $when: a -> other dropped by Docker"
}

for fam in 4 6; do
	use_family $fam
	unconfined_checks "before apply"
	expect other tcp $CY 5000 ok:cybex "$V before apply: other -> cybex"
	expect cybex tcp $OT 5000 ok:other "$V before apply: cybex -> other"
done

P1=$(policy one <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow in from { 198.51.100.9, 2001:db8:b::9 }
	allow out to { 198.51.100.9, 2001:db8:b::9 }
}
POL
)
expect_apply "$P1" "apply: cybex confined" || rft_done
for fam in 4 6; do
	use_family $fam
	unconfined_checks "cybex confined"
	expect other tcp $PE 5000 ok:peer "$V cybex confined: other -> peer"
	expect other tcp $CY 5000 timeout "$V other -> cybex dropped"
	expect other udp $CY 5000 timeout "$V other -> cybex/udp dropped"
	expect cybex tcp $OT 5000 refused "$V cybex -> other rejected"
	expect cybex udp $OT 5000 prohibited "$V cybex -> other/udp rejected"
done

P2=$(policy two <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow out to container peer
}

container peer address 172.20.0.4, fd20::4 {
	allow in from container cybex
}
POL
)
expect_apply "$P2" "apply: cybex may open connections to peer" || rft_done
for fam in 4 6; do
	use_family $fam
	unconfined_checks "two confined"
	expect cybex tcp $PE 5000 ok:peer "$V cybex -> peer allowed"
	expect cybex udp $PE 53 ok:peer "$V cybex -> peer/udp allowed"
	expect peer tcp $CY 5000 "refused|timeout" "$V peer -> cybex denied"
	expect peer udp $CY 5000 "prohibited|timeout" "$V peer -> cybex/udp denied"
	expect cybex tcp $OT 5000 refused "$V cybex -> other still rejected"
	expect other tcp $PE 5000 timeout "$V other -> peer dropped"
	expect peer tcp $OT 5000 refused "$V peer -> other rejected"
done

P3=$(policy half <<'POL'
container cybex address 172.20.0.2, fd20::2 {
	allow out to container peer
}

container peer address 172.20.0.4, fd20::4 {
}
POL
)
expect_apply "$P3" "apply: peer admits nobody" || rft_done
for fam in 4 6; do
	use_family $fam
	expect cybex tcp $PE 5000 timeout "$V cybex -> peer needs peer's allow in"
done
rft_done
