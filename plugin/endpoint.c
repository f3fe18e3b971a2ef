// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_sched.h>

#include "compat.h"
#include "endpoint.h"
#include "sock.h"
#include "log.h"

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

struct slot_scan {
	unsigned char used[MC_MAX_ENDPOINTS];
};

static int mark_slot(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	struct slot_scan *s = data;

	(void)key;
	if (ep->slot < MC_MAX_ENDPOINTS)
		s->used[ep->slot] = 1;
	return 0;
}

int ep_alloc_slot(const struct mc_node *node, __u32 *slot)
{
	struct slot_scan *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	ret = ep_foreach(node, mark_slot, s);
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
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ep->degraded |= bit;
	log_warn("endpoint degraded: %s", why);
	if (!ep->reason[0]) /* the first reason is the one to read */
		snprintf(ep->reason, sizeof(ep->reason), "%.*s", (int)sizeof(ep->reason) - 1, why);
}

static int pin_link(int link_fd, const char *path)
{
	unlink(path); /* a stale pin of a killed ADD for this very endpoint */
	if (bpf_obj_pin(link_fd, path) < 0)
		return -errno;
	return 0;
}

static int attach_tcx(const struct mc_node *node, struct mc_endpoint *ep, const char *pin)
{
	int fd, ret;

	/* No BPF_F_BEFORE/AFTER: appended after every program already there,
	 * so the primary CNI's programs run first. */
	fd = bpf_link_create(node->progs[MC_PROG_TC], (int)ep->veth_ifindex,
			     (enum bpf_attach_type)MC_BPF_TCX_INGRESS, NULL);
	if (fd < 0)
		return -errno;
	ret = pin_link(fd, pin);
	close(fd); /* the pin holds the link; on failure closing detaches it */
	if (ret == 0)
		ep->attached |= MC_ATT_TC_TCX;
	return ret;
}

static int attach_legacy(const struct mc_node *node, struct mc_endpoint *ep)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ep->veth_ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MC_TC_LEGACY_HANDLE,
		    .priority = MC_TC_LEGACY_PRIO, .prog_fd = node->progs[MC_PROG_TC]);
	int ret;

	ret = bpf_tc_hook_create(&hook);
	if (ret == 0)
		ep->attached |= MC_ATT_QDISC_CREATED;
	else if (ret != -EEXIST)
		return ret;
	ret = bpf_tc_attach(&hook, &opts);
	if (ret == 0)
		ep->attached |= MC_ATT_TC_LEGACY;
	return ret;
}

int ep_attach_tc(const struct mc_node *node, struct mc_endpoint *ep,
		 const struct mc_ep_paths *p, enum mc_tc_mode mode)
{
	int ret = -EOPNOTSUPP;

	if (mode != MC_TC_LEGACY) {
		ret = attach_tcx(node, ep, p->tc);
		if (ret == 0)
			return 0;
		/* an older kernel says EINVAL for an attach type it lacks */
		if (mode == MC_TC_TCX || (ret != -EINVAL && ret != -EOPNOTSUPP)) {
			ep_degrade(ep, MC_DEG_TC_ATTACH, "tcx attach to %s failed: %s",
				   ep->veth_name, strerror(-ret));
			return ret;
		}
		log_info("tcx unavailable (%s), using clsact", strerror(-ret));
	}
	ret = attach_legacy(node, ep);
	if (ret < 0)
		ep_degrade(ep, MC_DEG_TC_ATTACH, "clsact filter on %s failed: %s",
			   ep->veth_name, strerror(-ret));
	return ret;
}

struct cg_owner {
	__u64 cgroup_id;
	const struct mc_ep_key *self;
	bool found;
};

static int find_cg_owner(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	struct cg_owner *o = data;

	if ((ep->attached & MC_ATT_SOCKOPS) && ep->cgroup_id == o->cgroup_id &&
	    memcmp(key, o->self, sizeof(*key)) != 0)
		o->found = true;
	return 0;
}

int ep_attach_sockops(const struct mc_node *node, const struct mc_ep_key *key,
		      struct mc_endpoint *ep, const struct mc_ep_paths *p)
{
	struct cg_owner owner = { .cgroup_id = ep->cgroup_id, .self = key };
	int cg, fd, ret;

