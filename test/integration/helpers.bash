# shellcheck shell=bash
# Test harness: each test gets its own "node" (a network namespace with the
# primary CNI's bridge or ptp host ends in it), its own bpffs root and its
# own cgroup subtree; pods are network namespaces wired by the real
# primary plugin; meshcut is invoked exactly as a runtime does (CNI_* env,
# JSON on stdin). Everything is removed in teardown, even on failure, and
# nothing the test did not create is touched.

MESHCUT=${MESHCUT:-$BATS_TEST_DIRNAME/../../build/meshcut}
CNI_BIN=${CNI_BIN:-/usr/lib/cni}
TCXQ=${TCXQ:-$BATS_TEST_DIRNAME/../../build/test/tcx-query}
CG_MNT=$(findmnt -n -t cgroup2 -o TARGET | head -1)

mc_setup() {
	ID="mc$$${BATS_TEST_NUMBER}"
	NODE="$ID-node"
	T="$BATS_TEST_TMPDIR"
	BPFFS="/sys/fs/bpf/$ID"
	CGREL="/$ID"
	CGDIR="$CG_MNT$CGREL"
	PODS=()
	PIDS=()
	PRIMARY=${PRIMARY:-bridge}
	ip netns add "$NODE"
	nsn ip link set lo up
	mkdir -p "$CGDIR" "$T/ipam"
}

mc_teardown() {
	local p pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	for p in "${PODS[@]}"; do
		[ -f "$T/$p.mc.json" ] && mc_cni "$p" DEL "$T/$p.mc.json" >/dev/null 2>&1 || true
		[ -f "$T/$p.primary.json" ] && primary_cni "$p" DEL >/dev/null 2>&1 || true
		ip netns del "$ID-$p" 2>/dev/null || true
		cg_remove "$CGDIR/$p"
	done
	ip netns del "$NODE" 2>/dev/null || true
	[ -n "${BPFFS:-}" ] && rm -rf "$BPFFS"
	cg_remove "$CGDIR"
}

# rmdir a cgroup tree bottom up, after moving any process left out of it
cg_remove() {
	local d=$1
	[ -d "$d" ] || return 0
	find "$d" -depth -type d | while read -r sub; do
		while read -r pid; do
			[ -n "$pid" ] && echo "$pid" > "$CG_MNT/cgroup.procs" 2>/dev/null || true
		done < "$sub/cgroup.procs"
		rmdir "$sub" 2>/dev/null || true
	done
}

nsn() { nsenter --net="/var/run/netns/$NODE" "$@"; }
nsp() { local p=$1; shift; nsenter --net="/var/run/netns/$ID-$p" "$@"; }

# primary_conf POD: the primary plugin's network config
primary_conf() {
	local ranges='[[{"subnet":"10.77.0.0/24"}]]'
	[ "${DUALSTACK:-0}" = 1 ] && ranges='[[{"subnet":"10.77.0.0/24"}],[{"subnet":"fd77::/64"}]]'
	if [ "$PRIMARY" = ptp ]; then
		jq -n --arg d "$T/ipam" --argjson r "$ranges" \
			'{cniVersion:"1.0.0",name:"mcnet",type:"ptp",ipMasq:false,
			  ipam:{type:"host-local",dataDir:$d,ranges:$r}}'
	else
		jq -n --arg d "$T/ipam" --argjson r "$ranges" \
			'{cniVersion:"1.0.0",name:"mcnet",type:"bridge",bridge:"mcbr0",isGateway:true,ipMasq:false,
			  ipam:{type:"host-local",dataDir:$d,ranges:$r}}'
	fi
}

cni_env() { # POD CMD
	echo "CNI_COMMAND=$2 CNI_CONTAINERID=ctr-$1 CNI_NETNS=/var/run/netns/$ID-$1 CNI_IFNAME=eth0 CNI_PATH=$CNI_BIN CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$1${POD_UID:+;K8S_POD_UID=$POD_UID}"
}

primary_cni() { # POD CMD
	# shellcheck disable=SC2046
	env $(cni_env "$1" "$2") nsenter --net="/var/run/netns/$NODE" "$CNI_BIN/$PRIMARY" < "$T/$1.primary.json"
}

