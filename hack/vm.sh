#!/usr/bin/env bash
# hack/vm.sh KERNEL [--timeout SECONDS] [--no-bpf-lsm] -- COMMAND...
#
# Boots a Debian stock kernel under qemu and runs COMMAND in this checkout,
# inside the guest, as root; prints what it printed and exits with its exit
# status. KERNEL is a Debian suite whose linux-image-amd64 to boot:
# bullseye (5.10), bookworm (6.1), trixie (6.12) or sid (newest).
#
# The guest runs this machine's own userspace: its / is this machine's /,
# shared read-only over 9p with a tmpfs overlay on top, so the build tree,
# the tools and the tests are the host's. Only the kernel and its modules
# are the guest's, from Debian's package (nothing is downloaded from
# anywhere else; the mirror is the one this machine's apt uses). KVM is used
# when a guest boots with it, TCG otherwise (nested KVM guests hang at boot
# on some VM kinds). A guest that has not finished by --timeout is killed
# and reported, never waited for. BPF LSM is on in the guest's lsm= unless
# --no-bpf-lsm. Cache: $MESHCUT_VM_CACHE (default /var/cache/meshcut-vm).
# docs/kernels.md says what runs where.
set -euo pipefail
# as root; a user with sudo may run it as is (a fresh Debian has no sudo)
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then exec sudo -E -- "$0" "$@"; fi
cd "$(dirname "$0")/.."
REPO=$PWD

usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
SUITE=$1
shift
TIMEOUT=1800
LSM=lockdown,capability,landlock,yama,apparmor,tomoyo,bpf
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) TIMEOUT=$2; shift 2 ;;
	--no-bpf-lsm) LSM=lockdown,capability,landlock,yama,apparmor,tomoyo; shift ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[ $# -ge 1 ] || usage
case $SUITE in bullseye | bookworm | trixie | sid) ;; *) echo "vm.sh: no such kernel: $SUITE (bullseye, bookworm, trixie, sid)" >&2; exit 2 ;; esac
for t in qemu-system-x86_64 busybox dpkg-deb depmod modprobe cpio; do
	command -v "$t" >/dev/null || { echo "vm.sh: $t missing (hack/deps.sh installs it)" >&2; exit 2; }
done

CACHE=${MESHCUT_VM_CACHE:-/var/cache/meshcut-vm}
K=$CACHE/$SUITE
mkdir -p "$K"
log() { echo "vm.sh: $*" >&2; }

# The Debian mirror this machine's apt already uses (its first URI).
mirror() {
	local u
	u=$(grep -h -m1 -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2; exit}')
	[ -n "$u" ] || u=$(grep -h -m1 -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; exit}}')
	[ -n "$u" ] || { log "no Debian mirror in this machine's apt sources"; return 1; }
	echo "${u%/}"
}

# fetch_kernel: the suite's linux-image-amd64 target, unpacked into $K/root,
# its modules indexed. A private sources list and state dir: the host's apt
# configuration and lists are not touched.
fetch_kernel() {
	local m apt pkg deb parts
	[ -s "$K/version" ] && [ -d "$K/root/lib/modules/$(cat "$K/version")" ] && return 0
	m=$(mirror)
	mkdir -p "$K/lists/partial" "$K/archives/partial" "$K/cache"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $m $SUITE main" > "$K/sources.list"
	apt=(-o "Dir::Etc::sourcelist=$K/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$K/lists"
		-o "Dir::Cache=$K/cache" -o "Dir::Cache::archives=$K/archives" -o APT::Get::List-Cleanup=0)
	log "fetching $SUITE's kernel from $m"
	apt-get "${apt[@]}" update -qq
	pkg=$(apt-cache "${apt[@]}" depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	[ -n "$pkg" ] || { log "no linux-image in $SUITE"; return 1; }
	# newer suites split the kernel (linux-binary-*) and its modules
	# (linux-modules-*) out of linux-image-*
	parts=$(apt-cache "${apt[@]}" depends "$pkg" | awk '/Depends: linux-(binary|modules)-[0-9]/ {print $2}')
	# shellcheck disable=SC2086 # one word per package
	(cd "$K" && rm -f ./*.deb && apt-get "${apt[@]}" download "$pkg" $parts >/dev/null)
	rm -rf "$K/root"
	for deb in "$K"/*.deb; do dpkg-deb -x "$deb" "$K/root"; done
	# trixie and later ship modules under /usr/lib (merged /usr)
	[ -d "$K/root/lib" ] || ln -s usr/lib "$K/root/lib"
	ls "$K/root/lib/modules" > "$K/version"
	depmod -b "$K/root" "$(cat "$K/version")"
	log "$pkg: $(cat "$K/version")"
}

# build_initramfs: busybox and the modules that mount the host's root
# (virtio, 9p, overlay), in the order modprobe would load them.
build_initramfs() {
	local v ir m f
	v=$(cat "$K/version")
	[ -s "$K/initrd.gz" ] && [ "$K/initrd.gz" -nt "$REPO/hack/vm.sh" ] && return 0
	ir=$(mktemp -d)
	mkdir -p "$ir"/{bin,dev,proc,sys,lib/mod,host,rw,newroot}
	cp "$(command -v busybox)" "$ir/bin/busybox"
	local -A seen=()
	local i=0 base
	for m in virtio_pci virtio_blk 9pnet_virtio 9p overlay; do
		for f in $(modprobe -d "$K/root" -S "$v" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}'); do
			[ -n "${seen[$f]:-}" ] && continue
			seen[$f]=1
			i=$((i + 1))
			base=${f##*/}
			base=${base%.xz}
			base=${base%.zst}
			case $f in
			*.xz) xz -dc "$f" ;;
			*.zst) zstd -qdc "$f" ;;
			*) cat "$f" ;;
			esac > "$ir/lib/mod/$(printf %03d "$i")-$base"
		done
	done
	cat > "$ir/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in /lib/mod/*.ko; do insmod "$m" 2>/dev/null; done
