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
TOOLS=${TOOLS:-$BATS_TEST_DIRNAME/../../build/test}
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
	# whatever still runs in our namespaces (servers' forked children, a
	# process started through a wrapper whose pid we kept) is ours
	for p in "${PODS[@]}"; do
		# shellcheck disable=SC2046
		kill $(ip netns pids "$ID-$p" 2>/dev/null) 2>/dev/null || true
	done
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

# keys of a pinned map, "[]" before the node is loaded; a name the loaded
# node does not have is an error (a renamed map must not make a check pass)
map_keys() {
	if [ -e "$BPFFS/maps/$1" ]; then
		bpftool -j map dump pinned "$BPFFS/maps/$1" | jq -c '[.[].key]'
	elif [ -d "$BPFFS/maps" ]; then
		echo "map_keys: no map $1 under $BPFFS/maps" >&2
		return 1
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

# require_feature FEATURE...: skip, with the node's own reason, unless each
# datapath feature is on (docs/features.md). Loads the node under this
# test's bpffs root (CNI STATUS), as its first ADD would, with the same
# MESHCUT_REFUSE.
require_feature() {
	local f why
	jq -n --arg root "$BPFFS" '{cniVersion:"1.1.0",name:"mcnet",type:"meshcut",bpffsRoot:$root}' > "$T/feature-probe.json"
	mc_node STATUS "$T/feature-probe.json" >/dev/null 2>&1 || true
	for f in "$@"; do
		why=$(status_json | jq -r --arg f "$f" \
			'(.node.features[$f] // {summary: ($f + ": the node is not loaded")}) | if .on then "" else .summary end')
		[ -z "$why" ] || skip "$why"
	done
}

# feature_on FEATURE: whether this test's loaded node has the feature on
feature_on() { status_json | jq -e --arg f "$1" '.node.features[$f].on' >/dev/null; }

require_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }

# --- traffic ---------------------------------------------------------------

# node_netfilter: what every Kubernetes node has: conntrack on, and bridged
# traffic through iptables (br_netfilter), both in the test's node netns
node_netfilter() {
	nsn sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
	nsn iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	nsn ip6tables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
}

# echo_server POD PORT [udp]: echo on every address of POD, v4 and v6
echo_server() {
	local pod=$1 port=$2 proto=${3:-tcp}
	# nsenter execs socat: $! is the server itself; fd 3 is bats' own
	if [ "$proto" = udp ]; then
		nsenter --net="/var/run/netns/$ID-$pod" socat -T5 UDP6-RECVFROM:"$port",fork,ipv6only=0 PIPE 3>&- &
	else
		nsenter --net="/var/run/netns/$ID-$pod" socat -T10 TCP6-LISTEN:"$port",fork,reuseaddr,ipv6only=0 PIPE 3>&- &
	fi
	PIDS+=($!)
	wait_listen "$pod" "$port" "$proto"
}

# sockaddr IP PORT: socat's form of an address
sockaddr() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

# tcp_echo FROM IP PORT BYTES: send BYTES random bytes through the echo
# server and compare what comes back, byte for byte
tcp_echo() {
	local from=$1 ip=$2 port=$3 n=$4
	head -c "$n" /dev/urandom > "$T/send"
	nsp "$from" timeout 20 socat -t5 -T5 - "TCP:$(sockaddr "$ip" "$port")" < "$T/send" > "$T/recv"
	cmp "$T/send" "$T/recv"
}

# udp_echo FROM IP PORT N: N datagrams, 50 ms apart, one flow; all echoed
udp_echo() {
	local from=$1 ip=$2 port=$3 n=$4 got
	got=$(for i in $(seq 1 "$n"); do echo "datagram $i"; sleep 0.05; done |
		nsp "$from" timeout 20 socat -t1 -T2 - "UDP:$(sockaddr "$ip" "$port")" | wc -l)
	[ "$got" -eq "$n" ]
}

# pkt POD FIELD: one of the pod's packet counters
pkt() { ep_json "$1" | jq -r ".packet.$2"; }

# ipt_count NETNS_CMD TABLE_CMD COMMENT [CHAIN [TABLE]]: packets counted by
# the rule carrying that comment (a rule without target only counts)
ipt_count() {
	local run=$1 cmd=$2 tag=$3
	$run "$cmd" -w -t "${5:-filter}" -nvxL "${4:-FORWARD}" |
		awk -v t="/* $tag */" 'index($0, t) { print $1; exit }'
}

# --- other plugins' tc work ------------------------------------------------

# foreign_tc tcx|legacy POD ingress|egress: "another plugin's" counting
# program on POD's host veth; its counter is read with foreign_count
foreign_tc() {
	mkdir -p "$BPFFS-foreign/$2-$3"
	nsn "$TOOLS/tc-foreign" "$TOOLS/foreign.bpf.o" "$1" "$(pod_veth "$2")" "$3" "$BPFFS-foreign/$2-$3"
}
foreign_count() { # the u64 counter, from bpftool's little-endian bytes
	printf '%d\n' "0x$(bpftool -j map lookup pinned "$BPFFS-foreign/$1-$2/count" key 0 0 0 0 |
		jq -r '.value | reverse | map(ltrimstr("0x")) | join("")')"
}

# bandwidth_pod POD JSON_LIMITS: chain the CNI bandwidth plugin after the
# primary, as a conflist with bandwidth before meshcut does
bandwidth_pod() {
	local pod=$1 limits=$2
	jq -n --argjson p "$(cat "$T/$pod.prev.json")" --argjson l "$limits" \
		'{cniVersion:"1.0.0",name:"mcnet",type:"bandwidth",prevResult:$p} + $l' > "$T/$pod.bw.json"
	# shellcheck disable=SC2046
	env $(cni_env "$pod" ADD) nsenter --net="/var/run/netns/$NODE" "$CNI_BIN/bandwidth" \
		< "$T/$pod.bw.json" > "$T/$pod.prev.bw.json"
	mv "$T/$pod.prev.bw.json" "$T/$pod.prev.json"
}

# iperf_mbps FROM IP: a 2-second TCP stream FROM -> IP, received Mbit/s
iperf_mbps() {
	nsp "$1" timeout 15 iperf3 -c "$2" -t 2 -J | jq '.end.sum_received.bits_per_second / 1e6 | floor'
}

# in_pod POD CMD...: run CMD in POD's netns and cgroup, as a container would
# (sockops sees only sockets of processes in the pod's cgroup). For a
# background server: in_pod POD CMD 3>&- & PIDS+=($!)
in_pod() {
	local pod=$1
	shift
	(echo "$BASHPID" > "$CGDIR/$pod/cgroup.procs" && exec nsenter --net="/var/run/netns/$ID-$pod" "$@")
}

ECHO=$BATS_TEST_DIRNAME/../tools/mc-echo.py

# server POD ADDR PORT [SUBCOMMAND]: an mc-echo.py server (serve, or hold,
# inq, drain, ...) in POD's netns and cgroup, listening when this returns
server() {
	in_pod "$1" python3 "$ECHO" "${4:-serve}" "$2" "$3" > /dev/null 3>&- &
	PIDS+=($!)
	wait_listen "$1" "$3"
}

# sock POD FIELD: a socket shortcut counter of POD
sock() { ep_json "$1" | jq -r ".socket.$2"; }

# wait_listen POD PORT [tcp|udp]: until something listens on PORT in POD
# (bounded)
wait_listen() {
	local proto=${3:-tcp} i
	for i in $(seq 1 50); do
		nsp "$1" ss -Hln"${proto:0:1}" "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}