	/* One pod, two interfaces (multus): the cgroup is the pod's, and our
	 * program must run once per socket, not once per interface. */
	ep_foreach(node, find_cg_owner, &owner);
	if (owner.found) {
		ep_degrade(ep, MC_DEG_CGROUP_SHARED,
			   "cgroup already accelerated through another interface of this pod");
		return 0;
	}
	cg = open(ep->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		ret = -errno;
		goto fail;
	}
	fd = bpf_link_create(node->progs[MC_PROG_SOCKOPS], cg, BPF_CGROUP_SOCK_OPS, NULL);
	ret = fd < 0 ? -errno : 0;
	close(cg);
	if (ret < 0)
		goto fail;
	ret = pin_link(fd, p->sockops);
	close(fd);
	if (ret < 0)
		goto fail;
	ep->attached |= MC_ATT_SOCKOPS;
	return 0;
fail:
	ep_degrade(ep, MC_DEG_SOCKOPS_ATTACH, "sockops attach to %s failed: %s",
		   ep->cgroup_path, strerror(-ret));
	return ret;
}

static void dp_key_of(const struct mc_addr *a, struct mc_dp_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	memcpy(k->addr, a->addr, sizeof(k->addr));
}

int ep_write_datapath(const struct mc_node *node, const struct mc_ep_key *key,
		      struct mc_endpoint *ep)
{
	struct mc_ep_ref ref = { .slot = ep->slot, .flags = ep->pkt_flags };
	int ret;

	/* Record the keys before writing them, so that a DEL after a crash
	 * right here still knows what to remove. */
	ep->attached |= MC_ATT_DATAPATH | MC_ATT_VETH_REF | MC_ATT_NETNS_REF;
	ret = ep_store(node, key, ep);
	if (ret < 0)
		goto fail;
	if (ep->veth_ifindex &&
	    bpf_map_update_elem(node->maps[MC_MAP_VETH], &ep->veth_ifindex, &ref, BPF_ANY) < 0) {
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

/* Delete key from map only if its value still names our slot. */
static void del_owned(int map, const void *key, size_t vsz, __u32 slot)
{
	union {
		struct mc_dp_value dp;
		struct mc_ep_ref ref;
	} v;

	if (vsz > sizeof(v) || bpf_map_lookup_elem(map, key, &v) < 0)
		return;
	if ((vsz == sizeof(v.dp) ? v.dp.slot : v.ref.slot) == slot)
		bpf_map_delete_elem(map, key);
}

static int prog_name_of_id(__u32 id, char *name, size_t n)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd, ret;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? -errno : 0;
	close(fd);
	if (ret == 0)
		snprintf(name, n, "%s", info.name);
	return ret;
}

/* Our legacy filter is the one with our handle and priority that runs a
 * program named like ours: never anyone else's. */
static int legacy_detach(__u32 ifindex, const char *veth_name, bool qdisc_created)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MC_TC_LEGACY_HANDLE, .priority = MC_TC_LEGACY_PRIO);
	struct mc_link l;
	char name[32];
	int n_in = 0, n_eg = 0;

	if (nl_link_get((int)ifindex, NULL, &l) < 0 || strcmp(l.name, veth_name) != 0)
		return 0; /* veth gone, or the ifindex now belongs to another */
	if (bpf_tc_query(&hook, &opts) == 0 && prog_name_of_id(opts.prog_id, name, sizeof(name)) == 0 &&
	    strcmp(name, mc_prog_names[MC_PROG_TC]) == 0) {
		LIBBPF_OPTS(bpf_tc_opts, del, .handle = MC_TC_LEGACY_HANDLE, .priority = MC_TC_LEGACY_PRIO);

		if (bpf_tc_detach(&hook, &del) < 0)
			log_warn("cannot remove our clsact filter on %s", veth_name);
	}
	if (!qdisc_created)
		return 0;
	/* we made the clsact: remove it only if nobody else put a filter in */
	if (nl_count_filters((int)ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), &n_in) == 0 &&
	    nl_count_filters((int)ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), &n_eg) == 0 &&
	    n_in == 0 && n_eg == 0)
		nl_del_clsact((int)ifindex);
	return 0;
}

/* Detach (so that no fd held elsewhere keeps it alive) and unpin. */
static void unpin_link(const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd >= 0) {
		if (bpf_link_detach(fd) < 0 && errno != EINVAL)
			log_debug("detach %s: %s", path, strerror(errno));
		close(fd);
	}
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("cannot unpin %s: %s", path, strerror(errno));
}

