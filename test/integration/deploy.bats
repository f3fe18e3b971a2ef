#!/usr/bin/env bats
# deploy/: the DaemonSet manifest against the Kubernetes schema, and what
# the node lifecycle issue asks of it.

bats_require_minimum_version 1.5.0

V="$BATS_TEST_DIRNAME/../deploy/validate.mjs"
M="$BATS_TEST_DIRNAME/../../deploy/meshcut.yaml"

setup() {
	[ -d "$BATS_TEST_DIRNAME/../deploy/node_modules" ] || skip "validator not installed (hack/deps.sh installs it)"
}

@test "the DaemonSet validates against the Kubernetes schema, unknown fields included" {
	run -0 node "$V" "$M"
	[ -z "$output" ]
}

@test "the validator catches a wrong type and a misspelled field" {
	sed 's/priorityClassName/priorityClassNam/; s/periodSeconds: 5/periodSeconds: "5s"/' "$M" > "$BATS_TEST_TMPDIR/bad.yaml"
	run -1 node "$V" "$BATS_TEST_TMPDIR/bad.yaml"
	[[ "$output" == *"readinessProbe/periodSeconds must be integer"* ]]
	[[ "$output" == *"priorityClassNam: unknown field"* ]]
}

@test "the DaemonSet has what a node installer needs, and no more privilege than that" {
	ds=$(node "$V" --json "$M" | jq '.[0]')
	spec=$(jq '.spec.template.spec' <<<"$ds")
	jq -e '.metadata.namespace == "kube-system"' <<<"$ds"
	jq -e '.hostNetwork == true and .priorityClassName == "system-node-critical"
		and .tolerations == [{"operator": "Exists"}]
		and (.hostPID // false) == false and .automountServiceAccountToken == false' <<<"$spec"
	jq -e '.initContainers[0].args[0] == "install" and .containers[0].args[0] == "agent"' <<<"$spec"
	# the agent's metrics port, declared where the agent listens
	port=$(jq -r '.containers[0].args | .[index("--metrics") + 1] | split(":")[-1]' <<<"$spec")
	jq -e --argjson p "$port" '.containers[0].ports == [{"name": "metrics", "containerPort": $p, "protocol": "TCP"}]' <<<"$spec"
	jq -e '.containers[0].readinessProbe and all(.initContainers[], .containers[]; .resources.requests.cpu and .resources.requests.memory)' <<<"$spec"
	# the host paths the commands work on
	jq -e '[.volumes[].hostPath.path] | sort == ["/etc/cni/net.d", "/opt/cni/bin", "/sys/fs/bpf", "/var/run/netns"]' <<<"$spec"
	# only the installer is privileged (bpffs mount propagation); the agent
	# drops everything and adds back what the bpf and netlink calls need
	jq -e '.containers[0].securityContext | .privileged == false and .capabilities.drop == ["ALL"]
		and (.capabilities.add | sort) == ["BPF", "NET_ADMIN", "SYS_ADMIN"]' <<<"$spec"
	jq -e '.initContainers[0].volumeMounts[] | select(.mountPath == "/host/sys/fs/bpf") | .mountPropagation == "Bidirectional"' <<<"$spec"
}

@test "the commands the DaemonSet runs are ones meshcut accepts" {
	MESHCUT=${MESHCUT:-$BATS_TEST_DIRNAME/../../build/meshcut}
	ds=$(node "$V" --json "$M" | jq '.[0].spec.template.spec')
	# every flag the manifest passes is known to the binary: a flag it did
	# not know would print usage and exit 2 (the agent, which would run on,
	# is stopped after 3 s)
	for c in initContainers containers; do
		mapfile -t args < <(jq -r ".${c}[0].args[]" <<<"$ds")
		# in a netns of its own: the agent's metrics port is not the host's
		# (each command takes only its own options: --ready-file is the agent's)
		extra=(--host-root /nonexistent --wait 0)
		[ "${args[0]}" = agent ] && extra+=(--ready-file "$BATS_TEST_TMPDIR/ready")
		run unshare --net timeout 3 "$MESHCUT" "${args[@]}" "${extra[@]}"
		[ "$status" -ne 2 ] || { echo "$output"; false; }
	done
}
