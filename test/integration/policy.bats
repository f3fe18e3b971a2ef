#!/usr/bin/env bats
# Endpoint policy (docs/endpoint-policy.md): `meshcut endpoint get|set|apply`
# changes what meshcut does to a running pod, in place; a change that turns
# a shortcut off takes the pod's existing connections back to the normal
# path at their next message; the host's conntrack revocations reach the
# socket shortcut too. Real pods (bridge primary), real traffic, every byte
# checked.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	require_root
	mc_setup
	require_feature # loads the node
	REDIRECT=$(sock_redirect_conf)
}
teardown() { mc_teardown; }

ep() { "$MESHCUT" endpoint "$@" --bpffs-root "$BPFFS"; }
pol() { ep get "default/$1" --json | jq -r ".[0].$2"; }

# a long-running echo client in pod a towards ADDR PORT: COUNT messages,
# INTERVAL apart, each echoed and compared; its report lands in $T/$NAME
long_client() { # NAME ADDR PORT COUNT INTERVAL
	in_pod a timeout 60 python3 "$ECHO" client "$2" "$3" --count "$4" --interval "$5" > "$T/$1" 3>&- &
	PIDS+=($!)
	LONG=$!
}

# until the pods' connection is paired and has handed messages over
wait_redirected() { # POD MIN
	for _ in $(seq 1 100); do [ "$(sock "$1" redirectedMessages)" -ge "$2" ] && return 0; sleep 0.05; done
	return 1
}

# running N: pods a and b with socketRedirect, b echoing on 8080, and a
# connection a -> b carrying N checked messages 50 ms apart, already
# handed over by the shortcut when this returns
running() {
	add_pod a "$REDIRECT"
	add_pod b "$REDIRECT"
	server b :: 8080
	long_client long "$(pod_ip b)" 8080 "$1" 0.05
	wait_redirected a 10
}

@test "endpoint get: the conflist's policy, text and --json; unknown endpoints and bad values change nothing" {
	require_feature socket socket-teardown socket-queue
	add_pod a "$REDIRECT + {excludePorts: [9000]}"
	add_pod b
	run -0 ep get default/a
	echo "$output"
	[[ "$output" == *"default/a ctr-a eth0: socket on, packet on, exclude-ports 9000, generation 0 (conflist)"* ]]
	run -0 ep get ctr-b --json
	echo "$output" | jq -e '.[0] | .pod == "default/b" and .socket == "off" and .packet == "on" and .excludePorts == [] and .source == "conflist"'
	before=$(ep get default/a --json)
	gen0=$(bpftool -j map lookup pinned "$BPFFS/maps/mc_sockcfg_v1" key 0 0 0 0 | jq -c .)
	run -1 ep set default/nosuch --socket off
	[[ "$output" == *"no endpoint of that name"* ]]
	run -2 ep set default/a --socket maybe
	[[ "$output" == *"on or off"* ]]
	run -2 ep set default/a --exclude-ports 80,x
	run -2 ep set default/a --exclude-ports 70000
	[[ "$output" == *"between 1 and 65535"* ]]
	run -2 ep set default/a --exclude-ports 1,2,3,4,5,6,7,8,9
	[[ "$output" == *"at most 8"* ]]
	run -2 ep set default/a
	run -2 ep get default/a --socket off
	# b's sockets cannot be let in: it was added without socketRedirect's
	# prerequisites only if the node lacks them; a pod added with
	# packetShortcut off cannot get the packet shortcut live
	add_pod c '. + {packetShortcut: false}'
	run -1 ep set default/c --packet on
	[[ "$output" == *"packet shortcut is not set up"* ]]
	[ "$(ep get default/a --json)" = "$before" ]
	[ "$(bpftool -j map lookup pinned "$BPFFS/maps/mc_sockcfg_v1" key 0 0 0 0 | jq -c .)" = "$gen0" ]
}

