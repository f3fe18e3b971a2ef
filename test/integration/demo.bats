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
	[[ "$output" =~ web:\ 200\ messages\ \([0-9]+\ bytes\)\ handed\ to\ the\ peer\ socket,\ 0\ through\ TCP ]]
	[[ "$output" =~ db:\ [1-9][0-9]*\ packets\ redirected\ pod\ to\ pod ]]
	[[ "$output" == *"links left running meshcut programs: 0"* ]]
	# its node namespace, pods and pins are gone
	run -0 ip netns list
	[[ "$output" != *mcdemo* ]]
	[ -z "$(ls -d /sys/fs/bpf/mcdemo* 2>/dev/null)" ]
}
