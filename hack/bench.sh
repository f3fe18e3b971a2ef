#!/usr/bin/env bash
# Side-by-side benchmark: the same pods on a namespace "cluster" (bridge
# primary, conntrack and br_netfilter on, like a Kubernetes node), measured
# without meshcut (baseline) and with it, alternating, in one run. Prints
# tables of meshcut/baseline ratios. meshcut runs with both shortcuts on
# (socketRedirect: true).
#
#   hack/bench.sh [--no-deps] [--seconds N] [--rounds N] [--tc-cost] [--aa] [--out DIR]
#
# --tc-cost measures only what mc_tc_ingress costs a packet (below).
# --aa runs the "meshcut" half of every round without meshcut too: the
# ratios are then the machine's own spread between two runs of the same
# thing (an A/A test), what a ratio must exceed to mean anything.
# Results go to DIR (build/bench): bench.json (every sample, every cell's
# ratio and range, the mesh cell's latency percentiles) and bench.png,
# drawn from it by hack/bench-plot.sh.
#
# Packet shortcut cells, with blocking sockets (sockperf and iperf3 as they
# come), which the socket shortcut leaves on TCP:
#   udp-rr, tcp-rr  sockperf ping-pong, 64-byte messages: p50/p99 latency
#                   (sockperf reports half the round trip) and CPU per
#                   request (both cores' busy time / requests)
#   tcp-stream      iperf3, one stream pod to pod: Gbit/s
# each with the host's rule set empty and with 100 kube-proxy-like rules
# (KUBE-SERVICES DNAT per ClusterIP, checked by every new flow, plus 100
# per-packet filter rules in FORWARD, as NetworkPolicy engines add).
#
# Socket shortcut cells, with nonblocking sockets waiting in epoll, as
# event-driven servers and proxies work (sockperf --nonblocked -F epoll on
# both sides), 64-byte messages unless named otherwise:
#   rr-1core, rr-2core  ping-pong pod to pod, client and server on one CPU,
#                       or on two: p50, p99, CPU per request
#   mesh-rr             ping-pong app A -> sidecar A -> sidecar B -> app B
#                       (haproxy sidecars, Istio-style iptables capture),
#                       unpinned: p50, p99, CPU per request
#   stream64, stream64k sockperf throughput, 64 B and 64 KiB (65000 B)
#                       writes, Nagle on, on one CPU and on two: MB/s
#   http-mesh           HTTP/1.1 requests with keep-alive, wrk (1 thread,
#                       16 connections) in app pod C -> nginx sidecar C ->
#                       nginx sidecar D -> nginx app in pod D serving a
#                       small body; L7 sidecars (proxy_pass, upstream
#                       keep-alive), Istio-style capture: p50, p99, CPU
#                       per request, requests/s
# with, for each, the share of messages (rr) or bytes (stream) the shortcut
# carried, and a floor: the same cell over a Unix socket against TCP, both
# measured with test/tools/mc-perf (sockperf has no Unix sockets), as the
# ratio unix/tcp.
# And what mc_tc_ingress costs a packet, with the conntrack gate and with
# packetPolicy "trust": a UDP stream pod to pod (iperf3, 1400-byte
# datagrams) with the kernel's BPF run-time statistics on
# (kernel.bpf_stats_enabled, restored on exit; on only for that phase, as
# it adds two clock reads to every program run): ns per run of the node's
# own program.
# Touches nothing outside what it creates. Needs root.
set -euo pipefail
# as root; a user with sudo may run it as is (a fresh Debian has no sudo)
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then exec sudo -E -- "$0" "$@"; fi
cd "$(dirname "$0")/.."

SECONDS_PER=3
ROUNDS=5
OUT=build/bench
while [ $# -gt 0 ]; do
	case $1 in
	--no-deps) NODEPS=1 ;;
	--seconds) SECONDS_PER=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--tc-cost) TC_COST_ONLY=1 ;;
	--aa) AA=1 ;;
	--out) OUT=$2; shift ;;
	*) echo "usage: hack/bench.sh [--no-deps] [--seconds N] [--rounds N] [--tc-cost] [--aa] [--out DIR]" >&2; exit 2 ;;
	esac
	shift
