#!/usr/bin/env bats
# The README's first command: hack/demo.sh builds its namespace "cluster",
# moves traffic over both shortcuts, tears everything down. Runs the
# script itself, as a user would (without installing packages again).

bats_require_minimum_version 1.5.0
load helpers

setup() { require_root; }

@test "hack/demo.sh: traffic takes both shortcuts, bytes intact, nothing left running" {
	run -0 "$BATS_TEST_DIRNAME/../../hack/demo.sh" --no-deps
	echo "$output"
	[[ "$output" == *"db received 1000000 bytes, identical"* ]]
	[[ "$output" == *"ok messages=200 "* ]]
	# each shortcut carried the traffic where the kernel allowed it, and
	# the demo named the refusal where it did not (MESHCUT_REFUSE makes both)
	if [[ "$output" == *"feature packet on"* && "$output" == *"feature conntrack-gate on"* ]]; then
		[[ "$output" =~ db:\ [1-9][0-9]*\ packets\ redirected\ pod\ to\ pod ]]
	else
		[[ "$output" =~ db:\ 0\ packets\ redirected ]]
		[[ "$output" == *"packet shortcut off on this node, every packet took the normal path: "*" off: "* ]]
	fi
	if [[ "$output" == *"feature socket on"* && "$output" == *"feature socket-teardown on"* &&
		"$output" == *"feature socket-queue on"* ]]; then
		[[ "$output" =~ web:\ 200\ messages\ \([0-9]+\ bytes\)\ handed\ to\ the\ peer\ socket,\ 0\ through\ TCP ]]
	else
		[[ "$output" =~ web:\ 0\ messages ]]
		[[ "$output" == *"socket shortcut off on this node, every message went through TCP: "*" off: "* ]]
	fi
	[[ "$output" == *"links left running meshcut programs: 0"* ]]
	# its node namespace, pods and pins are gone
	run -0 ip netns list
	[[ "$output" != *mcdemo* ]]
	[ -z "$(ls -d /sys/fs/bpf/mcdemo* 2>/dev/null)" ]
}

@test "hack/demo.sh runs to its end with the socket-teardown and packet features refused" {
	MESHCUT_REFUSE=socket-teardown,packet run -0 "$BATS_TEST_DIRNAME/../../hack/demo.sh" --no-deps
	echo "$output"
	[[ "$output" == *"feature packet off: mc_tc_ingress refused by MESHCUT_REFUSE"* ]]
	# refused as asked, or off already because the kernel refused socket
	# (5.10), which the demo then names
	[[ "$output" == *"feature socket-teardown off: mc_sock_sweep refused by MESHCUT_REFUSE"* ||
		"$output" == *"feature socket-teardown off: needs socket, which is off"* ]]
	[[ "$output" == *"mc_tc_ingress: not loaded"* ]]
	[[ "$output" == *"db received 1000000 bytes, identical"* ]]
	[[ "$output" == *"ok messages=200 "* ]]
	[[ "$output" == *"packet shortcut off on this node, every packet took the normal path: packet off"* ]]
	[[ "$output" == *"socket shortcut off on this node, every message went through TCP: socket"*" off"* ]]
	[[ "$output" == *"links left running meshcut programs: 0"* ]]
	[ -z "$(ls -d /sys/fs/bpf/mcdemo* 2>/dev/null)" ]
}
