#!/usr/bin/env bats
# meshcut install / uninstall / agent against a fake host root, and end to
# end against a real chain on namespace pods.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	require_root
	mc_setup
	H="$T/host"
	NETD="$H/etc/cni/net.d"
	mkdir -p "$NETD" "$H/opt/cni/bin" "$H/sys/fs"
}
teardown() {
	[ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null
	mc_teardown
	mountpoint -q "$H/sys/fs/bpf" && umount "$H/sys/fs/bpf"
	return 0
}

install() { "$MESHCUT" install --host-root "$H" --wait "${WAIT:-2}" "$@"; }
uninstall() { "$MESHCUT" uninstall --host-root "$H" "$@"; }

calico() {
	cat > "$NETD/10-calico.conflist" <<'JSON'
{
  "name": "k8s-pod-network",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "calico",
      "datastore_type": "kubernetes",
      "ipam": { "type": "calico-ipam" },
      "policy": { "type": "k8s" }
    },
    { "type": "portmap", "snat": true, "capabilities": { "portMappings": true } },
    { "type": "bandwidth", "capabilities": { "bandwidth": true } }
  ]
}
JSON
	cp "$NETD/10-calico.conflist" "$T/orig"
}

# the file's plugin types, in order
types() { jq -c '[.plugins[].type]' "$1"; }

@test "install: Calico-like conflist gets our entry last, binary and bpffs; uninstall restores every byte" {
	calico
	run -0 install
	[ "$(types "$NETD/10-calico.conflist")" = '["calico","portmap","bandwidth","meshcut"]' ]
	jq -e '.plugins[-1].capabilities.cgroupPath == true' "$NETD/10-calico.conflist"
	# the rest of the file is untouched: removing our line gives the original
	diff "$T/orig" <(grep -v '"type":"meshcut"' "$NETD/10-calico.conflist" | sed -z 's/},\n  \]/}\n  ]/')
	cmp "$MESHCUT" "$H/opt/cni/bin/meshcut"
	[ "$(stat -c %a "$H/opt/cni/bin/meshcut")" = "$(stat -c %a "$MESHCUT")" ]
	[ "$(stat -f -c %T "$H/sys/fs/bpf")" = bpf_fs ]
	run -0 uninstall
	cmp "$T/orig" "$NETD/10-calico.conflist"
	[ ! -e "$H/opt/cni/bin/meshcut" ]
	[ -z "$(ls -A "$NETD" | grep -v 10-calico.conflist)" ]
}

@test "install: Flannel-like conflist, entry fields from --entry, mode kept" {
	cat > "$NETD/10-flannel.conflist" <<'JSON'
{"name":"cbr0","cniVersion":"0.3.1","plugins":[{"type":"flannel","delegate":{"hairpinMode":true,"isDefaultGateway":true}},{"type":"portmap","capabilities":{"portMappings":true}}]}
JSON
	chmod 600 "$NETD/10-flannel.conflist"
	cp "$NETD/10-flannel.conflist" "$T/orig"
	run -0 install --entry '{"logLevel":"info","failurePolicy":"fail","type":"other"}'
	[ "$(types "$NETD/10-flannel.conflist")" = '["flannel","portmap","meshcut"]' ]
	jq -e '.plugins[-1] | .logLevel == "info" and .failurePolicy == "fail" and .capabilities.cgroupPath' "$NETD/10-flannel.conflist"
	[ "$(stat -c %a "$NETD/10-flannel.conflist")" = 600 ]
	run -0 uninstall
	cmp "$T/orig" "$NETD/10-flannel.conflist"
}

@test "install: a bridge .conf becomes a .conflist (cniVersion and name kept); uninstall restores the .conf" {
	cat > "$NETD/10-bridge.conf" <<'JSON'
{ "cniVersion": "0.4.0", "name": "mynet", "type": "bridge", "bridge": "cni0",
  "ipam": { "type": "host-local", "subnet": "10.22.0.0/16" } }
JSON
	cp "$NETD/10-bridge.conf" "$T/orig"
	run -0 install
	[ ! -e "$NETD/10-bridge.conf" ]
	jq -e '.cniVersion == "0.4.0" and .name == "mynet" and ([.plugins[].type] == ["bridge","meshcut"])
		and (.plugins[0] | has("cniVersion") or has("name") | not) and .plugins[0].bridge == "cni0"' "$NETD/10-bridge.conflist"
	# a second install works on the .conflist and changes nothing
	run -0 install
	[[ "$output" == *"CNI config unchanged"* ]]
	run -0 uninstall
	cmp "$T/orig" "$NETD/10-bridge.conf"
	[ "$(ls -A "$NETD")" = 10-bridge.conf ]
}

