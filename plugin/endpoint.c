// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "endpoint.h"
#include "log.h"
#include "sock.h"

int ep_key_make(struct mc_ep_key *key, const char *container_id, const char *ifname)
{
	memset(key, 0, sizeof(*key));
	if (strlen(container_id) >= sizeof(key->container_id) ||
	    strlen(ifname) >= sizeof(key->ifname))
		return -ENAMETOOLONG;
	strcpy(key->container_id, container_id);
	strcpy(key->ifname, ifname);
	return 0;
}

/* bpffs refuses '.' in names (reserved), and container IDs and interface
 * names may contain it: '_' becomes "_u" and '.' becomes "_d", which is
 * reversible and keeps distinct names distinct. */
int ep_name_encode(const char *in, char *out, size_t n)
{
	size_t o = 0;

	for (; *in; in++) {
		const char *rep = *in == '_' ? "_u" : *in == '.' ? "_d" : NULL;
		size_t len = rep ? 2 : 1;

		if (o + len >= n)
			return -ENAMETOOLONG;
		if (rep)
			memcpy(out + o, rep, 2);
		else
			out[o] = *in;
		o += len;
	}
	out[o] = '\0';
	return 0;
}

int ep_name_decode(const char *in, char *out, size_t n)
{
	size_t o = 0;

	for (; *in; in++) {
		char c = *in;

		if (c == '_') {
			in++;
			if (*in == 'u')
				c = '_';
			else if (*in == 'd')
				c = '.';
			else
				return -EINVAL;
		}
		if (o + 1 >= n)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* container ID and ifname were validated (cni_valid_*): no '/', not "..". */
int ep_paths(const char *root, const struct mc_ep_key *key, struct mc_ep_paths *p)
{
	char cid[2 * MC_CONTAINER_ID_MAX], ifn[2 * MC_IFNAMSIZ];

	if (ep_name_encode(key->container_id, cid, sizeof(cid)) < 0 ||
	    ep_name_encode(key->ifname, ifn, sizeof(ifn)) < 0)
		return -ENAMETOOLONG;
	if (mc_fmt(p->cid_dir, "%s/endpoints/%s", root, cid) < 0 ||
	    mc_fmt(p->dir, "%s/%s", p->cid_dir, ifn) < 0 ||
	    mc_fmt(p->tc, "%s/tc", p->dir) < 0 ||
	    mc_fmt(p->sockops, "%s/sockops", p->dir) < 0)
		return -ENAMETOOLONG;
	return 0;
}

int ep_lookup(const struct mc_node *node, const struct mc_ep_key *key, struct mc_endpoint *ep)
{
	if (bpf_map_lookup_elem(node->maps[MC_MAP_ENDPOINTS], key, ep) < 0)
		return -errno;
	return 0;
}

int ep_store(const struct mc_node *node, const struct mc_ep_key *key, const struct mc_endpoint *ep)
{
	if (bpf_map_update_elem(node->maps[MC_MAP_ENDPOINTS], key, ep, BPF_ANY) < 0)
		return -errno;
	return 0;
}

void ep_stats_reset(const struct mc_node *node, __u32 slot)
{
	int ncpu = libbpf_num_possible_cpus();
	struct mc_stats *z;

	if (ncpu <= 0 || slot == 0 || slot >= MC_MAX_ENDPOINTS)
		return;
	z = calloc((size_t)ncpu, sizeof(*z));
	if (!z)
		return;
	if (bpf_map_update_elem(node->maps[MC_MAP_STATS], &slot, z, BPF_ANY) < 0)
		log_warn("cannot zero counters of slot %u: %s", slot, strerror(errno));
	free(z);
}

int ep_stats(const struct mc_node *node, __u32 slot, struct mc_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct mc_stats *v;
	int ret = 0;

	memset(sum, 0, sizeof(*sum));
	if (ncpu <= 0 || slot == 0 || slot >= MC_MAX_ENDPOINTS)
		return -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(node->maps[MC_MAP_STATS], &slot, v) < 0) {
		ret = -errno;
		goto out;
	}
	for (int c = 0; c < ncpu; c++) {
		__u64 *d = (__u64 *)sum;
		const __u64 *s = (const __u64 *)&v[c];

		for (size_t i = 0; i < sizeof(*sum) / sizeof(__u64); i++)
			d[i] += s[i];
	}
out:
	free(v);
	return ret;
}

int ep_foreach(const struct mc_node *node, ep_iter_fn fn, void *data)
{
	int fd = node->maps[MC_MAP_ENDPOINTS];
	struct mc_ep_key *keys, cur, next;
	struct mc_endpoint ep;
	int n = 0, ret = 0;
	void *prev = NULL;

	keys = calloc(MC_MAX_ENDPOINTS, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	while (n < MC_MAX_ENDPOINTS && bpf_map_get_next_key(fd, prev, &next) == 0) {
		keys[n++] = next;
		cur = next;
		prev = &cur;
	}
	for (int i = 0; i < n && ret == 0; i++) {
		if (bpf_map_lookup_elem(fd, &keys[i], &ep) < 0)
			continue; /* deleted meanwhile */
		ret = fn(&keys[i], &ep, data);
	}
	free(keys);
	return ret;
}

static int mark_slot(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	struct ep_slots *s = data;

	(void)key;
	if (ep->slot < MC_MAX_ENDPOINTS)
		s->used[ep->slot] = 1;
	return 0;
}

int ep_used_slots(const struct mc_node *node, struct ep_slots *s)
{
	memset(s, 0, sizeof(*s));
	return ep_foreach(node, mark_slot, s);
}

int ep_alloc_slot(const struct mc_node *node, __u32 *slot)
{
	struct ep_slots *s = malloc(sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	ret = ep_used_slots(node, s);
	if (ret == 0) {
		ret = -ENOSPC;
		for (__u32 i = 1; i < MC_MAX_ENDPOINTS; i++) {
			if (!s->used[i]) {
				*slot = i;
				ret = 0;
				break;
			}
		}
	}
	free(s);
	return ret;
}

void ep_degrade(struct mc_endpoint *ep, __u32 bit, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mc_vdegrade(&ep->degraded, ep->reason, sizeof(ep->reason), bit, fmt, ap);
	va_end(ap);
}

/* The pieces an endpoint is made of, in the order they are taken down:
 * links first, so that from then on no program runs for the pod. Each one
 * knows how to detach, verify and upgrade itself (ep_tc.c, ep_sockops.c,
 * ep_datapath.c). */
static const struct ep_piece *const pieces[] = { &ep_tc_piece, &ep_sockops_piece,
						 &ep_datapath_piece };
#define N_PIECES MC_ARRAY_SIZE(pieces)

bool ep_veth_still_ours(__u32 ifindex, const char *name)
{
	struct mc_link l;

	return ifindex && nl_link_get((int)ifindex, NULL, &l) == 0 && strcmp(l.name, name) == 0;
}

int ep_teardown(const struct mc_node *node, const struct mc_ep_key *key,
		const struct mc_endpoint *ep)
{
	struct mc_ep_paths p;
	int ret = 0;

	if (ep_paths(node->root, key, &p) < 0)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < N_PIECES; i++)
		pieces[i]->detach(node, ep, &p);
	if (ep && node->maps[MC_MAP_STATS] >= 0)
		ep_stats_reset(node, ep->slot);
	/* its policy goes with it (after its sockets: the sockops piece) */
	if (ep && ep->slot)
		sock_cfg_write(node, ep->slot, NULL, 0);
	if (node->maps[MC_MAP_ENDPOINTS] >= 0 &&
	    bpf_map_delete_elem(node->maps[MC_MAP_ENDPOINTS], key) < 0 && errno != ENOENT)
		ret = -errno;
	if (rmdir(p.dir) < 0 && errno != ENOENT) {
		log_warn("cannot remove %s: %s", p.dir, strerror(errno));
		ret = ret ? ret : -errno;
	}
	/* the container's directory goes with its last interface */
	if (rmdir(p.cid_dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		log_warn("cannot remove %s: %s", p.cid_dir, strerror(errno));
	return ret;
}

int ep_verify(const struct mc_node *node, const struct mc_ep_key *key,
	      const struct mc_endpoint *ep, char *msg, size_t n)
{
	struct mc_ep_paths p;

	if (ep->abi != MC_ENDPOINT_ABI)
		return mc_msg(msg, n, "endpoint record has ABI %u, expected %u", ep->abi, MC_ENDPOINT_ABI), -1;
	if (ep->state == MC_EP_PENDING)
		return mc_msg(msg, n, "endpoint was never completed (ADD interrupted)"), -1;
	if (ep_paths(node->root, key, &p) < 0)
		return mc_msg(msg, n, "endpoint path too long"), -1;
	for (size_t i = 0; i < N_PIECES; i++)
		if (pieces[i]->verify(node, ep, &p, msg, n) < 0)
			return -1;
	return 0;
}

static int upgrade_one(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	const struct mc_node *node = data;
	struct mc_ep_paths p;

	if (ep_paths(node->root, key, &p) < 0)
		return 0;
	for (size_t i = 0; i < N_PIECES; i++)
		if (pieces[i]->upgrade)
			pieces[i]->upgrade(node, key, ep, &p);
	return 0;
}

int endpoints_upgrade(const struct mc_node *node)
{
	return ep_foreach(node, upgrade_one, (void *)node);
}

const char *ep_state_name(__u32 state)
{
	switch (state) {
	case MC_EP_PENDING:
		return "pending";
	case MC_EP_READY:
		return "ready";
	case MC_EP_DEGRADED:
		return "degraded";
	default:
		return "unknown";
	}
}

static void bits_str(__u32 bits, const char *const *names, size_t count, char *buf, size_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		if (!(bits & (1U << i)) || !names[i])
			continue;
		off += snprintf(buf + off, off < n ? n - off : 0, "%s%s", off ? "," : "", names[i]);
	}
	if (off == 0)
		snprintf(buf, n, "-");
}

void ep_attached_str(__u32 attached, char *buf, size_t n)
{
	static const char *const names[] = { "tc-tcx", "tc-legacy", "clsact-created", "sockops",
					     "datapath", "veth-ref", "netns-ref" };
	_Static_assert(MC_ARRAY_SIZE(names) == MC_ATT_BITS, "a name for every MC_ATT_ bit");

	bits_str(attached, names, MC_ARRAY_SIZE(names), buf, n);
}

void ep_degraded_str(__u32 degraded, char *buf, size_t n)
{
	static const char *const names[] = { "no-veth",	       "veth-mismatch",	 "no-cgroup",
					     "tc-attach",      "sockops-attach", "cgroup-shared",
					     "no-netns",       "datapath",	 "no-splice-guard",
					     "no-packet",      "no-conntrack-gate", "no-socket",
					     "no-socket-teardown", "no-socket-queue", "no-socket-revoke" };
	_Static_assert(MC_ARRAY_SIZE(names) == MC_DEG_BITS, "a name for every MC_DEG_ bit");

	bits_str(degraded, names, MC_ARRAY_SIZE(names), buf, n);
}

void ep_pkt_flags_str(__u32 flags, char *buf, size_t n)
{
	static const char *const names[] = { "on", "routed", "trust", "foreign-in", "foreign-out" };

	bits_str(flags, names, MC_ARRAY_SIZE(names), buf, n);
}
