// SPDX-License-Identifier: Apache-2.0
/* The datapath piece of an endpoint: its entries in mc_dp_v1 (pod IP ->
 * delivery), mc_veth_v2 (-> the sender) and mc_netns_v1 (-> owner slot), each carrying the
 * endpoint's slot so that only the owner's DEL removes it. Write, detach
 * and verify, for endpoint.c's table of pieces. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bpfobj.h"
#include "endpoint.h"
#include "log.h"

static void dp_key_of(const struct mc_addr *a, struct mc_dp_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	memcpy(k->addr, a->addr, sizeof(k->addr));
}

/* The endpoint as the sender's veth entry describes it */
static void veth_value_of(const struct mc_endpoint *ep, __u32 flags, struct mc_veth_value *v)
{
	memset(v, 0, sizeof(*v));
	v->slot = ep->slot;
	v->flags = flags;
	memcpy(v->veth_mac, ep->veth_mac, sizeof(v->veth_mac));
	for (__u32 i = 0; i < ep->n_addrs && i < MC_MAX_ADDRS; i++)
		dp_key_of(&ep->addrs[i], &v->addrs[v->n_addrs++]);
}

int ep_write_datapath(const struct mc_node *node, const struct mc_ep_key *key,
		      struct mc_endpoint *ep)
{
	struct mc_ep_ref ref = { .slot = ep->slot, .flags = ep->pkt_flags };
	struct mc_veth_value veth;
	int ret;

	/* Record the keys before writing them, so that a DEL after a crash
	 * right here still knows what to remove. */
	ep->attached |= MC_ATT_DATAPATH | MC_ATT_VETH_REF | MC_ATT_NETNS_REF;
	ret = ep_store(node, key, ep);
	if (ret < 0)
		goto fail;
	veth_value_of(ep, ep->pkt_flags, &veth);
	if (ep->veth_ifindex &&
	    bpf_map_update_elem(node->maps[MC_MAP_VETH], &ep->veth_ifindex, &veth, BPF_ANY) < 0) {
		ret = -errno;
		goto fail;
	}
	if (ep->netns_cookie &&
	    bpf_map_update_elem(node->maps[MC_MAP_NETNS], &ep->netns_cookie, &ref, BPF_ANY) < 0) {
		ret = -errno;
		goto fail;
	}
	for (__u32 i = 0; i < ep->n_addrs && i < MC_MAX_ADDRS; i++) {
		struct mc_dp_value v = { .veth_ifindex = ep->veth_ifindex, .slot = ep->slot,
					 .flags = ep->pkt_flags };
		struct mc_dp_key k;

		if (!ep->veth_ifindex)
			break; /* nowhere to deliver to */
		dp_key_of(&ep->addrs[i], &k);
		memcpy(v.pod_mac, ep->pod_mac, 6);
		memcpy(v.veth_mac, ep->veth_mac, 6);
		/* BPF_ANY: a newer pod owns a reused IP; the stale owner's DEL
		 * deletes only entries that still carry its slot. */
		if (bpf_map_update_elem(node->maps[MC_MAP_DP], &k, &v, BPF_ANY) < 0) {
			ret = -errno;
			goto fail;
		}
	}
	return 0;
fail:
	ep_degrade(ep, MC_DEG_DATAPATH, "cannot write datapath entries: %s", strerror(-ret));
	return ret;
}

/* The value of key in map (an mc_dp_value, mc_veth_value or mc_ep_ref)
 * if it still names our slot: a newer pod may own a reused IP or ifindex.
 * Each value's slot is its first field. */
union owned {
	__u32 slot;
	struct mc_dp_value dp;
	struct mc_veth_value veth;
	struct mc_ep_ref ref;
};
_Static_assert(offsetof(struct mc_dp_value, slot) == 4, "mc_dp_value's slot follows veth_ifindex");

