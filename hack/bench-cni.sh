#!/usr/bin/env bash
# What meshcut adds to a pod's start and end: wall time of the CNI chain's
# ADD and DEL per pod, for one pod at a time and for N pods at once (as a
# node starts a batch of pods), with three chains on the same node in the
# same run, rounds alternating:
#   bridge             the primary alone (host-local IPAM)
#   bridge+meshcut     meshcut chained after it, both shortcuts on, tc
#                      attached as on this kernel by default (tcx where
#                      the kernel has it)
#   bridge+meshcut-clsact  the same with tcAttachMode "legacy" (a cls_bpf
#                      filter on a clsact qdisc): the kernel makes every
#                      tcx attach and detach wait for an RCU grace period,
#                      holding the rtnl lock, which a filter does not
#   bridge+bandwidth   Debian's bandwidth plugin chained after it instead
#                      (ingress and egress rates set: a tbf qdisc and an
#                      ifb device per pod), for scale: a plugin every
#                      cluster may run
# Only the plugins' own run time is counted, as a runtime's libcni runs
# them: ADD of each plugin of the chain in order, DEL in reverse; building
# each plugin's JSON (jq, here) is not. The node's first meshcut ADD loads
# its BPF programs once per boot or upgrade: it is done before the rounds
# and reported on its own.
#
#   hack/bench-cni.sh [--no-deps] [--rounds N] [--pods N] [--json FILE]
#
# Prints p50 and p99 of ADD, DEL and ADD+DEL per pod in ms, what each
# chain adds to the bridge's ADD+DEL p99, and the CPU time a pod's ADD and
# DEL took in the chain's processes: what N pods starting at once on a few
# CPUs queue for, whatever the kernel's locks do. Touches nothing outside
# what it creates. Needs root.
set -euo pipefail
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then exec sudo -E -- "$0" "$@"; fi
cd "$(dirname "$0")/.."

ROUNDS=5
NPODS=32
JSON=
while [ $# -gt 0 ]; do
	case $1 in
	--no-deps) NODEPS=1 ;;
	--rounds) ROUNDS=$2; shift ;;
	--pods) NPODS=$2; shift ;;
	--json) JSON=$2; shift ;;
	*) echo "usage: hack/bench-cni.sh [--no-deps] [--rounds N] [--pods N] [--json FILE]" >&2; exit 2 ;;
	esac
	shift
done
[ -n "${NODEPS:-}" ] || hack/deps.sh
make -s all

# shellcheck source=hack/lib/pods.sh
. hack/lib/pods.sh
ID=mccni$$
T=$(mktemp -d)
trap 'node_cleanup; rm -rf "$T"' EXIT
# as bench.sh runs meshcut (this kind of VM has no splice guard and no
# conntrack revocation hook); info logging, as a node runs it
SUBNET=10.88.0.0/22
MC_EXTRA='{"socketRedirect": true, "spliceGuard": "optional", "socketRevoke": "optional", "logLevel": "info"}'
CHAINS=(bridge bridge+meshcut bridge+meshcut-clsact bridge+bandwidth)
node_init
node_netfilter

# bw_conf POD: the bandwidth plugin's entry after the primary, into $T/POD.bw.json
bw_conf() {
	jq --argjson prev "$(cat "$T/$1.prev.json")" -n \
		'{cniVersion:"1.0.0",name:"mcnet",type:"bandwidth",
		  ingressRate:1000000000,ingressBurst:1000000,egressRate:1000000000,egressBurst:1000000,
		  prevResult:$prev}' > "$T/$1.bw.json"
}
bw_cni() { # POD CMD
	# shellcheck disable=SC2046
	env $(cni_env "$1" "$2") nsenter --net="/var/run/netns/$NODE" "$CNI_BIN/bandwidth" < "$T/$1.bw.json"
}
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) * 1000 }'; }

# pod_new POD / pod_gone POD: the pod's netns and cgroup, outside the timing
pod_new() {
	[[ " ${PODS[*]} " == *" $1 "* ]] || PODS+=("$1") # node_cleanup's, if we stop midway
	ip netns add "$ID-$1"
	nsp "$1" ip link set lo up
	mkdir -p "$CGDIR/$1"
	primary_conf "$1" > "$T/$1.primary.json"
}
pod_gone() {
	ip netns del "$ID-$1"
	cg_remove "$CGDIR/$1"
	rm -f "$T/$1".*
}

