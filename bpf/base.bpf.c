// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mc_base: the maps every feature shares and those only the plugin uses.
 * No programs: it loads wherever maps can be made, and then the node can
 * record endpoints, and what each feature could or could not do, whatever
 * the kernel refuses of the others (node.c, docs/features.md). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "mc_names.h"

#include "maps.h"
#include "mc_endpoint.h"
#include "mc_node.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Endpoint records: written and read by the plugin only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, struct mc_ep_key);
	__type(value, struct mc_endpoint);
} MC_ENDPOINTS_MAP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mc_node_info);
} MC_NODE_MAP SEC(".maps");