@test "install: the first file by name is chosen, or the one named with --conflist" {
	calico
	cp "$NETD/10-calico.conflist" "$NETD/05-other.conflist"
	cp "$NETD/10-calico.conflist" "$NETD/20-last.json"
	echo 'not json' > "$NETD/README"
	run -0 install
	[ "$(types "$NETD/05-other.conflist")" = '["calico","portmap","bandwidth","meshcut"]' ]
	cmp "$T/orig" "$NETD/10-calico.conflist"
	run -0 uninstall
	run -0 install --conflist 10-calico.conflist
	cmp "$T/orig" "$NETD/05-other.conflist"
	[ "$(types "$NETD/10-calico.conflist")" = '["calico","portmap","bandwidth","meshcut"]' ]
}

@test "install: an existing meshcut entry is replaced, not duplicated" {
	calico
	jq '.plugins = [.plugins[0], {"type":"meshcut","logLevel":"debug"}] + .plugins[1:]' "$T/orig" > "$NETD/10-calico.conflist"
	run -0 install
	[ "$(types "$NETD/10-calico.conflist")" = '["calico","portmap","bandwidth","meshcut"]' ]
	jq -e '.plugins[-1] | has("logLevel") | not' "$NETD/10-calico.conflist"
}

@test "install: an unparsable file is left untouched with a clear error" {
	printf '{ "name": "broken", "plugins": [ {"type": "calico"}, \n' > "$NETD/10-broken.conflist"
	cp "$NETD/10-broken.conflist" "$T/orig"
	run -1 install
	[[ "$output" == *"10-broken.conflist is not a JSON object: left as it is"* ]]
	cmp "$T/orig" "$NETD/10-broken.conflist"
	[ "$(ls -A "$NETD")" = 10-broken.conflist ]
}

@test "install: a missing conf dir is waited for, then a clear timeout" {
	rm -rf "$NETD"
	start=$(date +%s)
	WAIT=1 run -1 install
	[ $(( $(date +%s) - start )) -ge 1 ]
	[[ "$output" == *"after 1 s (the directory does not exist)"* ]]
	# and a file that appears while it waits is used
	( sleep 1; mkdir -p "$NETD"; calico ) &
	WAIT=10 run -0 install
	wait
	[ "$(jq -r '.plugins[-1].type' "$NETD/10-calico.conflist")" = meshcut ]
}

@test "install twice: the second run changes nothing" {
	calico
	run -0 install
	before=$(stat -c '%i %Y %s' "$NETD/10-calico.conflist" "$H/opt/cni/bin/meshcut")
	sleep 1.1
	run -0 install
	[[ "$output" == *"binary unchanged, bpffs already mounted, CNI config unchanged"* ]]
	[ "$(stat -c '%i %Y %s' "$NETD/10-calico.conflist" "$H/opt/cni/bin/meshcut")" = "$before" ]
}

start_agent() {
	"$MESHCUT" agent --host-root "$H" --ready-file "$T/ready" "$@" 2> "$T/agent.log" 3>&- &
	AGENT=$!
}
# fake_bin: a bin dir holding meshcut, as install leaves it (the agent puts
# the entry back only while the binary is there); prints the dir
fake_bin() { mkdir -p "$H/opt/cni/bin" && cp "$MESHCUT" "$H/opt/cni/bin/meshcut" && echo "$H/opt/cni/bin"; }
has_entry() { [ "$(jq -r '.plugins[-1].type' "$NETD/10-calico.conflist" 2>/dev/null)" = meshcut ]; }

