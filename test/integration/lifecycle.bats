#!/usr/bin/env bats
# ADD / CHECK / DEL / GC / STATUS / VERSION with real pods and real traffic.

bats_require_minimum_version 1.5.0
load helpers

setup() { require_root; mc_setup; }
teardown() { mc_teardown; }

cni_code() { jq -r .code <<<"$output"; }

@test "VERSION lists the supported spec versions, whatever stdin holds" {
	run -0 env CNI_COMMAND=VERSION "$MESHCUT" <<<"not json at all"
	run -0 jq -ce .supportedVersions <<<"$output"
	[ "$output" = '["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]' ]
}

@test "bridge IPv4: ADD prints prevResult unchanged and attaches tc and sockops" {
	require_feature packet conntrack-gate socket
	add_pod a
	# the result is the primary's, field for field
	diff <(jq -S . "$T/a.prev.json") <(jq -S . "$T/a.out")
	veth=$(pod_veth a)
	# the kernel runs our tc program on the host veth (tcx, appended; a
	# clsact filter where the kernel has no tcx)
	tc_progs "$veth" | grep -qx "$(prog_id mc_tc_ingress)"
	# and our sockops program on the pod cgroup
	bpftool -j cgroup show "$CGDIR/a" | jq -e --argjson id "$(prog_id mc_sockops)" \
		'[.[] | select(.attach_type == "cgroup_sock_ops" and .id == $id)] | length == 1'
	# the record says so, with the right veth, IP and cgroup
	ep_json a | jq -e --arg v "$veth" --arg ip "$(pod_ip a)/24" --arg cg "$CGDIR/a" \
		'.state == "ready" and .veth == $v and .ips == [$ip] and .cgroup == $cg and .pod == "a" and .namespace == "default"'
	# a tcx link is pinned per endpoint; a clsact filter has no pin
	if ep_json a | jq -e '.attached | test("tc-tcx")'; then
		[ -e "$BPFFS/endpoints/ctr-a/eth0/tc" ]
	else
		ep_json a | jq -e '.attached | test("tc-legacy")'
		[ ! -e "$BPFFS/endpoints/ctr-a/eth0/tc" ]
	fi
	[ -e "$BPFFS/endpoints/ctr-a/eth0/sockops" ]
}

@test "bridge IPv4: traffic between two pods flows and is counted" {
	require_feature packet conntrack-gate socket
	add_pod a
	add_pod b
	run -0 nsp a ping -c 3 -i 0.2 -W 2 "$(pod_ip b)"
	ep_json a | jq -e '.packet.seenPackets >= 3 and .packet.passedPackets == .packet.seenPackets'
	# a TCP connection from inside pod b's cgroup is seen by sockops
	nsenter --net="/var/run/netns/$ID-b" socat -T3 TCP-LISTEN:7001,reuseaddr - >/dev/null 3>&- &
	PIDS+=($!)
	sleep 0.3
	( echo $BASHPID > "$CGDIR/a/cgroup.procs"; echo hello | nsp a socat -T3 - "TCP:$(pod_ip b):7001" )
	ep_json a | jq -e '.socket.activeEstablished == 1'
}

@test "ptp dual-stack: both addresses recorded, routed traffic works both ways" {
	require_feature packet conntrack-gate socket
	PRIMARY=ptp DUALSTACK=1
	add_pod a
	add_pod b
	diff <(jq -S . "$T/a.prev.json") <(jq -S . "$T/a.out")
	ep_json a | jq -e '(.ips | length) == 2 and .state == "ready"'
	tc_progs "$(pod_veth a)" | grep -qx "$(prog_id mc_tc_ingress)"
	run -0 nsp a ping -c 2 -i 0.2 -W 2 "$(pod_ip b)"
	# IPv6 needs DAD to finish on both ends: bounded wait
	for _ in $(seq 1 30); do nsp a ping -6 -c 1 -W 1 "$(pod_ip b :)" >/dev/null 2>&1 && break; sleep 0.2; done
	run -0 nsp a ping -6 -c 2 -i 0.2 -W 2 "$(pod_ip b :)"
	bpftool -j map dump pinned "$BPFFS/maps/mc_dp_v1" | jq -e 'length == 4'
}