int ep_teardown(const struct mc_node *node, const struct mc_ep_key *key,
		const struct mc_endpoint *ep)
{
	struct mc_ep_paths p;
	int ret = 0;

	if (ep_paths(node->root, key, &p) < 0)
		return -ENAMETOOLONG;
	/* links first: from here on no program runs for this pod */
	unpin_link(p.tc);
	unpin_link(p.sockops);
	if (ep && (ep->attached & MC_ATT_SOCKOPS) && ep->slot) {
		sock_teardown(node, ep->slot, MC_SOCK_DRAIN_MS);
		sock_cfg_write(node, ep->slot, NULL, false);
	}
	if (ep) {
		if ((ep->attached & (MC_ATT_TC_LEGACY | MC_ATT_QDISC_CREATED)) && ep->veth_ifindex)
			legacy_detach(ep->veth_ifindex, ep->veth_name,
				      ep->attached & MC_ATT_QDISC_CREATED);
		if (node->maps[MC_MAP_DP] >= 0)
			for (__u32 i = 0; i < ep->n_addrs && i < MC_MAX_ADDRS; i++) {
				struct mc_dp_key k;

				dp_key_of(&ep->addrs[i], &k);
				del_owned(node->maps[MC_MAP_DP], &k, sizeof(struct mc_dp_value), ep->slot);
			}
		if (node->maps[MC_MAP_VETH] >= 0 && ep->veth_ifindex)
			del_owned(node->maps[MC_MAP_VETH], &ep->veth_ifindex,
				  sizeof(struct mc_ep_ref), ep->slot);
		if (node->maps[MC_MAP_NETNS] >= 0 && ep->netns_cookie)
			del_owned(node->maps[MC_MAP_NETNS], &ep->netns_cookie,
				  sizeof(struct mc_ep_ref), ep->slot);
		if (node->maps[MC_MAP_STATS] >= 0)
			ep_stats_reset(node, ep->slot);
	}
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

static int link_prog_id(const char *pin, __u32 *prog_id)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int fd, ret;

	fd = bpf_obj_get(pin);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? -errno : 0;
	close(fd);
	*prog_id = info.prog_id;
	return ret;
}

static int prog_id_of_fd(int fd, __u32 *id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	*id = info.id;
	return 0;
}

/* Is prog_id attached at (target, type) according to the kernel? */
static int kernel_has_prog(int target, enum bpf_attach_type type, __u32 prog_id)
{
	__u32 ids[64];
	LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = 64);

	if (bpf_prog_query_opts(target, type, &q) < 0)
		return -errno;
	for (__u32 i = 0; i < q.prog_cnt && i < 64; i++)
		if (ids[i] == prog_id)
			return 1;
	return 0;
}

int ep_verify(const struct mc_node *node, const struct mc_ep_key *key,
	      const struct mc_endpoint *ep, char *msg, size_t n)
{
	struct mc_ep_paths p;
	__u32 want = 0, got = 0;
	struct mc_link l;

	if (ep->abi != MC_ENDPOINT_ABI)
		return mc_msg(msg, n, "endpoint record has ABI %u, expected %u", ep->abi, MC_ENDPOINT_ABI), -1;
	if (ep->state == MC_EP_PENDING)
		return mc_msg(msg, n, "endpoint was never completed (ADD interrupted)"), -1;
	if (ep_paths(node->root, key, &p) < 0)
		return mc_msg(msg, n, "endpoint path too long"), -1;

	if (ep->attached & (MC_ATT_TC_TCX | MC_ATT_TC_LEGACY)) {
		if (nl_link_get((int)ep->veth_ifindex, NULL, &l) < 0 || strcmp(l.name, ep->veth_name) != 0)
			return mc_msg(msg, n, "host veth %s (ifindex %u) is gone", ep->veth_name,
					ep->veth_ifindex), -1;
		if (prog_id_of_fd(node->progs[MC_PROG_TC], &want) < 0)
			return mc_msg(msg, n, "node tc program is not loaded"), -1;
	}
	if (ep->attached & MC_ATT_TC_TCX) {
		if (link_prog_id(p.tc, &got) < 0)
			return mc_msg(msg, n, "tc link pin %s is missing", p.tc), -1;
		if (got != want)
			return mc_msg(msg, n, "tc link on %s runs program %u, not the current %u",
					ep->veth_name, got, want), -1;
		if (kernel_has_prog((int)ep->veth_ifindex, (enum bpf_attach_type)MC_BPF_TCX_INGRESS, want) != 1)
			return mc_msg(msg, n, "tcx ingress of %s does not run meshcut", ep->veth_name), -1;
	}
	if (ep->attached & MC_ATT_TC_LEGACY) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ep->veth_ifindex, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MC_TC_LEGACY_HANDLE, .priority = MC_TC_LEGACY_PRIO);

		if (bpf_tc_query(&hook, &opts) < 0 || opts.prog_id != want)
			return mc_msg(msg, n, "clsact ingress filter of %s does not run meshcut",
					ep->veth_name), -1;
	}
	if (ep->attached & MC_ATT_SOCKOPS) {
		int cg;
		int has;

		if (prog_id_of_fd(node->progs[MC_PROG_SOCKOPS], &want) < 0)
			return mc_msg(msg, n, "node sockops program is not loaded"), -1;
		if (link_prog_id(p.sockops, &got) < 0)
			return mc_msg(msg, n, "sockops link pin %s is missing", p.sockops), -1;
		if (got != want)
			return mc_msg(msg, n, "sockops link runs program %u, not the current %u", got, want), -1;
		cg = open(ep->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg < 0)
			return mc_msg(msg, n, "pod cgroup %s is gone", ep->cgroup_path), -1;
		has = kernel_has_prog(cg, BPF_CGROUP_SOCK_OPS, want);
		close(cg);
		if (has != 1)
			return mc_msg(msg, n, "cgroup %s does not run meshcut sockops", ep->cgroup_path), -1;
	}
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
	if (ep->attached & MC_ATT_VETH_REF && ep->veth_ifindex) {
		struct mc_ep_ref r;

		if (bpf_map_lookup_elem(node->maps[MC_MAP_VETH], &ep->veth_ifindex, &r) < 0 || r.slot != ep->slot)
			return mc_msg(msg, n, "veth entry for ifindex %u is missing or stale", ep->veth_ifindex), -1;
	}
	if (ep->attached & MC_ATT_NETNS_REF && ep->netns_cookie) {
		struct mc_ep_ref r;

		if (bpf_map_lookup_elem(node->maps[MC_MAP_NETNS], &ep->netns_cookie, &r) < 0 || r.slot != ep->slot)
			return mc_msg(msg, n, "netns entry is missing or stale"), -1;
	}
	return 0;
}