@test "endpoint set: applied in place and idempotent; DEL removes the policy with the endpoint" {
	require_feature socket socket-teardown socket-queue
	add_pod a "$REDIRECT"
	run -0 ep set default/a --exclude-ports 8080,80,8080 --packet off
	echo "$output"
	[[ "$output" == *"socket on, packet off, exclude-ports 80,8080, generation 1 (live): changed"* ]]
	[[ "$output" == *"1 of 1 endpoint changed"* ]]
	# the same again: nothing written, no generation moved
	run -0 ep set default/a --exclude-ports 80,8080 --packet off
	[[ "$output" == *"generation 1 (live): unchanged"* ]]
	[[ "$output" == *"0 of 1 endpoint"* ]]
	# the packet program reads it: the pod's veth entry has MC_PKT_ON clear
	veth=$(pod_veth a)
	ifx=$(nsn ip -j link show "$veth" | jq ".[0].ifindex")
	flags=$(bpftool -j map dump pinned "$BPFFS/maps/mc_veth_v2" | jq --argjson i "$ifx" '.[] | select(.formatted.key == $i) | .formatted.value.flags')
	[ $((flags & 1)) = 0 ]
	run -0 ep set default/a --packet on --exclude-ports none
	flags=$(bpftool -j map dump pinned "$BPFFS/maps/mc_veth_v2" | jq --argjson i "$ifx" '.[] | select(.formatted.key == $i) | .formatted.value.flags')
	[ $((flags & 1)) = 1 ]
	slot=$(ep_json a | jq -r .slot)
	mc_cni a DEL "$T/a.mc.json"
	run -0 bpftool -j map lookup pinned "$BPFFS/maps/mc_sockcfg_v1" key $((slot & 255)) $((slot >> 8 & 255)) 0 0
	echo "$output" | jq -e '.formatted.value.flags == 0 and (.formatted.value.exclude_ports | all(. == 0)) and .formatted.value.gen == 0'
	run -1 ep get default/a
}

@test "socket off: a running connection goes back to TCP at its next message, nothing lost; on again reaches new connections only" {
	require_feature socket socket-teardown socket-queue
	running 160
	run -0 ep set default/b --socket off
	r0=$(sock a redirectedMessages)
	wait "$LONG"
	cat "$T/long"
	grep -q '^ok messages=160' "$T/long"
	# both directions left: a's sends (its peer's policy) and b's (its own)
	[ "$(sock a policyOff)" = 1 ]
	[ "$(sock b policyOff)" = 1 ]
	# and the connection left the sockhash, both ends
	[ "$(socks_in_map)" = 0 ]
	# at most the message in flight while the policy was written went
	# over after it
	[ "$(sock a redirectedMessages)" -le $((r0 + 1)) ]
	# on again: a new connection is shortcut, from its first message
	run -0 ep set default/b --socket on
	p0=$(sock a passedMessages)
	run -0 client a "$(pod_ip b)" 8080 --count 20
	[ "$(sock a passedMessages)" = "$p0" ]
	[ "$(sock b paired)" = 2 ]
}

@test "exclude a port live: that port's connection goes back to TCP, the other stays shortcut" {
	require_feature socket socket-teardown socket-queue
	add_pod a "$REDIRECT"
	add_pod b "$REDIRECT"
	server b :: 8080
	server b :: 8081
	# keep outlasts drop by far, so that it still runs, on a slow guest
	# too, once the exclusion has taken drop out; drop runs long enough
	# to still be sending then (a guest under CI load once finished its
	# 80 messages first)
	long_client keep "$(pod_ip b)" 8080 300 0.05
	k=$LONG
	long_client drop "$(pod_ip b)" 8081 160 0.05
	d=$LONG
	for _ in $(seq 1 100); do [ "$(sock b paired)" = 2 ] && break; sleep 0.05; done
	wait_redirected a 20
	[ "$(socks_in_map)" = 4 ]
	run -0 ep set default/b --exclude-ports 8081
	# the 8081 connection's two sockets leave the sockhash once each has
	# read what was redirected to it; 8080's stay
	for _ in $(seq 1 60); do [ "$(socks_in_map)" = 2 ] && break; sleep 0.05; done
	[ "$(socks_in_map)" = 2 ]
	r0=$(sock b redirectedMessages)
	wait "$k"
	wait "$d"
	cat "$T/keep" "$T/drop"
	grep -q '^ok messages=300' "$T/keep"
	grep -q '^ok messages=160' "$T/drop"
	[ "$(sock a policyOff)" = 1 ]
	[ "$(sock b policyOff)" = 1 ]
	# 8080 went on being handed over
	[ "$(sock b redirectedMessages)" -gt $((r0 + 10)) ]
}

