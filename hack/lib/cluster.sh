# shellcheck shell=bash
# A namespace "cluster" for the demo and the benchmark: one node (a network
# namespace holding the bridge), pods (network namespaces with their own
# cgroups) wired by the real bridge CNI plugin, meshcut chained after it and
# run exactly as libcni runs a chain. Source it, set ID, call cluster_init.
# Everything it makes is removed by cluster_cleanup, nothing else is touched.

CNI_BIN=${CNI_BIN:-/usr/lib/cni}
MESHCUT=${MESHCUT:-$PWD/build/meshcut}

nsn() { nsenter --net="/var/run/netns/$NODE" "$@"; }
nsp() { local p=$1; shift; nsenter --net="/var/run/netns/$ID-$p" "$@"; }

# cluster_init SUBNET [MESHCUT_FIELDS_JSON]: node netns, cgroup, conflist
cluster_init() {
	local subnet=$1 extra=${2:-'{}'}
	NODE=$ID-node
	BPFFS=/sys/fs/bpf/$ID
	CG=$(findmnt -n -t cgroup2 -o TARGET | head -1)/$ID
	WORK=$(mktemp -d)
	CLUSTER_PODS=()
	ip netns add "$NODE"
	nsn ip link set lo up
	# what a Kubernetes node has: conntrack, bridged traffic through iptables
	nsn sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
	nsn iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	mkdir -p "$CG"
	# The chain a runtime would read from /etc/cni/net.d: bridge, then meshcut.
	jq -n --arg d "$WORK/ipam" --arg s "$subnet" --arg br "${ID:0:10}br" --arg root "$BPFFS" \
		--arg log "$WORK/meshcut.log" --argjson extra "$extra" '
		{cniVersion: "1.0.0", name: "cluster", plugins: [
		  {type: "bridge", bridge: $br, isGateway: true, ipMasq: false,
		   ipam: {type: "host-local", dataDir: $d, ranges: [[{subnet: $s}]]}},
		  ({type: "meshcut", bpffsRoot: $root, logFile: $log, logLevel: "info",
		    capabilities: {cgroupPath: true}} + $extra)]}' > "$WORK/chain.conflist"
}

# run_plugin CMD POD INDEX [PREV_RESULT_FILE]: plugin INDEX of the chain for
# POD, as libcni runs it: the entry plus the list's name and cniVersion,
# runtimeConfig for its capabilities, the previous result as prevResult
run_plugin() {
	local cmd=$1 pod=$2 i=$3 prev=${4:-} conf type bin
	conf=$(jq --argjson i "$i" --arg cg "/$ID/$pod" '
		.plugins[$i] + {cniVersion, name}
		| if .capabilities.cgroupPath then .runtimeConfig = {cgroupPath: $cg} else . end' "$WORK/chain.conflist")
	[ -n "$prev" ] && conf=$(jq --slurpfile p "$prev" '.prevResult = $p[0]' <<<"$conf")
	type=$(jq -r .type <<<"$conf")
	bin=$CNI_BIN/$type
	[ "$type" = meshcut ] && bin=$MESHCUT
	CNI_COMMAND=$cmd CNI_CONTAINERID=$ID-$pod CNI_NETNS=/var/run/netns/$ID-$pod CNI_IFNAME=eth0 \
		CNI_PATH=$CNI_BIN CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=$ID;K8S_POD_NAME=$pod" \
		nsn "$bin" <<<"$conf"
}

# pod_create POD: netns, cgroup, primary ADD (result in $WORK/POD.primary)
pod_create() {
	local p=$1
	CLUSTER_PODS+=("$p")
	ip netns add "$ID-$p"
	nsp "$p" ip link set lo up
	mkdir -p "$CG/$p"
	run_plugin ADD "$p" 0 > "$WORK/$p.primary"
}
# meshcut_add / meshcut_del POD: the chained meshcut entry alone
meshcut_add() { run_plugin ADD "$1" 1 "$WORK/$1.primary" > "$WORK/$1.result"; }
meshcut_del() { run_plugin DEL "$1" 1 "$WORK/$1.primary"; rm -f "$WORK/$1.result"; }

pod_ip() { jq -r '.ips[0].address | split("/")[0]' "$WORK/$1.primary"; }
pod_veth() { jq -r '.interfaces[] | select(.sandbox == null and (.name | startswith("veth"))) | .name' "$WORK/$1.primary"; }
# in_pod POD CMD...: run CMD in POD's netns and cgroup, as a container would
in_pod() {
	local p=$1
	shift
	( echo $BASHPID > "$CG/$p/cgroup.procs"; exec nsenter --net="/var/run/netns/$ID-$p" "$@" )
}

# pod_stop POD: end every process in POD's netns (bounded wait)
pod_stop() {
	local i pids
	for i in $(seq 1 50); do
		pids=$(ip netns pids "$ID-$1" 2>/dev/null)
		[ -n "$pids" ] || return 0
		# shellcheck disable=SC2086
		kill $pids 2>/dev/null
		sleep 0.1
	done
	echo "pod $1: processes still running after 5 s" >&2
	return 1
}

cluster_cleanup() {
	local p
	set +e
	for p in "${CLUSTER_PODS[@]}"; do
		pod_stop "$p"
		[ -f "$WORK/$p.result" ] && meshcut_del "$p" >/dev/null 2>&1
		[ -f "$WORK/$p.primary" ] && run_plugin DEL "$p" 0 "$WORK/$p.primary" >/dev/null 2>&1
		ip netns del "$ID-$p" 2>/dev/null
		rmdir "$CG/$p" 2>/dev/null
	done
	ip netns del "$NODE" 2>/dev/null
	rm -rf "$BPFFS" "$WORK"
	rmdir "$CG" 2>/dev/null
}