done
[ -n "${NODEPS:-}" ] || hack/deps.sh
make -s all build/test/mc-perf
[ "$(nproc)" -ge 2 ] || { echo "hack/bench.sh: needs two CPUs (one-core and two-core cells)" >&2; exit 1; }
PERF=$PWD/build/test/mc-perf

# shellcheck source=hack/lib/pods.sh
. hack/lib/pods.sh
# shellcheck source=hack/lib/mesh.sh
. hack/lib/mesh.sh
ID=mcbench$$
T=$(mktemp -d)
STATS0=$(sysctl -n kernel.bpf_stats_enabled)
NGX=
trap 'sysctl -qw kernel.bpf_stats_enabled="$STATS0"; node_cleanup; rm -rf "$T" ${NGX:+"$NGX"}' EXIT
# This VM cannot load the splice guard (BPF LSM), nor follow conntrack
# revocations (no fentry, no kprobes); nothing here splices or revokes.
SUBNET=10.89.0.0/24 MC_EXTRA='{"socketRedirect": true, "spliceGuard": "optional", "socketRevoke": "optional", "logLevel": "info"}'
node_init
node_netfilter
for p in client server mesh-a mesh-b mesh-c mesh-d; do make_pod "$p"; done
SIP=$(pod_ip server)
MBIP=$(pod_ip mesh-b)
MDIP=$(pod_ip mesh-d)
for p in mesh-a mesh-b mesh-c mesh-d; do istio_rules "$p"; done
# the HTTP mesh: nginx sidecars run as the proxy's uid, in a directory it
# can write
NGX=$(mktemp -d)
chmod 755 "$NGX"
for n in side-c side-d app-d; do mkdir -p "$NGX/$n"; done
chown 1337:1337 "$NGX/side-c" "$NGX/side-d"
nginx_sidecar 15001 "$MDIP:11118" | nginx_config "$NGX/side-c" > "$NGX/side-c.conf"
nginx_sidecar 15006 127.0.0.1:11118 127.0.0.6 | nginx_config "$NGX/side-d" > "$NGX/side-d.conf"
nginx_config "$NGX/app-d" > "$NGX/app-d.conf" <<-NGX
	  server {
	    listen 127.0.0.1:11118;
	    location / { return 200 "hello from the app\n"; }
	  }
NGX
echo "T:$SIP:11113" > "$T/ev.feed"
echo "T:127.0.0.1:11115" > "$T/app.feed"
echo "T:$MBIP:11115" > "$T/mesh.feed"
sidecar_config > "$T/haproxy-a.cfg" <<-CFG
	frontend outbound
	  bind 0.0.0.0:15001
	  default_backend b
	backend b
	  server b $MBIP:11115
CFG
sidecar_config > "$T/haproxy-b.cfg" <<-CFG
	frontend inbound
	  bind 0.0.0.0:15006
	  default_backend app
	backend app
	  server app 127.0.0.1:11115 source 127.0.0.6
CFG

