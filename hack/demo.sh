#!/usr/bin/env bash
# meshcut demo on a local namespace "cluster": one node (a network
# namespace holding the bridge), three pods (network namespaces with their
# own cgroups) wired by the real bridge CNI plugin with meshcut chained
# after it, exactly as containerd would run the chain. Shows the links the
# kernel runs, traffic between pods taking the packet shortcut and the
# (opt-in) socket shortcut, `meshcut status`, then tears it all down.
# Touches nothing outside what it creates. Needs root.
set -euo pipefail
# as root; a user with sudo may run it as is (a fresh Debian has no sudo)
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then exec sudo -E -- "$0" "$@"; fi
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--no-deps" ]; then hack/deps.sh; fi
make -s all

# shellcheck source=hack/lib/pods.sh
. hack/lib/pods.sh
ID=mcdemo$$
T=$(mktemp -d)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
trap 'node_cleanup; rm -rf "$T"' EXIT
# socketRedirect is opt-in; spliceGuard optional because a kernel that
# refuses BPF LSM programs (as the test VM's) cannot attach the guard, and
# nothing in the demo reads with splice(2); socketRevoke optional because
# such a kernel may not let meshcut follow conntrack revocations either,
# and no policy engine revokes anything here (docs/endpoint-policy.md)
SUBNET=10.88.0.0/24 K8S_NS=demo MC_EXTRA='{"socketRedirect": true, "spliceGuard": "optional", "socketRevoke": "optional", "logLevel": "info"}'
node_init
node_netfilter

step "a node (netns $NODE) and three pods: web api db"
for p in web api db; do
	make_pod "$p"
	mc_add "$p"
	echo "  $p: $(pod_ip "$p") (meshcut passed the bridge result through: $(diff -q <(jq -S . "$T/$p.prev.json") <(jq -S . "$T/$p.out") >/dev/null && echo unchanged || echo CHANGED))"
done

step "what this kernel lets meshcut do (each feature loads on its own)"
"$MESHCUT" status --bpffs-root "$BPFFS" | grep '^  feature' || true
feature_why() { status_json | jq -r --arg f "$1" '.node.features[$f].summary // "off"'; }

step "what the kernel now runs for each pod"
for p in "${PODS[@]}"; do echo "  $p: host veth $(pod_veth "$p"), cgroup $CGDIR/$p"; done
prog_ids=()
for prog in mc_tc_ingress mc_sockops; do
	if [ -e "$BPFFS/progs/$prog" ]; then
		prog_ids+=("$(bpftool -j prog show pinned "$BPFFS/progs/$prog" | jq .id)")
	else
		echo "  $prog: not loaded (its feature is off, see above)"
	fi
done
ids_re=$(IFS='|'; echo "${prog_ids[*]:-none}")
bpftool link show | grep -A1 -E "prog ($ids_re)( |$)" | sed "s/^/  /" || true

step "traffic: web -> api (ICMP, normal path) and web -> db (1 MB over TCP, packet shortcut)"
nsp web ping -c 3 -i 0.2 "$(pod_ip api)" | tail -2 | sed 's/^/  /'
in_pod db socat -T3 TCP-LISTEN:5432,reuseaddr - > "$T/db.recv" &
sleep 0.3
head -c 1000000 /dev/urandom > "$T/payload"
in_pod web socat -T3 - "TCP:$(pod_ip db):5432" < "$T/payload"
wait
echo "  db received $(wc -c < "$T/db.recv") bytes, $(cmp -s "$T/payload" "$T/db.recv" && echo identical || echo DIFFERENT)"
"$MESHCUT" status --json --bpffs-root "$BPFFS" | jq -r '.endpoints[] |
	"  \(.pod): \(.packet.redirectedPackets) packets redirected pod to pod, \(.packet.passedPackets) on the normal path (\(.packet.policyPassedPackets) of them by the conntrack gate)"'
for f in packet conntrack-gate; do
	feature_on "$f" || { echo "  packet shortcut off on this node, every packet took the normal path: $(feature_why "$f")"; break; }
done

step "traffic: web -> api, 200 requests and responses over nonblocking sockets (socket shortcut)"
in_pod api python3 test/tools/mc-echo.py serve :: 8080 > /dev/null 2>&1 3>&- &
for _ in $(seq 1 50); do nsp api ss -Hltn 'sport = :8080' | grep -q . && break; sleep 0.1; done
in_pod web python3 test/tools/mc-echo.py client "$(pod_ip api)" 8080 --count 200 | sed 's/^/  /'
"$MESHCUT" status --json --bpffs-root "$BPFFS" | jq -r '.endpoints[] | select(.pod == "web" or .pod == "api") |
	"  \(.pod): \(.socket.redirectedMessages) messages (\(.socket.redirectedBytes) bytes) handed to the peer socket, \(.socket.passedMessages) through TCP"'
for f in socket socket-teardown socket-queue; do
	feature_on "$f" || { echo "  socket shortcut off on this node, every message went through TCP: $(feature_why "$f")"; break; }
done

step "meshcut status"
"$MESHCUT" status --bpffs-root "$BPFFS"

step "CHECK each pod, then DEL the chain in reverse order"
# CHECK gets the chain's result as prevResult, as the runtime passes it
for p in "${PODS[@]}"; do
	jq --slurpfile r "$T/$p.out" '.prevResult = $r[0]' "$T/$p.mc.json" > "$T/$p.check.json"
	mc_cni "$p" CHECK "$T/$p.check.json" && echo "  $p: CHECK ok"
done
for p in "${PODS[@]}"; do
	mc_del "$p"
	primary_cni "$p" DEL
	rm -f "$T/$p.primary.json"
done
"$MESHCUT" status --bpffs-root "$BPFFS" | tail -1
echo "  links left running meshcut programs: $(bpftool -j link show | jq --argjson ids "[$(IFS=,; echo "${prog_ids[*]}")]" '[.[] | select(.prog_id as $p | $ids | index($p))] | length')"
step "done; everything the demo made is removed on exit"
