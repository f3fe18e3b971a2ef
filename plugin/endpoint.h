/* SPDX-License-Identifier: Apache-2.0 */
/* One endpoint = one (container ID, ifname): its record, its pinned links,
 * its datapath entries, and how to take all of them down again. */
#ifndef MC_ENDPOINT_PLUGIN_H
#define MC_ENDPOINT_PLUGIN_H

#include <stdbool.h>

#include "conf.h"
#include "mc_datapath.h"
#include "mc_endpoint.h"
#include "mc_stats.h"
#include "nl.h"
#include "node.h"

struct mc_ep_paths {
	char cid_dir[MC_PATH_MAX + 2 * MC_CONTAINER_ID_MAX + 16];
	char dir[MC_PATH_MAX + 2 * MC_CONTAINER_ID_MAX + 2 * MC_IFNAMSIZ + 16];
	char tc[MC_PATH_MAX + 2 * MC_CONTAINER_ID_MAX + 2 * MC_IFNAMSIZ + 24];
	char sockops[MC_PATH_MAX + 2 * MC_CONTAINER_ID_MAX + 2 * MC_IFNAMSIZ + 32];
};

/* bpffs-safe directory names for container IDs and interface names */
int ep_name_encode(const char *in, char *out, size_t n);
int ep_name_decode(const char *in, char *out, size_t n);

int ep_key_make(struct mc_ep_key *key, const char *container_id, const char *ifname);
int ep_paths(const char *root, const struct mc_ep_key *key, struct mc_ep_paths *p);

int ep_lookup(const struct mc_node *node, const struct mc_ep_key *key, struct mc_endpoint *ep);
int ep_store(const struct mc_node *node, const struct mc_ep_key *key, const struct mc_endpoint *ep);
int ep_alloc_slot(const struct mc_node *node, __u32 *slot);
/* Which slots the records in mc_endpoints_v1 use. */
struct ep_slots {
	unsigned char used[MC_MAX_ENDPOINTS];
};
int ep_used_slots(const struct mc_node *node, struct ep_slots *s);

/* Mark ep degraded by bit; the first reason is the one ep->reason keeps
 * (it is the one to read), every one is logged. */
void ep_degrade(struct mc_endpoint *ep, __u32 bit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Attach steps. Each records what it made in ep->attached before it
 * returns; on failure ep->degraded/ep->reason say why. */
int ep_attach_tc(const struct mc_node *node, struct mc_endpoint *ep,
		 const struct mc_ep_paths *p, enum mc_tc_mode mode);
int ep_attach_sockops(const struct mc_node *node, const struct mc_ep_key *key,
		      struct mc_endpoint *ep, const struct mc_ep_paths *p);
/* mc_dp_v1, mc_veth_v2 and mc_netns_v1 entries, flagged with ep->pkt_flags */
int ep_write_datapath(const struct mc_node *node, const struct mc_ep_key *key,
		      struct mc_endpoint *ep);
/* The packet flags (MC_PKT_*) the programs read of this endpoint, in its
 * mc_veth_v2 and mc_dp_v1 entries (those it still owns); the record's
 * pkt_flags stay what ADD found. */
int ep_datapath_flags(const struct mc_node *node, const struct mc_endpoint *ep, __u32 flags);

/* One piece an endpoint is made of (a tc program on the veth, sockops on
 * the cgroup, datapath entries): how it is taken down (ep may be NULL: no
 * record, only what is pinned), checked against the kernel (CHECK; 0, or
 * -1 with msg set) and moved to newly pinned programs (NULL: none). */
struct ep_piece {
	const char *name;
	void (*detach)(const struct mc_node *node, const struct mc_endpoint *ep,
		       const struct mc_ep_paths *p);
	int (*verify)(const struct mc_node *node, const struct mc_endpoint *ep,
		      const struct mc_ep_paths *p, char *msg, size_t n);
	void (*upgrade)(const struct mc_node *node, const struct mc_ep_key *key,
			const struct mc_endpoint *ep, const struct mc_ep_paths *p);
};
extern const struct ep_piece ep_tc_piece, ep_sockops_piece, ep_datapath_piece;

/* Whether ifindex is still the veth called name (ifindexes are reused). */
bool ep_veth_still_ours(__u32 ifindex, const char *name);

/* Remove everything this endpoint made: links, our legacy filter (and the
 * clsact qdisc if we created it and it is empty), datapath entries it owns,
 * its counters, its record and its directories. ep may be NULL (no record):
 * then whatever is pinned under the endpoint's directory still goes. */
int ep_teardown(const struct mc_node *node, const struct mc_ep_key *key,
		const struct mc_endpoint *ep);

/* CHECK: ask the kernel whether what the record says is really in place.
 * 0, or -1 with msg set. */
int ep_verify(const struct mc_node *node, const struct mc_ep_key *key,
	      const struct mc_endpoint *ep, char *msg, size_t n);

/* After new programs were pinned: move every endpoint's links to them. */
int endpoints_upgrade(const struct mc_node *node);

typedef int (*ep_iter_fn)(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data);
/* Iterate over a snapshot of the keys (the callback may delete). */
int ep_foreach(const struct mc_node *node, ep_iter_fn fn, void *data);

int ep_stats(const struct mc_node *node, __u32 slot, struct mc_stats *sum);
void ep_stats_reset(const struct mc_node *node, __u32 slot);

const char *ep_state_name(__u32 state);
/* "tc-tcx,sockops,datapath" */
void ep_attached_str(__u32 attached, char *buf, size_t n);
void ep_degraded_str(__u32 degraded, char *buf, size_t n);
/* MC_PKT_*: "on,routed,foreign-in" */
void ep_pkt_flags_str(__u32 flags, char *buf, size_t n);

#endif