bg() { "$@" > /dev/null 2>&1 3>&- & }
# Servers start after meshcut's ADD (and stop before its DEL), as in a pod
# that runs under meshcut from its start: a listener opened before ADD is
# not known to be nonblocking, and its connections stay on TCP. The
# socket cells' servers all run on CPU 1.
servers_start() {
	bg in_pod server sockperf sr -i "$SIP" -p 11111
	bg in_pod server sockperf sr --tcp --uc-reuseaddr -i "$SIP" -p 11112
	bg in_pod server iperf3 -s -p 5201
	bg in_pod server taskset -c 1 sockperf sr --nonblocked -f "$T/ev.feed" -F e --uc-reuseaddr
	bg in_pod mesh-b sockperf sr --nonblocked -f "$T/app.feed" -F e --uc-reuseaddr
	bg in_pod mesh-a haproxy -db -f "$T/haproxy-a.cfg"
	bg in_pod mesh-b haproxy -db -f "$T/haproxy-b.cfg"
	bg in_pod mesh-d nginx -e "$NGX/app-d/stderr" -c "$NGX/app-d.conf" -g "daemon off;"
	bg in_pod mesh-d "${AS_PROXY[@]}" nginx -e "$NGX/side-d/stderr" -c "$NGX/side-d.conf" -g "daemon off;"
	bg in_pod mesh-c "${AS_PROXY[@]}" nginx -e "$NGX/side-c/stderr" -c "$NGX/side-c.conf" -g "daemon off;"
	sleep 1
}
servers_stop() { for p in server mesh-a mesh-b mesh-c mesh-d; do pod_stop "$p"; done; }

busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
# sum of a socket counter over all endpoints (0 without meshcut)
sock_total() {
	"$MESHCUT" status --json --bpffs-root "$BPFFS" 2>/dev/null |
		jq "[.endpoints[].socket.$1 // 0] | add // 0" 2>/dev/null || echo 0
}
# on CPU: "taskset -c N" or nothing
on_cpu() { [ "$1" = any ] || echo "taskset -c $1"; }