@test "packet off: the pod's packets take the host's path from the next one; on again: shortcut again" {
	require_feature packet conntrack-gate
	node_netfilter
	add_pod a
	add_pod b
	echo_server b 7001
	tcp_echo a "$(pod_ip b)" 7001 200000
	r0=$(pkt a redirectedPackets)
	[ "$r0" -gt 10 ]
	run -0 ep set default/b --packet off
	tcp_echo a "$(pod_ip b)" 7001 200000
	# b is no destination any more (a's packets), and no source (b's)
	[ "$(pkt a redirectedPackets)" = "$r0" ]
	rb=$(pkt b redirectedPackets)
	tcp_echo a "$(pod_ip b)" 7001 200000
	[ "$(pkt b redirectedPackets)" = "$rb" ]
	run -0 ep set default/b --packet on
	tcp_echo a "$(pod_ip b)" 7001 200000
	[ "$(pkt a redirectedPackets)" -gt $((r0 + 10)) ]
}

@test "apply -f: a control plane's whole decision at once, while connections run; twice is a no-op; one bad entry changes nothing" {
	require_feature socket socket-teardown socket-queue
	running 160
	cat > "$T/decision.json" <<-EOF2
	{"endpoints": [
	  {"pod": "default/b", "socket": "off", "excludePorts": [15001, 15006]},
	  {"containerId": "ctr-a", "packet": false}
	]}
	EOF2
	run -0 ep apply -f "$T/decision.json"
	echo "$output"
	[[ "$output" == *"2 of 2 endpoints changed"* ]]
	gen=$(pol b generation)
	run -0 ep apply -f "$T/decision.json"
	[[ "$output" == *"0 of 2 endpoints changed"* ]]
	[ "$(pol b generation)" = "$gen" ]
	wait "$LONG"
	grep -q '^ok messages=160' "$T/long"
	[ "$(sock a policyOff)" = 1 ]
	[ "$(pol b socket)" = off ]
	[ "$(pol b excludePorts | jq -c .)" = "[15001,15006]" ]
	[ "$(pol a packet)" = off ]
	# an entry naming no endpoint, or a bad value: nothing of the file is applied
	before=$(ep get default/a --json; ep get default/b --json)
	echo '[{"pod": "default/a", "packet": "on"}, {"pod": "default/gone", "socket": "on"}]' > "$T/bad.json"
	run -1 ep apply -f "$T/bad.json"
	[[ "$output" == *"entry 2: no endpoint of that name"* ]]
	echo '[{"pod": "default/a", "packet": "on"}, {"pod": "default/b", "socket": "yes"}]' > "$T/bad.json"
	run -1 ep apply -f "$T/bad.json"
	echo '[{"pod": "default/a", "packet": "on", "sidecar": true}]' > "$T/bad.json"
	run -1 ep apply -f "$T/bad.json"
	[[ "$output" == *"unknown field"* ]]
	[ "$(ep get default/a --json; ep get default/b --json)" = "$before" ]
}

# revoke FROM TO: what a policy engine does when a verdict changes: a rule
# that drops the flow from now on, and the flow's conntrack entry deleted
# so that its next packet meets the rule
revoke() {
	nsn iptables -I FORWARD -s "$1" -d "$2" -j DROP
	nsn conntrack -D -s "$1" -d "$2" -p tcp >/dev/null 2>&1
}

