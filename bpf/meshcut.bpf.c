// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* meshcut node programs and maps. Loaded once per node by the plugin (the
 * object is embedded in the binary as a libbpf skeleton), pinned under the
 * bpffs root, and attached per pod: mc_tc_ingress to the host veth,
 * mc_sockops to the pod cgroup.
 *
 * This file holds the plumbing both shortcuts share: endpoint lookup and
 * counters. A program that does not act returns MC_TC_NEXT / 1 so that the
 * kernel's normal path, and every other program on the hook, still runs. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "mc_common.h"
#include "mc_endpoint.h"
#include "mc_datapath.h"
#include "mc_stats.h"
#include "mc_node.h"
#include "packet.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Endpoint records: written and read by the plugin only. Declared here so
 * that the object owns every map meshcut pins. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, struct mc_ep_key);
	__type(value, struct mc_endpoint);
} mc_endpoints_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MC_MAX_ENDPOINTS * MC_MAX_ADDRS);
	__type(key, struct mc_dp_key);
	__type(value, struct mc_dp_value);
} mc_dp_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, __u32);
	__type(value, struct mc_ep_ref);
} mc_veth_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, __u64);
	__type(value, struct mc_ep_ref);
} mc_netns_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, __u32);
	__type(value, struct mc_stats);
} mc_stats_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mc_node_info);
} mc_node_v1 SEC(".maps");

static __always_inline struct mc_stats *stats_of(__u32 slot)
{
	if (slot == 0 || slot >= MC_MAX_ENDPOINTS)
		return 0;
	return bpf_map_lookup_elem(&mc_stats_v1, &slot);
}

/* Host veth ingress: every packet the pod sends. Returns MC_TC_NEXT for
 * everything it does not deliver itself, so the rest of the hook and the
 * host's normal path run as if we were not there. */
SEC("tc")
int mc_tc_ingress(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex, len = skb->len, to = 0;
	enum mc_pkt_verdict v;
	struct mc_ep_ref *ref;
	struct mc_stats *st;

	ref = bpf_map_lookup_elem(&mc_veth_v1, &ifindex);
	if (!ref)
		return MC_TC_NEXT;
	v = pkt_decide(skb, ref, &mc_dp_v1, &to);
	st = stats_of(ref->slot);
	if (st) {
		st->tc_pkts_seen++;
		st->tc_bytes_seen += len;
		if (v == MC_PKT_REDIRECT) {
			st->tc_pkts_redirected++;
			st->tc_bytes_redirected += len;
		} else {
			st->tc_pkts_passed++;
			st->tc_bytes_passed += len;
			if (v == MC_PKT_POLICY) {
				st->tc_pkts_policy++;
				st->tc_bytes_policy += len;
			}
		}
	}
	if (v == MC_PKT_REDIRECT)
		return bpf_redirect_peer(to, 0);
	return MC_TC_NEXT;
}

/* Pod cgroup: TCP socket events of every container in the pod. */
SEC("sockops")
int mc_sockops(struct bpf_sock_ops *skops)
{
	__u64 cookie;
	struct mc_ep_ref *ref;
	struct mc_stats *st;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;

	cookie = bpf_get_netns_cookie(skops);
	ref = bpf_map_lookup_elem(&mc_netns_v1, &cookie);
	if (!ref)
		return 1;
	st = stats_of(ref->slot);
	if (!st)
		return 1;
	if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		st->sock_active_estab++;
	else
		st->sock_passive_estab++;
	return 1;
}