# rr POD CPU LEGS ARGS...: sockperf ping-pong from POD; prints
# "p50 p99 cpu_us_per_request share" (share: messages the shortcut
# carried / messages sent, both ways, over LEGS connections)
rr() {
	local pod=$1 cpu=$2 legs=$3 out b0 b1 m0 m1
	shift 3
	b0=$(busy_ticks)
	m0=$(sock_total redirectedMessages)
	# shellcheck disable=SC2046
	out=$(in_pod "$pod" $(on_cpu "$cpu") sockperf pp "$@" -m 64 -t "$SECONDS_PER" 2>&1)
	printf '%s\n' "$out" > "$T/rr.last"
	b1=$(busy_ticks)
	m1=$(sock_total redirectedMessages)
	awk -v p50="$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' <<<"$out")" \
	    -v p99="$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' <<<"$out")" \
	    -v n="$(sed -n 's/.*SentMessages=\([0-9]*\).*/\1/p' <<<"$out" | head -1)" \
	    -v t=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" -v m=$((m1 - m0)) -v legs="$legs" \
	    'BEGIN { if (n == "" || p50 == "") exit 1
		     printf "%s %s %.2f %.3f\n", p50, p99, t * 1e6 / hz / n, m / (2 * legs * n) }'
}
# tp CPU BYTES: sockperf throughput client -> server; prints "MB/s share"
tp() {
	local cpu=$1 size=$2 out r0 r1
	r0=$(sock_total redirectedBytes)
	# shellcheck disable=SC2046
	out=$(in_pod client $(on_cpu "$cpu") sockperf tp --nonblocked -f "$T/ev.feed" -F e \
		-m "$size" -t "$SECONDS_PER" 2>&1)
	r1=$(sock_total redirectedBytes)
	awk -v bw="$(sed -n 's/.*BandWidth is \([0-9.]*\) MBps.*/\1/p' <<<"$out")" \
	    -v n="$(sed -n 's/.*Total of \([0-9]*\) messages sent.*/\1/p' <<<"$out")" \
	    -v r=$((r1 - r0)) -v size="$size" \
	    'BEGIN { if (bw == "" || n == "") exit 1; printf "%s %.3f\n", bw, r / (n * size) }'
}
stream() {
	in_pod client iperf3 -c "$SIP" -p 5201 -t "$SECONDS_PER" -J | jq '.end.sum_received.bits_per_second / 1e9'
}
# http: wrk through the HTTP mesh from pod mesh-c; prints "p50 p99
# cpu_us_per_request share requests_per_s" (share: bytes the shortcut
# carried / bytes the pods' sockets sent)
http() {
	local out b0 b1 r0 r1 p0 p1
	b0=$(busy_ticks) r0=$(sock_total redirectedBytes) p0=$(sock_total passedBytes)
	out=$(in_pod mesh-c wrk -t1 -c16 -d"${SECONDS_PER}s" --latency "http://$MDIP:11118/" 2>&1)
	b1=$(busy_ticks) r1=$(sock_total redirectedBytes) p1=$(sock_total passedBytes)
	printf '%s\n' "$out" > "$T/http.last"
	awk -v t=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" -v r=$((r1 - r0)) -v p=$((p1 - p0)) -v s="$SECONDS_PER" '
		function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1e6; return v }
		$1 == "50%" { p50 = us($2) } $1 == "99%" { p99 = us($2) }
		$1 == "Requests/sec:" { rps = $2 } / requests in / { n = $1 }
		/Non-2xx|Socket errors/ { bad = 1 }
		END { if (bad || n == "" || p50 == "") exit 1
		      printf "%.2f %.2f %.2f %.3f %.1f\n", p50, p99, t * 1e6 / hz / n, (r + p) ? r / (r + p) : 0, rps }' <<<"$out"
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

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A R
add() { R[$1]+=" $2"; } # add KEY VALUE: one more sample of KEY
put3() { # put3 SET CELL MODE "p50 p99 cpu [share]"
	local v
	read -r -a v <<<"$4"
	add "$1,$2-p50,$3" "${v[0]}"; add "$1,$2-p99,$3" "${v[1]}"; add "$1,$2-cpu,$3" "${v[2]}"
	[ -z "${v[3]:-}" ] || add "$1,$2-share,$3" "${v[3]}"
}
put2() { # put2 SET CELL MODE "MB/s share"
	local v
	read -r -a v <<<"$4"
	add "$1,$2,$3" "${v[0]}"; add "$1,$2-share,$3" "${v[1]}"
}
# measure MODE SET: one round of every cell of rule set SET, into R
measure() {
	local mode=$1 set=$2 c v
	# blocking sockperf, unpinned (its share is 0: blocking sockets stay out)
	put3 "$set" udp-rr "$mode" "$(rr client any 1 -i "$SIP" -p 11111)"
	put3 "$set" tcp-rr "$mode" "$(rr client any 1 --tcp -i "$SIP" -p 11112)"
	add "$set,tcp-stream,$mode" "$(stream)"
	[ "$set" = none ] || return 0
	for c in 1 0; do # client on the server's CPU (1), then on the other (0)
		put3 sock "rr-$((2 - c))core" "$mode" "$(rr client "$c" 1 --nonblocked -f "$T/ev.feed" -F e)"
	done
	put3 sock mesh-rr "$mode" "$(rr mesh-a any 3 --nonblocked -f "$T/mesh.feed" -F e)"
	# its latency distribution: sockperf's percentiles, "percentile:us"
	add "lat,mesh-rr,$mode" "$(sed -n 's/.*percentile \([0-9.]*\) = *\([0-9.]*\).*/\1:\2/p' "$T/rr.last" | paste -sd,)"
	v=$(http) || { echo "http-mesh failed:" >&2; cat "$T/http.last" >&2; exit 1; }
	put3 sock http-mesh "$mode" "$v"
	add "sock,http-mesh-rps,$mode" "$(awk '{ print $5 }' <<<"$v")"
	add "lat,http-mesh,$mode" "$(sed -n 's/^ *\([0-9]*\)% *\([0-9.]*\)\(us\|ms\|s\)$/\1 \2 \3/p' "$T/http.last" |
		awk '{ v = $2; if ($3 == "ms") v *= 1000; if ($3 == "s") v *= 1e6; printf "%s%s:%s", (NR > 1 ? "," : ""), $1, v }')"
	for c in 1 0; do
		put2 sock "stream64-$((2 - c))core" "$mode" "$(tp "$c" 64)"
		put2 sock "stream64k-$((2 - c))core" "$mode" "$(tp "$c" 65000)"
	done
}

