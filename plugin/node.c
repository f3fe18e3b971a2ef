// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <libgen.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "endpoint.h"
#include "log.h"
#include "mc_names.h"
#include "node.h"
#include "node_load.h"
#include "version.h"

const char *const mc_map_names[MC_MAP_COUNT] = {
	[MC_MAP_ENDPOINTS] = MC_NAME(MC_ENDPOINTS_MAP), [MC_MAP_DP] = MC_NAME(MC_DP_MAP),
	[MC_MAP_VETH] = MC_NAME(MC_VETH_MAP),		 [MC_MAP_NETNS] = MC_NAME(MC_NETNS_MAP),
	[MC_MAP_STATS] = MC_NAME(MC_STATS_MAP),		 [MC_MAP_NODE] = MC_NAME(MC_NODE_MAP),
	[MC_MAP_SOCKS] = MC_NAME(MC_SOCKS_MAP),		 [MC_MAP_PAIR] = MC_NAME(MC_PAIR_MAP),
	[MC_MAP_SK] = MC_NAME(MC_SK_MAP),		 [MC_MAP_SOCKCFG] = MC_NAME(MC_SOCKCFG_MAP),
	[MC_MAP_SWEEP] = MC_NAME(MC_SWEEP_MAP),		 [MC_MAP_LSN] = MC_NAME(MC_LSN_MAP),
	[MC_MAP_FEATURES] = MC_NAME(MC_FEATURES_MAP),	 [MC_MAP_REVOKE] = MC_NAME(MC_REVOKE_MAP),
	[MC_MAP_VERDICT] = MC_NAME(MC_VERDICT_MAP),
};
/* Maps every node has (mc_base); the others belong to a feature that may
 * be off. mc_features_v1 is not required: older nodes have none. */
#define BASE_MAPS                                                                        \
	((1U << MC_MAP_ENDPOINTS) | (1U << MC_MAP_DP) | (1U << MC_MAP_VETH) |            \
	 (1U << MC_MAP_NETNS) | (1U << MC_MAP_STATS) | (1U << MC_MAP_NODE) |              \
	 (1U << MC_MAP_SOCKCFG))
const char *const mc_prog_names[MC_PROG_COUNT] = {
	[MC_PROG_TC] = "mc_tc_ingress",
	[MC_PROG_SOCKOPS] = "mc_sockops",
	[MC_PROG_SK_MSG] = "mc_sk_msg",
	[MC_PROG_SWEEP] = "mc_sock_sweep",
};
/* the feature each pinned program belongs to */
const enum mc_feature_id mc_prog_feature[MC_PROG_COUNT] = {
	[MC_PROG_TC] = MC_FEAT_PACKET,
	[MC_PROG_SOCKOPS] = MC_FEAT_SOCKET,
	[MC_PROG_SK_MSG] = MC_FEAT_SOCKET,
	[MC_PROG_SWEEP] = MC_FEAT_SOCK_TEARDOWN,
};

int bpffs_check(const char *path)
{
	char buf[MC_PATH_MAX];
	struct statfs sf;

	if (mc_fmt(buf, "%s", path) < 0)
		return -ENAMETOOLONG;
	if (statfs(buf, &sf) < 0) {
		if (errno != ENOENT)
			return -errno;
		if (statfs(dirname(buf), &sf) < 0)
			return -errno;
	}
	return sf.f_type == BPF_FS_MAGIC ? 0 : -ENOTSUP;
}


int map_path(const char *root, int id, char *out, size_t n)
{
	return mc_fmtn(out, n, "%s/maps/%s", root, mc_map_names[id]);
}

int prog_path(const char *root, int id, char *out, size_t n)
{
	return mc_fmtn(out, n, "%s/progs/%s", root, mc_prog_names[id]);
}

int node_pinned_hash(const char *root, uint64_t *hash)
{
	char p[MC_PATH_MAX + 64];
	struct mc_node_info info;
	__u32 zero = 0;
	int fd, ret;

	if (map_path(root, MC_MAP_NODE, p, sizeof(p)) < 0)
		return -ENAMETOOLONG;
	fd = bpf_obj_get(p);
	if (fd < 0)
		return -errno;
	ret = bpf_map_lookup_elem(fd, &zero, &info) < 0 ? -errno : 0;
	close(fd);
	if (ret == 0 && info.abi != MC_NODE_ABI)
		ret = -EPROTO;
	if (ret == 0 && info.obj_hash == 0)
		ret = -ENOENT;
	if (ret == 0)
		*hash = info.obj_hash;
	return ret;
}

static void node_reset(struct mc_node *node)
{
	memset(node, 0, sizeof(*node));
	node->lock_fd = -1;
	for (int i = 0; i < MC_MAP_COUNT; i++)
		node->maps[i] = -1;
	for (int i = 0; i < MC_PROG_COUNT; i++)
		node->progs[i] = -1;
}

/* node->features from mc_features_v1; all UNKNOWN without it (a node
 * loaded by a version that did not record features). */
static void features_read(struct mc_node *node)
{
	memset(node->features, 0, sizeof(node->features));
	if (node->maps[MC_MAP_FEATURES] < 0)
		return;
	for (__u32 i = 0; i < MC_FEAT_COUNT; i++)
		if (bpf_map_lookup_elem(node->maps[MC_MAP_FEATURES], &i, &node->features[i]) < 0)
			memset(&node->features[i], 0, sizeof(node->features[i]));
}

/* Open what is pinned: every base map (else -errno), and whatever
 * programs and maps the features left. */
