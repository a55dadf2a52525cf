#!/bin/bash
# A confined container that comes back with a different address: the rules
# follow within a second, and its old address, now held by an unconfined
# container, is no longer privileged. Twice: stop, another container takes
# the old address, start again; and network disconnect + connect --ip.
. "$(dirname "$0")/lib.sh"

rfd_up
ctr_serve cybex || rfd_die "container cybex did not start"
ctr_serve other || rfd_die "container other did not start"
P=$(scenario_policy cybex | policy cybex)
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }
OLD=$(ctr_ip cybex)
expect a tcp "$OLD" 5000 ok:cybex "a -> cybex at $OLD allowed"
expect b tcp "$OLD" 6000 ok:cybex "b -> cybex at $OLD:6000 allowed"
expect cybex tcp "$X" 5000 refused "cybex at $OLD -> x rejected"

# follow NEW WHAT: the rules follow cybex to NEW within a second
follow() {
	local new=$1 what=$2 ms
	if ms=$(poll_probe a tcp "$new" 5000 ok:cybex 5000); then
		diag "$what: a -> cybex at $new allowed after $ms ms"
		expect_le "$what: rules follow to $new within 1 s" "$ms" 1000 " ms"
	else
		rfd_fail "$what: rules follow to $new" "last verdict $ms after 5 s"
	fi
	expect a tcp "$HA" 5000 ok:cybex "$what: publish reaches cybex at $new"
	expect b tcp "$new" 6000 ok:cybex "$what: b -> cybex at $new:6000"
	expect cybex tcp "$X" 5000 refused "$what: cybex at $new -> x rejected"
	expect cybex tcp "$B" 5000 ok:b "$what: cybex at $new -> b allowed"
	expect cybex udp "$A" 5000 prohibited "$what: cybex at $new -> a/udp rejected"
}

# old_unprivileged OLD SQUAT WHAT: OLD now belongs to the unconfined SQUAT
old_unprivileged() {
	local old=$1 sq=$2 what=$3 ms
	if ms=$(poll_probe "$sq" tcp "$X" 5000 ok:x 3000); then
		expect_le "$what: $sq at $old is unconfined within 1 s" "$ms" 1000 " ms"
	else
		rfd_fail "$what: $sq at $old is unconfined" "last verdict $ms after 3 s"
	fi
	expect b tcp "$old" 6000 timeout "$what: b -> $old:6000 no longer allowed"
	expect a tcp "$old" 5000 timeout "$what: a -> $old:5000 no longer allowed"
	expect b tcp "$HA" 5000 ok:host "$what: b -> host:5000 not published to $old"
	expect "$sq" tcp "$A" 6000 ok:a "$what: $sq at $old -> a:6000 unaffected"
}

# 1. stop; squat takes the old address; start again elsewhere
log_mark
dk stop cybex >/dev/null
ctr_serve squat || rfd_die "container squat did not start"
expect_eq "squat took cybex's old address" "$(ctr_ip squat)" "$OLD"
dk start cybex >/dev/null
NEW=$(ctr_ip cybex)
diag "cybex moved from $OLD to $NEW"
follow "$NEW" "restart"
old_unprivileged "$OLD" squat "restart"
expect_log "the daemon logs the new address" "${NEW//./\\.}"

# 2. disconnect and connect with a fixed address
log_mark
OLD=$NEW
dk network disconnect "$RFD_NET" cybex
dk network connect --ip 172.30.0.77 "$RFD_NET" cybex
follow 172.30.0.77 "reconnect"
ctr_serve squat2 --ip "$OLD" || rfd_die "container squat2 did not start"
old_unprivileged "$OLD" squat2 "reconnect"
expect_log "the daemon logs the new address" '172\.30\.0\.77'

expect_alive "the daemon still runs"
rfd_done