# The floor: mc-perf over a Unix socket and over TCP pod to pod, servers
# on CPU 1 as above; one round into R[floor,CELL,unix|tcp]
floor_measure() {
	local kind addr sink c v b0 b1
	for kind in unix tcp; do
		if [ "$kind" = unix ]; then addr=unix:$T/pp.sock sink=unix:$T/tp.sock
		else addr=$SIP:11116 sink=$SIP:11117; fi
		bg in_pod server taskset -c 1 "$PERF" serve "$addr"
		bg in_pod server taskset -c 1 "$PERF" serve "$sink" --sink
		sleep 0.5
		for c in 1 0; do
			b0=$(busy_ticks)
			read -r -a v <<<"$(in_pod client taskset -c "$c" "$PERF" pp "$addr" -m 64 -t "$SECONDS_PER")"
			b1=$(busy_ticks)
			add "floor,rr-$((2 - c))core-p50,$kind" "${v[0]}"
			add "floor,rr-$((2 - c))core-p99,$kind" "${v[1]}"
			add "floor,rr-$((2 - c))core-cpu,$kind" \
				"$(awk -v t=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" -v n="${v[2]}" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')"
			add "floor,stream64-$((2 - c))core,$kind" \
				"$(in_pod client taskset -c "$c" "$PERF" tp "$sink" -m 64 -t "$SECONDS_PER")"
			add "floor,stream64k-$((2 - c))core,$kind" \
				"$(in_pod client taskset -c "$c" "$PERF" tp "$sink" -m 65000 -t "$SECONDS_PER")"
		done
		pod_stop server
	done
	floor_mesh
}

# The mesh cell's floor: the same two haproxy sidecars and three
# connections (app -> sidecar A -> sidecar B -> app), mc-perf at both ends,
# over Unix sockets (haproxy binds and dials unix@) and over TCP as the
# mesh-rr cell runs it (Istio-style capture, as the proxy's uid). What a
# socket-level shortcut of this mesh could at best do is the Unix one.
floor_mesh() {
	local kind addr v b0 b1
	for kind in unix tcp; do
		if [ "$kind" = unix ]; then
			unix_sidecar "$T/mesh-a.sock" "$T/mesh-b.sock" > "$T/haproxy-ua.cfg"
			unix_sidecar "$T/mesh-b.sock" "$T/mesh-app.sock" > "$T/haproxy-ub.cfg"
			bg in_pod mesh-b "$PERF" serve "unix:$T/mesh-app.sock"
			bg in_pod mesh-a haproxy -db -f "$T/haproxy-ua.cfg"
			bg in_pod mesh-b haproxy -db -f "$T/haproxy-ub.cfg"
			addr=unix:$T/mesh-a.sock
		else
			bg in_pod mesh-b "$PERF" serve 127.0.0.1:11115
			bg in_pod mesh-a haproxy -db -f "$T/haproxy-a.cfg"
			bg in_pod mesh-b haproxy -db -f "$T/haproxy-b.cfg"
			addr=$MBIP:11115
		fi
		sleep 0.5
		# haproxy may bind its Unix sockets later than that: wait (5 s at most)
		if [ "$kind" = unix ]; then
			for _ in $(seq 1 50); do
				[ -S "$T/mesh-a.sock" ] && [ -S "$T/mesh-b.sock" ] && [ -S "$T/mesh-app.sock" ] && break
				sleep 0.1
			done
		fi
		b0=$(busy_ticks)
		read -r -a v <<<"$(in_pod mesh-a "$PERF" pp "$addr" -m 64 -t "$SECONDS_PER")"
		b1=$(busy_ticks)
		add "floor,mesh-rr-p50,$kind" "${v[0]}"
		add "floor,mesh-rr-p99,$kind" "${v[1]}"
		add "floor,mesh-rr-cpu,$kind" \
			"$(awk -v t=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" -v n="${v[2]}" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')"
		pod_stop mesh-a
		pod_stop mesh-b
		rm -f "$T"/mesh-*.sock
	done
}
# unix_sidecar LISTEN_PATH SERVER_PATH: haproxy relaying one Unix socket to
# another, as root (the sockets are root's files)
unix_sidecar() {
	printf 'global\n  maxconn 256\n'
	printf 'defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n'
	printf 'frontend in\n  bind unix@%s\n  default_backend out\nbackend out\n  server s unix@%s\n' "$1" "$2"
}

