#!/usr/bin/env bats
# deploy/Dockerfile: the image builds from Debian's archive alone, and the
# binary it ships (the one its init container copies onto the node) is
# static and works as the node's CNI plugin.
#
# Built with podman into a store of the test's own, on bases made by
# debootstrap (hack/image.sh --debootstrap-base): CI reaches Debian's
# mirror but no container registry, and no other image is touched.

bats_require_minimum_version 1.5.0

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_file() {
	# (bats 1.8 takes a skip in setup_file for a failure: each test skips
	# in setup with the reason instead)
	# a guest of hack/vm.sh has no network, and the image does not depend
	# on the kernel: it is built and tested on the host
	if [ -n "${MESHCUT_VM:-}" ]; then
		export IMG_SKIP="the image build needs Debian's mirror; a hack/vm.sh guest has no network"
		return 0
	fi
	if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
		export IMG_SKIP="podman and debootstrap not installed (hack/deps.sh installs them)"
		return 0
	fi
	# podman wants its runroot path under 50 characters: a short dir of
	# our own, not under bats' temp dir
	STORE=$(mktemp -d /tmp/mc-img.XXXXXX)
	export STORE
	export ENGINE="podman --root $STORE/root --runroot $STORE/run"
	export IMG=localhost/meshcut:test
	export IMG_BIN="$BATS_FILE_TMPDIR/meshcut"
	if ! "$REPO/hack/image.sh" --debootstrap-base -t "$IMG" > "$BATS_FILE_TMPDIR/build.log" 2>&1; then
		tail -40 "$BATS_FILE_TMPDIR/build.log" >&3
		return 1
	fi
	# the binary, as the init container's `meshcut install` finds itself
	local cid
	cid=$($ENGINE create "$IMG")
	$ENGINE cp "$cid:/usr/local/bin/meshcut" "$IMG_BIN"
	$ENGINE rm "$cid" >/dev/null
}

teardown_file() {
	[ -n "${STORE:-}" ] && [ -d "$STORE" ] || return 0
	$ENGINE rmi -a -f >/dev/null 2>&1 || true
	# the store's own bind mount, if podman left it
	if mountpoint -q "$STORE/root/overlay"; then umount "$STORE/root/overlay"; fi
	rm -rf --one-file-system "$STORE"
}

setup() {
	[ -z "${IMG_SKIP:-}" ] || skip "$IMG_SKIP"
	[ -x "${IMG_BIN:-}" ] || skip "image not built"
}

teardown() {
	[ -n "${NODE:-}" ] && mc_teardown
	return 0
}

@test "image: runs meshcut, and its binary is static and stamped with the tree's version" {
	run -0 $ENGINE image inspect "$IMG" --format '{{json .Config.Entrypoint}}'
	[ "$output" = '["/usr/local/bin/meshcut"]' ]
	run ldd "$IMG_BIN"
	[[ "$output" == *"not a dynamic executable"* ]]
	run -0 "$IMG_BIN" version
	[ "$output" = "meshcut $(git -C "$REPO" describe --always --dirty)" ]
}

@test "image: the final stage has the probe's shell and none of the build" {
	mnt=$($ENGINE image mount "$IMG")
	[ -x "$mnt/bin/sh" ]               # the readiness probe's
	[ ! -e "$mnt/src" ]                # no sources
	[ ! -e "$mnt/usr/bin/clang" ]      # no toolchain
	[ ! -e "$mnt/usr/bin/gcc" ]
	$ENGINE image unmount "$IMG" >/dev/null
}

@test "image: its binary runs pods on a real chain (ADD, traffic, DEL, nothing left)" {
	MESHCUT=$IMG_BIN
	mc_setup
	require_feature packet conntrack-gate socket
	before=$(state_snapshot)
	add_pod a
	add_pod b
	diff <(jq -S . "$T/a.prev.json") <(jq -S . "$T/a.out")
	tc_progs "$(pod_veth a)" | grep -qx "$(prog_id mc_tc_ingress)"
	ep_json a | jq -e '.state == "ready"'
	run -0 nsp a ping -c 3 -i 0.2 -W 2 "$(pod_ip b)"
	ep_json a | jq -e '.packet.seenPackets >= 3'
	mc_cni a DEL "$T/a.mc.json"
	mc_cni b DEL "$T/b.mc.json"
	[ "$(state_snapshot)" = "$before" ]
}
