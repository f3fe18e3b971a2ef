#!/usr/bin/env bash
# meshcut demo on a local namespace "cluster": one node (a network
# namespace holding the bridge), three pods (network namespaces with their
# own cgroups) wired by the real bridge CNI plugin with meshcut chained
# after it, exactly as containerd would run the chain. Shows the links the
# kernel runs, traffic between pods taking the packet shortcut and the
# (opt-in) socket shortcut, `meshcut status`, then tears it all down.
# Touches nothing outside what it creates. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--no-deps" ]; then hack/deps.sh; fi
make -s all

# shellcheck source=hack/lib/cluster.sh
. hack/lib/cluster.sh
ID=mcdemo$$
PODS=(web api db)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
trap cluster_cleanup EXIT
# socketRedirect is opt-in; spliceGuard optional because a kernel that
# refuses BPF LSM programs (as the test VM's) cannot attach the guard, and
# nothing in the demo reads with splice(2)
cluster_init 10.88.0.0/24 '{"socketRedirect": true, "spliceGuard": "optional"}'

step "a node (netns $NODE) and three pods: ${PODS[*]}"
for p in "${PODS[@]}"; do
	pod_create "$p"
	meshcut_add "$p"
	echo "  $p: $(pod_ip "$p") (meshcut passed the bridge result through: $(diff -q <(jq -S . "$WORK/$p.primary") <(jq -S . "$WORK/$p.result") >/dev/null && echo unchanged || echo CHANGED))"
done

step "what the kernel now runs for each pod"
for p in "${PODS[@]}"; do echo "  $p: host veth $(pod_veth "$p"), cgroup $CG/$p"; done
tc_id=$(bpftool -j prog show pinned "$BPFFS/progs/mc_tc_ingress" | jq .id)
so_id=$(bpftool -j prog show pinned "$BPFFS/progs/mc_sockops" | jq .id)
bpftool link show | grep -A1 -E "prog ($tc_id|$so_id)( |$)" | sed "s/^/  /" || true

step "traffic: web -> api (ICMP, normal path) and web -> db (1 MB over TCP, packet shortcut)"
nsp web ping -c 3 -i 0.2 "$(pod_ip api)" | tail -2 | sed 's/^/  /'
in_pod db socat -T3 TCP-LISTEN:5432,reuseaddr - > "$WORK/db.recv" &
sleep 0.3
head -c 1000000 /dev/urandom > "$WORK/payload"
in_pod web socat -T3 - "TCP:$(pod_ip db):5432" < "$WORK/payload"
wait
echo "  db received $(wc -c < "$WORK/db.recv") bytes, $(cmp -s "$WORK/payload" "$WORK/db.recv" && echo identical || echo DIFFERENT)"
"$MESHCUT" status --json --bpffs-root "$BPFFS" | jq -r '.endpoints[] |
	"  \(.pod): \(.packet.redirectedPackets) packets redirected pod to pod, \(.packet.passedPackets) on the normal path (\(.packet.policyPassedPackets) of them by the conntrack gate)"'

step "traffic: web -> api, 200 requests and responses over nonblocking sockets (socket shortcut)"
in_pod api python3 test/tools/mc-echo.py serve :: 8080 > /dev/null 2>&1 3>&- &
for _ in $(seq 1 50); do nsp api ss -Hltn 'sport = :8080' | grep -q . && break; sleep 0.1; done
in_pod web python3 test/tools/mc-echo.py client "$(pod_ip api)" 8080 --count 200 | sed 's/^/  /'
"$MESHCUT" status --json --bpffs-root "$BPFFS" | jq -r '.endpoints[] | select(.pod == "web" or .pod == "api") |
	"  \(.pod): \(.socket.redirectedMessages) messages (\(.socket.redirectedBytes) bytes) handed to the peer socket, \(.socket.passedMessages) through TCP"'

step "meshcut status"
"$MESHCUT" status --bpffs-root "$BPFFS"

step "CHECK each pod, then DEL the chain in reverse order"
for p in "${PODS[@]}"; do run_plugin CHECK "$p" 1 "$WORK/$p.result" && echo "  $p: CHECK ok"; done
for p in "${PODS[@]}"; do
	meshcut_del "$p"
	run_plugin DEL "$p" 0 "$WORK/$p.primary"
	rm -f "$WORK/$p.primary"
done
"$MESHCUT" status --bpffs-root "$BPFFS" | tail -1
echo "  links left running meshcut programs: $(bpftool -j link show | jq --argjson a "$tc_id" --argjson b "$so_id" '[.[] | select(.prog_id == $a or .prog_id == $b)] | length')"
step "done; everything the demo made is removed on exit"