static bool lookup_owned(int map, const void *key, size_t vsz, __u32 slot, union owned *v)
{
	if (vsz > sizeof(*v) || bpf_map_lookup_elem(map, key, v) < 0)
		return false;
	return (vsz == sizeof(v->dp) ? v->dp.slot : v->slot) == slot;
}

/* Delete key from map only if its value still names our slot. */
static void del_owned(int map, const void *key, size_t vsz, __u32 slot)
{
	union owned v;

	if (lookup_owned(map, key, vsz, slot, &v))
		bpf_map_delete_elem(map, key);
}

/* Whether a remembered flow has one of the endpoint's addresses at
 * either end */
static bool verdict_of_ep(const void *key, const void *value, const void *ctx)
{
	const struct mc_verdict_key *k = key;
	const struct mc_endpoint *ep = ctx;

	(void)value;
	for (__u32 i = 0; i < ep->n_addrs && i < MC_MAX_ADDRS; i++) {
		const struct mc_addr *a = &ep->addrs[i];
		size_t len = a->family == MC_AF_INET6 ? 16 : 4;

		if ((a->family == MC_AF_INET6) != (k->v6 != 0))
			continue;
		if (memcmp(k->saddr, a->addr, len) == 0 || memcmp(k->daddr, a->addr, len) == 0)
			return true;
	}
	return false;
}

/* The verdicts the conntrack gate remembered for the endpoint's flows
 * (mc_verdict_v1, where verdict-cache is on): they would only ever skip a
 * conntrack lookup, but they are the pod's and go with it. Runs after the
 * mc_dp_v1 and mc_veth_v2 entries went, so no later packet from or to
 * these addresses is delivered by the shortcut, or remembered. A reused
 * address's newer owner loses no more than one conntrack lookup a flow.
 * map_delete_if reads in batches: a full map is 65536 flows, one syscall
 * each would be tens of milliseconds of every DEL. */
static void verdict_sweep(const struct mc_node *node, const struct mc_endpoint *ep)
{
	if (ep->n_addrs)
		map_delete_if(node->maps[MC_MAP_VERDICT], sizeof(struct mc_verdict_key), sizeof(__u64),
			      verdict_of_ep, ep);
}

static void datapath_detach(const struct mc_node *node, const struct mc_endpoint *ep,
			    const struct mc_ep_paths *p)
{
	(void)p;
	if (!ep)
		return; /* without a record, GC removes entries no record owns */
	if (node->maps[MC_MAP_DP] >= 0)
		for (__u32 i = 0; i < ep->n_addrs && i < MC_MAX_ADDRS; i++) {
			struct mc_dp_key k;

			dp_key_of(&ep->addrs[i], &k);
			del_owned(node->maps[MC_MAP_DP], &k, sizeof(struct mc_dp_value), ep->slot);
		}
	if (node->maps[MC_MAP_VETH] >= 0 && ep->veth_ifindex)
		del_owned(node->maps[MC_MAP_VETH], &ep->veth_ifindex, sizeof(struct mc_veth_value),
			  ep->slot);
	if (node->maps[MC_MAP_NETNS] >= 0 && ep->netns_cookie)
		del_owned(node->maps[MC_MAP_NETNS], &ep->netns_cookie, sizeof(struct mc_ep_ref),
			  ep->slot);
	verdict_sweep(node, ep);
}

