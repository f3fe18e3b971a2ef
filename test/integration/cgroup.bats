#!/usr/bin/env bats
# Finding the pod cgroup: runtimeConfig.cgroupPath, then K8S_POD_UID in
# kubelet's cgroupfs and systemd layouts, then a process in the netns.

bats_require_minimum_version 1.5.0
load helpers

setup() { require_root; mc_setup; require_feature socket; }
teardown() { mc_teardown; }

# the config with cgroupRoot at our test subtree and no runtimeConfig
uid_conf() { mc_conf "$1" ".cgroupRoot = \"$CGDIR\" | del(.runtimeConfig)"; }

# expect_found DIR [CONF_FILTER]: with DIR created under the test's cgroup
# root, pod a's ADD records DIR as its cgroup (default config: by UID only)
expect_found() {
	mkdir -p "$1"
	if [ -n "${2:-}" ]; then mc_conf a "$2"; else uid_conf a; fi
	run -0 mc_cni a ADD "$T/a.mc.json"
	ep_json a | jq -e --arg p "$1" '.cgroup == $p'
}

@test "K8S_POD_UID, cgroupfs layout (burstable)" {
	POD_UID=0d1c6a8e-1111-4a2b-9c3d-aabbccddeeff
	make_pod a
	expect_found "$CGDIR/kubepods/burstable/pod$POD_UID"
	ep_json a | jq -e '.attached | test("sockops")'
}

@test "K8S_POD_UID, systemd layout (besteffort slice)" {
	POD_UID=0d1c6a8e-2222-4a2b-9c3d-aabbccddeeff
	make_pod a
	u=${POD_UID//-/_}
	expect_found "$CGDIR/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$u.slice"
}

@test "K8S_POD_UID, guaranteed pod directly under kubepods" {
	POD_UID=0d1c6a8e-3333-4a2b-9c3d-aabbccddeeff
	make_pod a
	expect_found "$CGDIR/kubepods/pod$POD_UID"
}

@test "runtimeConfig.cgroupPath as a systemd slice name is expanded" {
	make_pod a
	expect_found "$CGDIR/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podabc.slice" \
		".cgroupRoot = \"$CGDIR\" | .runtimeConfig.cgroupPath = \"kubepods-burstable-podabc.slice\""
}

@test "a process already in the netns gives its cgroup (ctr style)" {
	make_pod a
	mkdir -p "$CGDIR/ctr/task1"
	( echo $BASHPID > "$CGDIR/ctr/task1/cgroup.procs"; exec nsenter --net="/var/run/netns/$ID-a" sleep 30 ) &
	PIDS+=($!)
	for _ in $(seq 1 50); do [ -s "$CGDIR/ctr/task1/cgroup.procs" ] && break; sleep 0.1; done
	uid_conf a
	run -0 mc_cni a ADD "$T/a.mc.json"
	ep_json a | jq -e --arg p "$CGDIR/ctr/task1" '.cgroup == $p and .state == "ready"'
}

@test "never the cgroup root itself: a process in the root is not a pod cgroup" {
	make_pod a
	( exec nsenter --net="/var/run/netns/$ID-a" sleep 30 ) &   # stays in the cgroup this test runs in
	PIDS+=($!)
	sleep 0.3
	mc_conf a ".cgroupRoot = \"$CGDIR\" | .runtimeConfig.cgroupPath = \"/\""
	run -0 mc_cni a ADD "$T/a.mc.json"
	ep_json a | jq -e '.state == "degraded" and (.degraded | test("no-cgroup")) and .cgroup == ""'
	[ -z "$(bpftool cgroup show "$CGDIR")" ]
}
