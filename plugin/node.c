// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
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
#include "meshcut.skel.h"
#include "node.h"
#include "mc_node.h"
#include "version.h"

const char *const mc_map_names[MC_MAP_COUNT] = {
	[MC_MAP_ENDPOINTS] = "mc_endpoints_v1", [MC_MAP_DP] = "mc_dp_v1",
	[MC_MAP_VETH] = "mc_veth_v1",		[MC_MAP_NETNS] = "mc_netns_v1",
	[MC_MAP_STATS] = "mc_stats_v2",		[MC_MAP_NODE] = "mc_node_v1",
	[MC_MAP_SOCKS] = "mc_socks_v1",		[MC_MAP_PAIR] = "mc_pair_v2",
	[MC_MAP_SK] = "mc_sk_v3",		[MC_MAP_SOCKCFG] = "mc_sockcfg_v1",
	[MC_MAP_SWEEP] = "mc_sweep_v1",		[MC_MAP_LSN] = "mc_lsn_v1",
};
/* pins of map layouts this binary replaced (a new suffix each time) */
static const char *const obsolete_maps[] = { "mc_stats_v1", "mc_pair_v1", "mc_sk_v1" };
const char *const mc_prog_names[MC_PROG_COUNT] = {
	[MC_PROG_TC] = "mc_tc_ingress",
	[MC_PROG_SOCKOPS] = "mc_sockops",
	[MC_PROG_SK_MSG] = "mc_sk_msg",
	[MC_PROG_SWEEP] = "mc_sock_sweep",
};