@test "conntrack revocation: a connection the socket shortcut carries leaves it, and the host's new rule drops its next bytes" {
	require_feature socket socket-teardown socket-queue socket-revoke
	node_netfilter
	running 200
	A=$(pod_ip a) B=$(pod_ip b)
	[ "$(sock b paired)" = 1 ]
	revoke "$A" "$B"
	# exactly as without meshcut: the next message is dropped by the
	# host, the client times out waiting for its echo
	run wait "$LONG"
	cat "$T/long"
	[ "$status" -ne 0 ]
	if grep -q '^ok messages=200' "$T/long"; then false; fi
	[ "$(sock a ctRevoked)" = 1 ]
	# what was sent after the revocation met the host's rule
	dropped=$(nsn iptables -w -nvxL FORWARD | awk '$3 == "DROP" { print $1; exit }')
	echo "dropped by the host: $dropped packets"
	[ "$dropped" -gt 0 ]
	# the revocation's entries go with the pods' DEL
	[ "$(map_keys mc_revoke_v1 | jq length)" -ge 2 ]
	for p in a b; do mc_cni "$p" DEL "$T/$p.mc.json"; done
	[ "$(map_keys mc_revoke_v1)" = "[]" ]
}

@test "conntrack -D alone (no new rule): the connection goes on over TCP, every byte intact" {
	require_feature socket socket-teardown socket-queue socket-revoke
	node_netfilter
	running 160
	A=$(pod_ip a) B=$(pod_ip b)
	nsn conntrack -D -s "$A" -d "$B" -p tcp >/dev/null 2>&1
	wait "$LONG"
	grep -q '^ok messages=160' "$T/long"
	[ "$(sock a ctRevoked)" = 1 ]
	[ "$(sock b ctRevoked)" = 1 ]
	[ "$(socks_in_map)" = 0 ]
}

@test "deploy/examples/placement.sh: a control plane's per-service decision reaches the pods of this node" {
	require_feature packet socket socket-teardown socket-queue
	add_pod a "$REDIRECT"
	add_pod b "$REDIRECT"
	# the API server's answer for each selector: a and b on this node, c on another
	cat > "$T/kubectl" <<-'EOF2'
	#!/bin/bash
	# kubectl get pods -n NS -l SELECTOR --field-selector spec.nodeName=NODE -o json
	sel=$6 node=${8#spec.nodeName=}
	pods='[{"n": "a", "app": "web", "node": "n1"}, {"n": "b", "app": "db", "node": "n1"}, {"n": "c", "app": "db", "node": "n2"}]'
	jq -n --arg sel "$sel" --arg node "$node" --argjson p "$pods" \
		'{items: [$p[] | select("app=" + .app == $sel and .node == $node) |
		  {metadata: {namespace: "default", name: .n}, status: {phase: "Running"}}]}'
	EOF2
	chmod +x "$T/kubectl"
	echo '[{"namespace": "default", "selector": "app=db", "normalPath": true},
	       {"namespace": "default", "selector": "app=web", "normalPath": false}]' > "$T/services.json"
	run -0 env KUBECTL="$T/kubectl" MESHCUT="$MESHCUT" MESHCUT_BPFFS_ROOT="$BPFFS" NODE_NAME=n1 \
		"$BATS_TEST_DIRNAME/../../deploy/examples/placement.sh" "$T/services.json"
	echo "$output"
	[[ "$output" == *"placement: 2 pods of this node"* ]]
	[[ "$output" == *"1 of 2 endpoints changed"* ]]
	[ "$(pol b socket)" = off ] && [ "$(pol b packet)" = off ]
	[ "$(pol a socket)" = on ] && [ "$(pol a packet)" = on ]
	# the same decision again: nothing changes
	run -0 env KUBECTL="$T/kubectl" MESHCUT="$MESHCUT" MESHCUT_BPFFS_ROOT="$BPFFS" NODE_NAME=n1 \
		"$BATS_TEST_DIRNAME/../../deploy/examples/placement.sh" "$T/services.json"
	[[ "$output" == *"0 of 2 endpoints changed"* ]]
}