# mc_cni POD CMD CONF_FILE [extra env...]: run meshcut as a runtime would
mc_cni() {
	local pod=$1 cmd=$2 conf=$3
	shift 3
	# shellcheck disable=SC2046
	env $(cni_env "$pod" "$cmd") "$@" nsenter --net="/var/run/netns/$NODE" "$MESHCUT" < "$conf"
}

# mc_node CMD CONF_FILE: a verb without a container (GC, STATUS)
mc_node() { env CNI_COMMAND="$1" CNI_PATH="$CNI_BIN" nsenter --net="/var/run/netns/$NODE" "$MESHCUT" < "$2"; }

# mc_conf POD [JQ_FILTER]: meshcut's config with the primary's prevResult
mc_conf() {
	local pod=$1 filter=${2:-.}
	jq --argjson prev "$(cat "$T/$pod.prev.json")" --arg root "$BPFFS" \
		--arg cg "$CGREL/$pod" --arg log "$T/meshcut.log" \
		'{cniVersion:"1.0.0",name:"mcnet",type:"meshcut",bpffsRoot:$root,
		  logFile:$log,logLevel:"debug",
		  runtimeConfig:{cgroupPath:$cg},prevResult:$prev} | '"$filter" -n > "$T/$pod.mc.json"
}

# make_pod POD: netns + cgroup + primary ADD; prevResult in $T/POD.prev.json
make_pod() {
	local pod=$1
	PODS+=("$pod")
	ip netns add "$ID-$pod"
	nsp "$pod" ip link set lo up
	mkdir -p "$CGDIR/$pod"
	primary_conf "$pod" > "$T/$pod.primary.json"
	primary_cni "$pod" ADD > "$T/$pod.prev.json"
	jq -e .ips "$T/$pod.prev.json" >/dev/null
}

# add_pod POD [JQ_FILTER]: make_pod, then meshcut ADD; output in $T/POD.out
add_pod() {
	make_pod "$1"
	mc_conf "$1" "${2:-.}"
	mc_cni "$1" ADD "$T/$1.mc.json" > "$T/$1.out"
}

pod_ip() { jq -r "[.ips[] | select(.address | test(\"${2:-\\\\.}\"))][0].address | split(\"/\")[0]" "$T/$1.prev.json"; }
pod_veth() { jq -r '.interfaces[] | select(.sandbox == null and (.name | startswith("veth"))) | .name' "$T/$1.prev.json"; }

status_json() { "$MESHCUT" status --json --bpffs-root "$BPFFS"; }
# ep_json POD: the pod's endpoint from `meshcut status --json`; fails if none
ep_json() {
	local ep
	ep=$(status_json | jq --arg c "ctr-$1" '.endpoints[] | select(.containerID == $c)')
	[ -n "$ep" ] && echo "$ep"
}

# Everything meshcut made for this test, as text: pins, links, attachments,
# map entries. Compared before/after to prove DEL leaves nothing.
state_snapshot() {
	echo "## pins"; find "$BPFFS/endpoints" -mindepth 1 2>/dev/null | sort
	echo "## endpoint records"; map_keys mc_endpoints_v1
	echo "## datapath"; map_keys mc_dp_v1
	echo "## veth refs"; map_keys mc_veth_v1
	echo "## netns refs"; map_keys mc_netns_v1
	echo "## links of our programs"; our_links
	echo "## clsact on node links"; nsn tc qdisc show | grep -c clsact || true
}

# keys of a pinned map, "[]" when it does not exist (yet)
map_keys() {
	if [ -e "$BPFFS/maps/$1" ]; then
		bpftool -j map dump pinned "$BPFFS/maps/$1" | jq -c '[.[].key]'
	else
		echo '[]'
	fi
}

# ids of kernel links that run meshcut's node programs
our_links() {
	local ids
	ids=$(for p in "$BPFFS"/progs/*; do [ ! -e "$p" ] || bpftool -j prog show pinned "$p" | jq -r .id; done)
	for id in $ids; do bpftool -j link show | jq -r --argjson id "$id" '.[] | select(.prog_id == $id) | .id'; done | sort
	return 0
}

# program ids on a veth's tcx ingress in the node netns, from the kernel
tcx_progs() { nsn "$TCXQ" "$1" ingress; }
prog_id() { bpftool -j prog show pinned "$BPFFS/progs/$1" | jq -r .id; }

require_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }
