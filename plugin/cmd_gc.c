// SPDX-License-Identifier: Apache-2.0
/* GC: remove every endpoint of this network that is not in
 * cni.dev/valid-attachments, plus leftovers no record describes (pin
 * directories of an interrupted ADD, map entries whose owner is gone).
 * Endpoints of other networks are never touched. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpfobj.h"
#include "endpoint.h"
#include "log.h"
#include "meshcut.h"
#include "node.h"

struct gc_state {
	const struct mc_conf *conf;
	const struct mc_node *node;
	struct ep_slots slots; /* of the records GC keeps */
	int removed, failed;
};

static bool is_valid(const struct mc_conf *conf, const char *cid, const char *ifname)
{
	for (int i = 0; i < conf->n_attachments; i++)
		if (!strcmp(conf->attachments[i].container_id, cid) &&
		    !strcmp(conf->attachments[i].ifname, ifname))
			return true;
	return false;
}

static int gc_record(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	struct gc_state *s = data;

	if (strcmp(ep->network, s->conf->name) != 0 ||
	    is_valid(s->conf, key->container_id, key->ifname))
		return 0;
	log_info("GC: removing stale endpoint %s/%s", key->container_id, key->ifname);
	if (ep_teardown(s->node, key, ep) < 0)
		s->failed++;
	else
		s->removed++;
	return 0;
}

/* Pin directories without a record: an ADD killed between mkdir and its
 * first record write, or a record deleted behind our back. */
static void gc_orphan_dirs(struct gc_state *s)
{
	char dir[MC_PATH_MAX + 16];
	struct dirent *c;
	DIR *d;

	d = mc_fmt(dir, "%s/endpoints", s->node->root) == 0 ? opendir(dir) : NULL;
	if (!d)
		return;
	while ((c = readdir(d))) {
		char sub[sizeof(dir) + 2 * (size_t)MC_CONTAINER_ID_MAX + 2], cid[MC_CONTAINER_ID_MAX];
		struct dirent *i;
		DIR *cd;

		if (c->d_name[0] == '.' || ep_name_decode(c->d_name, cid, sizeof(cid)) < 0 ||
		    !cni_valid_container_id(cid) || mc_fmt(sub, "%s/%s", dir, c->d_name) < 0)
			continue;
		cd = opendir(sub);
		if (!cd)
			continue;
		while ((i = readdir(cd))) {
			char ifname[MC_IFNAMSIZ];
			struct mc_endpoint ep;
			struct mc_ep_key key;

			if (i->d_name[0] == '.' || ep_name_decode(i->d_name, ifname, sizeof(ifname)) < 0 ||
			    !cni_valid_ifname(ifname) || ep_key_make(&key, cid, ifname) < 0)
				continue;
			if (ep_lookup(s->node, &key, &ep) == 0 || is_valid(s->conf, cid, ifname))
				continue;
			log_info("GC: removing orphan pins %s/%s", cid, ifname);
			ep_teardown(s->node, &key, NULL);
			s->removed++;
		}
		closedir(cd);
		/* an empty container directory left by a killed ADD */
		rmdir(sub);
	}
	closedir(d);
}

struct gc_match {
	const struct gc_state *s;
	size_t slot_off;
};

static bool slot_is_dead(const void *key, const void *value, const void *ctx)
{
	const struct gc_match *m = ctx;
	__u32 slot;

	(void)key;
	memcpy(&slot, (const unsigned char *)value + m->slot_off, sizeof(slot));
	return slot >= MC_MAX_ENDPOINTS || !m->s->slots.used[slot];
}

/* Map entries whose slot no record owns; the value's slot is the __u32 at
 * slot_off. */
static void gc_sweep_map(struct gc_state *s, int map, size_t ksz, size_t vsz, size_t slot_off)
{
	struct gc_match m = { .s = s, .slot_off = slot_off };
	int n = map_delete_if(map, ksz, vsz, slot_is_dead, &m);

	if (n)
		log_info("GC: removed %d map entries without an endpoint", n);
}

int cmd_gc(struct mc_ctx *ctx)
{
	struct gc_state *s;
	struct mc_node node;
	char why[256] = "";
	int ret;

	ret = node_open(&node, ctx->conf.bpffs_root, MC_NODE_WRITE, why, sizeof(why));
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return mc_fail(&ctx->err, MC_ERR_GC, "cannot open meshcut node state", "%s", why);
	s = calloc(1, sizeof(*s));
	if (!s) {
		node_close(&node);
		return mc_fail(&ctx->err, CNI_ERR_IO, "out of memory", NULL);
	}
	s->conf = &ctx->conf;
	s->node = &node;
	ep_foreach(&node, gc_record, s);
	/* a map entry is stale when no record left owns its slot; without
	 * the list of records, nothing is swept */
	if (ep_used_slots(&node, &s->slots) < 0)
		memset(s->slots.used, 1, sizeof(s->slots.used));
	gc_orphan_dirs(s);
	gc_sweep_map(s, node.maps[MC_MAP_DP], sizeof(struct mc_dp_key), sizeof(struct mc_dp_value),
		     offsetof(struct mc_dp_value, slot));
	gc_sweep_map(s, node.maps[MC_MAP_VETH], sizeof(__u32), sizeof(struct mc_veth_value),
		     offsetof(struct mc_veth_value, slot));
	gc_sweep_map(s, node.maps[MC_MAP_NETNS], sizeof(__u64), sizeof(struct mc_ep_ref),
		     offsetof(struct mc_ep_ref, slot));
	node_close(&node);
	log_info("GC: removed %d endpoints, %d failed", s->removed, s->failed);
	ret = s->failed;
	free(s);
	if (ret)
		return mc_fail(&ctx->err, MC_ERR_GC, "GC could not remove every stale endpoint",
			       "%d endpoints failed; they are retried at the next GC", ret);
	return 0;
}