@test "every pinned map and program is named in include/mc_names.h and docs/state.md" {
	add_pod a
	# pinned by this node (a refused feature pins less: its names stay listed)
	pinned=$(cd "$BPFFS" && ls -1 maps progs | grep -v ':$' | grep . | sort)
	[ -n "$pinned" ]
	doc=$(grep -oE '^  (maps|progs)/[a-z0-9_]+' "$BATS_TEST_DIRNAME/../../docs/state.md" | cut -d/ -f2 | sort -u)
	names=$(sed -n 's/^#define MC_[A-Z_]*_MAP \(mc_[a-z0-9_]*\).*/\1/p' "$BATS_TEST_DIRNAME/../../include/mc_names.h" | sort)
	# every map pinned has its one name in the header, and docs/state.md lists it
	for n in $pinned; do
		case $n in mc_*_v[0-9]*) grep -qx "$n" <<<"$names" || { echo "$n pinned, not in mc_names.h"; false; } ;; esac
		grep -qx "$n" <<<"$doc" || { echo "$n pinned, not in docs/state.md"; false; }
	done
	# and the doc names no map the header does not define
	for n in $(grep '_v[0-9]' <<<"$doc"); do
		grep -qx "$n" <<<"$names" || { echo "docs/state.md names $n, mc_names.h does not"; false; }
	done
}

@test "DEL removes every link, pin and entry it made, and DEL twice succeeds" {
	require_feature packet conntrack-gate socket
	make_pod a
	mc_conf a
	before=$(state_snapshot)
	mc_cni a ADD "$T/a.mc.json" >/dev/null
	[ "$(state_snapshot)" != "$before" ]
	[ -n "$(our_links)" ]
	run -0 mc_cni a DEL "$T/a.mc.json"
	[ -z "$output" ]
	diff <(echo "$before") <(state_snapshot)
	[ -z "$(our_links)" ]
	[ -z "$(tc_progs "$(pod_veth a)")" ]
	run -0 mc_cni a DEL "$T/a.mc.json"
	diff <(echo "$before") <(state_snapshot)
	# the pod still has its network
	run -0 nsp a ping -c 1 -W 2 10.77.0.1
}

@test "DEL after the netns and the veth are gone, and without CNI_NETNS" {
	add_pod a
	add_pod b
	primary_cni a DEL
	ip netns del "$ID-a"
	run -0 mc_cni a DEL "$T/a.mc.json"
	run ! ep_json a
	# b: runtime passes no netns at all
	run -0 mc_cni b DEL "$T/b.mc.json" CNI_NETNS=
	run ! ep_json b
	[ -z "$(our_links)" ]
	[ -z "$(ls "$BPFFS/endpoints")" ]
}

@test "DEL with no prior ADD, and on an empty bpffs after a reboot" {
	make_pod a
	mc_conf a
	run -0 mc_cni a DEL "$T/a.mc.json"
	[ ! -e "$BPFFS" ]   # DEL creates nothing
	mc_cni a ADD "$T/a.mc.json" >/dev/null
	rm -rf "$BPFFS"     # what a reboot leaves: no pins at all
	run -0 mc_cni a DEL "$T/a.mc.json"
}

@test "DEL after the cgroup is gone" {
	add_pod a
	cg_remove "$CGDIR/a"
	run -0 mc_cni a DEL "$T/a.mc.json"
	[ -z "$(our_links)" ]
}

@test "CHECK passes after ADD and fails once a link is removed behind its back" {
	require_feature packet conntrack-gate socket
	add_pod a
	run -0 mc_cni a CHECK "$T/a.mc.json"
	[ -z "$output" ]
	if [ -e "$BPFFS/endpoints/ctr-a/eth0/tc" ]; then
		rm "$BPFFS/endpoints/ctr-a/eth0/tc"   # unpinning the link detaches it (soon)
	else
		nsn tc filter del dev "$(pod_veth a)" ingress   # our clsact filter (no tcx)
	fi
	wait_for 5 no_tc_progs "$(pod_veth a)"
	run -1 mc_cni a CHECK "$T/a.mc.json"
	[ "$(cni_code)" = 101 ]
	grep -q "tc link\|clsact ingress filter" <<<"$(jq -r .details <<<"$output")"
}

@test "CHECK fails for an endpoint never added, and for cniVersion below 0.4.0" {
	make_pod a
	mc_conf a
	run -1 mc_cni a CHECK "$T/a.mc.json"
	[ "$(cni_code)" = 101 ]
	mc_conf a '.cniVersion = "0.3.1"'
	run -1 mc_cni a CHECK "$T/a.mc.json"
	[ "$(cni_code)" = 1 ]
}

@test "CHECK fails when the sockops attachment is gone from the cgroup" {
	require_feature packet conntrack-gate socket
	add_pod a
	link=$(bpftool -j link show | jq -r --argjson id "$(prog_id mc_sockops)" '.[] | select(.prog_id == $id) | .id')
	bpftool link detach id "$link"
	run -1 mc_cni a CHECK "$T/a.mc.json"
	[ "$(cni_code)" = 101 ]
}

