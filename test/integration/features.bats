#!/usr/bin/env bats
# Datapath features load, fail and degrade on their own (docs/features.md).
# MESHCUT_REFUSE makes the loader treat a feature as refused by the kernel,
# exactly where a real refusal would land: each test refuses one, then
# checks that pods still start with the primary's result, that every byte
# still arrives, that the features which do not need the refused one still
# carry traffic, that status names the refused program and why, and that
# DEL leaves nothing.

bats_require_minimum_version 1.5.0
load helpers

setup() { require_root; mc_setup; node_netfilter; }
teardown() { mc_teardown; }

# both shortcuts asked for (nothing here reads with splice(2))
BOTH='. + {socketRedirect: true, spliceGuard: "optional"}'

feature() { status_json | jq -r --arg f "$1" ".node.features[\$f].$2"; }

# pods a and b with both shortcuts asked for, under whatever MESHCUT_REFUSE
# the caller exported; ADD must pass the primary's result through
two_pods() {
	local p
	BEFORE=$(state_snapshot)
	for p in a b; do
		add_pod "$p" "$BOTH"
		diff <(jq -S 'del(.cniVersion)' "$T/$p.prev.json") <(jq -S 'del(.cniVersion)' "$T/$p.out")
	done
}

# UDP ping-pong a -> b (the packet shortcut takes a flow once conntrack
# saw its reply), then 50 request/response rounds over nonblocking sockets
# (the socket shortcut); every datagram and byte checked
traffic() {
	echo_server b 7000 udp
	udp_echo a "$(pod_ip b)" 7000 30
	server b :: 8080
	run -0 in_pod a timeout 60 python3 "$ECHO" client "$(pod_ip b)" 8080 --count 50
	echo "$output"
	[[ "$output" == *"ok messages=50 "* ]]
}

# the shortcuts did what the features on allow, and nothing else
shortcuts_as_features_say() {
	if feature_on packet && feature_on conntrack-gate; then
		[ "$(pkt a redirectedPackets)" -gt 0 ]
	else
		[ "$(pkt a redirectedPackets)" = 0 ]
		[ "$(pkt a seenPackets)" = 0 ] # not attached at all
	fi
	# pod to pod: only where the host's revocations reach sockets
	if feature_on socket && feature_on socket-teardown && feature_on socket-queue &&
		feature_on socket-revoke; then
		[ "$(sock a redirectedMessages)" -ge 50 ]
	else
		[ "$(sock a redirectedMessages)" = 0 ]
	fi
}

# DEL both: nothing of theirs is left, the socket shortcut's maps included
del_leaves_nothing() {
	local p
	for p in a b; do mc_cni "$p" DEL "$T/$p.mc.json"; done
	diff <(echo "$BEFORE") <(state_snapshot)
	if [ -e "$BPFFS/maps/mc_socks_v1" ]; then
		[ "$(map_keys mc_socks_v1)" = "[]" ]
		[ "$(map_keys mc_pair_v2)" = "[]" ]
	fi
	# the flows the conntrack gate remembered (verdict-cache) go too
	if [ -e "$BPFFS/maps/mc_verdict_v1" ]; then
		[ "$(map_keys mc_verdict_v1)" = "[]" ]
	fi
}

@test "the node records every feature; status text and --json say the same" {
	two_pods
	run -0 status_json
	jq -e '.node.features | keys == ["conntrack-gate","packet","socket","socket-queue","socket-revoke","socket-teardown","splice-guard","verdict-cache"]' <<<"$output"
	jq -e '[.node.features[] | .state] | all(. == "on" or . == "refused" or . == "off" or . == "forced-off")' <<<"$output"
	# a feature off says which program, the errno and the kernel's words
	jq -e '[.node.features[] | select(.on | not) | .program != "" or .state == "off"] | all' <<<"$output"
	jq -e '[.node.features[] | select(.state == "refused") | .errno > 0 and .why != ""] | all' <<<"$output"
	text=$("$MESHCUT" status --bpffs-root "$BPFFS")
	for f in packet conntrack-gate socket socket-teardown splice-guard socket-queue socket-revoke; do
		if [ "$(feature "$f" on)" = true ]; then
			line="  feature $f on"
		else
			line="  feature $(feature "$f" summary)"
		fi
		grep -qxF "$line" <<<"$text"
	done
	traffic
	shortcuts_as_features_say
	del_leaves_nothing
}

