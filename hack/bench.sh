#!/usr/bin/env bash
# Side-by-side benchmark: the same two pods on a namespace "cluster" (bridge
# primary, conntrack and br_netfilter on, like a Kubernetes node), measured
# without meshcut (baseline) and with it, alternating, in one run. Prints a
# table of meshcut/baseline ratios.
#
#   hack/bench.sh [--no-deps] [--seconds N] [--rounds N]
#
# Cells (packet shortcut; the socket shortcut adds its own when it lands):
#   udp-rr, tcp-rr  sockperf ping-pong, 64-byte messages: p50/p99 latency
#                   (sockperf reports half the round trip) and CPU per
#                   request (both cores' busy time / requests)
#   tcp-stream      iperf3, one stream pod to pod: Gbit/s
# each with the host's rule set empty and with 100 kube-proxy-like rules
# (KUBE-SERVICES DNAT per ClusterIP, checked by every new flow, plus 100
# per-packet filter rules in FORWARD, as NetworkPolicy engines add).
# Touches nothing outside what it creates. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER=3
ROUNDS=2
while [ $# -gt 0 ]; do
	case $1 in
	--no-deps) NODEPS=1 ;;
	--seconds) SECONDS_PER=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	*) echo "usage: hack/bench.sh [--no-deps] [--seconds N] [--rounds N]" >&2; exit 2 ;;
	esac
	shift
done
[ -n "${NODEPS:-}" ] || hack/deps.sh
make -s all

# shellcheck source=hack/lib/cluster.sh
. hack/lib/cluster.sh
ID=mcbench$$
trap cluster_cleanup EXIT
cluster_init 10.89.0.0/24 '{"socketShortcut": false}'
pod_create client
pod_create server
SIP=$(pod_ip server)
in_pod server sockperf sr -i "$SIP" -p 11111 >/dev/null 2>&1 3>&- &
in_pod server sockperf sr --tcp -i "$SIP" -p 11112 >/dev/null 2>&1 3>&- &
in_pod server iperf3 -s -p 5201 >/dev/null 2>&1 3>&- &
sleep 1

busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# sockperf ping-pong; prints "p50 p99 cpu_us_per_request"
rr() {
	local proto=$1 port=$2 out b0 b1 n hz
	hz=$(getconf CLK_TCK)
	b0=$(busy_ticks)
	out=$(in_pod client sockperf pp ${proto:+"$proto"} -i "$SIP" -p "$port" -m 64 -t "$SECONDS_PER" 2>&1)
	b1=$(busy_ticks)
	n=$(sed -n 's/.*SentMessages=\([0-9]*\).*/\1/p' <<<"$out" | head -1)
	awk -v p50="$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' <<<"$out")" \
	    -v p99="$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' <<<"$out")" \
	    -v t=$((b1 - b0)) -v n="${n:-1}" -v hz="$hz" \
	    'BEGIN { printf "%s %s %.2f\n", p50, p99, t * 1e6 / hz / n }'
}
stream() {
	in_pod client iperf3 -c "$SIP" -p 5201 -t "$SECONDS_PER" -J | jq '.end.sum_received.bits_per_second / 1e9'
}

rules() { # on|off: 100 kube-proxy-like nat rules and 100 filter rules
	if [ "$1" = on ]; then
		nsn iptables -t nat -N MC-BENCH-SVC
		nsn iptables -N MC-BENCH-POL
		for i in $(seq 1 100); do
			nsn iptables -t nat -A MC-BENCH-SVC -d "10.96.$((i / 250)).$((i % 250 + 1))/32" -p tcp --dport 80 \
				-j DNAT --to-destination "10.89.1.$((i % 250 + 1)):8080"
			nsn iptables -A MC-BENCH-POL -s "10.90.$i.0/24" -j DROP
		done
		nsn iptables -t nat -I PREROUTING -j MC-BENCH-SVC
		nsn iptables -I FORWARD -j MC-BENCH-POL
	else
		nsn iptables -t nat -D PREROUTING -j MC-BENCH-SVC
		nsn iptables -D FORWARD -j MC-BENCH-POL
		nsn iptables -t nat -F MC-BENCH-SVC; nsn iptables -t nat -X MC-BENCH-SVC
		nsn iptables -F MC-BENCH-POL; nsn iptables -X MC-BENCH-POL
	fi
}

declare -A R
measure() { # MODE RULESET: one round of every cell, summed into R
	local mode=$1 set=$2 v
	read -r -a v <<<"$(rr "" 11111)"
	R[$set,udp-rr-p50,$mode]+=" ${v[0]}"; R[$set,udp-rr-p99,$mode]+=" ${v[1]}"; R[$set,udp-rr-cpu,$mode]+=" ${v[2]}"
	read -r -a v <<<"$(rr --tcp 11112)"
	R[$set,tcp-rr-p50,$mode]+=" ${v[0]}"; R[$set,tcp-rr-p99,$mode]+=" ${v[1]}"; R[$set,tcp-rr-cpu,$mode]+=" ${v[2]}"
	R[$set,tcp-stream,$mode]+=" $(stream)"
}

for set in none kube100; do
	[ "$set" = kube100 ] && rules on
	for r in $(seq 1 "$ROUNDS"); do
		echo "ruleset $set, round $r/$ROUNDS: baseline" >&2
		measure baseline "$set"
		meshcut_add client
		meshcut_add server
		echo "ruleset $set, round $r/$ROUNDS: meshcut" >&2
		measure meshcut "$set"
		redirected=$("$MESHCUT" status --json --bpffs-root "$BPFFS" | jq '[.endpoints[].packet.redirectedPackets] | add')
		[ "$redirected" -gt 0 ] || { echo "meshcut redirected nothing: the run is not a comparison" >&2; exit 1; }
		meshcut_del client
		meshcut_del server
	done
	[ "$set" = kube100 ] && rules off
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
printf '\n%-9s %-14s %-8s %12s %12s %8s\n' ruleset cell unit baseline meshcut ratio
for set in none kube100; do
	for cell in udp-rr-p50 udp-rr-p99 udp-rr-cpu tcp-rr-p50 tcp-rr-p99 tcp-rr-cpu tcp-stream; do
		case $cell in *cpu) unit="us/req" ;; tcp-stream) unit="Gbit/s" ;; *) unit="us" ;; esac
		b=$(median <<<"${R[$set,$cell,baseline]}")
		m=$(median <<<"${R[$set,$cell,meshcut]}")
		printf '%-9s %-14s %-8s %12.2f %12.2f %8.2f\n' "$set" "$cell" "$unit" "$b" "$m" "$(awk -v b="$b" -v m="$m" 'BEGIN { print (b > 0 ? m / b : 0) }')"
	done
done
echo
echo "ratio = meshcut / baseline (median of $ROUNDS rounds of ${SECONDS_PER}s each); lower is better for latency and CPU, higher for Gbit/s"
echo "machine: $(nproc) CPUs, $(uname -r), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