# tc_cost POLICY: one round of what mc_tc_ingress costs a packet, the pods
# ADDed with packetPolicy POLICY; into R[tc,POLICY,ns] and R[tc,POLICY,share]
pkt_total() {
	"$MESHCUT" status --json --bpffs-root "$BPFFS" | jq "[.endpoints[].packet.$1] | add // 0"
}
prog_stats() { bpftool prog show id "$1" -j | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'; }
tc_cost() {
	local policy=$1 p id t0 n0 t1 n1 s0 r0 s1 r1
	for p in client server; do mc_add "$p" ".packetPolicy = \"$policy\""; done
	bg in_pod server iperf3 -s -p 5202
	sleep 0.5
	id=$(bpftool prog show pinned "$BPFFS/progs/mc_tc_ingress" -j | jq .id)
	sysctl -qw kernel.bpf_stats_enabled=1
	read -r t0 n0 <<<"$(prog_stats "$id")"
	s0=$(pkt_total seenPackets) r0=$(pkt_total redirectedPackets)
	in_pod client iperf3 -u -c "$SIP" -p 5202 -l 1400 -b 300M -t "$SECONDS_PER" > /dev/null
	read -r t1 n1 <<<"$(prog_stats "$id")"
	s1=$(pkt_total seenPackets) r1=$(pkt_total redirectedPackets)
	sysctl -qw kernel.bpf_stats_enabled="$STATS0"
	pod_stop server
	for p in client server; do mc_del "$p"; done
	add "tc,$policy,ns" "$(awk -v t=$((t1 - t0)) -v n=$((n1 - n0)) 'BEGIN { printf "%.0f", n ? t / n : 0 }')"
	add "tc,$policy,share" "$(awk -v s=$((s1 - s0)) -v r=$((r1 - r0)) 'BEGIN { printf "%.3f", s ? r / s : 0 }')"
}
tc_cost_rounds() {
	local r
	for r in $(seq 1 "$ROUNDS"); do
		echo "tc cost, round $r/$ROUNDS" >&2
		tc_cost conntrack
		tc_cost trust
	done
}
tc_cost_table() {
	local policy target
	echo "mc_tc_ingress per packet (kernel.bpf_stats_enabled, UDP stream pod to pod, median of $ROUNDS rounds)"
	printf '%-10s %8s %8s %11s %9s\n' policy ns target "per round" redirected
	for policy in conntrack trust; do
		target=200; [ "$policy" = trust ] && target=100
		printf '%-10s %8s %8s %11s %9s\n' "$policy" "$(median <<<"${R[tc,$policy,ns]}")" "$target" \
			"$(tr ' ' '\n' <<<"${R[tc,$policy,ns]}" | grep . | sort -g | sed -n '1p;$p' | paste -sd-)" \
			"$(median <<<"${R[tc,$policy,share]}")"
	done
}

if [ -n "${TC_COST_ONLY:-}" ]; then
	tc_cost_rounds
	tc_cost_table
	echo "machine: $(nproc) CPUs, $(uname -r), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
	exit 0
fi

for set in none kube100; do
	[ "$set" = kube100 ] && rules on
	for r in $(seq 1 "$ROUNDS"); do
		echo "rule set $set, round $r/$ROUNDS: baseline" >&2
		servers_start
		measure baseline "$set"
		servers_stop
		[ "$set" = kube100 ] || floor_measure
		if [ -n "${AA:-}" ]; then
			servers_start
			echo "rule set $set, round $r/$ROUNDS: baseline again (A/A)" >&2
			measure meshcut "$set"
			servers_stop
			continue
		fi
		for p in "${PODS[@]}"; do mc_add "$p"; done
		servers_start
		echo "rule set $set, round $r/$ROUNDS: meshcut" >&2
		measure meshcut "$set"
		servers_stop
		redirected=$("$MESHCUT" status --json --bpffs-root "$BPFFS" | jq '[.endpoints[].packet.redirectedPackets] | add')
		[ "$redirected" -gt 0 ] || { echo "meshcut redirected no packet: the run is not a comparison" >&2; exit 1; }
		[ "$set" = kube100 ] || [ "$(sock_total redirectedMessages)" -gt 0 ] ||
			{ echo "meshcut redirected no message: the run is not a comparison" >&2; exit 1; }
		for p in "${PODS[@]}"; do mc_del "$p"; done
	done
	[ "$set" = kube100 ] && rules off
done
[ -n "${AA:-}" ] || tc_cost_rounds

ratio() { awk -v b="$1" -v m="$2" 'BEGIN { if (b > 0) printf "%.2f", m / b; else printf "-" }'; }
# spread BASELINES MESHCUTS: lowest and highest ratio of one round's pair
spread() {
	awk -v b="$1" -v m="$2" 'BEGIN { n = split(b, x, " "); split(m, y, " "); lo = 1e9; hi = 0
		for (i = 1; i <= n; i++) if (x[i] > 0) { r = y[i] / x[i]; if (r < lo) lo = r; if (r > hi) hi = r }
		if (hi > 0) printf "%.2f-%.2f", lo, hi; else printf "-" }'
}
unit_of() { case $1 in *cpu) echo "us/req" ;; *rps) echo "req/s" ;; tcp-stream) echo "Gbit/s" ;; stream*) echo "MB/s" ;; *) echo "us" ;; esac; }
# row SET CELL BASELINE MESHCUT SHARE FLOOR: one line of $T/cells.tsv, for bench.json
row() {
	local better=lower
	case $2 in *stream* | *rps) better=higher ;; esac
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$(unit_of "$2")" "$better" "$3" "$4" \
		"$(ratio "$3" "$4")" "$(spread "${R[$1,$2,baseline]}" "${R[$1,$2,meshcut]}")" "$5" "$6" >> "$T/cells.tsv"
}

