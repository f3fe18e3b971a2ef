#!/usr/bin/env bats
# Bad input of every kind gets the right CNI error, or a degraded but
# successful ADD, and changes nothing on the node.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	require_root
	mc_setup
	make_pod a
	mc_conf a
	before=$(state_snapshot; ls "$BPFFS" 2>&1 || true)
}
teardown() { mc_teardown; }

# is_error CODE: $output is a CNI error with that code, msg and cniVersion
is_error() {
	[ "$status" -ne 0 ]
	jq -e --argjson c "$1" '.code == $c and (.msg | length > 0) and (.cniVersion | length > 0)' <<<"$output"
}
# expect_error CODE: is_error, and the node is exactly as before
expect_error() {
	is_error "$1"
	unchanged
}
unchanged() { diff <(echo "$before") <(state_snapshot; ls "$BPFFS" 2>&1 || true); }

conf_with() { jq "$1" "$T/a.mc.json" > "$T/bad.json"; }

@test "malformed JSON is a decode error (6)" {
	echo '{"cniVersion": "1.0.0", "name": ' > "$T/bad.json"
	run --separate-stderr mc_cni a ADD "$T/bad.json"
	expect_error 6
}

@test "a JSON document that is not an object is a decode error (6)" {
	echo '[1,2,3]' > "$T/bad.json"
	run --separate-stderr mc_cni a ADD "$T/bad.json"
	expect_error 6
}

@test "oversized stdin is refused (6) without reading it all into the node" {
	head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' > "$T/bad.json"
	run --separate-stderr mc_cni a ADD "$T/bad.json"
	expect_error 6
	grep -q "exceeds" <<<"$(jq -r .details <<<"$output")"
}

@test "wrong field types are config errors (7) naming the field" {
	for f in '.bpffsRoot = 5' '.logLevel = "loud"' '.failurePolicy = true' \
		'.socketShortcut = "yes"' '.tcAttachMode = "xdp"' '.runtimeConfig = []' \
		'.spliceGuard = "never"' '.spliceGuard = false' \
		'.prevResult = "x"' '.prevResult.ips = {}' '.prevResult.ips[0].address = "10.0.0.300/24"' \
		'.prevResult.interfaces[0].mac = "zz"' '.name = 7' '.bpffsRoot = "relative/path"' \
		'.bpffsRoot = "/sys/fs/bpf/../../tmp"' '.runtimeConfig.cgroupPath = "/../../etc"' \
		'del(.name)' '.prevResult.ips[0].interface = 9'; do
		conf_with "$f"
		run --separate-stderr mc_cni a ADD "$T/bad.json"
		expect_error 7
	done
}

@test "missing prevResult: must be called as a chained plugin (7)" {
	conf_with 'del(.prevResult)'
	run --separate-stderr mc_cni a ADD "$T/bad.json"
	expect_error 7
	grep -q "chained plugin" <<<"$output"
}

@test "unknown or missing cniVersion (1, 7)" {
	conf_with '.cniVersion = "9.9.9"'
	run --separate-stderr mc_cni a ADD "$T/bad.json"
	expect_error 1
	conf_with 'del(.cniVersion)'
	run --separate-stderr mc_cni a ADD "$T/bad.json"
	expect_error 7
}

@test "GC and STATUS need cniVersion 1.1.0 (1); GC needs the attachment list (7)" {
	run --separate-stderr mc_node GC "$T/a.mc.json"
	expect_error 1
	conf_with '.cniVersion = "1.1.0"'
	run --separate-stderr mc_node GC "$T/bad.json"
	expect_error 7
	conf_with '.cniVersion = "1.1.0" | .["cni.dev/valid-attachments"] = [{"containerID": "../x", "ifname": "eth0"}]'
	run --separate-stderr mc_node GC "$T/bad.json"
	expect_error 7
}

@test "missing environment variables are env errors (4)" {
	for v in CNI_CONTAINERID CNI_NETNS CNI_IFNAME CNI_PATH; do
		run --separate-stderr mc_cni a ADD "$T/a.mc.json" "$v="
		expect_error 4
		grep -q "$v" <<<"$output"
	done
	run --separate-stderr env -i CNI_COMMAND=GC "$MESHCUT" < "$T/a.mc.json"
	expect_error 4
}

@test "unknown CNI_COMMAND is an env error (4)" {
	run --separate-stderr mc_cni a FROB "$T/a.mc.json"
	expect_error 4
}

@test "container IDs and interface names that could escape a path are refused (4)" {
	for id in "../etc" "a/../../b" ".hidden" "-x" "a b" ""; do
		run --separate-stderr mc_cni a ADD "$T/a.mc.json" "CNI_CONTAINERID=$id"
		expect_error 4
	done
	for ifn in ".." "." "a/b" "a:b" "eth 0" "0123456789abcdef"; do
		run --separate-stderr mc_cni a ADD "$T/a.mc.json" "CNI_IFNAME=$ifn"
		expect_error 4
	done
	run --separate-stderr mc_cni a DEL "$T/a.mc.json" "CNI_CONTAINERID=../../x"
	expect_error 4
}

