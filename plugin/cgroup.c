// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "netns.h"
#include "log.h"

int cgroup_is_cgroup2(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) < 0)
		return -errno;
	return sf.f_type == CGROUP2_SUPER_MAGIC;
}

int cgroup2_mount(char *out, size_t n)
{
	static const char *const preferred[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	char line[4096], found[MC_PATH_MAX] = "";
	FILE *f;

	for (size_t i = 0; i < MC_ARRAY_SIZE(preferred); i++) {
		if (cgroup_is_cgroup2(preferred[i]) == 1) {
			snprintf(out, n, "%s", preferred[i]);
			return 0;
		}
	}
	/* anywhere else: the first cgroup2 line of mountinfo */
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mnt[MC_PATH_MAX], *sep = strstr(line, " - ");

		if (!sep || strncmp(sep, " - cgroup2 ", 11) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %255s", mnt) == 1) {
			snprintf(found, sizeof(found), "%s", mnt);
			break;
		}
	}
	fclose(f);
	if (!found[0])
		return -ENOENT;
	snprintf(out, n, "%s", found);
	return 0;
}

int cgroup_id_of(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	int mount_id;

	h.fh.handle_bytes = sizeof(uint64_t);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0)
		return -errno;
	if (h.fh.handle_bytes != sizeof(uint64_t))
		return -EINVAL;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int cgroup_expand_slice(const char *slice, char *out, size_t n)
{
	size_t len = strlen(slice), off = 0;
	const char *dash;

	if (len < 7 || strcmp(slice + len - 6, ".slice") != 0 || strchr(slice, '/'))
		return -EINVAL;
	out[0] = '\0';
	/* each '-' separated prefix is a parent slice */
	for (dash = strchr(slice, '-'); dash && dash < slice + len - 6; dash = strchr(dash + 1, '-')) {
		int w = snprintf(out + off, n - off, "/%.*s.slice", (int)(dash - slice), slice);

		if (w < 0 || (size_t)w >= n - off)
			return -ENAMETOOLONG;
		off += w;
	}
	if ((size_t)snprintf(out + off, n - off, "/%s", slice) >= n - off)
		return -ENAMETOOLONG;
	return 0;
}

/* Accept path as the pod cgroup only if it is a directory strictly below
 * root: attaching to root itself would accelerate the whole node. */
static int accept_cgroup(const char *root, const char *path, enum mc_cgroup_source src,
			 struct mc_cgroup *cg)
{
	size_t rl = strlen(root);

	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (strncmp(path, root, rl) != 0 || (path[rl] != '/' && rl != 1) ||
	    path[rl + (rl != 1)] == '\0' || strstr(path, "/.."))
		return -EPERM;
	if (!is_dir(path))
		return -ENOENT;
	if (mc_fmt(cg->path, "%s", path) < 0)
		return -ENAMETOOLONG;
	if (cgroup_id_of(path, &cg->id) < 0)
		return -errno;
	cg->source = src;
	return 0;
}

static int from_runtime_config(const char *root, const char *rc, struct mc_cgroup *cg)
{
	char rel[MC_PATH_MAX], full[MC_PATH_MAX * 2];
	const char *colon = strchr(rc, ':');

	if (colon) {
		/* systemd cgroupsPath "slice:prefix:name": the slice is the pod */
		char slice[MC_PATH_MAX];

		snprintf(slice, sizeof(slice), "%.*s", (int)(colon - rc), rc);
		if (cgroup_expand_slice(slice, rel, sizeof(rel)) < 0)
			return -EINVAL;
	} else if (!strchr(rc, '/') && cgroup_expand_slice(rc, rel, sizeof(rel)) == 0) {
		/* a bare systemd slice name */
	} else {
		if (mc_fmt(rel, "%s%s", rc[0] == '/' ? "" : "/", rc) < 0)
			return -ENAMETOOLONG;
	}
	if (mc_fmt(full, "%s%s", strcmp(root, "/") ? root : "", rel) < 0)
		return -ENAMETOOLONG;
	return accept_cgroup(root, full, MC_CG_RUNTIME_CONFIG, cg);
}

struct uid_search {
	char names[2][128];  /* pod<uid>, pod<uid_> */
	char suffix[128];    /* -pod<uid_>.slice */
	int visited;
	char found[MC_PATH_MAX * 2];
};

static bool uid_match(const struct uid_search *s, const char *name)
{
	size_t n = strlen(name), sl = strlen(s->suffix);

	return !strcmp(name, s->names[0]) || !strcmp(name, s->names[1]) ||
	       (n > sl && !strcmp(name + n - sl, s->suffix));
}

