/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the programs look up on the hot path: pod IP -> local delivery
 * (mc_dp_v1), host veth ifindex -> sending endpoint (mc_veth_v2), pod netns
 * cookie -> endpoint (mc_netns_v1). ADD fills them, DEL empties them. */
#ifndef MC_DATAPATH_H
#define MC_DATAPATH_H

#include "mc_common.h"

struct mc_dp_key {
	__u8 family; /* MC_AF_INET or MC_AF_INET6 */
	__u8 pad[3];
	__u8 addr[16];
} __attribute__((aligned(4))); /* compared as five __u32 (bpf/packet.h) */
_Static_assert(sizeof(struct mc_dp_key) == 20, "mc_dp_key is ABI");

/* Packet-shortcut facts about one endpoint (MC_PKT_*). ADD works them out
 * once and writes them into the record (pkt_flags), into each of the pod's
 * mc_dp_v1 entries (read when the pod is a destination) and into its
 * mc_veth_v2 entry (read when the pod is the sender). */
#define MC_PKT_ON (1U << 0)	     /* packetShortcut on for this endpoint */
#define MC_PKT_ROUTED (1U << 1)	     /* no bridge: the host veth is the pod's gateway
				      * (ptp); delivery rewrites MACs and TTL */
#define MC_PKT_TRUST (1U << 2)	     /* packetPolicy "trust": no conntrack gate */
#define MC_PKT_FOREIGN_IN (1U << 3)  /* a foreign filter on the veth's ingress
				      * would be skipped: never redirect from it */
#define MC_PKT_FOREIGN_OUT (1U << 4) /* a qdisc, filter or program on the veth's
				      * egress would be skipped: never deliver to it */

struct mc_dp_value {
	__u32 veth_ifindex; /* host side of the destination pod */
	__u32 slot;	    /* owner; DEL removes only its own entries */
	__u8 pod_mac[6];
	__u8 veth_mac[6];
	__u32 flags; /* MC_PKT_* */
	__u32 pad;
};
_Static_assert(sizeof(struct mc_dp_value) == 28, "mc_dp_value is ABI");

/* value of mc_veth_v2 (key: __u32 host veth ifindex): the sender's side
 * of a packet, everything mc_tc_ingress checks about it in one lookup: its
 * own addresses (a packet from any other source takes the normal path)
 * and, for a routed pod, the MAC its packets address (its gateway, this
 * veth). */
struct mc_veth_value {
	__u32 slot;  /* owner; first, as in every value GC sweeps */
	__u32 flags; /* MC_PKT_* */
	__u8 veth_mac[6];
	__u8 n_addrs; /* addrs[0..n_addrs) are the pod's */
	__u8 pad;
	struct mc_dp_key addrs[MC_MAX_ADDRS];
};
_Static_assert(sizeof(struct mc_veth_value) == 16 + 20 * MC_MAX_ADDRS, "mc_veth_value is ABI");

/* mc_verdict_v1 (LRU hash, value: __u64 ktime of the conntrack lookup
 * that accepted the flow): flows the conntrack gate accepted, so that
 * mc_tc_ingress asks conntrack once per flow and MC_VERDICT_TTL_NS instead
 * of at every packet. Only where mc_ct_forget (verdict.bpf.c, fexit on
 * nf_ct_delete) runs: it removes both directions of every conntrack entry
 * the kernel deletes before nf_ct_delete returns, so `conntrack -D`
 * revokes a cached verdict as at once as an uncached one. The TTL bounds
 * what a deletion the hook could not see (none known) would leave. */
struct mc_verdict_key {
	__u8 saddr[16]; /* as the packet carries them; IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport; /* network order */
	__u16 dport;
	__u8 l4proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 v6;
	__u8 pad[2];
};
_Static_assert(sizeof(struct mc_verdict_key) == 40, "mc_verdict_key is ABI");
#define MC_VERDICT_TTL_NS 1000000000ULL /* a flow's verdict is asked again after 1 s */
#define MC_MAX_FLOWS 65536

/* value of mc_netns_v1 (key: __u64 netns cookie) */
struct mc_ep_ref {
	__u32 slot;
	__u32 flags; /* MC_PKT_* */
};
_Static_assert(sizeof(struct mc_ep_ref) == 8, "mc_ep_ref is ABI");

#endif
