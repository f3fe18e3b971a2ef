# shellcheck shell=bash
# Test harness: each test gets its own node, bpffs root and cgroup subtree
# (hack/lib/pods.sh, the harness the demo and the benchmark use too), made
# in setup and removed in teardown, even on failure; nothing the test did
# not create is touched. Below: what only the tests need.

# shellcheck source=hack/lib/pods.sh
. "$BATS_TEST_DIRNAME/../../hack/lib/pods.sh"
TCXQ=${TCXQ:-$BATS_TEST_DIRNAME/../../build/test/tcx-query}
TOOLS=${TOOLS:-$BATS_TEST_DIRNAME/../../build/test}

mc_setup() {
	ID="mc$$${BATS_TEST_NUMBER}"
	T="$BATS_TEST_TMPDIR"
	node_init
}

mc_teardown() { node_cleanup; }

# Everything meshcut made for this test, as text: pins, links, attachments,
# map entries. Compared before/after to prove DEL leaves nothing.
state_snapshot() {
	echo "## pins"; find "$BPFFS/endpoints" -mindepth 1 2>/dev/null | sort
	echo "## endpoint records"; map_keys mc_endpoints_v1
	echo "## datapath"; map_keys mc_dp_v1
	echo "## veth refs"; map_keys mc_veth_v2
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
# (nothing where the kernel has no tcx: 6.1 and older)
tcx_progs() { nsn "$TCXQ" "$1" ingress 2>/dev/null || true; }
# every BPF program on a veth's ingress: tcx first, then clsact filters
# (where the kernel has no tcx, meshcut attaches such a filter)
tc_progs() {
	tcx_progs "$1"
	nsn tc filter show dev "$1" ingress 2>/dev/null | sed -n 's/.* id \([0-9][0-9]*\) .*/\1/p'
}
# require_tcx: skip, with the kernel's answer, where it has no tcx
require_tcx() {
	local why
	why=$(nsn "$TCXQ" lo ingress 2>&1 >/dev/null) || skip "the kernel has no tcx ($why)"
}
prog_id() { bpftool -j prog show pinned "$BPFFS/progs/$1" | jq -r .id; }
no_tc_progs() { [ -z "$(tc_progs "$1")" ]; }
# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds, bounded
# (for what finishes after a call returned: an agent's work, a datagram's
# echo, a link unpinned by hand, which a kernel worker releases after an
# RCU grace period); fails if CMD never did
wait_for() {
	local s=$1 i
	shift
	for i in $(seq 1 $((s * 10))); do "$@" && return 0; sleep 0.1; done
	return 1
}

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

require_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }

# sock_redirect_conf: the jq filter that turns socketRedirect on, for the
# socket shortcut's tests (call after require_feature). Sockets of two
# pods pair only where the host's conntrack revocations reach them
# (socket-revoke): on a node without it the tests say socketRevoke
# optional (no test of theirs revokes; policy.bats and features.bats test
# both settings). spliceGuard optional: these tests have no splice(2)
# reader, and must run on kernels that cannot attach the guard
# (socket.bats tests the guard itself).
sock_redirect_conf() {
	local c='. + {socketRedirect: true, spliceGuard: "optional"}'
	if ! status_json | jq -e '.node.features["socket-revoke"].on' >/dev/null; then
		c="$c + {socketRevoke: \"optional\"}"
	fi
	echo "$c"
}

# --- traffic ---------------------------------------------------------------