static int uid_walk(const char *dir, int depth, struct uid_search *s)
{
	struct dirent *de;
	DIR *d;
	int ret = -ENOENT;

	if (depth > 4 || s->visited > 4096)
		return -ENOENT;
	d = opendir(dir);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d)) && ret) {
		char sub[MC_PATH_MAX * 2];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (++s->visited > 4096)
			break;
		if (mc_fmt(sub, "%s/%s", dir, de->d_name) < 0)
			continue;
		if (uid_match(s, de->d_name)) {
			ret = mc_fmt(s->found, "%s", sub) < 0 ? -ENAMETOOLONG : 0;
			break;
		}
		ret = uid_walk(sub, depth + 1, s);
	}
	closedir(d);
	return ret;
}

/* kubelet's layouts: cgroupfs /kubepods[/besteffort|/burstable]/pod<uid>,
 * systemd /kubepods.slice[/kubepods-<qos>.slice]/kubepods[-<qos>]-pod<uid_>.slice,
 * possibly below a --cgroup-root: search, bounded in depth and size. */
static int from_pod_uid(const char *root, const char *uid, struct mc_cgroup *cg)
{
	struct uid_search s;
	char uid_[80];
	size_t i;

	memset(&s, 0, sizeof(s));
	snprintf(uid_, sizeof(uid_), "%s", uid);
	for (i = 0; uid_[i]; i++)
		if (uid_[i] == '-')
			uid_[i] = '_';
	snprintf(s.names[0], sizeof(s.names[0]), "pod%s", uid);
	snprintf(s.names[1], sizeof(s.names[1]), "pod%s", uid_);
	snprintf(s.suffix, sizeof(s.suffix), "-pod%s.slice", uid_);
	if (uid_walk(root, 0, &s) < 0)
		return -ENOENT;
	return accept_cgroup(root, s.found, MC_CG_POD_UID, cg);
}

/* ctr and friends: a process already runs in the netns; its cgroup v2
 * path is the "0::" line of /proc/PID/cgroup. */
struct netns_proc {
	const char *root, *mnt;
	struct stat target;
	struct mc_cgroup *cg;
};

static int cgroup_of_process(const char *pid, const struct stat *ns, void *data)
{
	struct netns_proc *np = data;
	char p[64], line[1024], full[MC_PATH_MAX * 2];
	int ret = 0;
	FILE *f;

	if (!netns_same(ns, &np->target) || mc_fmt(p, "/proc/%s/cgroup", pid) < 0)
		return 0;
	f = fopen(p, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		/* the first process whose cgroup is acceptable ends the walk */
		ret = mc_fmt(full, "%s%s", strcmp(np->mnt, "/") ? np->mnt : "", line + 3) == 0 &&
		      accept_cgroup(np->root, full, MC_CG_NETNS_PROCESS, np->cg) == 0;
		break;
	}
	fclose(f);
	return ret;
}

static int from_netns_process(const char *root, const char *mnt, const char *netns,
			      struct mc_cgroup *cg)
{
	struct netns_proc np = { .root = root, .mnt = mnt, .cg = cg };
	int ret;

	if (!netns || stat(netns, &np.target) < 0)
		return -ENOENT;
	ret = netns_foreach_process(cgroup_of_process, &np);
	return ret > 0 ? 0 : ret < 0 ? ret : -ENOENT;
}

int cgroup_find_pod(const char *root, const struct mc_conf *conf,
		    const struct mc_env *env, struct mc_cgroup *cg)
{
	char mnt[MC_PATH_MAX];
	int ret;

	memset(cg, 0, sizeof(*cg));
	if (cgroup_is_cgroup2(root) != 1) {
		snprintf(cg->why, sizeof(cg->why), "cgroup root %s is not a cgroup2 mount", root);
		return -ENOENT;
	}
	if (conf->rc_cgroup_path[0]) {
		ret = from_runtime_config(root, conf->rc_cgroup_path, cg);
		if (ret == 0)
			return 0;
		log_warn("runtimeConfig.cgroupPath %s not usable under %s: %s",
			 conf->rc_cgroup_path, root, strerror(-ret));
	}
	if (env->k8s_pod_uid[0]) {
		ret = from_pod_uid(root, env->k8s_pod_uid, cg);
		if (ret == 0)
			return 0;
		log_info("no cgroup for K8S_POD_UID %s under %s", env->k8s_pod_uid, root);
	}
	if (cgroup2_mount(mnt, sizeof(mnt)) == 0 &&
	    from_netns_process(root, mnt, env->netns, cg) == 0)
		return 0;
	snprintf(cg->why, sizeof(cg->why),
		 "no pod cgroup: no usable runtimeConfig.cgroupPath, K8S_POD_UID or process in the netns");
	return -ENOENT;
}

int mc_cgroup_root(const struct mc_conf *conf, char *out, size_t n)
{
	if (conf->cgroup_root[0]) {
		snprintf(out, n, "%s", conf->cgroup_root);
		return 0;
	}
	return cgroup2_mount(out, n);
}