@test "agent: puts the entry back when the primary rewrites or replaces its file, and reports ready" {
	calico
	run -0 install
	start_agent
	wait_for 5 has_entry
	wait_for 5 test -e "$T/ready"
	cp "$T/orig" "$NETD/10-calico.conflist"          # rewritten in place
	wait_for 5 has_entry
	cp "$T/orig" "$T/new" && mv "$T/new" "$NETD/10-calico.conflist"   # replaced
	wait_for 5 has_entry
	[ "$(jq '[.plugins[] | select(.type == "meshcut")] | length' "$NETD/10-calico.conflist")" = 1 ]
}

@test "agent: two writers fighting -> the agent backs off and says so" {
	calico
	run -0 install
	start_agent
	wait_for 5 has_entry
	# another writer removes us every 0.2 s, for at most 8 s
	for _ in $(seq 1 40); do
		cp "$T/orig" "$NETD/10-calico.conflist"
		grep -q "backing off" "$T/agent.log" && break
		sleep 0.2
	done
	grep -q "removed meshcut from .* 5 times in 30 s: backing off" "$T/agent.log"
	# while it backs off it is not ready, and it stopped rewriting
	cp "$T/orig" "$NETD/10-calico.conflist"
	sleep 1
	if has_entry; then false; fi
	[ ! -e "$T/ready" ]
}

@test "agent: SIGTERM in uninstall mode removes the entry, the binary and the state" {
	calico
	run -0 install
	start_agent --uninstall-on-term
	wait_for 5 test -e "$T/ready"
	kill -TERM "$AGENT"
	wait "$AGENT"
	AGENT=
	cmp "$T/orig" "$NETD/10-calico.conflist"
	[ ! -e "$H/opt/cni/bin/meshcut" ]
	[ ! -e "$T/ready" ]
}