static int upgrade_one(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	const struct mc_node *node = data;
	struct mc_ep_paths p;
	int fd;

	if (ep_paths(node->root, key, &p) < 0)
		return 0;
	/* a feature off since: its links keep the programs they run */
	if ((ep->attached & MC_ATT_TC_TCX) && node->progs[MC_PROG_TC] >= 0) {
		fd = bpf_obj_get(p.tc);
		if (fd >= 0) {
			if (bpf_link_update(fd, node->progs[MC_PROG_TC], NULL) < 0)
				log_warn("cannot update tc link of %s: %s", key->container_id, strerror(errno));
			close(fd);
		}
	}
	if ((ep->attached & MC_ATT_TC_LEGACY) && node->progs[MC_PROG_TC] >= 0) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ep->veth_ifindex, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MC_TC_LEGACY_HANDLE, .priority = MC_TC_LEGACY_PRIO,
			    .prog_fd = node->progs[MC_PROG_TC], .flags = BPF_TC_F_REPLACE);

		if (bpf_tc_attach(&hook, &opts) < 0)
			log_warn("cannot replace clsact filter of %s", key->container_id);
	}
	if ((ep->attached & MC_ATT_SOCKOPS) && node->progs[MC_PROG_SOCKOPS] >= 0) {
		fd = bpf_obj_get(p.sockops);
		if (fd >= 0) {
			if (bpf_link_update(fd, node->progs[MC_PROG_SOCKOPS], NULL) < 0)
				log_warn("cannot update sockops link of %s: %s", key->container_id, strerror(errno));
			close(fd);
		}
	}
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
	_Static_assert(sizeof(names) / sizeof(names[0]) == MC_ATT_BITS, "a name for every MC_ATT_ bit");

	bits_str(attached, names, sizeof(names) / sizeof(names[0]), buf, n);
}

void ep_degraded_str(__u32 degraded, char *buf, size_t n)
{
	static const char *const names[] = { "no-veth",	       "veth-mismatch",	 "no-cgroup",
					     "tc-attach",      "sockops-attach", "cgroup-shared",
					     "no-netns",       "datapath",	 "no-splice-guard",
					     "no-packet",      "no-conntrack-gate", "no-socket",
					     "no-socket-teardown", "no-socket-queue" };
	_Static_assert(sizeof(names) / sizeof(names[0]) == MC_DEG_BITS, "a name for every MC_DEG_ bit");

	bits_str(degraded, names, sizeof(names) / sizeof(names[0]), buf, n);
}

void ep_pkt_flags_str(__u32 flags, char *buf, size_t n)
{
	static const char *const names[] = { "on", "routed", "trust", "foreign-in", "foreign-out" };

	bits_str(flags, names, sizeof(names) / sizeof(names[0]), buf, n);
}
