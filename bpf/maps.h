/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The endpoint maps every feature object reads: defined once here, so
 * that each object that includes this header declares them identically
 * and libbpf reuses the pinned map instead of making its own (pin_path;
 * node.c). mc_base.bpf.c creates them; an object declares only the maps
 * its programs use, so that a map one kernel cannot make (a sockhash) can
 * never cost a feature that does not need it. */
#ifndef MC_BPF_MAPS_H
#define MC_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "mc_names.h"

#include "mc_common.h"
#include "mc_datapath.h"
#include "mc_node.h"
#include "mc_sock.h"
#include "mc_stats.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MC_MAX_ENDPOINTS * MC_MAX_ADDRS);
	__type(key, struct mc_dp_key);
	__type(value, struct mc_dp_value);
} MC_DP_MAP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, __u32);
	__type(value, struct mc_veth_value);
} MC_VETH_MAP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, __u64);
	__type(value, struct mc_ep_ref);
} MC_NETNS_MAP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, __u32);
	__type(value, struct mc_stats);
} MC_STATS_MAP SEC(".maps");

/* per-endpoint socket shortcut settings, written by the plugin at ADD */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, __u32);
	__type(value, struct mc_sock_cfg);
} MC_SOCKCFG_MAP SEC(".maps");

/* One entry per feature (MC_FEAT_*): on, or off and why. The plugin
 * writes it; mc_tc_ingress reads whether the verdict cache is on. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MC_FEAT_MAX);
	__type(key, __u32);
	__type(value, struct mc_feature);
} MC_FEATURES_MAP SEC(".maps");

/* the conntrack gate's verdicts per flow (mc_datapath.h) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MC_MAX_FLOWS);
	__type(key, struct mc_verdict_key);
	__type(value, __u64);
} MC_VERDICT_MAP SEC(".maps");

static __always_inline struct mc_stats *stats_of(__u32 slot)
{
	if (slot == 0 || slot >= MC_MAX_ENDPOINTS)
		return 0;
	return bpf_map_lookup_elem(&MC_STATS_MAP, &slot);
}

#endif