echo
echo "packet shortcut (blocking sockets: the socket shortcut leaves them on TCP)"
printf '%-9s %-14s %-8s %10s %10s %7s %11s\n' "rule set" cell unit baseline meshcut ratio "per round"
for set in none kube100; do
	for cell in udp-rr-p50 udp-rr-p99 udp-rr-cpu tcp-rr-p50 tcp-rr-p99 tcp-rr-cpu tcp-stream; do
		b=$(median <<<"${R[$set,$cell,baseline]}")
		m=$(median <<<"${R[$set,$cell,meshcut]}")
		row "$set" "$cell" "$b" "$m" "" ""
		printf '%-9s %-14s %-8s %10.2f %10.2f %7s %11s\n' "$set" "$cell" "$(unit_of "$cell")" "$b" "$m" \
			"$(ratio "$b" "$m")" "$(spread "${R[$set,$cell,baseline]}" "${R[$set,$cell,meshcut]}")"
	done
done
echo
echo "socket shortcut (nonblocking sockets in epoll; empty host rule set)"
printf '%-16s %-7s %9s %9s %6s %11s %6s %6s\n' cell unit baseline meshcut ratio "per round" share floor
for cell in rr-1core-p50 rr-1core-p99 rr-1core-cpu rr-2core-p50 rr-2core-p99 rr-2core-cpu \
	mesh-rr-p50 mesh-rr-p99 mesh-rr-cpu http-mesh-p50 http-mesh-p99 http-mesh-cpu http-mesh-rps \
	stream64-1core stream64-2core stream64k-1core stream64k-2core; do
	b=$(median <<<"${R[sock,$cell,baseline]}")
	m=$(median <<<"${R[sock,$cell,meshcut]}")
	s=""
	case $cell in
	*-p50) s=$(median <<<"${R[sock,${cell%-p50}-share,meshcut]}") ;;
	stream*) s=$(median <<<"${R[sock,$cell-share,meshcut]}") ;;
	esac
	f="-"
	if [ -n "${R[floor,$cell,unix]:-}" ]; then
		f=$(ratio "$(median <<<"${R[floor,$cell,tcp]}")" "$(median <<<"${R[floor,$cell,unix]}")")
	fi
	row sock "$cell" "$b" "$m" "$s" "$f"
	printf '%-16s %-7s %9.2f %9.2f %6s %11s %6s %6s\n' "$cell" "$(unit_of "$cell")" "$b" "$m" \
		"$(ratio "$b" "$m")" "$(spread "${R[sock,$cell,baseline]}" "${R[sock,$cell,meshcut]}")" \
		"${s:+$(printf '%.2f' "$s")}" "$f"