static int datapath_verify(const struct mc_node *node, const struct mc_endpoint *ep,
			   const struct mc_ep_paths *p, char *msg, size_t n)
{
	struct mc_veth_value vv;
	struct mc_ep_ref r;

	(void)p;
	if (ep->attached & MC_ATT_DATAPATH) {
		for (__u32 i = 0; i < ep->n_addrs && i < MC_MAX_ADDRS && ep->veth_ifindex; i++) {
			struct mc_dp_key k;
			struct mc_dp_value v;
			char a[64];

			dp_key_of(&ep->addrs[i], &k);
			if (bpf_map_lookup_elem(node->maps[MC_MAP_DP], &k, &v) < 0 || v.slot != ep->slot ||
			    v.veth_ifindex != ep->veth_ifindex)
				return mc_msg(msg, n, "datapath entry for %s is missing or stale",
					      mc_addr_str(&ep->addrs[i], a, sizeof(a))), -1;
		}
	}
	if ((ep->attached & MC_ATT_VETH_REF) && ep->veth_ifindex &&
	    (bpf_map_lookup_elem(node->maps[MC_MAP_VETH], &ep->veth_ifindex, &vv) < 0 ||
	     vv.slot != ep->slot))
		return mc_msg(msg, n, "veth entry for ifindex %u is missing or stale", ep->veth_ifindex), -1;
	if ((ep->attached & MC_ATT_NETNS_REF) && ep->netns_cookie &&
	    (bpf_map_lookup_elem(node->maps[MC_MAP_NETNS], &ep->netns_cookie, &r) < 0 ||
	     r.slot != ep->slot))
		return mc_msg(msg, n, "netns entry is missing or stale"), -1;
	return 0;
}

/* A version whose veth entries had another layout (mc_veth_v1) left this
 * endpoint without one: write it, with the packet flags the endpoint runs
 * with now (its own mc_dp_v1 entry's: `meshcut endpoint` may have changed
 * them since ADD). An entry that is there stays as it is. */
static void datapath_upgrade(const struct mc_node *node, const struct mc_ep_key *key,
			     const struct mc_endpoint *ep, const struct mc_ep_paths *p)
{
	int veth = node->maps[MC_MAP_VETH];
	struct mc_veth_value vv;
	__u32 flags = ep->pkt_flags;
	union owned v;

	(void)p;
	if (veth < 0 || !ep->veth_ifindex || !(ep->attached & MC_ATT_VETH_REF) ||
	    bpf_map_lookup_elem(veth, &ep->veth_ifindex, &vv) == 0 ||
	    !ep_veth_still_ours(ep->veth_ifindex, ep->veth_name))
		return;
	for (__u32 i = 0; i < ep->n_addrs && i < MC_MAX_ADDRS; i++) {
		struct mc_dp_key k;

		dp_key_of(&ep->addrs[i], &k);
		if (lookup_owned(node->maps[MC_MAP_DP], &k, sizeof(v.dp), ep->slot, &v)) {
			flags = v.dp.flags;
			break;
		}
	}
	veth_value_of(ep, flags, &vv);
	if (bpf_map_update_elem(veth, &ep->veth_ifindex, &vv, BPF_NOEXIST) < 0 && errno != EEXIST)
		log_warn("cannot write the veth entry of %s: %s", key->container_id, strerror(errno));
}

const struct ep_piece ep_datapath_piece = {
	.name = "datapath",
	.detach = datapath_detach,
	.verify = datapath_verify,
	.upgrade = datapath_upgrade,
};

int ep_datapath_flags(const struct mc_node *node, const struct mc_endpoint *ep, __u32 flags)
{
	int veth = node->maps[MC_MAP_VETH], dp = node->maps[MC_MAP_DP], ret = 0;
	union owned v;

	if (!(ep->attached & MC_ATT_DATAPATH))
		return 0;
	if (ep->veth_ifindex && (ep->attached & MC_ATT_VETH_REF) &&
	    lookup_owned(veth, &ep->veth_ifindex, sizeof(v.veth), ep->slot, &v)) {
		v.veth.flags = flags;
		if (bpf_map_update_elem(veth, &ep->veth_ifindex, &v.veth, BPF_EXIST) < 0)
			ret = -errno;
	}
	for (__u32 i = 0; i < ep->n_addrs && i < MC_MAX_ADDRS; i++) {
		struct mc_dp_key k;

		dp_key_of(&ep->addrs[i], &k);
		if (!lookup_owned(dp, &k, sizeof(v.dp), ep->slot, &v))
			continue;
		v.dp.flags = flags;
		if (bpf_map_update_elem(dp, &k, &v.dp, BPF_EXIST) < 0)
			ret = -errno;
	}
	return ret;
}