int path_join(char *out, size_t n, const char *a, const char *b)
{
	int w = snprintf(out, n, "%s/%s", a, b);

	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

bool path_exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

int bpffs_check(const char *path)
{
	char buf[MC_PATH_MAX];
	struct statfs sf;

	snprintf(buf, sizeof(buf), "%s", path);
	if (statfs(buf, &sf) < 0) {
		if (errno != ENOENT)
			return -errno;
		if (statfs(dirname(buf), &sf) < 0)
			return -errno;
	}
	return sf.f_type == BPF_FS_MAGIC ? 0 : -ENOTSUP;
}

uint64_t node_embedded_hash(void)
{
	size_t sz;
	const unsigned char *p = meshcut__elf_bytes(&sz);
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < sz; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int map_path(const char *root, int id, char *out, size_t n)
{
	return snprintf(out, n, "%s/maps/%s", root, mc_map_names[id]) >= (int)n ? -ENAMETOOLONG : 0;
}

static int prog_path(const char *root, int id, char *out, size_t n)
{
	return snprintf(out, n, "%s/progs/%s", root, mc_prog_names[id]) >= (int)n ? -ENAMETOOLONG : 0;
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

static int open_pinned(struct mc_node *node, bool need_progs)
{
	char p[MC_PATH_MAX + 64];

	for (int i = 0; i < MC_MAP_COUNT; i++) {
		if (map_path(node->root, i, p, sizeof(p)) < 0)
			return -ENAMETOOLONG;
		node->maps[i] = bpf_obj_get(p);
		if (node->maps[i] < 0)
			return -errno;
	}
	for (int i = 0; i < MC_PROG_COUNT; i++) {
		if (prog_path(node->root, i, p, sizeof(p)) < 0)
			return -ENAMETOOLONG;
		node->progs[i] = bpf_obj_get(p);
		if (node->progs[i] < 0 && need_progs)
			return -errno;
	}
	return 0;
}

static void close_fds(struct mc_node *node)
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
static int pin_replace(int fd, const char *path)
{
	char tmp[MC_PATH_MAX + 80];

	/* bpffs reserves '.' in names */
	snprintf(tmp, sizeof(tmp), "%s_new_%d", path, (int)getpid());
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

/* Open and load the embedded object, reusing pinned maps (libbpf
 * pin_path); with or without the splice guard. NULL with *err set on
 * failure. */
static struct meshcut *skel_load(const struct mc_node *node, bool guard, int *err)
{
	char p[MC_PATH_MAX + 64];
	struct meshcut *skel;
	struct bpf_map *map;
	int ret;

	skel = meshcut__open();
	if (!skel) {
		*err = -errno;
		return NULL;
	}
	bpf_object__for_each_map(map, skel->obj) {
		snprintf(p, sizeof(p), "%s/maps/%s", node->root, bpf_map__name(map));
		ret = bpf_map__set_pin_path(map, p);
		if (ret < 0)
			goto err;
	}
	if (!guard)
		bpf_program__set_autoload(skel->progs.mc_splice_guard, false);
	ret = meshcut__load(skel);
	if (ret < 0)
		goto err;
	*err = 0;
	return skel;
err:
	meshcut__destroy(skel);
	*err = ret;
	return NULL;
}

/* Attach the splice guard (a BPF LSM program, node-wide) and pin its link,
 * replacing the previous one; without it, remove any previous pin so that
 * node_has_guard() tells the truth about this object. */
static void guard_attach(const struct mc_node *node, struct meshcut *skel, int load_err)
{
	char p[MC_PATH_MAX + 64];
	struct bpf_link *link;
	int ret = load_err;

	if (path_join(p, sizeof(p), node->root, MC_GUARD_PIN) < 0)
		return;
	if (ret == 0) {
		link = bpf_program__attach_lsm(skel->progs.mc_splice_guard);
		ret = link ? pin_replace(bpf_link__fd(link), p) : -errno;
		bpf_link__destroy(link); /* the pin holds it */
	}
	if (ret == 0) {
		log_info("splice guard attached");
		return;
	}
	unlink(p);
	/* ADD says it (warn) for each pod whose config requires the guard */
	log_info("no splice guard (BPF LSM): %s", strerror(-ret));
}

/* Load the embedded object, pin its programs, and move every existing
 * endpoint to them. The splice guard needs BPF LSM, which not every kernel
 * has or allows: if the object does not load with it, it loads without. */
static int node_load(struct mc_node *node, char *why, size_t why_len)
{
	char p[MC_PATH_MAX + 64];
	struct meshcut *skel;
	struct mc_node_info info;
	struct timespec ts;
	__u32 zero = 0;
	int ret, guard_err, i;

	/* a kernel without BPF LSM refuses the guard: no warning for that */
	mc_log_libbpf_quiet(true);
	skel = skel_load(node, true, &guard_err);
	mc_log_libbpf_quiet(false);
	if (!skel)
		skel = skel_load(node, false, &ret);
	if (!skel) {
		mc_msg(why, why_len, "cannot load the BPF programs: %s", strerror(-ret));
		return ret;
	}
	for (i = 0; i < MC_PROG_COUNT; i++) {
		struct bpf_program *prog =
			bpf_object__find_program_by_name(skel->obj, mc_prog_names[i]);

		ret = prog_path(node->root, i, p, sizeof(p));
		if (ret == 0)
			ret = prog ? pin_replace(bpf_program__fd(prog), p) : -ENOENT;
		if (ret < 0) {
			mc_msg(why, why_len, "cannot pin program %s: %s", mc_prog_names[i], strerror(-ret));
			goto out;
		}
	}
	close_fds(node);
	ret = open_pinned(node, true);
	if (ret < 0) {
		mc_msg(why, why_len, "cannot open pinned node objects: %s", strerror(-ret));
		goto out;
	}
	/* The sockhash runs mc_sk_msg for every socket it holds; a socket
	 * keeps the program it was inserted with, so an upgrade reaches new
	 * connections only, and old ones keep working as they were. */
	if (bpf_prog_attach(node->progs[MC_PROG_SK_MSG], node->maps[MC_MAP_SOCKS],
			    BPF_SK_MSG_VERDICT, 0) < 0) {
		ret = -errno;
		mc_msg(why, why_len, "cannot attach mc_sk_msg to mc_socks_v1: %s", strerror(-ret));
		goto out;
	}
	guard_attach(node, skel, guard_err);
	for (i = 0; i < (int)(sizeof(obsolete_maps) / sizeof(obsolete_maps[0])); i++) {
		snprintf(p, sizeof(p), "%s/maps/%s", node->root, obsolete_maps[i]);
		if (unlink(p) == 0)
			log_info("removed %s, replaced by a newer layout", p);
	}
	/* existing endpoints run the programs just pinned */
	ret = endpoints_upgrade(node);
	if (ret < 0)
		log_warn("some endpoints still run the previous programs: %s", strerror(-ret));
	memset(&info, 0, sizeof(info));
	info.abi = MC_NODE_ABI;
	info.obj_hash = node->obj_hash;
	clock_gettime(CLOCK_REALTIME, &ts);
	info.loaded_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	snprintf(info.version, sizeof(info.version), "%s", MC_VERSION);
	ret = bpf_map_update_elem(node->maps[MC_MAP_NODE], &zero, &info, BPF_ANY) < 0 ? -errno : 0;
	if (ret < 0)
		mc_msg(why, why_len, "cannot record node version: %s", strerror(-ret));
	log_info("loaded node programs (object %016llx) under %s", (unsigned long long)node->obj_hash,
		 node->root);
out:
	/* the programs and maps live on through their pins */
	meshcut__destroy(skel);
	return ret;
}

static int mkdir_p1(const char *p)
{
	return mkdir(p, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

int node_open(struct mc_node *node, const char *root, enum mc_node_mode mode,
	      bool exclusive, char *why, size_t why_len)
{
	char p[MC_PATH_MAX + 64];
	uint64_t pinned = 0;
	int ret;

	node_reset(node);
	snprintf(node->root, sizeof(node->root), "%s", root);
	node->obj_hash = node_embedded_hash();

	if (!path_exists(root)) {
		if (mode == MC_NODE_EXISTING)
			return -ENOENT;
		ret = bpffs_check(root);
		if (ret < 0) {
			mc_msg(why, why_len, "%s is not on a bpffs mount: %s", root, strerror(-ret));
			return ret;
		}
		ret = mkdir_p1(root);
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
	if (flock(node->lock_fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		ret = -errno;
		mc_msg(why, why_len, "cannot lock %s: %s", root, strerror(-ret));
		goto err;
	}

	if (mode == MC_NODE_EXISTING) {
		ret = open_pinned(node, false);
		if (ret < 0) {
			mc_msg(why, why_len, "node objects under %s incomplete: %s", root, strerror(-ret));
			goto err;
		}
		return 0;
	}

	const char *subdirs[] = { "maps", "progs", "links", "endpoints" };

	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		if (path_join(p, sizeof(p), root, subdirs[i]) < 0 || (ret = mkdir_p1(p)) < 0) {
			ret = ret ? ret : -ENAMETOOLONG;
			mc_msg(why, why_len, "cannot create %s/%s: %s", root, subdirs[i], strerror(-ret));
			goto err;
		}
	}
	/* Fast path: the node already runs this very object. */
	if (node_pinned_hash(root, &pinned) == 0 && pinned == node->obj_hash &&
	    open_pinned(node, true) == 0)
		return 0;
	close_fds(node);
	if (pinned && open_pinned(node, false) == 0)
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

	if (path_join(p, sizeof(p), node->root, MC_GUARD_PIN) < 0)
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
