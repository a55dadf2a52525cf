#!/bin/bash
# Reload: SIGHUP and `ringfence reload` re-read the policy. An invalid new
# policy is reported as FILE:LINE:COL: error (in the log for SIGHUP, by the
# command for reload, which exits 2), and the running policy stays in
# force; a valid one takes effect.
. "$(dirname "$0")/lib.sh"

rfd_up
ctr_serve cybex || rfd_die "container cybex did not start"
P=$RFD_TMP/reload.conf
FIRST='define b = { 198.51.100.9, 2001:db8:b::9 }

container cybex {
	allow in from 203.0.113.7 port 5000/tcp
	allow out to $b
}'
# errors on line 4 (a word that is not a keyword) and line 6 (a bad address)
BROKEN='define b = { 198.51.100.9, 2001:db8:b::9 }

container cybex {
	allow inn from 203.0.113.7 port 5000/tcp
	allow out to $b
	allow out to 192.0.2.300
}'
SECOND='container cybex {
	allow in from 198.51.100.9 port 5000/tcp
	allow out to 203.0.113.7 port 5000/tcp
}'
printf '%s\n' "$FIRST" >"$P"
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }
CY=$(ctr_ip cybex)

first_in_force() {
	expect a tcp "$CY" 5000 ok:cybex "$1: a -> cybex allowed"
	expect b tcp "$CY" 5000 timeout "$1: b -> cybex dropped"
	expect cybex tcp "$B" 5000 ok:b "$1: cybex -> b allowed"
	expect cybex tcp "$A" 5000 refused "$1: cybex -> a rejected"
	expect cybex tcp "$X" 5000 refused "$1: cybex -> x rejected"
}
first_in_force "first policy"

# ---- invalid policy, SIGHUP ----
printf '%s\n' "$BROKEN" >"$P"
log_mark
rf_signal HUP
expect_log "SIGHUP: the error on line 4 is logged as file:line:col" \
    "$P:4:[0-9]+: error" 5
expect_log "SIGHUP: the error on line 6 is logged too" "$P:6:[0-9]+: error" 1
expect_alive "SIGHUP with an invalid policy: the daemon runs on"
first_in_force "after SIGHUP with an invalid policy"

# ---- invalid policy, ringfence reload ----
log_mark
rc=0
rf_reload >"$RFD_TMP/reload.out" 2>&1 || rc=$?
expect_eq "reload with an invalid policy exits 2" "$rc" 2
expect_grep "reload prints the error on line 4 as file:line:col" \
    "$P:4:[0-9]+: error" "$RFD_TMP/reload.out"
expect_grep "reload prints the error on line 6" "$P:6:[0-9]+: error" \
    "$RFD_TMP/reload.out"
expect_log "reload: the error is logged by the daemon too" "$P:4:[0-9]+: error" 2
expect_alive "reload with an invalid policy: the daemon runs on"
first_in_force "after reload with an invalid policy"
# a container started now is still bound by the policy in force
dk rm -f cybex >/dev/null
ctr_serve cybex || rfd_die "container cybex did not start again"
CY=$(ctr_ip cybex)
if ms=$(poll_probe cybex tcp "$X" 5000 refused 3000); then
	rfd_pass "the old policy still binds a container started after the failed reload"
else
	rfd_fail "the old policy still binds a container started after the failed reload" \
	    "cybex -> x: $ms"
fi
first_in_force "after a container restart"

# ---- valid policy, ringfence reload ----
printf '%s\n' "$SECOND" >"$P"
log_mark
rc=0
rf_reload >"$RFD_TMP/reload.out" 2>&1 || rc=$?
expect_eq "reload with a valid policy exits 0" "$rc" 0
[ "$rc" = 0 ] || diag_file "$RFD_TMP/reload.out" 10
expect_log "the reload is logged" 'reload|loaded' 2
expect a tcp "$CY" 5000 timeout "second policy: a -> cybex now dropped"
expect b tcp "$CY" 5000 ok:cybex "second policy: b -> cybex now allowed"
expect cybex tcp "$A" 5000 ok:a "second policy: cybex -> a now allowed"
expect cybex tcp "$B" 5000 refused "second policy: cybex -> b now rejected"

# ---- valid policy, SIGHUP ----
printf '%s\n' "$FIRST" >"$P"
log_mark
rf_signal HUP
if ms=$(poll_probe a tcp "$CY" 5000 ok:cybex 3000); then
	expect_le "SIGHUP with a valid policy takes effect within 1 s" "$ms" 1000 " ms"
else
	rfd_fail "SIGHUP with a valid policy takes effect" "a -> cybex: $ms"
fi
first_in_force "first policy again"
expect_alive "the daemon still runs"
rfd_done