int open_pinned(struct mc_node *node)
{
	char p[MC_PATH_MAX + 64];

	for (int i = 0; i < MC_MAP_COUNT; i++) {
		if (map_path(node->root, i, p, sizeof(p)) < 0)
			return -ENAMETOOLONG;
		node->maps[i] = bpf_obj_get(p);
		if (node->maps[i] < 0 && (BASE_MAPS & (1U << i)))
			return -errno;
	}
	for (int i = 0; i < MC_PROG_COUNT; i++) {
		if (prog_path(node->root, i, p, sizeof(p)) < 0)
			return -ENAMETOOLONG;
		node->progs[i] = bpf_obj_get(p);
	}
	return 0;
}

/* Every program of a feature the node records as on is pinned: what the
 * fast path of ADD needs to trust the node (reads node->features). */
static bool progs_complete(struct mc_node *node)
{
	features_read(node);
	for (int i = 0; i < MC_PROG_COUNT; i++)
		if (node->progs[i] < 0 && node_feature_on(node, mc_prog_feature[i]))
			return false;
	return true;
}

void close_fds(struct mc_node *node)
{
	for (int i = 0; i < MC_MAP_COUNT; i++)
		if (node->maps[i] >= 0) {
			close(node->maps[i]);
			node->maps[i] = -1;
		}
	for (int i = 0; i < MC_PROG_COUNT; i++)
		if (node->progs[i] >= 0) {
			close(node->progs[i]);
			node->progs[i] = -1;
		}
}

/* Pin fd at path, replacing what is there in one step (rename). */
int pin_replace(int fd, const char *path)
{
	char tmp[MC_PATH_MAX + 80];

	/* bpffs reserves '.' in names */
	if (mc_fmt(tmp, "%s_new_%d", path, (int)getpid()) < 0)
		return -ENAMETOOLONG;
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp) < 0)
		return -errno;
	if (rename(tmp, path) < 0) {
		int e = -errno;

		unlink(tmp);
		return e;
	}
	return 0;
}

int node_open(struct mc_node *node, const char *root, enum mc_node_mode mode, char *why,
	      size_t why_len)
{
	char p[MC_PATH_MAX + 64];
	uint64_t pinned = 0;
	int ret;

	node_reset(node);
	if (mc_fmt(node->root, "%s", root) < 0) {
		mc_msg(why, why_len, "bpffs root too long: %s", root);
		return -ENAMETOOLONG;
	}
	node->obj_hash = node_embedded_hash();

	if (!mc_path_exists(root)) {
		if (mode != MC_NODE_CREATE)
			return -ENOENT;
		ret = bpffs_check(root);
		if (ret < 0) {
			mc_msg(why, why_len, "%s is not on a bpffs mount: %s", root, strerror(-ret));
			return ret;
		}
		ret = mc_mkdir(root, 0700);
		if (ret < 0) {
			mc_msg(why, why_len, "cannot create %s: %s", root, strerror(-ret));
			return ret;
		}
	} else if ((ret = bpffs_check(root)) < 0) {
		mc_msg(why, why_len, "%s is not on a bpffs mount: %s", root, strerror(-ret));
		return ret;
	}

	node->lock_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (node->lock_fd < 0) {
		ret = -errno;
		mc_msg(why, why_len, "cannot open %s: %s", root, strerror(-ret));
		return ret;
	}
	if (flock(node->lock_fd, mode == MC_NODE_READ ? LOCK_SH : LOCK_EX) < 0) {
		ret = -errno;
		mc_msg(why, why_len, "cannot lock %s: %s", root, strerror(-ret));
		goto err;
	}

	if (mode != MC_NODE_CREATE) {
		ret = open_pinned(node);
		if (ret < 0) {
			mc_msg(why, why_len, "node objects under %s incomplete: %s", root, strerror(-ret));
			goto err;
		}
		features_read(node);
		return 0;
	}

	const char *subdirs[] = { "maps", "progs", "links", "endpoints" };

	for (size_t i = 0; i < MC_ARRAY_SIZE(subdirs); i++) {
		if ((ret = mc_fmt(p, "%s/%s", root, subdirs[i])) < 0 || (ret = mc_mkdir(p, 0700)) < 0) {
			mc_msg(why, why_len, "cannot create %s/%s: %s", root, subdirs[i], strerror(-ret));
			goto err;
		}
	}
	/* Fast path: the node already runs this very object. */
	if (node_pinned_hash(root, &pinned) == 0 && pinned == node->obj_hash &&
	    open_pinned(node) == 0 && progs_complete(node) && node_same_refusals(node))
		return 0;
	close_fds(node);
	if (pinned && open_pinned(node) == 0)
		node->upgraded = true; /* older programs were pinned: replace */
	ret = node_load(node, why, why_len);
	if (ret < 0)
		goto err;
	return 0;
err:
	node_close(node);
	return ret;
}

bool node_has_guard(const struct mc_node *node)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	char p[MC_PATH_MAX + 64];
	int fd, ret;

	if (mc_fmt(p, "%s/%s", node->root, MC_GUARD_PIN) < 0)
		return false;
	fd = bpf_obj_get(p);
	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	return ret == 0 && info.type == BPF_LINK_TYPE_TRACING;
}

void node_close(struct mc_node *node)
{
	close_fds(node);
	if (node->lock_fd >= 0) {
		close(node->lock_fd); /* drops the flock */
		node->lock_fd = -1;
	}
}