@test "packet refused: pods start, the socket shortcut still carries, status says why, DEL leaves nothing" {
	export MESHCUT_REFUSE=packet
	require_feature socket socket-teardown socket-queue
	two_pods
	[ "$(feature packet state)" = forced-off ]
	[ "$(feature packet program)" = mc_tc_ingress ]
	[ "$(feature packet errno)" = 1 ]
	[ "$(feature conntrack-gate state)" = off ]
	[ "$(feature conntrack-gate why)" = "needs packet, which is off" ]
	[ ! -e "$BPFFS/progs/mc_tc_ingress" ]
	ep_json a | jq -e '(.degraded | split(",") | index("no-packet")) and (.reason | startswith("packet off: mc_tc_ingress refused"))'
	ep_json a | jq -e '.attached | split(",") | (index("tc-tcx") or index("tc-legacy")) | not'
	[ -z "$(tc_progs "$(pod_veth a)")" ]
	traffic
	shortcuts_as_features_say
	if feature_on socket-revoke; then [ "$(sock a redirectedMessages)" -ge 50 ]; fi
	del_leaves_nothing
}

@test "conntrack-gate refused: no tc program on conntrack pods, trust pods keep the packet shortcut" {
	export MESHCUT_REFUSE=conntrack-gate
	require_feature packet
	two_pods
	[ "$(feature conntrack-gate state)" = forced-off ]
	[ "$(feature conntrack-gate program)" = mc_tc_ingress ]
	[ "$(feature packet on)" = true ]
	ep_json a | jq -e '.degraded | split(",") | index("no-conntrack-gate")'
	traffic
	shortcuts_as_features_say
	# packetPolicy trust needs no gate
	add_pod c '. + {packetPolicy: "trust"}'
	add_pod d '. + {packetPolicy: "trust"}'
	ep_json c | jq -e '(.attached | split(",") | index("tc-tcx") or index("tc-legacy")) and
		(.degraded | split(",") | (index("no-packet") or index("no-conntrack-gate")) | not)'
	echo_server d 7001 udp
	udp_echo c "$(pod_ip d)" 7001 20
	[ "$(pkt c redirectedPackets)" -gt 0 ]
	for p in c d; do mc_cni "$p" DEL "$T/$p.mc.json"; done
	del_leaves_nothing
}

@test "verdict-cache refused: the gate asks conntrack at every packet, the packet shortcut still delivers, DEL leaves nothing" {
	export MESHCUT_REFUSE=verdict-cache
	require_feature packet conntrack-gate
	two_pods
	[ "$(feature verdict-cache state)" = forced-off ]
	[ "$(feature verdict-cache program)" = mc_ct_forget ]
	[ ! -e "$BPFFS/links/mc_ct_forget" ]
	[ "$(feature packet on)" = true ]
	traffic
	shortcuts_as_features_say
	# every packet delivered on a verdict conntrack gave it just then
	[ "$(pkt a cachedPackets)" = 0 ]
	[ "$(pkt b cachedPackets)" = 0 ]
	[ "$(map_keys mc_verdict_v1)" = "[]" ]
	del_leaves_nothing
}

@test "socket refused: pods start, the packet shortcut still delivers, no sockops, DEL leaves nothing" {
	export MESHCUT_REFUSE=socket
	require_feature packet conntrack-gate
	two_pods
	[ "$(feature socket state)" = forced-off ]
	[ "$(feature socket program)" = mc_sockops ]
	[ "$(feature socket-teardown why)" = "needs socket, which is off" ]
	[ "$(feature splice-guard why)" = "needs socket, which is off" ]
	[ "$(feature socket-queue why)" = "needs socket, which is off" ]
	[ ! -e "$BPFFS/progs/mc_sockops" ] && [ ! -e "$BPFFS/progs/mc_sk_msg" ]
	ep_json a | jq -e '(.degraded | split(",") | index("no-socket")) and (.attached | split(",") | index("sockops") | not)'
	traffic
	shortcuts_as_features_say
	[ "$(pkt a redirectedPackets)" -gt 0 ]
	[ "$(sock a activeEstablished)" = 0 ] # no sockops ran at all
	del_leaves_nothing
}

# socket_counted_only FEATURE PROGRAM: with FEATURE refused, the pods'
# sockets are counted by mc_sockops but never let into the sockhash, each
# endpoint names FEATURE, and the packet shortcut still delivers
socket_counted_only() {
	local f=$1 prog=$2 other
	for other in socket-teardown socket-queue; do
		[ "$other" = "$f" ] || require_feature "$other"
	done
	two_pods
	[ "$(feature "$f" state)" = forced-off ]
	[ "$(feature "$f" program)" = "$prog" ]
	[ "$(feature socket on)" = true ]
	ep_json a | jq -e --arg d "no-$f" --arg r "$f off" \
		'(.degraded | split(",") | index($d)) and (.reason | startswith($r)) and (.attached | split(",") | index("sockops"))'
	traffic
	shortcuts_as_features_say
	[ "$(sock a activeEstablished)" -ge 1 ]
	[ "$(map_keys mc_socks_v1)" = "[]" ]
	del_leaves_nothing
}

