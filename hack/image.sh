#!/usr/bin/env bash
# Build the meshcut image from deploy/Dockerfile.
#
#   hack/image.sh [-t TAG] [--debootstrap-base]
#
# The engine is docker if it answers, else podman; ENGINE overrides it
# (e.g. ENGINE="podman --root DIR --runroot DIR" for a store of one's own).
# The version baked in is `git describe` of the work tree.
#
# --debootstrap-base: build the bases (debian:12 and debian:12-slim) from
# Debian's archive with debootstrap and import them into the engine, for a
# machine that reaches Debian's mirror but no container registry (as CI
# does). Both tags get the same minbase root; the official images are built
# from the same archive. Never use it with a store that holds real images:
# it replaces those two tags there.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=""
base=false
while [ $# -gt 0 ]; do
	case $1 in
	-t) tag=$2; shift 2 ;;
	--debootstrap-base) base=true; shift ;;
	*) echo "usage: hack/image.sh [-t TAG] [--debootstrap-base]" >&2; exit 2 ;;
	esac
done

version=$(git describe --always --dirty 2>/dev/null || echo dev)
tag=${tag:-meshcut:$version}
if [ -z "${ENGINE:-}" ]; then
	if docker info >/dev/null 2>&1; then ENGINE=docker; else ENGINE=podman; fi
fi
read -ra engine <<<"$ENGINE"
build_opts=()
if [ "${engine[0]}" = podman ]; then
	# RUN steps in a chroot: no OCI runtime, so hosts whose cgroup layout
	# or limits the runtime refuses (hybrid cgroups here) build as well
	build_opts+=(--isolation=chroot)
fi

if $base; then
	root=$(mktemp -d)
	# debootstrap mounts /proc, /sys (and may bind /dev) in the root and
	# unmounts them when it exits; should it be killed, never delete
	# through a mount that is left: unmount first, stay on one filesystem
	cleanup() {
		findmnt -rn -o TARGET | awk -v r="$root/" 'index($0, r) == 1' | sort -r |
			while read -r m; do umount -l "$m" || true; done
		rm -rf --one-file-system "$root" "$root.log"
	}
	trap cleanup EXIT
	echo "debootstrap: bookworm minbase"
	debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$root.log" 2>&1 || {
		tail -20 "$root.log" >&2
		exit 1
	}
	rm -f "$root/etc/apt/sources.list"
	# what the official image carries: deb822 sources with security updates
	cat >"$root/etc/apt/sources.list.d/debian.sources" <<-'SOURCES'
	Types: deb
	URIs: http://deb.debian.org/debian
	Suites: bookworm bookworm-updates
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

	Types: deb
	URIs: http://deb.debian.org/debian-security
	Suites: bookworm-security
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	SOURCES
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
	tar -C "$root" -c . | "${engine[@]}" import - docker.io/library/debian:12 >/dev/null
	"${engine[@]}" tag docker.io/library/debian:12 docker.io/library/debian:12-slim
	build_opts+=(--pull=never)
fi

"${engine[@]}" build "${build_opts[@]}" -f deploy/Dockerfile --build-arg VERSION="$version" -t "$tag" .
echo "built $tag"
