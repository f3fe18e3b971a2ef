#!/usr/bin/env bats
# Upgrades and rollbacks: a DaemonSet rolling update puts a binary with
# another BPF object on a node whose pods run. Its first ADD loads its
# programs, re-pins them and moves every endpoint's links to them
# (docs/state.md, "Upgrades"). Pods keep their traffic, a connection open
# across it keeps every byte, and the old programs are gone once unused.
#
# The "next version" is build/test/meshcut-next: the same plugin with an
# object that differs by one ELF note (make test-bins), so the node sees
# another object hash.

bats_require_minimum_version 1.5.0
load helpers

NEXT=${MESHCUT_NEXT:-$TOOLS/meshcut-next}

setup() {
	require_root
	[ -x "$NEXT" ] || skip "no $NEXT (make test-bins builds it)"
	mc_setup
	require_feature packet conntrack-gate socket socket-teardown socket-queue
	REDIRECT=$(sock_redirect_conf)
}
teardown() { mc_teardown; }

programs() { status_json | jq -r .programs; }

# runs POD PROG_ID: POD's veth and cgroup run that tc and sockops program
# and no other of ours (a link left on an old program would show here)
runs() {
	local pod=$1 tc=$2 so=$3
	[ "$(tc_progs "$(pod_veth "$pod")")" = "$tc" ]
	bpftool -j cgroup show "$CGDIR/$pod" | jq -e --argjson id "$so" \
		'[.[] | select(.attach_type == "cgroup_sock_ops") | .id] == [$id]'
}

# gone ID: the kernel freed program ID (bounded wait: freeing is deferred)
gone() {
	local i
	for i in $(seq 1 30); do
		bpftool prog show id "$1" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}

@test "upgrade: the next version's first ADD moves running pods to its programs; traffic and an open connection carry on" {
	add_pod a "$REDIRECT"
	add_pod b "$REDIRECT"
	old=$(programs)
	old_tc=$(prog_id mc_tc_ingress)
	old_so=$(prog_id mc_sockops)
	server b :: 8080
	# a connection open across the upgrade: 60 checked messages over 6 s
	in_pod a timeout 60 python3 "$ECHO" client "$(pod_ip b)" 8080 --count 60 --interval 0.1 > "$T/long" 3>&- &
	pid=$!
	for _ in $(seq 1 50); do [ "$(sock b paired)" = 1 ] && break; sleep 0.1; done
	[ "$(sock b paired)" = 1 ]

	# the next version's first ADD (pod c) upgrades the node
	MESHCUT=$NEXT add_pod c "$REDIRECT"
	[ "$(programs)" != "$old" ]
	[ "$(MESHCUT=$NEXT status_json | jq .programsCurrent)" = true ]
	new_tc=$(prog_id mc_tc_ingress)
	new_so=$(prog_id mc_sockops)
	[ "$new_tc" != "$old_tc" ] && [ "$new_so" != "$old_so" ]
	for p in a b c; do
		runs "$p" "$new_tc" "$new_so"
		ep_json "$p" | jq -e '.state == "ready"'
	done
	# the new binary finds the older pods as they should be
	MESHCUT=$NEXT mc_cni a CHECK "$T/a.mc.json"
	gone "$old_tc"
	gone "$old_so"

	# the open connection lost nothing
	wait "$pid"
	cat "$T/long"
	grep -q '^ok messages=60' "$T/long"
	# new connections take the shortcut through the new programs
	sent=$(sock a redirectedMessages)
	run -0 in_pod a timeout 30 python3 "$ECHO" client "$(pod_ip b)" 8080 --count 20
	[ "$(sock a redirectedMessages)" -ge $((sent + 20)) ]
	# and packets are counted by the new tc program
	seen=$(pkt a seenPackets)
	run -0 nsp a ping -c 3 -i 0.2 -W 2 "$(pod_ip b)"
	[ "$(pkt a seenPackets)" -ge $((seen + 3)) ]
}

@test "rollback: the previous version's ADD moves pods back; DEL by either version leaves nothing" {
	make_pod a
	mc_conf a
	before=$(state_snapshot)
	mc_cni a ADD "$T/a.mc.json" > /dev/null
	v1=$(programs)
	MESHCUT=$NEXT add_pod b
	[ "$(programs)" != "$v1" ]
	# rolled back: the previous binary's ADD loads its object again
	add_pod c
	[ "$(programs)" = "$v1" ]
	for p in a b c; do
		runs "$p" "$(prog_id mc_tc_ingress)" "$(prog_id mc_sockops)"
		ep_json "$p" | jq -e '.state == "ready"'
	done
	run -0 nsp a ping -c 2 -i 0.2 -W 2 "$(pod_ip b)"
	run -0 nsp b ping -c 2 -i 0.2 -W 2 "$(pod_ip c)"
	# DEL works whichever version runs it
	MESHCUT=$NEXT mc_cni a DEL "$T/a.mc.json"
	mc_cni b DEL "$T/b.mc.json"
	MESHCUT=$NEXT mc_cni c DEL "$T/c.mc.json"
	diff <(echo "$before") <(state_snapshot)
	for p in a b c; do
		[ -z "$(tc_progs "$(pod_veth "$p")")" ]
		bpftool -j cgroup show "$CGDIR/$p" | jq -e '[.[] | select(.attach_type == "cgroup_sock_ops")] == []'
	done
}

veth_ifindex() { nsn ip -j link show "$(pod_veth "$1")" | jq ".[0].ifindex"; }
# veth_key POD: POD's veth ifindex as bpftool takes a __u32 key (bytes)
veth_key() { local i; i=$(veth_ifindex "$1"); echo $((i & 255)) $((i >> 8 & 255)) $((i >> 16 & 255)) $((i >> 24)); }
# veth_value POD: POD's mc_veth_v2 value as bpftool formats it, or nothing
veth_value() {
	local ifx
	ifx=$(veth_ifindex "$1")
	bpftool -j map dump pinned "$BPFFS/maps/mc_veth_v2" |
		jq -c --argjson i "$ifx" '.[] | select(.formatted.key == $i) | .formatted.value'
}

@test "upgrade from a version with another veth layout: each running pod gets its veth entry back, with the flags it runs with" {
	add_pod a
	add_pod b
	"$MESHCUT" endpoint set default/b --packet off --bpffs-root "$BPFFS"
	want_a=$(veth_value a) want_b=$(veth_value b)
	[ -n "$want_a" ] && [ -n "$want_b" ]
	[ "$(jq .flags <<<"$want_b")" = $(($(jq .flags <<<"$want_a") & ~1)) ]
	# what a node upgraded from mc_veth_v1 finds: no entries in mc_veth_v2
	for p in a b; do
		# shellcheck disable=SC2046
		bpftool map delete pinned "$BPFFS/maps/mc_veth_v2" key $(veth_key "$p")
	done
	[ -z "$(veth_value a)" ]
	MESHCUT=$NEXT add_pod c
	# as ADD wrote them, b's with the packet shortcut still off
	[ "$(veth_value a)" = "$want_a" ]
	[ "$(veth_value b)" = "$want_b" ]
	MESHCUT=$NEXT mc_cni a CHECK "$T/a.mc.json"
	MESHCUT=$NEXT mc_cni b CHECK "$T/b.mc.json"
}
