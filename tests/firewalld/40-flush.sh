#!/bin/bash
# `ringfence flush` with firewalld running removes what ringfence added to
# firewalld, permanent and runtime: the policy ringfence and the ipsets
# ringfence4 and ringfence6, so no confined address stays open in
# firewalld without ringfence's table behind it. Nothing else of
# firewalld's or Docker's is touched. Both after the daemon and after
# `ringfence apply` of a policy with a static address.
. "$(dirname "$0")/lib.sh"

rff_up
ctr_serve cybex || rfd_die "container cybex did not start"
CY=$(ctr_ip cybex) CY6=$(ctr_ip6 cybex)
zones_before=$(fw_list zones --permanent | tr '\n' ' ')

# ours_in_firewalld WHEN: the policy and both ipsets are there
ours_in_firewalld() {
	local ok=1 what kind name
	poll_cmd 5000 fw_has policies ringfence --permanent >/dev/null || ok=0
	for what in "policies ringfence" "ipsets ringfence4" "ipsets ringfence6"; do
		read -r kind name <<<"$what"
		fw_has "$kind" "$name" --permanent || ok=0
		fw_has "$kind" "$name" || ok=0
	done
	if [ "$ok" = 1 ]; then
		rfd_pass "$1: firewalld has ringfence's policy and ipsets"
	else
		rfd_fail "$1: firewalld has ringfence's policy and ipsets" \
		    "policies: $(fw_list policies --permanent | tr '\n' ' ')ipsets: $(fw_list ipsets --permanent | tr '\n' ' ')"
	fi
}

# flushed WHEN: ringfence flush, then nothing of ours anywhere
flushed() {
	local rc=0 what kind name mode desc
	in_host "$RINGFENCE" flush >"$RFD_TMP/flush.out" 2>&1 || rc=$?
	expect_eq "$1: ringfence flush exits 0" "$rc" 0
	[ "$rc" = 0 ] || diag_file "$RFD_TMP/flush.out" 5
	for what in "policies ringfence" "ipsets ringfence4" "ipsets ringfence6"; do
		read -r kind name <<<"$what"
		for mode in --permanent ""; do
			desc="$1: ${mode:-runtime} --get-$kind no longer shows $name"
			if fw_has "$kind" "$name" "$mode"; then
				rfd_fail "$desc" "it does"
			else
				rfd_pass "$desc"
			fi
		done
	done
	if rf_table_present; then
		rfd_fail "$1: ringfence's table is gone" "it is there"
	else
		rfd_pass "$1: ringfence's table is gone"
	fi
	if docker_user_ringfence; then
		rfd_fail "$1: ringfence's DOCKER-USER rule is gone" "it is there"
	else
		rfd_pass "$1: ringfence's DOCKER-USER rule is gone"
	fi
	expect_true "$1: the policy allow-host-ipv6 of firewalld's stays" \
	    fw_has policies allow-host-ipv6
	expect_eq "$1: firewalld's permanent zones are as before" \
	    "$(fw_list zones --permanent | tr '\n' ' ')" "$zones_before"
	expect_grep "$1: $RFD_BRIDGE stays in the docker zone" \
	    "(^| )$RFD_BRIDGE( |$)" <(fwcmd --zone=docker --list-interfaces)
	# nothing keeps cybex's address open in firewalld any more
	expect x tcp "$CY6" 5000 "$RFF_REJECT" "$1: v6 x -> cybex rejected by firewalld again"
	expect b tcp "$CY6" 5000 "$RFF_REJECT" "$1: v6 b -> cybex rejected by firewalld again"
}

P=$(scenario_policy cybex | policy cybex)
rf_daemon_start "$P" || { rfd_fail "daemon starts" "see its log"; rfd_done; }
ours_in_firewalld "daemon"
expect b tcp "$CY6" 5000 ok:cybex "daemon: v6 b -> cybex routed, opened in firewalld"
rf_daemon_stop
flushed "after the daemon"

S=$(policy static <<EOF
container cybex address $CY, $CY6 {
	allow in from { 198.51.100.9, 2001:db8:b::9 }
}
EOF
)
rc=0
in_host "$RINGFENCE" -f "$S" apply >"$RFD_TMP/apply.out" 2>&1 || rc=$?
expect_eq "ringfence apply exits 0" "$rc" 0
[ "$rc" = 0 ] || diag_file "$RFD_TMP/apply.out" 5
ours_in_firewalld "apply"
expect_true "apply: ringfence4 holds cybex's address" fw_ipset_has ringfence4 "$CY"
expect b tcp "$CY6" 5000 ok:cybex "apply: v6 b -> cybex routed, opened in firewalld"
flushed "after apply"
[ "$RFD_FAIL" = 0 ] || rff_evidence
rfd_done
