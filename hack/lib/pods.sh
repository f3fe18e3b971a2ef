# shellcheck shell=bash
# The one harness for pods on a namespace "node", used by the bats tests
# (test/integration/helpers.bash), the demo and the benchmark.
#
# A node is a network namespace holding the primary CNI's bridge or ptp
# host ends, with a bpffs root and a cgroup subtree of its own; pods are
# network namespaces (and cgroups) wired by the real primary plugin;
# meshcut is invoked exactly as a runtime runs the chain (CNI_* env, the
# entry plus the list's name and cniVersion, runtimeConfig, prevResult on
# stdin). node_cleanup removes everything it made and nothing else.
#
# Set ID (a short unique name) and T (a work directory), then node_init.
# Optional: PRIMARY (bridge|ptp), SUBNET, DUALSTACK=1, MC_EXTRA (JSON fields
# every meshcut entry gets), K8S_NS, POD_UID.

MC_REPO=${MC_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MESHCUT=${MESHCUT:-$MC_REPO/build/meshcut}
CNI_BIN=${CNI_BIN:-/usr/lib/cni}
CG_MNT=$(findmnt -n -t cgroup2 -o TARGET | head -1)

node_init() {
	NODE="$ID-node"
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

node_cleanup() {
	local p pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	# whatever still runs in our namespaces (servers' forked children, a
	# process started through a wrapper whose pid we kept) is ours
	for p in "${PODS[@]}"; do pod_stop "$p" || true; done
	# shellcheck disable=SC2046
	kill $(ip netns pids "$NODE" 2>/dev/null) 2>/dev/null || true
	for p in "${PODS[@]}"; do
		[ -f "$T/$p.mc.json" ] && mc_cni "$p" DEL "$T/$p.mc.json" >/dev/null 2>&1 || true
		[ -f "$T/$p.primary.json" ] && primary_cni "$p" DEL >/dev/null 2>&1 || true
		ip netns del "$ID-$p" 2>/dev/null || true
		cg_remove "$CGDIR/$p"
	done
	ip netns del "$NODE" 2>/dev/null || true
	[ -n "${BPFFS:-}" ] && rm -rf "$BPFFS" "$BPFFS-foreign"
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

# node_netfilter: what every Kubernetes node has: conntrack on, and bridged
# traffic through iptables (br_netfilter), both in the node netns
node_netfilter() {
	nsn sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
	nsn iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	nsn ip6tables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
}

# primary_conf POD: the primary plugin's network config
primary_conf() {
	local ranges
	ranges=$(jq -cn --arg s "${SUBNET:-10.77.0.0/24}" '[[{subnet: $s}]]')
	[ "${DUALSTACK:-0}" = 1 ] && ranges=$(jq -c '. + [[{subnet: "fd77::/64"}]]' <<<"$ranges")
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
	echo "CNI_COMMAND=$2 CNI_CONTAINERID=ctr-$1 CNI_NETNS=/var/run/netns/$ID-$1 CNI_IFNAME=eth0 CNI_PATH=$CNI_BIN CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=${K8S_NS:-default};K8S_POD_NAME=$1${POD_UID:+;K8S_POD_UID=$POD_UID}"
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

# mc_conf POD [JQ_FILTER]: meshcut's entry (with MC_EXTRA) and the
# primary's prevResult, into $T/POD.mc.json
mc_conf() {
	local pod=$1 filter=${2:-.} extra=${MC_EXTRA:-'{}'}
	jq --argjson prev "$(cat "$T/$pod.prev.json")" --arg root "$BPFFS" \
		--arg cg "$CGREL/$pod" --arg log "$T/meshcut.log" --argjson extra "$extra" \
		'{cniVersion:"1.0.0",name:"mcnet",type:"meshcut",bpffsRoot:$root,
		  logFile:$log,logLevel:"debug",
		  runtimeConfig:{cgroupPath:$cg},prevResult:$prev} + $extra | '"$filter" -n > "$T/$pod.mc.json"
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

# mc_add POD [JQ_FILTER]: meshcut ADD for a made pod; its result in $T/POD.out
mc_add() {
	mc_conf "$1" "${2:-.}"
	mc_cni "$1" ADD "$T/$1.mc.json" > "$T/$1.out"
}
# mc_del POD: meshcut DEL (the primary's stays)
mc_del() { mc_cni "$1" DEL "$T/$1.mc.json" && rm -f "$T/$1.mc.json"; }

# add_pod POD [JQ_FILTER]: make_pod, then mc_add
add_pod() {
	make_pod "$1"
	mc_add "$1" "${2:-.}"
}

pod_ip() { jq -r "[.ips[] | select(.address | test(\"${2:-\\\\.}\"))][0].address | split(\"/\")[0]" "$T/$1.prev.json"; }
pod_veth() { jq -r '.interfaces[] | select(.sandbox == null and (.name | startswith("veth"))) | .name' "$T/$1.prev.json"; }

# in_pod POD CMD...: run CMD in POD's netns and cgroup, as a container would
# (sockops sees only sockets of processes in the pod's cgroup). For a
# background server: in_pod POD CMD 3>&- & PIDS+=($!)
in_pod() {
	local pod=$1
	shift
	(echo "$BASHPID" > "$CGDIR/$pod/cgroup.procs" && exec nsenter --net="/var/run/netns/$ID-$pod" "$@")
}

# pod_stop POD: end every process in POD's netns (bounded wait)
pod_stop() {
	local _ pids
	for _ in $(seq 1 50); do
		pids=$(ip netns pids "$ID-$1" 2>/dev/null)
		[ -n "$pids" ] || return 0
		# shellcheck disable=SC2086
		kill $pids 2>/dev/null
		sleep 0.1
	done
	echo "pod $1: processes still running after 5 s" >&2
	return 1
}

# wait_listen POD PORT [tcp|udp]: until something listens on PORT in POD
# (bounded)
wait_listen() {
	local proto=${3:-tcp} _
	for _ in $(seq 1 50); do
		nsp "$1" ss -Hln"${proto:0:1}" "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

status_json() { "$MESHCUT" status --json --bpffs-root "$BPFFS"; }
# ep_json POD: the pod's endpoint from `meshcut status --json`; fails if none
ep_json() {
	local ep
	ep=$(status_json | jq --arg c "ctr-$1" '.endpoints[] | select(.containerID == $c)')
	[ -n "$ep" ] && echo "$ep"
}
# feature_on FEATURE: whether the node has the datapath feature on
feature_on() { status_json | jq -e --arg f "$1" '.node.features[$f].on' >/dev/null; }
