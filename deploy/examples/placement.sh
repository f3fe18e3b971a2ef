#!/usr/bin/env bash
# placement.sh SERVICES.json: a control plane's per-service decision,
# turned into meshcut endpoint policies for the pods of this node, the way
# Wire's control plane places sidecars (docs/endpoint-policy.md).
#
# SERVICES.json is a list of services with their pod selector and whether
# their policy needs the pods' traffic on the normal path (for example an
# L7 policy only their sidecar enforces on each hop, or a host-level audit):
#
#   [{"namespace": "shop", "selector": "app=cart",    "normalPath": true},
#    {"namespace": "shop", "selector": "app=catalog", "normalPath": false}]
#
# For each service it asks the API server (kubectl, or $KUBECTL) for the
# pods of this node ($NODE_NAME, as a DaemonSet's downward API gives it),
# writes one decision for all of them and applies it at once with
# `meshcut endpoint apply`: shortcuts off for pods whose service needs the
# normal path, on for the others. Applying the same decision again changes
# nothing, so this can run on every change of the services or the pods.
set -euo pipefail
services=${1:?usage: placement.sh SERVICES.json}
KUBECTL=${KUBECTL:-kubectl}
MESHCUT=${MESHCUT:-meshcut}
: "${NODE_NAME:?NODE_NAME: the node this runs on}"
decision=$(mktemp)
trap 'rm -f "$decision"' EXIT

jq -c '.[]' "$services" | while read -r svc; do
	ns=$(jq -r .namespace <<<"$svc")
	sel=$(jq -r .selector <<<"$svc")
	normal=$(jq -r '.normalPath // false' <<<"$svc")
	"$KUBECTL" get pods -n "$ns" -l "$sel" --field-selector "spec.nodeName=$NODE_NAME" -o json |
		jq -c --argjson normal "$normal" '.items[] | select(.status.phase == "Running") |
			{pod: "\(.metadata.namespace)/\(.metadata.name)",
			 socket: (if $normal then "off" else "on" end),
			 packet: (if $normal then "off" else "on" end)}'
done | jq -s '{endpoints: .}' > "$decision"

echo "placement: $(jq '.endpoints | length' "$decision") pods of this node"
"$MESHCUT" endpoint apply -f "$decision" ${MESHCUT_BPFFS_ROOT:+--bpffs-root "$MESHCUT_BPFFS_ROOT"}