@test "a relative CNI_NETNS and malformed CNI_ARGS are env errors (4)" {
	run --separate-stderr mc_cni a ADD "$T/a.mc.json" "CNI_NETNS=var/run/netns/x"
	expect_error 4
	run --separate-stderr mc_cni a ADD "$T/a.mc.json" "CNI_ARGS=K8S_POD_NAME"
	expect_error 4
	run --separate-stderr mc_cni a ADD "$T/a.mc.json" "CNI_ARGS=K8S_POD_UID=../../x"
	expect_error 4
}

@test "unknown CNI_ARGS keys and unknown config fields are ignored" {
	conf_with '.someFutureField = {"x": 1} | .args = {"cni": {"y": 2}}'
	run -0 --separate-stderr mc_cni a ADD "$T/bad.json" "CNI_ARGS=IgnoreUnknown=1;FOO=bar;K8S_POD_NAME=a"
	diff <(jq -S . "$T/a.prev.json") <(jq -S . <<<"$output")
}

@test "a container ID longer than the record key: ADD succeeds unaccelerated" {
	long=$(printf 'c%.0s' $(seq 1 200))
	run -0 --separate-stderr mc_cni a ADD "$T/a.mc.json" "CNI_CONTAINERID=$long"
	diff <(jq -S . "$T/a.prev.json") <(jq -S . <<<"$output")
	unchanged
	run -0 --separate-stderr mc_cni a DEL "$T/a.mc.json" "CNI_CONTAINERID=$long"
}

@test "a non-veth pod interface: ADD succeeds, degraded, with prevResult" {
	# a second veth pair entirely inside the pod: its peer is not on the node
	nsp a ip link add net1 type veth peer name net1peer
	nsp a ip link set net1 up
	run -0 --separate-stderr mc_cni a ADD "$T/a.mc.json" CNI_IFNAME=net1
	diff <(jq -S . "$T/a.prev.json") <(jq -S . <<<"$output")
	status_json | jq -e '.endpoints[] | select(.ifname == "net1") | .state == "degraded" and (.degraded | test("no-veth"))'
	[ -z "$(tc_progs "$(pod_veth a)")" ]
	run -0 --separate-stderr mc_cni a DEL "$T/a.mc.json" CNI_IFNAME=net1
}

@test "an interface that does not exist in the pod: degraded, not failed" {
	run -0 --separate-stderr mc_cni a ADD "$T/a.mc.json" CNI_IFNAME=nothere0
	status_json | jq -e '.endpoints[] | select(.ifname == "nothere0") | .state == "degraded"'
}

@test "prevResult naming another host veth: degraded (veth-mismatch), pod starts" {
	conf_with '(.prevResult.interfaces[] | select(.name | startswith("veth")) | .name) = "vethdeadbeef"'
	run -0 --separate-stderr mc_cni a ADD "$T/bad.json"
	ep_json a | jq -e '.state == "degraded" and (.degraded | test("veth-mismatch"))'
	[ -z "$(tc_progs "$(pod_veth a)")" ]
}

@test "failurePolicy ignore: no cgroup found -> ADD succeeds, degraded, connectivity kept" {
	conf_with '.runtimeConfig.cgroupPath = "/does/not/exist"'
	run -0 --separate-stderr mc_cni a ADD "$T/bad.json"
	diff <(jq -S . "$T/a.prev.json") <(jq -S . <<<"$output")
	ep_json a | jq -e '.state == "degraded" and (.degraded | test("no-cgroup"))'
	# the packet shortcut, which needs no cgroup, is still attached
	if feature_on packet && feature_on conntrack-gate; then
		ep_json a | jq -e '.attached | test("tc-tcx|tc-legacy")'
	fi
	run -0 nsp a ping -c 2 -i 0.2 -W 2 10.77.0.1
	grep -q "no-cgroup\|no pod cgroup" "$T/meshcut.log"
}

@test "failurePolicy ignore: bpffs unwritable -> ADD succeeds with prevResult, nothing attached" {
	conf_with '.bpffsRoot = "/proc/meshcut"'
	run -0 --separate-stderr mc_cni a ADD "$T/bad.json"
	diff <(jq -S . "$T/a.prev.json") <(jq -S . <<<"$output")
	[ -z "$(tc_progs "$(pod_veth a)")" ]
	run -0 nsp a ping -c 2 -i 0.2 -W 2 10.77.0.1
	grep -q "not accelerated" "$T/meshcut.log"
}

@test "failurePolicy fail: the same failures fail ADD (100) and leave nothing" {
	conf_with '.bpffsRoot = "/proc/meshcut" | .failurePolicy = "fail"'
	run --separate-stderr mc_cni a ADD "$T/bad.json"
	expect_error 100
	conf_with '.runtimeConfig.cgroupPath = "/does/not/exist" | .failurePolicy = "fail"'
	run --separate-stderr mc_cni a ADD "$T/bad.json"
	# the node programs were loaded to try: node state, not this pod's
	is_error 100
	[ -z "$(tc_progs "$(pod_veth a)")" ]
	[ -z "$(our_links)" ]
	[ "$(map_keys mc_endpoints_v1)" = "[]" ]
}
