#!/usr/bin/env bats
# The packet shortcut never takes effect away from another plugin's tc
# work: foreign programs and filters still run, bandwidth limits still hold.

bats_require_minimum_version 1.5.0
load helpers

setup() { require_root; mc_setup; node_netfilter; require_feature packet conntrack-gate; }
teardown() { mc_teardown; }

accelerate() { mc_conf "$1" "${2:-.}"; mc_cni "$1" ADD "$T/$1.mc.json" > "$T/$1.out"; }

@test "a foreign tcx program before ours still runs on every packet, and ours still delivers" {
	require_tcx
	make_pod a
	make_pod b
	foreign_tc tcx a ingress
	accelerate a
	accelerate b
	# the kernel runs the foreign program first, ours after it
	[ "$(tcx_progs "$(pod_veth a)" | tail -1)" = "$(prog_id mc_tc_ingress)" ]
	[ "$(tcx_progs "$(pod_veth a)" | wc -l)" = 2 ]
	echo_server b 7001
	tcp_echo a "$(pod_ip b)" 7001 300000
	seen=$(pkt a seenPackets)
	[ "$(pkt a redirectedPackets)" -gt 20 ]
	[ "$(foreign_count a ingress)" -ge "$seen" ]
	# DEL takes ours away and leaves the foreign program
	mc_cni a DEL "$T/a.mc.json"
	[ "$(tcx_progs "$(pod_veth a)" | wc -l)" = 1 ]
}

@test "a foreign clsact filter on the sender's ingress still runs: that veth is never a redirect source" {
	make_pod a
	make_pod b
	foreign_tc legacy a ingress
	accelerate a
	accelerate b
	ep_json a | jq -e '.packetShortcut == "on,foreign-in"'
	echo_server b 7001
	tcp_echo a "$(pod_ip b)" 7001 300000
	[ "$(pkt a redirectedPackets)" = 0 ]
	# ours first: a late packet (an ACK, the FIN) between the two reads
	# must not make the foreign count look short
	seen=$(pkt a seenPackets)
	[ "$(foreign_count a ingress)" -ge "$seen" ]
	# the other direction is unaffected
	[ "$(pkt b redirectedPackets)" -gt 20 ]
	mc_cni a DEL "$T/a.mc.json"
	nsn tc filter show dev "$(pod_veth a)" ingress | grep -q foreign_tc
}

@test "a foreign filter on the receiver's veth egress still sees its packets: never a redirect destination" {
	make_pod a
	make_pod b
	foreign_tc legacy b egress
	accelerate a
	accelerate b
	ep_json b | jq -e '.packetShortcut == "on,foreign-out"'
	echo_server b 7001
	nsp b iptables -A INPUT -p tcp --dport 7001 -m comment --comment mc-in
	tcp_echo a "$(pod_ip b)" 7001 300000
	[ "$(pkt a redirectedPackets)" = 0 ]
	# every packet of the stream that reached b went out of b's veth past
	# the foreign filter (counting a's own multicast here would be wrong:
	# the bridge's snooping does not flood MLD reports to b)
	in=$(nsp b iptables -w -nvxL INPUT | awk '/mc-in/ { print $1 }')
	[ "$in" -gt 20 ]
	[ "$(foreign_count b egress)" -ge "$in" ]
	[ "$(pkt b redirectedPackets)" -gt 20 ]
}

@test "bandwidth chained before meshcut still limits egress and ingress (measured)" {
	command -v iperf3 >/dev/null || skip "iperf3 not installed"
	make_pod a   # egress limited
	make_pod b
	make_pod c   # ingress limited
	bandwidth_pod a '{"egressRate":8000000,"egressBurst":80000}'
	bandwidth_pod c '{"ingressRate":8000000,"ingressBurst":80000}'
	accelerate a
	accelerate b
	accelerate c
	ep_json a | jq -e '.packetShortcut | contains("foreign-in")'
	ep_json c | jq -e '.packetShortcut | contains("foreign-out")'
	for p in b c; do
		nsenter --net="/var/run/netns/$ID-$p" iperf3 -s -1 >/dev/null 2>&1 3>&- &
		PIDS+=($!)
	done
	sleep 0.5
	# unlimited pods are far faster than 8 Mbit/s on any machine; the limit
	# holds within what tbf's burst allows
	ab=$(iperf_mbps a "$(pod_ip b)")
	bc=$(iperf_mbps b "$(pod_ip c)")
	echo "a -> b: $ab Mbit/s, b -> c: $bc Mbit/s (limit 8)"
	[ "$ab" -le 12 ]
	[ "$bc" -le 12 ]
	[ "$(pkt a redirectedPackets)" = 0 ]
	[ "$(pkt b redirectedPackets)" = 0 ]   # b's only peer was c, a destination we skip
}

@test "CHECK fails when another plugin's tc work appears on the veth after ADD" {
	make_pod a
	accelerate a
	run -0 mc_cni a CHECK "$T/a.mc.json"
	foreign_tc legacy a ingress
	run -1 mc_cni a CHECK "$T/a.mc.json"
	[ "$(jq -r .code <<<"$output")" = 101 ]
	jq -r .details <<<"$output" | grep -q '"on,foreign-in"'
}