# chain_add POD CHAIN / chain_del POD CHAIN: the chain's ADD (DEL), the
# plugins' run time in ms into $T/POD.add ($T/POD.del), and the CPU time
# (user + system) their processes took, in ms, into $T/POD.cpu.add
# ($T/POD.cpu.del). The CPU time comes from the shell's `times` (its
# waited-for children's CPU) around each plugin, not around the JSON
# building: `times` is a builtin, so marking costs no process of its own.
# cpu_mark VAR: VAR = the children's user and system time so far, as
# "Mu Su Ms Ss" (minutes and seconds of each); $p is the caller's pod
cpu_mark() {
	local line
	times > "$T/$p.times"
	{ read -r _; read -r line; } < "$T/$p.times"
	line=${line//m/ }
	printf -v "$1" '%s' "${line//s/}"
}
# cpu_ms MARK MARK...: the CPU ms between each pair of marks (from, to)
cpu_ms() {
	awk 'BEGIN { for (i = 1; i < ARGC; i += 2) { split(ARGV[i], a, " "); split(ARGV[i + 1], b, " ");
		s += (b[1] * 60 + b[2] + b[3] * 60 + b[4]) - (a[1] * 60 + a[2] + a[3] * 60 + a[4]) }
		printf "%.1f", s * 1000 }' "$@"
}
chain_add() {
	local p=$1 chain=$2 t0 t1 t2 t3 c0 c1 c2 c3
	cpu_mark c0; t0=$EPOCHREALTIME; primary_cni "$p" ADD > "$T/$p.prev.json"; t1=$EPOCHREALTIME; cpu_mark c1
	case $chain in
	bridge+meshcut) mc_conf "$p"; cpu_mark c2; t2=$EPOCHREALTIME; mc_cni "$p" ADD "$T/$p.mc.json" > /dev/null; t3=$EPOCHREALTIME ;;
	bridge+meshcut-clsact)
		mc_conf "$p" '.tcAttachMode = "legacy"'
		cpu_mark c2; t2=$EPOCHREALTIME; mc_cni "$p" ADD "$T/$p.mc.json" > /dev/null; t3=$EPOCHREALTIME ;;
	bridge+bandwidth) bw_conf "$p"; cpu_mark c2; t2=$EPOCHREALTIME; bw_cni "$p" ADD > /dev/null; t3=$EPOCHREALTIME ;;
	*) cpu_mark c2; t2=0 t3=0 ;;
	esac
	cpu_mark c3
	awk -v a="$(ms "$t0" "$t1")" -v b="$(ms "$t2" "$t3")" 'BEGIN { print a + b }' > "$T/$p.add"
	cpu_ms "$c0" "$c1" "$c2" "$c3" > "$T/$p.cpu.add"
}
chain_del() {
	local p=$1 chain=$2 t0=0 t1=0 t2 t3 c0 c1
	cpu_mark c0
	case $chain in
	bridge+meshcut*) t0=$EPOCHREALTIME; mc_cni "$p" DEL "$T/$p.mc.json"; t1=$EPOCHREALTIME ;;
	bridge+bandwidth) t0=$EPOCHREALTIME; bw_cni "$p" DEL; t1=$EPOCHREALTIME ;;
	esac
	t2=$EPOCHREALTIME; primary_cni "$p" DEL; t3=$EPOCHREALTIME
	cpu_mark c1
	awk -v a="$(ms "$t0" "$t1")" -v b="$(ms "$t2" "$t3")" 'BEGIN { print a + b }' > "$T/$p.del"
	cpu_ms "$c0" "$c1" > "$T/$p.cpu.del"
}

