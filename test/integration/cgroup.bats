#!/usr/bin/env bats
# Finding the pod cgroup: runtimeConfig.cgroupPath, then K8S_POD_UID in
# kubelet's cgroupfs and systemd layouts, then a process in the netns.

bats_require_minimum_version 1.5.0
load helpers

setup() { require_root; mc_setup; }
teardown() { mc_teardown; }

# the config with cgroupRoot at our test subtree and no runtimeConfig
uid_conf() { mc_conf "$1" ".cgroupRoot = \"$CGDIR\" | del(.runtimeConfig)"; }

@test "K8S_POD_UID, cgroupfs layout (burstable)" {
	POD_UID=0d1c6a8e-1111-4a2b-9c3d-aabbccddeeff
	make_pod a
	mkdir -p "$CGDIR/kubepods/burstable/pod$POD_UID"
	uid_conf a
	run -0 mc_cni a ADD "$T/a.mc.json"
	ep_json a | jq -e --arg p "$CGDIR/kubepods/burstable/pod$POD_UID" '.cgroup == $p and (.attached | test("sockops"))'
}

@test "K8S_POD_UID, systemd layout (besteffort slice)" {
	POD_UID=0d1c6a8e-2222-4a2b-9c3d-aabbccddeeff
	make_pod a
	u=${POD_UID//-/_}
	d="$CGDIR/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$u.slice"
	mkdir -p "$d"
	uid_conf a
	run -0 mc_cni a ADD "$T/a.mc.json"
	ep_json a | jq -e --arg p "$d" '.cgroup == $p'
}

@test "K8S_POD_UID, guaranteed pod directly under kubepods" {
	POD_UID=0d1c6a8e-3333-4a2b-9c3d-aabbccddeeff
	make_pod a
	mkdir -p "$CGDIR/kubepods/pod$POD_UID"
	uid_conf a
	run -0 mc_cni a ADD "$T/a.mc.json"
	ep_json a | jq -e --arg p "$CGDIR/kubepods/pod$POD_UID" '.cgroup == $p'
}

@test "runtimeConfig.cgroupPath as a systemd slice name is expanded" {
	make_pod a
	d="$CGDIR/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podabc.slice"
	mkdir -p "$d"
	mc_conf a ".cgroupRoot = \"$CGDIR\" | .runtimeConfig.cgroupPath = \"kubepods-burstable-podabc.slice\""
	run -0 mc_cni a ADD "$T/a.mc.json"
	ep_json a | jq -e --arg p "$d" '.cgroup == $p'
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