o=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$o,ro" hostroot /host || { echo "vm-init: cannot mount the host root"; poweroff -f; }
mount -t tmpfs -o size=6g tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot
mkdir -p /newroot/lib/modules /newroot/mnt/vmout
mount -t tmpfs tmpfs /newroot/lib/modules
mkdir -p "/newroot/lib/modules/$(uname -r)"
mount -t 9p -o "$o,ro" modules "/newroot/lib/modules/$(uname -r)"
mount -t 9p -o "$o" vmout /newroot/mnt/vmout
echo "vm-init: up, switching root"
exec switch_root /newroot /bin/bash /mnt/vmout/guest.sh
EOF
	chmod 755 "$ir/init"
	(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) > "$K/initrd.gz.tmp"
	mv "$K/initrd.gz.tmp" "$K/initrd.gz"
	rm -rf "$ir"
}

# boot ACCEL OUTDIR SECONDS: one guest run; 0 when it wrote its status
boot() {
	local accel=$1 out=$2 secs=$3 v cpu kernel
	v=$(cat "$K/version")
	cpu=max
	[ "$accel" = kvm ] && cpu=host,-arch-capabilities
	# One host thread for both vCPUs under TCG: with a thread per vCPU
	# (MTTCG), a vCPU can run code another one is live-patching (BPF
	# trampolines, text_poke_bp) and stop on a stale int3: trixie's
	# kernel oopsed so in bpf_lsm_file_permission twice in a session.
	[ "$accel" = tcg ] && accel=tcg,thread=single
	kernel=$K/root/boot/vmlinuz-$v
	[ -e "$kernel" ] || kernel=$K/root/lib/modules/$v/vmlinuz # newer suites
	timeout --kill-after=5 "$secs" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp 2 -m 8192 \
		-nographic -no-reboot -nic none \
		-kernel "$kernel" -initrd "$K/initrd.gz" \
		-append "console=ttyS0 panic=-1 rdinit=/init lsm=$LSM" \
		-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$K/root/lib/modules/$v,mount_tag=modules,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$out,mount_tag=vmout,security_model=none,multidevs=remap" \
		< /dev/null > "$out/console" 2>&1 || true
	[ -s "$out/status" ]
}

# The accelerator: KVM if a guest boots with it (tried once per host boot,
# with a short bound), else TCG.
accel() {
	local id probe
	id=$(cat /proc/sys/kernel/random/boot_id)
	if [ -n "${MESHCUT_VM_ACCEL:-}" ]; then echo "$MESHCUT_VM_ACCEL"; return; fi
	if [ -s "$CACHE/accel.$id" ]; then cat "$CACHE/accel.$id"; return; fi
	echo tcg > "$CACHE/accel.$id"
	if [ -w /dev/kvm ]; then
		probe=$(mktemp -d)
		guest_script "$probe" true
		if boot kvm "$probe" 30; then echo kvm > "$CACHE/accel.$id"; fi
		rm -rf "$probe"
	fi
	cat "$CACHE/accel.$id"
}

# guest_script OUTDIR COMMAND...: what PID 1 runs once the guest has the
# host's root: the mounts a node has, then COMMAND in the checkout
guest_script() {
	local out=$1
	shift
	printf '%q ' "$@" > "$out/cmd"
	cat > "$out/guest.sh" <<EOF
#!/bin/bash
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /run
mkdir -p /run/netns /run/lock
# /tmp stays the overlay's: a checkout may live under it
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mount -t bpf bpf /sys/fs/bpf
mount -t tmpfs tmpfs /sys/fs/cgroup
mkdir -p /sys/fs/cgroup/unified
mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
echo /sbin/modprobe > /proc/sys/kernel/modprobe
# what a Kubernetes node has loaded (kube-proxy, the bridge CNI plugin)
modprobe -a br_netfilter veth bridge nf_conntrack sch_ingress cls_bpf 2>/dev/null
ip link set lo up
hostname meshcut-vm
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=\${CI:-} MESHCUT_VM=1
cd $(printf '%q' "$REPO")
echo "vm-guest: kernel \$(uname -r), lsm \$(cat /sys/kernel/security/lsm 2>/dev/null)"
bash -c "\$(cat /mnt/vmout/cmd)" < /dev/null 2>&1 | tee /mnt/vmout/output
echo "\${PIPESTATUS[0]}" > /mnt/vmout/status
sync
echo o > /proc/sysrq-trigger
sleep 10
EOF
}

fetch_kernel
build_initramfs
A=$(accel)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
guest_script "$OUT" "$@"
log "booting $SUITE $(cat "$K/version") ($A), at most ${TIMEOUT}s"
start=$(date +%s)
if ! boot "$A" "$OUT" "$TIMEOUT"; then
	cat "$OUT/output" 2>/dev/null || true
	# a crash: the kernel's report from its first line (an oops names
	# the function that faulted and its call trace); else the last lines
	first=$(grep -nE 'BUG:|Oops|general protection|WARNING:|Kernel panic' "$OUT/console" | head -1 | cut -d: -f1)
	if [ -n "$first" ]; then
		log "the guest crashed; its console from the kernel's first report:"
		sed -n "${first},\$p" "$OUT/console" | head -80 >&2
	else
		log "the guest did not finish within ${TIMEOUT}s; its console's last lines:"
		tail -20 "$OUT/console" >&2
	fi
	exit 124
fi
cat "$OUT/output"
log "$SUITE $(cat "$K/version") ($A): exit $(cat "$OUT/status") after $(($(date +%s) - start))s"
exit "$(cat "$OUT/status")"