@test "socket-teardown refused: sockets are only counted, never let in; the packet shortcut delivers" {
	export MESHCUT_REFUSE=socket-teardown
	require_feature packet conntrack-gate socket
	socket_counted_only socket-teardown mc_sock_sweep
	[ ! -e "$BPFFS/progs/mc_sock_sweep" ]
}

@test "socket-queue refused: sockets are only counted, and each endpoint says why" {
	export MESHCUT_REFUSE=socket-queue
	require_feature packet conntrack-gate socket
	socket_counted_only socket-queue sk_psock.msg_tot_len
}

@test "socket-revoke refused: pod-to-pod sockets stay on TCP and each endpoint says why; inside a pod, between trust pods and with socketRevoke optional, still shortcut" {
	export MESHCUT_REFUSE=socket-revoke
	require_feature socket socket-teardown socket-queue
	two_pods
	[ "$(feature socket-revoke state)" = forced-off ]
	[ "$(feature socket-revoke program)" = mc_ct_revoke ]
	[ ! -e "$BPFFS/links/mc_ct_revoke" ]
	ep_json a | jq -e '(.degraded | split(",") | index("no-socket-revoke")) and (.reason | startswith("socket-revoke off"))'
	traffic
	shortcuts_as_features_say
	[ "$(sock a redirectedMessages)" = 0 ]
	[ "$(sock a paired)" = 0 ]
	# a connection inside the pod crosses no host policy
	server a 127.0.0.1 9090
	run -0 in_pod a timeout 60 python3 "$ECHO" client 127.0.0.1 9090 --count 20
	[ "$(sock a redirectedMessages)" -ge 20 ]
	# and pods that trust the node, or whose conflist says socketRevoke
	# optional, pair without it
	add_pod c "$BOTH + {packetPolicy: \"trust\"}"
	add_pod d "$BOTH + {packetPolicy: \"trust\"}"
	add_pod e "$BOTH + {socketRevoke: \"optional\"}"
	add_pod f "$BOTH + {socketRevoke: \"optional\"}"
	for p in c e; do ep_json "$p" | jq -e '.degraded | split(",") | index("no-socket-revoke") | not'; done
	server d :: 8080
	run -0 in_pod c timeout 60 python3 "$ECHO" client "$(pod_ip d)" 8080 --count 20
	[ "$(sock d paired)" = 1 ]
	server f :: 8080
	run -0 in_pod e timeout 60 python3 "$ECHO" client "$(pod_ip f)" 8080 --count 20
	[ "$(sock f paired)" = 1 ]
	for p in c d e f; do mc_cni "$p" DEL "$T/$p.mc.json"; done
	del_leaves_nothing
}

@test "splice-guard refused: with spliceGuard required the pod's sockets stay on TCP, and status says so" {
	export MESHCUT_REFUSE=splice-guard
	require_feature socket socket-teardown socket-queue
	add_pod a '. + {socketRedirect: true}'
	[ "$(feature splice-guard state)" = forced-off ]
	ep_json a | jq -e '.degraded | split(",") | index("no-splice-guard")'
	[ ! -e "$BPFFS/links/mc_splice_guard" ]
}

@test "a changed MESHCUT_REFUSE loads the node again; the pods already there keep working" {
	require_feature packet conntrack-gate socket socket-teardown socket-queue
	MESHCUT_REFUSE=socket-teardown two_pods
	[ "$(feature socket-teardown state)" = forced-off ]
	add_pod c "$BOTH"
	[ "$(feature socket-teardown on)" = true ]
	[ -e "$BPFFS/progs/mc_sock_sweep" ]
	traffic
	[ "$(pkt a redirectedPackets)" -gt 0 ]
	mc_cni c DEL "$T/c.mc.json"
	del_leaves_nothing
}

@test "a name MESHCUT_REFUSE does not know refuses nothing, and says so" {
	MESHCUT_REFUSE=bogus run -0 --separate-stderr mc_node STATUS <(jq -n --arg root "$BPFFS" \
		'{cniVersion:"1.1.0",name:"mcnet",type:"meshcut",bpffsRoot:$root}')
	[[ "$stderr" == *'no feature is called "bogus"'* ]]
	status_json | jq -e '[.node.features[] | .state] | all(. != "forced-off")'
}