declare -A R
# round CHAIN N: N pods through CHAIN's ADD at once, then DEL at once
round() {
	local chain=$1 n=$2 i pids=()
	for i in $(seq 1 "$n"); do pod_new "p$i"; done
	for i in $(seq 1 "$n"); do chain_add "p$i" "$chain" & pids+=($!); done
	for i in "${pids[@]}"; do wait "$i" || { echo "ADD of $chain failed" >&2; exit 1; }; done
	pids=()
	for i in $(seq 1 "$n"); do chain_del "p$i" "$chain" & pids+=($!); done
	for i in "${pids[@]}"; do wait "$i" || { echo "DEL of $chain failed" >&2; exit 1; }; done
	for i in $(seq 1 "$n"); do
		R[$n,$chain,add]+=" $(cat "$T/p$i.add")"
		R[$n,$chain,del]+=" $(cat "$T/p$i.del")"
		R[$n,$chain,sum]+=" $(awk '{ s += $1 } END { print s }' "$T/p$i.add" "$T/p$i.del")"
		R[$n,$chain,cpu]+=" $(awk '{ s += $1 } END { print s }' "$T/p$i.cpu.add" "$T/p$i.cpu.del")"
		pod_gone "p$i"
	done
}

# The node's first ADD loads meshcut's programs: once, before the rounds
pod_new p0
t0=$EPOCHREALTIME; primary_cni p0 ADD > "$T/p0.prev.json"; mc_conf p0
t1=$EPOCHREALTIME; mc_cni p0 ADD "$T/p0.mc.json" > /dev/null; t2=$EPOCHREALTIME
FIRST=$(ms "$t1" "$t2")
mc_cni p0 DEL "$T/p0.mc.json"; primary_cni p0 DEL
pod_gone p0
: "$t0"

for n in 1 "$NPODS"; do
	reps=$ROUNDS
	[ "$n" = 1 ] && reps=$((ROUNDS * 8)) # as many samples as a few batches give
	for r in $(seq 1 "$reps"); do
		[ "$n" = 1 ] || echo "$n pods at once, round $r/$reps" >&2
		# a different chain first in each round
		for k in 0 1 2 3; do round "${CHAINS[$(((r + k) % 4))]}" "$n"; done
	done
done

pct() { # pct P < samples: the P-th percentile (nearest rank)
	tr ' ' '\n' | grep . | sort -g | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print a[i] }'
}
echo
echo "CNI ADD and DEL per pod, ms of the plugins' run time (p50 / p99)"
printf '%-5s %-22s %17s %17s %17s %10s %8s\n' pods chain ADD DEL ADD+DEL "added p99" "CPU p50"
for n in 1 "$NPODS"; do
	base=$(pct 99 <<<"${R[$n,bridge,sum]}")
	for chain in "${CHAINS[@]}"; do
		row=()
		for what in add del sum; do
			row+=("$(pct 50 <<<"${R[$n,$chain,$what]}") / $(pct 99 <<<"${R[$n,$chain,$what]}")")
		done
		added=-
		[ "$chain" = bridge ] || added=$(awk -v a="$(pct 99 <<<"${R[$n,$chain,sum]}")" -v b="$base" 'BEGIN { printf "%+.1f", a - b }')
		printf '%-5s %-22s %17s %17s %17s %10s %8s\n' "$n" "$chain" "${row[@]}" "$added" \
			"$(pct 50 <<<"${R[$n,$chain,cpu]}")"
	done
done
echo
echo "samples: $((ROUNDS * 8)) single pods and $ROUNDS batches of $NPODS pods per chain"
echo "added p99 = the chain's ADD+DEL p99 - the bridge's alone (target for meshcut: <= 5 ms at $NPODS pods, and no more than bandwidth)"
echo "CPU p50 = the CPU time (user + system) the chain's plugin processes took for a pod's ADD and DEL, ms (the harness's fork and nsenter included, for every chain alike): on $(nproc) CPUs, $NPODS pods at once wait about $NPODS x that / $(nproc) for each other"
echo "the node's first meshcut ADD (loads the BPF programs, once per boot or upgrade): $FIRST ms"
echo "machine: $(nproc) CPUs, $(uname -r), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
if [ -n "$JSON" ]; then
	for key in "${!R[@]}"; do printf '%s\t%s\n' "$key" "${R[$key]}"; done |
		jq -Rn --arg first "$FIRST" --arg cpu "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)" \
			--arg kernel "$(uname -r)" \
			'{machine: {cpu: $cpu, kernel: $kernel}, firstAddMs: ($first | tonumber),
			  samples: [inputs | split("\t") | (.[0] | split(",")) as $k
				| {pods: ($k[0] | tonumber), chain: $k[1], verb: $k[2],
				   ms: (.[1] | split(" ") | map(select(. != "") | tonumber))}]}' > "$JSON"
fi
