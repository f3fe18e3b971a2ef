#!/usr/bin/env bash
# meshcut demo on a local namespace "cluster": one node (a network
# namespace holding the bridge), three pods (network namespaces with their
# own cgroups) wired by the real bridge CNI plugin with meshcut chained
# after it, exactly as containerd would run the chain. Shows the links the
# kernel runs, traffic between pods, `meshcut status`, then tears it all
# down. Touches nothing outside what it creates. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--no-deps" ]; then hack/deps.sh; fi
make -s all

MESHCUT=$PWD/build/meshcut
CNI_BIN=/usr/lib/cni
ID=mcdemo$$
NODE=$ID-node
BPFFS=/sys/fs/bpf/$ID
CGMNT=$(findmnt -n -t cgroup2 -o TARGET | head -1)
CG=$CGMNT/$ID
WORK=$(mktemp -d)
PODS=(web api db)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
nsn() { nsenter --net="/var/run/netns/$NODE" "$@"; }
nsp() { local p=$1; shift; nsenter --net="/var/run/netns/$ID-$p" "$@"; }

# The chain a runtime would read from /etc/cni/net.d: bridge, then meshcut.
cat > "$WORK/chain.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "demo",
  "plugins": [
    {"type": "bridge", "bridge": "mcdemo0", "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "dataDir": "$WORK/ipam", "ranges": [[{"subnet": "10.88.0.0/24"}]]}},
    {"type": "meshcut", "bpffsRoot": "$BPFFS", "logFile": "$WORK/meshcut.log", "logLevel": "info",
     "capabilities": {"cgroupPath": true}}
  ]
}
JSON

# run plugin N of the chain for POD, as libcni does: the plugin's entry
# plus the list's name/cniVersion, runtimeConfig for its capabilities, and
# the previous plugin's result as prevResult
run_plugin() { # CMD POD INDEX [PREV_RESULT_FILE]
	local cmd=$1 pod=$2 i=$3 prev=${4:-}
	local conf
	conf=$(jq --argjson i "$i" --arg cg "/$ID/$pod" '
		.plugins[$i] + {cniVersion, name}
		| if .capabilities.cgroupPath then .runtimeConfig = {cgroupPath: $cg} else . end' "$WORK/chain.conflist")
	[ -n "$prev" ] && conf=$(jq --slurpfile p "$prev" '.prevResult = $p[0]' <<<"$conf")
	local type
	type=$(jq -r .type <<<"$conf")
	local bin=$CNI_BIN/$type
	[ "$type" = meshcut ] && bin=$MESHCUT
	CNI_COMMAND=$cmd CNI_CONTAINERID=$ID-$pod CNI_NETNS=/var/run/netns/$ID-$pod CNI_IFNAME=eth0 \
		CNI_PATH=$CNI_BIN CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=$pod" \
		nsn "$bin" <<<"$conf"
}

cleanup() {
	set +e
	for p in "${PODS[@]}"; do
		[ -f "$WORK/$p.result" ] && run_plugin DEL "$p" 1 "$WORK/$p.result" >/dev/null 2>&1
		[ -f "$WORK/$p.result" ] && run_plugin DEL "$p" 0 "$WORK/$p.result" >/dev/null 2>&1
		ip netns del "$ID-$p" 2>/dev/null
		rmdir "$CG/$p" 2>/dev/null
	done
	ip netns del "$NODE" 2>/dev/null
	rm -rf "$BPFFS" "$WORK"
	rmdir "$CG" 2>/dev/null
}
trap cleanup EXIT

step "a node (netns $NODE) and three pods: ${PODS[*]}"
ip netns add "$NODE"
nsn ip link set lo up
mkdir -p "$CG"
for p in "${PODS[@]}"; do
	ip netns add "$ID-$p"
	nsp "$p" ip link set lo up
	mkdir -p "$CG/$p"
	run_plugin ADD "$p" 0 > "$WORK/$p.bridge"
	run_plugin ADD "$p" 1 "$WORK/$p.bridge" > "$WORK/$p.result"
	echo "  $p: $(jq -r '.ips[0].address' "$WORK/$p.result") (meshcut passed the bridge result through: $(diff -q <(jq -S . "$WORK/$p.bridge") <(jq -S . "$WORK/$p.result") >/dev/null && echo unchanged || echo CHANGED))"
done

step "what the kernel now runs for each pod"
for p in "${PODS[@]}"; do
	veth=$(jq -r '.interfaces[] | select(.sandbox == null and (.name | startswith("veth"))) | .name' "$WORK/$p.result")
	echo "  $p: host veth $veth, cgroup $CG/$p"
done
bpftool link show | grep -B0 -A1 -E "prog $(bpftool -j prog show pinned "$BPFFS/progs/mc_tc_ingress" | jq .id)|prog $(bpftool -j prog show pinned "$BPFFS/progs/mc_sockops" | jq .id)" | sed 's/^/  /'

step "traffic: web -> api (ICMP) and web -> db (TCP, client and server inside their pods' cgroups)"
nsp web ping -c 3 -i 0.2 "$(jq -r '.ips[0].address | split("/")[0]' "$WORK/api.result")" | tail -2 | sed 's/^/  /'
dbip=$(jq -r '.ips[0].address | split("/")[0]' "$WORK/db.result")
( echo $BASHPID > "$CG/db/cgroup.procs"; exec nsenter --net="/var/run/netns/$ID-db" socat -T3 TCP-LISTEN:5432,reuseaddr - > "$WORK/db.recv" ) &
sleep 0.3
( echo $BASHPID > "$CG/web/cgroup.procs"; echo "hello db" | nsp web socat -T3 - "TCP:$dbip:5432" )
wait
echo "  db received: $(cat "$WORK/db.recv")"

step "meshcut status"
"$MESHCUT" status --bpffs-root "$BPFFS"

step "CHECK each pod, then DEL the chain in reverse order"
for p in "${PODS[@]}"; do
	run_plugin CHECK "$p" 1 "$WORK/$p.result" && echo "  $p: CHECK ok"
done
for p in "${PODS[@]}"; do
	run_plugin DEL "$p" 1 "$WORK/$p.result"
	run_plugin DEL "$p" 0 "$WORK/$p.result"
	rm -f "$WORK/$p.result"
done
"$MESHCUT" status --bpffs-root "$BPFFS" | tail -1
echo "  links left running meshcut programs: $(bpftool -j link show | jq --argjson a "$(bpftool -j prog show pinned "$BPFFS/progs/mc_tc_ingress" | jq .id)" --argjson b "$(bpftool -j prog show pinned "$BPFFS/progs/mc_sockops" | jq .id)" '[.[] | select(.prog_id == $a or .prog_id == $b)] | length')"
step "done; everything the demo made is removed on exit"
