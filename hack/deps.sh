#!/usr/bin/env bash
# Install what meshcut needs to build, test and run its demo, from Debian's
# packages. Idempotent: installs only what is missing. Also mounts bpffs if
# the machine has none (the DaemonSet's installer does that on a node).
#   --build   only what `make` and `make static` need (the image's build stage)
set -euo pipefail

build_pkgs=(
	make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcjson-dev
	libzstd-dev dpkg-dev git ca-certificates
)
test_pkgs=(
	libcmocka-dev pkg-config
	iproute2 iptables iputils-ping jq bats socat python3 util-linux conntrack iperf3 sockperf
	haproxy nginx-light curl gnuplot-nox wrk
	containernetworking-plugins cppcheck clang-tidy shellcheck
	podman debootstrap python3-prometheus-client
	qemu-system-x86 busybox-static kmod cpio xz-utils zstd
)

if [ "$(id -u)" -ne 0 ]; then
	echo "hack/deps.sh: run as root (it uses apt-get and mounts bpffs)" >&2
	exit 1
fi

build_only=false
[ "${1:-}" = --build ] && build_only=true
pkgs=("${build_pkgs[@]}")
$build_only || pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# haproxy and nginx are run by the tests inside pods only: keep their
	# packages from starting them on the host (policy-rc.d, ours only)
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

$build_only && exit 0

# The manifest validator (test/deploy) runs on node, from the npm registry.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "installing: nodejs npm"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
deploy_dir=$(cd "$(dirname "$0")/../test/deploy" && pwd)
if [ ! -d "$deploy_dir/node_modules" ] || [ "$deploy_dir/package-lock.json" -nt "$deploy_dir/node_modules" ]; then
	(cd "$deploy_dir" && npm ci --silent --no-audit --no-fund && touch node_modules)
fi

if ! mount -t bpf | grep -q ' /sys/fs/bpf '; then
	mount -t bpf bpf /sys/fs/bpf
fi