# chain POD CMD: run the installed conflist's plugins for POD as libcni
# does (ADD in order with prevResult, DEL in reverse), binaries from the
# fake host's CNI bin dir (meshcut) or Debian's (the primary)
chain() {
	local pod=$1 cmd=$2 list="$NETD/10-mcnet.conflist" n i prev="" conf bin out
	n=$(jq '.plugins | length' "$list")
	if [ "$cmd" = DEL ]; then order=$(seq $((n - 1)) -1 0); else order=$(seq 0 $((n - 1))); fi
	for i in $order; do
		conf=$(jq --argjson i "$i" --arg cg "$CGREL/$pod" '.plugins[$i] + {cniVersion, name}
			| if .capabilities.cgroupPath then .runtimeConfig = {cgroupPath: $cg} else . end' "$list")
		[ -n "$prev" ] && conf=$(jq --argjson p "$prev" '.prevResult = $p' <<<"$conf")
		bin="$H/opt/cni/bin/$(jq -r .type <<<"$conf")"
		[ -x "$bin" ] || bin="$CNI_BIN/$(jq -r .type <<<"$conf")"
		[ -x "$bin" ] || continue   # uninstalled: libcni would not know it either
		# shellcheck disable=SC2046
		out=$(env $(cni_env "$pod" "$cmd") nsenter --net="/var/run/netns/$NODE" "$bin" <<<"$conf") || return 1
		[ "$cmd" = ADD ] && prev=$out
	done
	[ "$cmd" != ADD ] || echo "$prev" > "$T/$pod.prev.json"
}

@test "agent: uninstall beside a running agent wins; the agent puts no entry back without the binary" {
	calico
	run -0 install
	start_agent
	wait_for 5 test -e "$T/ready"
	run -0 uninstall
	cmp "$T/orig" "$NETD/10-calico.conflist"
	# the primary rewrites its file, again and again: no entry comes back
	for _ in 1 2 3; do
		cp "$T/orig" "$T/new" && mv "$T/new" "$NETD/10-calico.conflist"
		sleep 0.5
		if has_entry; then false; fi
	done
	[ ! -e "$T/ready" ]
	[ "$(grep -c "meshcut is not there (uninstalled?)" "$T/agent.log")" = 1 ]
	# install again: the agent keeps the entry in place once more
	run -0 install
	cp "$T/orig" "$NETD/10-calico.conflist"
	wait_for 5 has_entry
	wait_for 5 test -e "$T/ready"
}

@test "end to end: install into a real chain, pods accelerated, uninstall, traffic still flows, nothing left" {
	require_feature packet conntrack-gate socket
	node_netfilter
	primary_conf x | jq '{cniVersion, name, plugins: [del(.cniVersion, .name)]}' > "$NETD/10-mcnet.conflist"
	run -0 install --bpffs-root /sys/fs/bpf/meshcut \
		--entry "{\"bpffsRoot\":\"$H/sys/fs/bpf/meshcut\",\"logFile\":\"$T/meshcut.log\"}"
	for p in a b; do
		PODS+=("$p")
		ip netns add "$ID-$p"
		nsp "$p" ip link set lo up
		mkdir -p "$CGDIR/$p"
		chain "$p" ADD
	done
	# the node under test is the installed one: drop require_feature's probe
	rm -rf "$BPFFS"
	BPFFS="$H/sys/fs/bpf/meshcut"
	echo_server b 7001
	tcp_echo a "$(pod_ip b)" 7001 300000
	[ "$(pkt a redirectedPackets)" -gt 10 ]
	[ -n "$(our_links)" ]
	links=$(our_links)
	# the DaemonSet's agent runs meanwhile; uninstall wins over it. Both
	# run in the node's netns, as the DaemonSet's hostNetwork pods do
	# (a clsact filter, on kernels without tcx, is found by the veth's
	# ifindex in that netns)
	nsn "$MESHCUT" agent --host-root "$H" --ready-file "$T/ready" --bpffs-root /sys/fs/bpf/meshcut \
		2> "$T/agent.log" 3>&- &
	AGENT=$!
	wait_for 5 test -e "$T/ready"
	run -0 nsn "$MESHCUT" uninstall --host-root "$H" --bpffs-root /sys/fs/bpf/meshcut
	kill "$AGENT"; AGENT=
	# uninstall took everything: entry, binary, links, pins
	[ "$(types "$NETD/10-mcnet.conflist")" = '["bridge"]' ]
	[ ! -e "$H/opt/cni/bin/meshcut" ]
	[ ! -e "$BPFFS" ]
	for id in $links; do if bpftool link show id "$id" >/dev/null 2>&1; then false; fi; done
	for p in a b; do [ -z "$(tc_progs "$(pod_veth $p)")" ]; done
	# the pods never lost their network
	tcp_echo a "$(pod_ip b)" 7001 300000
	for p in a b; do chain "$p" DEL; done
}

@test "agent: removes endpoints whose veth and netns are gone, and nothing else" {
	add_pod a
	add_pod b
	primary_cni a DEL          # veth gone
	ip netns del "$ID-a"       # netns gone; meshcut never got a DEL
	calico
	nsenter --net="/var/run/netns/$NODE" "$MESHCUT" agent --cni-conf-dir "$NETD" --cni-bin-dir "$(fake_bin)" --bpffs-root "$BPFFS" 2> "$T/agent.log" 3>&- &
	AGENT=$!
	wait_for 5 bash -c "! $MESHCUT status --json --bpffs-root $BPFFS | jq -e '.endpoints[] | select(.containerID == \"ctr-a\")' >/dev/null"
	ep_json b
	grep -q "removing orphan endpoint ctr-a/eth0" "$T/agent.log"
}

# metrics: GET /metrics from the agent in the node netns, parsed by the
# Prometheus client library's parser (as JSON, see prom-parse.py)
PROM="/usr/bin/python3 $BATS_TEST_DIRNAME/../tools/prom-parse.py"
metrics() {
	local body
	body=$(nsn curl -sf --max-time 3 http://127.0.0.1:9765/metrics) || return 1
	$PROM <<<"$body"
}
sample() { # JSON NAME [POD]: a sample's value
	jq -r --arg n "$2" --arg p "${3:-}" \
		'[.samples[] | select(.name == $n and ($p == "" or .labels.pod == $p))] | if length == 1 then .[0].value else "none" end' <<<"$1"
}

@test "agent: serves Prometheus metrics: readiness, node state, every endpoint's counters as status shows them" {
	require_feature packet conntrack-gate socket socket-teardown socket-queue
	/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null || skip "python3-prometheus-client not installed (hack/deps.sh)"
	add_pod a "$(sock_redirect_conf)"
	add_pod b
	add_pod c
	run -0 nsp a ping -c 3 -i 0.2 -W 2 "$(pod_ip b)"
	primary_cni c DEL          # c's veth and netns go without a DEL:
	ip netns del "$ID-c"       # an orphan for the agent to remove
	calico
	# nsenter execs the agent: $! is the agent itself, for teardown's kill
	nsenter --net="/var/run/netns/$NODE" "$MESHCUT" agent --cni-conf-dir "$NETD" --cni-bin-dir "$(fake_bin)" --bpffs-root "$BPFFS" \
		--ready-file "$T/ready" --metrics :9765 2> "$T/agent.log" 3>&- &
	AGENT=$!
	wait_for 5 test -e "$T/ready"
	wait_for 5 grep -q "removing orphan endpoint ctr-c" "$T/agent.log"
	m=$(metrics)

	[ "$(sample "$m" meshcut_agent_ready)" = 1 ]
	[ "$(sample "$m" meshcut_agent_conf_reinserts_total)" = 1 ]
	[ "$(sample "$m" meshcut_agent_orphans_removed_total)" = 1 ]
	[ "$(sample "$m" meshcut_node_loaded)" = 1 ]
	[ "$(sample "$m" meshcut_node_programs_current)" = 1 ]
	jq -e '[.samples[] | select(.name == "meshcut_endpoints")] | map({(.labels.state): .value}) | add
		== {"pending": 0, "ready": 2, "degraded": 0}' <<<"$m"
	jq -e '.families.meshcut_packet_redirected_packets.type == "counter"' <<<"$m"
	# every counter of every endpoint, as `meshcut status --json` has it
	# read just before and just after (pods send now and then on their own:
	# IPv6 neighbour discovery)
	for p in a b; do
		ep_json "$p" > "$T/$p.before"
		m=$(metrics)
		ep=$(ep_json "$p")
		jq -e --arg p "$p" '[.samples[] | select(.labels.pod == $p)] | all(.labels.namespace == "default"
			and .labels.container_id == "ctr-\($p)" and .labels.interface == "eth0")' <<<"$m"
		for g in packet socket; do
			for k in $(jq -r ".$g | keys[]" <<<"$ep"); do
				name="meshcut_${g}_$(sed -E 's/([A-Z])/_\L\1/g' <<<"$k")_total"
				lo=$(jq -r ".$g.$k" "$T/$p.before")
				hi=$(jq -r ".$g.$k" <<<"$ep")
				got=$(sample "$m" "$name" "$p")
				[ "$got" != none ] && [ "$lo" -le "$got" ] && [ "$got" -le "$hi" ] ||
					{ echo "$p $name: metrics $got, status $lo..$hi"; false; }
			done
		done
	done
	[ "$(sample "$m" meshcut_packet_seen_packets_total a)" != 0 ]

	# a client that connects and says nothing holds the agent a second at most
	nsn bash -c 'exec 5<>/dev/tcp/127.0.0.1/9765; sleep 5' 3>&- &
	PIDS+=($!)
	sleep 0.2
	metrics > /dev/null
	[ "$(nsn curl -s -o /dev/null -w '%{http_code}' --max-time 3 http://127.0.0.1:9765/nope)" = 404 ]
	# ":PORT", as the DaemonSet passes it, is every address, IPv6 too
	[ "$(nsn curl -s -o /dev/null -w '%{http_code}' --max-time 3 'http://[::1]:9765/metrics')" = 200 ]
}

@test "agent: /metrics shows each endpoint's policy, and a change as soon as it is made" {
	/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null || skip "python3-prometheus-client not installed (hack/deps.sh)"
	# excluded ports are the socket shortcut's: written where its sockops is
	require_feature packet socket
	add_pod a '. + {excludePorts: [9000]}'
	calico
	nsenter --net="/var/run/netns/$NODE" "$MESHCUT" agent --cni-conf-dir "$NETD" --cni-bin-dir "$(fake_bin)" --bpffs-root "$BPFFS" \
		--ready-file "$T/ready" --metrics :9765 2> "$T/agent.log" 3>&- &
	AGENT=$!
	wait_for 5 test -e "$T/ready"
	pol() { # JSON SHORTCUT
		jq -r --arg s "$2" '[.samples[] | select(.name == "meshcut_endpoint_policy" and .labels.pod == "a" and .labels.shortcut == $s)] | if length == 1 then .[0].value else "none" end' <<<"$1"
	}
	ports() { jq -c '[.samples[] | select(.name == "meshcut_endpoint_policy_excluded_port" and .labels.pod == "a") | .labels.port | tonumber] | sort' <<<"$1"; }
	m=$(metrics)
	[ "$(pol "$m" packet)" = 1 ]
	[ "$(pol "$m" socket)" = 0 ]
	[ "$(ports "$m")" = "[9000]" ]
	[ "$(sample "$m" meshcut_endpoint_policy_generation a)" = 0 ]
	"$MESHCUT" endpoint set default/a --packet off --exclude-ports 80,443 --bpffs-root "$BPFFS"
	m=$(metrics)
	[ "$(pol "$m" packet)" = 0 ]
	[ "$(ports "$m")" = "[80,443]" ]
	[ "$(sample "$m" meshcut_endpoint_policy_generation a)" = 1 ]
}

@test "agent metrics: each datapath feature on or off, and for each one off the program, errno and why" {
	/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null || skip "python3-prometheus-client not installed (hack/deps.sh)"
	# it refuses socket-teardown, which must be on to be refused (on 5.10
	# it is off already, for want of the socket programs)
	require_feature socket-teardown
	MESHCUT_REFUSE=socket-teardown add_pod a
	calico
	nsenter --net="/var/run/netns/$NODE" "$MESHCUT" agent --cni-conf-dir "$NETD" --cni-bin-dir "$(fake_bin)" --bpffs-root "$BPFFS" \
		--ready-file "$T/ready" --metrics :9765 2> "$T/agent.log" 3>&- &
	AGENT=$!
	wait_for 5 test -e "$T/ready"
	m=$(metrics)
	jq -e '.families.meshcut_node_feature.type == "gauge"' <<<"$m"
	st=$(status_json)
	# one sample per feature, 1 exactly when status says it is on
	for f in $(jq -r '.node.features | keys[]' <<<"$st"); do
		on=$(jq -r --arg f "$f" 'if .node.features[$f].on then 1 else 0 end' <<<"$st")
		got=$(jq -r --arg f "$f" '[.samples[] | select(.name == "meshcut_node_feature" and .labels.feature == $f)] |
			if length == 1 then .[0].value else "none" end' <<<"$m")
		[ "$got" = "$on" ] || { echo "$f: metrics $got, status $on"; false; }
	done
	[ "$(jq '[.samples[] | select(.name == "meshcut_node_feature")] | length' <<<"$m")" = \
		"$(jq '.node.features | length' <<<"$st")" ]
	# the refused one, in the node's words
	jq -e '[.samples[] | select(.name == "meshcut_node_feature_off_info" and .labels.feature == "socket-teardown")] |
		length == 1 and .[0].value == 1 and .[0].labels.state == "forced-off" and
		.[0].labels.program == "mc_sock_sweep" and .[0].labels.errno == "1" and
		(.[0].labels.reason | startswith("MESHCUT_REFUSE="))' <<<"$m"
	# and no off-info for a feature that is on
	jq -e --argjson st "$st" '[.samples[] | select(.name == "meshcut_node_feature_off_info") | .labels.feature] |
		all(. as $f | $st.node.features[$f].on | not)' <<<"$m"
}

@test "each command takes only its own options: another command's option or a stray argument is an error" {
	run -2 "$MESHCUT" install --host-root "$H" --metrics :9765
	[[ "$output" == *"unrecognized option '--metrics'"* ]]
	[[ "$output" == *"usage: meshcut install "* ]]
	[[ "$output" != *"[--metrics"* ]]
	run -2 "$MESHCUT" uninstall --host-root "$H" --wait 5
	[[ "$output" == *"unrecognized option '--wait'"* ]]
	run -2 "$MESHCUT" install --host-root "$H" stray
	[[ "$output" == *"unexpected argument 'stray'"* ]]
	run -2 "$MESHCUT" install --host-root "$H" --conflist /etc/cni/net.d/x.conflist
	[[ "$output" == *"--conflist takes a file name"* ]]
	# the agent takes its own
	run -2 "$MESHCUT" agent --host-root "$H" --nope
	[[ "$output" == *"[--metrics ADDR:PORT]"* ]]
	# nothing was installed by any of them
	[ -z "$(ls -A "$H/opt/cni/bin")" ]
}