gc_conf() { # VALID_PODS...: GC config listing these pods as valid
	local list
	list=$(printf '%s\n' "$@" | jq -R '{containerID: ("ctr-" + .), ifname: "eth0"}' | jq -s .)
	[ $# -eq 0 ] && list='[]'
	jq -n --arg root "$BPFFS" --argjson l "$list" --arg log "$T/meshcut.log" \
		'{cniVersion:"1.1.0",name:"mcnet",type:"meshcut",bpffsRoot:$root,logFile:$log,"cni.dev/valid-attachments":$l}' > "$T/gc.json"
}

@test "GC removes endpoints not in valid-attachments and keeps the valid ones" {
	require_feature packet conntrack-gate socket
	add_pod a
	add_pod b
	add_pod c
	gc_conf b
	run -0 mc_node GC "$T/gc.json"
	run ! ep_json a
	run -0 ep_json b
	run ! ep_json c
	[ -z "$(tc_progs "$(pod_veth a)")" ]
	tc_progs "$(pod_veth b)" | grep -q .
	# b's links only: sockops, and tc where it is a tcx link (no tcx: a
	# clsact filter, which is no link)
	want=1
	if ep_json b | jq -e '.attached | test("tc-tcx")' >/dev/null; then want=2; fi
	[ "$(our_links | wc -l)" -eq "$want" ]
	run -0 mc_cni b CHECK "$T/b.mc.json"
}

@test "GC accepts cni.dev/attachments and leaves other networks alone" {
	add_pod a
	add_pod b '.name = "othernet"'
	jq -n --arg root "$BPFFS" '{cniVersion:"1.1.0",name:"mcnet",type:"meshcut",bpffsRoot:$root,"cni.dev/attachments":[]}' > "$T/gc.json"
	run -0 mc_node GC "$T/gc.json"
	run ! ep_json a
	run -0 ep_json b
}

@test "GC removes pins an interrupted ADD left without a record" {
	add_pod a
	gc_conf a
	mkdir -p "$BPFFS/endpoints/ctr-zombie/eth0"
	run -0 mc_node GC "$T/gc.json"
	[ ! -e "$BPFFS/endpoints/ctr-zombie" ]
	run -0 ep_json a
}

@test "GC removes map entries an interrupted ADD left without a record, and only those" {
	require_feature packet
	add_pod a
	add_pod z
	# z's record goes, as if its ADD had been killed after writing its
	# entries: the key is (container ID, ifname), NUL padded to 128 + 16
	key=$({ printf ctr-z; head -c 123 /dev/zero; printf eth0; head -c 12 /dev/zero; } | od -An -v -tx1)
	# shellcheck disable=SC2086 # one word per byte
	bpftool map delete pinned "$BPFFS/maps/mc_endpoints_v1" key hex $key
	run ! ep_json z
	n_a=$(jq ".ips | length" "$T/a.prev.json")
	[ "$(map_keys mc_dp_v1 | jq length)" -gt "$n_a" ]
	[ "$(map_keys mc_veth_v2 | jq length)" -eq 2 ]
	gc_conf a z
	run -0 mc_node GC "$T/gc.json"
	[ "$(map_keys mc_dp_v1 | jq length)" -eq "$n_a" ]
	[ "$(map_keys mc_veth_v2 | jq length)" -eq 1 ]
	[ "$(map_keys mc_netns_v1 | jq length)" -eq 1 ]
	run -0 mc_cni a CHECK "$T/a.mc.json"
}

status_conf() { # JQ_FILTER
	jq -n --arg root "$BPFFS" '{cniVersion:"1.1.0",name:"mcnet",type:"meshcut",bpffsRoot:$root} | '"${1:-.}" > "$T/status.json"
}

@test "STATUS succeeds on a fresh node without any ADD" {
	status_conf
	# nothing on stdout; stderr may name a feature this kernel refuses
	run -0 --separate-stderr mc_node STATUS "$T/status.json"
	[ -z "$output" ]
	status_json | jq -e '.loaded and .programsCurrent'
}

@test "STATUS: an unusable datapath is 50 only with failurePolicy fail" {
	status_conf '.bpffsRoot = "/proc/meshcut-nope"'
	run -0 mc_node STATUS "$T/status.json"
	status_conf '.bpffsRoot = "/proc/meshcut-nope" | .failurePolicy = "fail"'
	run -1 mc_node STATUS "$T/status.json"
	[ "$(cni_code)" = 50 ]
	status_conf '.cniVersion = "1.0.0"'
	run -1 mc_node STATUS "$T/status.json"
	[ "$(cni_code)" = 1 ]
	status_conf '.failurePolicy = "maybe"'
	run -1 mc_node STATUS "$T/status.json"
	[ "$(cni_code)" = 7 ]
}

@test "legacy clsact mode: attach, CHECK, DEL removes our filter and the qdisc we made" {
	require_feature packet conntrack-gate socket
	add_pod a '.tcAttachMode = "legacy"'
	veth=$(pod_veth a)
	ep_json a | jq -e '.attached | test("tc-legacy") and test("clsact-created")'
	nsn tc filter show dev "$veth" ingress | grep -q mc_tc_ingress
	run -0 mc_cni a CHECK "$T/a.mc.json"
	run -0 nsp a ping -c 2 -i 0.2 -W 2 10.77.0.1
	ep_json a | jq -e '.packet.seenPackets >= 2'
	run -0 mc_cni a DEL "$T/a.mc.json"
	[ -z "$(nsn tc filter show dev "$veth" ingress)" ]
	if nsn tc qdisc show dev "$veth" | grep -q clsact; then false; fi
}

@test "legacy mode never removes a clsact qdisc or filter it did not create" {
	require_feature packet conntrack-gate socket
	make_pod a
	veth=$(pod_veth a)
	nsn tc qdisc add dev "$veth" clsact
	nsn tc filter add dev "$veth" ingress prio 1 u32 match u32 0 0
	mc_conf a '.tcAttachMode = "legacy"'
	mc_cni a ADD "$T/a.mc.json" >/dev/null
	ep_json a | jq -e '(.attached | test("tc-legacy")) and (.attached | test("clsact-created") | not)'
	run -0 mc_cni a DEL "$T/a.mc.json"
	nsn tc qdisc show dev "$veth" | grep -q clsact
	nsn tc filter show dev "$veth" ingress | grep -q u32
	if nsn tc filter show dev "$veth" ingress | grep -q mc_tc_ingress; then false; fi
}

@test "32 pods added and deleted concurrently leave consistent state and nothing behind" {
	require_feature packet conntrack-gate socket
	local i n=32
	for i in $(seq 1 $n); do make_pod "p$i"; mc_conf "p$i"; done
	before=$(state_snapshot)
	for i in $(seq 1 $n); do mc_cni "p$i" ADD "$T/p$i.mc.json" > "$T/p$i.out" & done
	wait
	for i in $(seq 1 $n); do diff <(jq -S . "$T/p$i.prev.json") <(jq -S . "$T/p$i.out"); done
	status_json | jq -e --argjson n $n '(.endpoints | length) == $n and all(.endpoints[]; .state == "ready")'
	status_json | jq -e --argjson n $n '[.endpoints[].slot] | unique | length == $n'
	# a sockops link each, and a tcx link each where tc is tcx
	per=$(status_json | jq '[.endpoints[] | 1 + (if (.attached | test("tc-tcx")) then 1 else 0 end)] | add')
	[ "$per" -ge "$n" ]
	[ "$(our_links | wc -l)" -eq "$per" ]
	for i in $(seq 1 $n); do mc_cni "p$i" DEL "$T/p$i.mc.json" & done
	wait
	diff <(echo "$before") <(state_snapshot)
	[ -z "$(our_links)" ]
}

@test "conf/: every example chains meshcut last with cgroupPath, and meshcut runs its entry" {
	require_feature packet conntrack-gate socket
	make_pod a
	for f in "$BATS_TEST_DIRNAME"/../../conf/*.conflist; do
		jq -e '.plugins[-1].type == "meshcut" and .plugins[-1].capabilities == {"cgroupPath": true}
			and ([.plugins[] | select(.type == "meshcut")] | length == 1)' "$f"
		# our entry as the runtime hands it to us after the example's
		# primary (here the real bridge's result); logs and pins in the test's
		jq --argjson prev "$(cat "$T/a.prev.json")" --arg root "$BPFFS" --arg cg "$CGREL/a" \
			--arg log "$T/meshcut.log" \
			'{cniVersion, name} + .plugins[-1] | del(.capabilities)
			 | .bpffsRoot = $root | .logFile = $log
			 | .runtimeConfig = {cgroupPath: $cg} | .prevResult = $prev' "$f" > "$T/a.mc.json"
		run -0 mc_cni a ADD "$T/a.mc.json"
		ep_json a | jq -e '.state == "ready"' || { echo "${f##*/}: $(ep_json a)"; false; }
		run -0 mc_cni a DEL "$T/a.mc.json"
	done
}