# echo_server POD PORT [udp]: echo on every address of POD, v4 and v6.
# TCP is mc-echo.py's pipe server, not socat's PIPE: socat blocks for good
# writing into its own full pipe when its peer reads slowly, which stalls
# the echo with the sender's data all acknowledged (the bookworm guest's
# tcp_echo failures in CI); mc-echo.py pipe reads and writes in two threads
echo_server() {
	local pod=$1 port=$2 proto=${3:-tcp}
	# nsenter execs the server: $! is the server itself; fd 3 is bats' own
	if [ "$proto" = udp ]; then
		nsenter --net="/var/run/netns/$ID-$pod" socat -T5 UDP6-RECVFROM:"$port",fork,ipv6only=0 PIPE 3>&- &
	else
		nsenter --net="/var/run/netns/$ID-$pod" python3 "$ECHO" pipe :: "$port" 3>&- &
	fi
	PIDS+=($!)
	wait_listen "$pod" "$port" "$proto"
}

# sockaddr IP PORT: socat's form of an address
sockaddr() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

# tcp_echo FROM IP PORT BYTES: send BYTES random bytes through the echo
# server and compare what comes back, byte for byte. socat's -t is how
# long it waits for the echo after its own EOF (in a TCG guest under load
# the last of 1 MB can take seconds to come back)
tcp_echo() {
	local from=$1 ip=$2 port=$3 n=$4
	local t0=$EPOCHREALTIME rc=0
	head -c "$n" /dev/urandom > "$T/send"
	nsp "$from" timeout 40 socat -t30 -T10 - "TCP:$(sockaddr "$ip" "$port")" < "$T/send" > "$T/recv" || rc=$?
	echo "# tcp_echo $from -> $ip:$port: $(stat -c %s "$T/recv") of $n bytes back in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s (socat exit $rc)"
	cmp "$T/send" "$T/recv" && return 0
	# what a failure needs to be understood: every netns of the test (the
	# node and each pod): its TCP counters (retransmissions, timeouts,
	# loss probes, receive-side drops), its IP drops and its sockets; then
	# meshcut's packet counters of every endpoint and the kernel's log
	echo "# tcp_echo failed"
	local ns
	for ns in /var/run/netns/"$ID"-*; do
		echo "# ${ns##*/}:"
		nsenter --net="$ns" nstat -asz TcpRetransSegs TcpExtTCPTimeouts TcpExtTCPLossProbes TcpExtTCPLostRetransmit \
			TcpExtTCPWinProbe TcpExtTCPZeroWindowDrop TcpExtTCPRcvQDrop TcpExtTCPBacklogDrop TcpExtTCPOFOQueue \
			TcpInErrs TcpInCsumErrors IpInDiscards Ip6InDiscards IpInHdrErrors IpInAddrErrors IpExtInCsumErrors \
			IpExtInNoRoutes Ip6InNoRoutes IpOutNoRoutes 2>&1 | grep -v '^#' | sed 's/^/#   /'
		nsenter --net="$ns" ss -tni 2>/dev/null | sed 's/^/#   ss: /'
	done
	status_json 2>/dev/null | jq -c '.endpoints[]? | {pod, packet}' | sed 's/^/#   /'
	dmesg 2>/dev/null | tail -n 5 | sed 's/^/#   dmesg: /'
	return 1
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

ECHO=$BATS_TEST_DIRNAME/../tools/mc-echo.py

# client POD ADDR PORT [ARGS...]: mc-echo.py client in the pod (every byte checked)
client() {
	local pod=$1 addr=$2 port=$3
	shift 3
	in_pod "$pod" timeout 60 python3 "$ECHO" client "$addr" "$port" "$@"
}

# how many sockets the socket shortcut holds
socks_in_map() { map_keys mc_socks_v1 | jq length; }

# server POD ADDR PORT [SUBCOMMAND [OUT]]: an mc-echo.py server (serve, or
# hold, inq, drain, ...) in POD's netns and cgroup, listening when this
# returns; what it prints goes to OUT
server() {
	in_pod "$1" python3 "$ECHO" "${4:-serve}" "$2" "$3" > "${5:-/dev/null}" 3>&- &
	PIDS+=($!)
	wait_listen "$1" "$3"
}

# sock POD FIELD: a socket shortcut counter of POD
sock() { ep_json "$1" | jq -r ".socket.$2"; }
