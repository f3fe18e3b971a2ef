/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The endpoint record: one per (container ID, ifname), in the pinned hash
 * map mc_endpoints_v1. Written only by the plugin; it is what DEL, CHECK,
 * GC and `meshcut status` read. */
#ifndef MC_ENDPOINT_H
#define MC_ENDPOINT_H

#include "mc_common.h"

#define MC_CONTAINER_ID_MAX 128 /* including the NUL */
#define MC_NETWORK_MAX 64
#define MC_K8S_NS_MAX 64
#define MC_K8S_POD_MAX 256
#define MC_CGROUP_PATH_MAX 256
#define MC_REASON_MAX 128

struct mc_ep_key {
	char container_id[MC_CONTAINER_ID_MAX];
	char ifname[MC_IFNAMSIZ];
};
_Static_assert(sizeof(struct mc_ep_key) == 144, "mc_ep_key is ABI");

struct mc_addr {
	__u8 family; /* MC_AF_INET or MC_AF_INET6 */
	__u8 prefixlen;
	__u8 pad[2];
	__u8 addr[16]; /* v4 in the first 4 bytes, rest zero */
};
_Static_assert(sizeof(struct mc_addr) == 20, "mc_addr is ABI");

/* state */
enum {
	MC_EP_PENDING = 1, /* ADD started; DEL/GC still know what to remove */
	MC_EP_READY = 2,   /* every piece the config asked for is attached */
	MC_EP_DEGRADED = 3 /* ADD succeeded without (part of) acceleration */
};

/* attached: what this endpoint made and DEL must remove */
#define MC_ATT_TC_TCX (1U << 0)
#define MC_ATT_TC_LEGACY (1U << 1)
#define MC_ATT_QDISC_CREATED (1U << 2) /* we created clsact: ours to remove */
#define MC_ATT_SOCKOPS (1U << 3)
#define MC_ATT_DATAPATH (1U << 4) /* mc_dp_v1 entries for addrs[] */
#define MC_ATT_VETH_REF (1U << 5) /* mc_veth_v2 entry */
#define MC_ATT_NETNS_REF (1U << 6) /* mc_netns_v1 entry */
#define MC_ATT_BITS 7 /* bits named by ep_attached_str() */

/* degraded: why acceleration is (partly) missing */
#define MC_DEG_NO_VETH (1U << 0)      /* pod interface is not a veth */
#define MC_DEG_VETH_MISMATCH (1U << 1) /* peer disagrees with prevResult */
#define MC_DEG_NO_CGROUP (1U << 2)     /* pod cgroup not found */
#define MC_DEG_TC_ATTACH (1U << 3)
#define MC_DEG_SOCKOPS_ATTACH (1U << 4)
#define MC_DEG_CGROUP_SHARED (1U << 5) /* another endpoint owns the cgroup */
#define MC_DEG_NO_NETNS (1U << 6)
#define MC_DEG_DATAPATH (1U << 7)
#define MC_DEG_NO_SPLICE_GUARD (1U << 8) /* socketRedirect off: no splice guard */
/* the node has a feature off (mc_features_v1 says why) */
#define MC_DEG_NO_PACKET (1U << 9)	      /* packet shortcut: tc program refused */
#define MC_DEG_NO_CT_GATE (1U << 10)	      /* packet shortcut: no conntrack gate */
#define MC_DEG_NO_SOCKET (1U << 11)	      /* socket shortcut: its programs refused */
#define MC_DEG_NO_SOCK_TEARDOWN (1U << 12) /* socketRedirect off: no way to take sockets out */
#define MC_DEG_NO_SOCK_QUEUE (1U << 13)    /* socketRedirect off: queues cannot be bounded */
#define MC_DEG_NO_SOCK_REVOKE (1U << 14)   /* pod-to-pod sockets stay on TCP: the host's
					      * conntrack revocations would not reach them */
#define MC_DEG_BITS 15			      /* bits named by ep_degraded_str() */

struct mc_endpoint {
	__u32 abi; /* MC_ENDPOINT_ABI */
	__u32 slot; /* index into mc_stats_v5 */
	__u32 state;
	__u32 attached;
	__u32 degraded;
	__u32 veth_ifindex; /* host side, in the node netns */
	__u32 pod_ifindex;  /* CNI_IFNAME inside the pod netns */
	__u32 n_addrs;
	__u64 cgroup_id;
	__u64 netns_cookie;
	__u64 netns_ino;
	__u64 created_ns; /* CLOCK_REALTIME */
	__u8 veth_mac[6];
	__u8 pod_mac[6];
	__u32 pkt_flags; /* MC_PKT_* (mc_datapath.h) */
	char veth_name[MC_IFNAMSIZ];
	char network[MC_NETWORK_MAX];
	char k8s_namespace[MC_K8S_NS_MAX];
	char k8s_pod[MC_K8S_POD_MAX];
	char cgroup_path[MC_CGROUP_PATH_MAX]; /* relative to the cgroup root */
	char reason[MC_REASON_MAX];
	struct mc_addr addrs[MC_MAX_ADDRS];
};
#define MC_ENDPOINT_ABI 1
_Static_assert(sizeof(struct mc_endpoint) == 944, "mc_endpoint is ABI");
_Static_assert(sizeof(struct mc_endpoint) % 8 == 0, "mc_endpoint padding");

#endif