done
echo
[ -n "${AA:-}" ] || { tc_cost_table; echo; }
[ -z "${AA:-}" ] || echo "A/A run (--aa): both columns are the baseline, without meshcut; a ratio is the machine's own spread"
echo "ratio = meshcut / baseline (median of $ROUNDS rounds of ${SECONDS_PER}s each); lower is better for latency and CPU, higher for throughput"
echo "per round = lowest and highest ratio of a round's baseline and meshcut measurements (how much the machine moves)"
echo "share = what the socket shortcut carried: messages (rr, shown on the p50 row) or bytes (stream) / all sent"
echo "floor = the same cell over a Unix socket / over TCP without meshcut, both with test/tools/mc-perf"
echo "machine: $(nproc) CPUs, $(uname -r), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"

# bench.json: the machine, every sample, the rows above, the latency
# percentiles of the mesh cell; then the picture
mkdir -p "$OUT"
for key in "${!R[@]}"; do printf '%s\t%s\n' "$key" "${R[$key]}"; done > "$T/samples.tsv"
jq -Rn --slurpfile cells <(jq -Rc 'split("\t") | {set: .[0], cell: .[1], unit: .[2], better: .[3],
		baseline: (.[4] | tonumber), meshcut: (.[5] | tonumber), ratio: (.[6] | tonumber? // null),
		lo: (.[7] | split("-")[0] | tonumber? // null), hi: (.[7] | split("-")[1] // "" | tonumber? // null),
		share: (.[8] | tonumber? // null), floor: (.[9] | tonumber? // null)}' "$T/cells.tsv") \
	--arg cpu "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)" --arg kernel "$(uname -r)" \
	--argjson cpus "$(nproc)" --argjson seconds "$SECONDS_PER" --argjson rounds "$ROUNDS" \
	--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson aa "$([ -n "${AA:-}" ] && echo true || echo false)" \
	'[inputs | split("\t") | {key: .[0], v: (.[1] | split(" ") | map(select(. != "")))}] as $s
	 | {date: $date, machine: {cpu: $cpu, cpus: $cpus, kernel: $kernel}, seconds: $seconds, rounds: $rounds, aa: $aa,
	    cells: $cells,
	    tcCost: [$s[] | select(.key | startswith("tc,")) | (.key | split(",")) as $k
		| {policy: $k[1], what: $k[2], rounds: (.v | map(tonumber))}],
	    latency: [$s[] | select(.key | startswith("lat,")) | (.key | split(",")) as $k
		| {cell: $k[1], mode: $k[2], rounds: [.v[] | split(",") | map(split(":") | map(tonumber))]}],
	    samples: [$s[] | select(.key | test("^(tc|lat),") | not) | (.key | split(",")) as $k
		| {set: $k[0], cell: $k[1], mode: $k[2], rounds: (.v | map(tonumber))}]}' \
	< "$T/samples.tsv" > "$OUT/bench.json"
echo "results: $OUT/bench.json"
hack/bench-plot.sh "$OUT/bench.json" "$OUT/bench.png" && echo "picture: $OUT/bench.png"
