// SPDX-License-Identifier: Apache-2.0
/* `meshcut install` and `meshcut uninstall`.
 *
 * install: binary into the CNI bin dir (temp file + rename), bpffs mounted,
 * our entry appended to the primary conflist (first by name, or named),
 * replacing an older one; a single-plugin .conf becomes a .conflist of the
 * same name (the original is kept as <name>.meshcut-orig, which no runtime
 * loads). Every file is written to a temp file in the same directory and
 * renamed over, with the original's mode. Nothing is written when nothing
 * would change, so install is idempotent.
 *
 * uninstall: our entry out first (by text, so every other byte stays), or
 * the original .conf back; then the binary; then every link, pin and map. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <linux/magic.h>

#include "clock.h"
#include "conflist.h"
#include "endpoint.h"
#include "install.h"
#include "sock.h"
#include "log.h"
#include "node.h"

#define ORIG_SUFFIX ".meshcut-orig"
#define MAX_CONF (1 << 20)
#define MAX_BIN (64 << 20)

/* Each command's options, one table each: an option of another command is
 * an error here (install --metrics), as getopt says it. */
struct opt_def {
	const char *name;
	int val;
	const char *arg; /* its argument's name, NULL for a flag */
};
#define OPT_HOST { "host-root", 'H', "DIR" }
#define OPT_BIN { "cni-bin-dir", 'b', "DIR" }
#define OPT_CONF { "cni-conf-dir", 'c', "DIR" }
#define OPT_CONFLIST { "conflist", 'f', "FILE" }
#define OPT_BPFFS { "bpffs-root", 'r', "DIR" }
#define OPT_ENTRY { "entry", 'e', "JSON" }
#define OPT_WAIT { "wait", 'w', "SECONDS" }
#define MAX_OPTS 12
static const struct cmd_opts {
	const char *cmd;
	struct opt_def opts[MAX_OPTS];
} cmd_opts[] = {
	{ "install", { OPT_HOST, OPT_BIN, OPT_CONF, OPT_CONFLIST, OPT_BPFFS, OPT_ENTRY, OPT_WAIT } },
	{ "uninstall", { OPT_HOST, OPT_BIN, OPT_CONF, OPT_BPFFS } },
	{ "agent",
	  { OPT_HOST, OPT_BIN, OPT_CONF, OPT_CONFLIST, OPT_BPFFS, OPT_ENTRY, OPT_WAIT,
	    { "uninstall-on-term", 'u', NULL }, { "ready-file", 'R', "FILE" },
	    { "metrics", 'M', "ADDR:PORT" } } },
};

static int usage(const struct cmd_opts *c)
{
	fprintf(stderr, "usage: meshcut %s", c->cmd);
	for (int i = 0; i < MAX_OPTS && c->opts[i].name; i++)
		fprintf(stderr, "%s[--%s%s%s]", i && i % 4 == 0 ? "\n       " : " ", c->opts[i].name,
			c->opts[i].arg ? " " : "", c->opts[i].arg ? c->opts[i].arg : "");
	fputc('\n', stderr);
	return 2;
}

int install_opts(int argc, char **argv, const char *cmd, struct mc_install *o)
{
	struct option opts[MAX_OPTS + 1];
	const struct cmd_opts *co = NULL;
	char *end;
	int c, n;

	for (size_t i = 0; i < MC_ARRAY_SIZE(cmd_opts); i++)
		if (strcmp(cmd_opts[i].cmd, cmd) == 0)
			co = &cmd_opts[i];
	if (!co)
		return 2;
	memset(opts, 0, sizeof(opts));
	for (n = 0; n < MAX_OPTS && co->opts[n].name; n++)
		opts[n] = (struct option){ co->opts[n].name, co->opts[n].arg ? required_argument : no_argument,
					   NULL, co->opts[n].val };
	memset(o, 0, sizeof(*o));
	strcpy(o->bin_dir, "/opt/cni/bin");
	strcpy(o->conf_dir, "/etc/cni/net.d");
	strcpy(o->bpffs_root, MC_DEFAULT_BPFFS_ROOT);
	strcpy(o->entry, "{}");
	o->wait_s = 60;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *dst = NULL;
		size_t dn = MC_PATH_MAX;

		switch (c) {
		case 'H': dst = o->host_root; break;
		case 'b': dst = o->bin_dir; break;
		case 'c': dst = o->conf_dir; break;
		case 'f': dst = o->conflist; break;
		case 'r': dst = o->bpffs_root; break;
		case 'R': dst = o->ready_file; break;
		case 'M': dst = o->metrics; dn = sizeof(o->metrics); break;
		case 'e': dst = o->entry; dn = sizeof(o->entry); break;
		case 'u': o->uninstall_on_term = true; break;
		case 'w':
			o->wait_s = (int)strtol(optarg, &end, 10);
			if (*end || o->wait_s < 0 || o->wait_s > 3600)
				return usage(co);
			break;
		default:
			return usage(co);
		}
		if (dst && (size_t)snprintf(dst, dn, "%s", optarg) >= dn)
			return usage(co);
	}
	if (optind != argc) {
		fprintf(stderr, "meshcut %s: unexpected argument '%s'\n", cmd, argv[optind]);
		return usage(co);
	}
	if (strchr(o->conflist, '/')) {
		fprintf(stderr, "meshcut %s: --conflist takes a file name in the conf dir, not a path\n", cmd);
		return usage(co);
	}
	/* these commands talk to a person or a pod log: info on stderr */
	mc_log_open(NULL, MC_LOG_INFO);
	mc_log_context(cmd, NULL, NULL);
	return 0;
}

int install_host_path(const struct mc_install *o, const char *p, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s%s", o->host_root, p) >= n)
		return -ENAMETOOLONG;
	return 0;
}

static int read_file(const char *path, char **buf, size_t *len, mode_t *mode, off_t max)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	r = read(fd, *buf, (size_t)st.st_size);
	close(fd);
	if (r != st.st_size) {
		free(*buf);
		return -EIO;
	}
	(*buf)[r] = '\0';
	*len = (size_t)r;
	if (mode)
		*mode = st.st_mode & 07777;
	return 0;
}

/* dir/name gets data: temp file in dir, mode, fsync, rename. */
static int write_atomic(const char *dir, const char *name, const char *data, size_t len, mode_t mode)
{
	char tmp[MC_PATH_MAX + 64], dst[2 * MC_PATH_MAX];
	int fd, ret = 0, dfd;

	snprintf(tmp, sizeof(tmp), "%s/.meshcut-tmp-%d", dir, (int)getpid());
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len && ret == 0;) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0)
			ret = -errno;
		else
			off += (size_t)w;
	}
	if (ret == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		ret = -errno;
	close(fd);
	if (ret == 0 && rename(tmp, dst) < 0)
		ret = -errno;
	if (ret < 0) {
		unlink(tmp);
		return ret;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static bool has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);

	return n > e && !strcmp(name + n - e, ext);
}

static bool is_cni_file(const char *name)
{
	return name[0] != '.' && (has_ext(name, ".conf") || has_ext(name, ".conflist") || has_ext(name, ".json"));
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int only_cni(const struct dirent *d)
{
	return is_cni_file(d->d_name);
}

/* The file install works on: the named one, else the first by name (what
 * containerd and CRI-O load). Waits up to o->wait_s for one to appear. */
static int pick_conf(const struct mc_install *o, const char *dir, char *name, size_t n, char *why, size_t wn)
{
	double start = mc_mono_s();

	for (;;) {
		struct dirent **list = NULL;
		int cnt = scandir(dir, &list, only_cni, by_name);

		if (cnt > 0) {
			int found = -1;

			for (int i = 0; i < cnt && found < 0; i++)
				if (!o->conflist[0] || !strcmp(list[i]->d_name, o->conflist))
					found = i;
			if (found >= 0)
				snprintf(name, n, "%s", list[found]->d_name);
			for (int i = 0; i < cnt; i++)
				free(list[i]);
			if (found >= 0) {
				free(list);
				return 0;
			}
		}
		free(list);
		if (mc_mono_s() - start >= o->wait_s) {
			mc_msg(why, wn, "no %s in %s after %d s%s", o->conflist[0] ? o->conflist : "CNI config (.conflist, .conf, .json)",
			       dir, o->wait_s, cnt < 0 ? " (the directory does not exist)" : "");
			return -ETIMEDOUT;
		}
		usleep(200 * 1000);
	}
}

/* Our entry: defaults, the user's fields over them, type and capability
 * forced. One line of JSON (malloc'd). */
static char *entry_json(const struct mc_install *o, char *why, size_t n)
{
	cJSON *user = cJSON_Parse(o->entry), *e, *caps;
	char *out = NULL;

	if (!cJSON_IsObject(user)) {
		mc_msg(why, n, "--entry is not a JSON object");
		cJSON_Delete(user);
		return NULL;
	}
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "type", "meshcut");
	for (cJSON *it = user->child; it; it = it->next)
		if (strcmp(it->string, "type") != 0 && strcmp(it->string, "capabilities") != 0)
			cJSON_AddItemToObject(e, it->string, cJSON_Duplicate(it, 1));
	caps = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(user, "capabilities"), 1);
	if (!cJSON_IsObject(caps)) {
		cJSON_Delete(caps);
		caps = cJSON_CreateObject();
	}
	cJSON_DeleteItemFromObjectCaseSensitive(caps, "cgroupPath");
	cJSON_AddBoolToObject(caps, "cgroupPath", 1);
	cJSON_AddItemToObject(e, "capabilities", caps);
	out = cJSON_PrintUnformatted(e);
	cJSON_Delete(e);
	cJSON_Delete(user);
	return out;
}

/* X.conf -> X.conflist holding the original plugin, then ours appended as
 * conflist_insert() would, so a later install finds nothing to change. */
static char *convert_conf(const cJSON *conf, const char *entry, size_t *out_n)
{
	cJSON *list = cJSON_CreateObject(), *plugins, *orig = cJSON_Duplicate(conf, 1);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, "cniVersion");
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(conf, "name");
	char *out, *text;

	if (cJSON_IsString(v))
		cJSON_AddStringToObject(list, "cniVersion", v->valuestring);
	if (cJSON_IsString(nm))
		cJSON_AddStringToObject(list, "name", nm->valuestring);
	cJSON_DeleteItemFromObjectCaseSensitive(orig, "cniVersion");
	cJSON_DeleteItemFromObjectCaseSensitive(orig, "name");
	plugins = cJSON_AddArrayToObject(list, "plugins");
	cJSON_AddItemToArray(plugins, orig);
	text = cJSON_Print(list);
	cJSON_Delete(list);
	if (!text || conflist_insert(text, strlen(text), entry, &out, out_n) < 0)
		out = NULL;
	free(text);
	return out;
}

int install_conf(const struct mc_install *o, char *why, size_t n)
{
	char dir[MC_PATH_MAX], name[MC_PATH_MAX], path[2 * MC_PATH_MAX], *buf = NULL, *out = NULL, *entry;
	size_t len, out_n;
	mode_t mode;
	cJSON *doc = NULL;
	int ret;

	if (install_host_path(o, o->conf_dir, dir, sizeof(dir)) < 0)
		return mc_msg(why, n, "conf dir path too long"), -ENAMETOOLONG;
	entry = entry_json(o, why, n);
	if (!entry)
		return -EINVAL;
	ret = pick_conf(o, dir, name, sizeof(name), why, n);
	if (ret < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* A primary that writes its file in place can be caught halfway: a file
	 * that does not parse gets a second look for up to a second. */
	for (int tries = 0; tries < 5; tries++) {
		if (tries) {
			usleep(200 * 1000);
			cJSON_Delete(doc);
			free(buf);
			buf = NULL;
		}
		ret = read_file(path, &buf, &len, &mode, MAX_CONF);
		if (ret < 0) {
			mc_msg(why, n, "cannot read %s: %s", path, strerror(-ret));
			goto out;
		}
		doc = cJSON_ParseWithLength(buf, len);
		if (cJSON_IsObject(doc) || o->wait_s == 0)
			break;
	}
	if (!cJSON_IsObject(doc)) {
		mc_msg(why, n, "%s is not a JSON object: left as it is", path);
		ret = -EINVAL;
		goto out;
	}
	if (has_ext(name, ".conflist")) {
		ret = conflist_insert(buf, len, entry, &out, &out_n);
		if (ret < 0) {
			mc_msg(why, n, "%s has no \"plugins\" list: left as it is", path);
			goto out;
		}
		if (out_n == len && !memcmp(out, buf, len)) {
			ret = 0; /* already as it should be */
			goto out;
		}
		ret = write_atomic(dir, name, out, out_n, mode);
		if (ret == 0)
			log_info("added meshcut to %s", path);
	} else {
		/* single plugin: X.conflist next to it, then the original aside */
		char list_name[MC_PATH_MAX + 16], orig[MC_PATH_MAX + 32], src[2 * MC_PATH_MAX + 32];
		size_t stem = strlen(name) - 5; /* ".conf" and ".json" alike */

		if (cJSON_GetObjectItemCaseSensitive(doc, "plugins")) {
			mc_msg(why, n, "%s holds a plugin list but is not named .conflist: left as it is", path);
			ret = -EINVAL;
			goto out;
		}
		snprintf(list_name, sizeof(list_name), "%.*s.conflist", (int)stem, name);
		out = convert_conf(doc, entry, &out_n);
		ret = out ? write_atomic(dir, list_name, out, out_n, mode) : -ENOMEM;
		snprintf(orig, sizeof(orig), "%s%s", name, ORIG_SUFFIX);
		snprintf(src, sizeof(src), "%s/%s", dir, orig);
		if (ret == 0 && rename(path, src) < 0)
			ret = -errno;
		if (ret == 0)
			log_info("converted %s into %s with meshcut (original kept as %s)", path, list_name, orig);
	}
	if (ret < 0)
		mc_msg(why, n, "cannot write into %s: %s", dir, strerror(-ret));
	else
		ret = 1;
out:
	cJSON_Delete(doc);
	free(out);
	free(buf);
	free(entry);
	return ret;
}

bool install_conf_ok(const struct mc_install *o)
{
	char dir[MC_PATH_MAX], name[MC_PATH_MAX], path[2 * MC_PATH_MAX], *buf = NULL;
	struct mc_install quick = *o;
	const cJSON *plugins, *last, *type;
	cJSON *doc;
	size_t len;
	bool ok;

	quick.wait_s = 0;
	if (install_host_path(o, o->conf_dir, dir, sizeof(dir)) < 0 ||
	    pick_conf(&quick, dir, name, sizeof(name), path, sizeof(path)) < 0)
		return false;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!has_ext(name, ".conflist") || read_file(path, &buf, &len, NULL, MAX_CONF) < 0)
		return false;
	doc = cJSON_ParseWithLength(buf, len);
	plugins = cJSON_GetObjectItemCaseSensitive(doc, "plugins");
	last = cJSON_IsArray(plugins) ? cJSON_GetArrayItem(plugins, cJSON_GetArraySize(plugins) - 1) : NULL;
	type = cJSON_GetObjectItemCaseSensitive(last, "type");
	ok = cJSON_IsString(type) && !strcmp(type->valuestring, "meshcut");
	cJSON_Delete(doc);
	free(buf);
	return ok;
}

int uninstall_conf(const struct mc_install *o, char *why, size_t n)
{
	char dir[MC_PATH_MAX];
	struct dirent **list = NULL;
	int cnt, changed = 0, ret = 0;

	if (install_host_path(o, o->conf_dir, dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	cnt = scandir(dir, &list, NULL, by_name);
	if (cnt < 0)
		return errno == ENOENT ? 0 : -errno;
	/* first the converted .conf files: original back, then our list out */
	for (int i = 0; i < cnt; i++) {
		const char *nm = list[i]->d_name;
		char orig[2 * MC_PATH_MAX], conf[2 * MC_PATH_MAX], listp[2 * MC_PATH_MAX + 16];
		size_t l = strlen(nm), sl = strlen(ORIG_SUFFIX);

		if (!has_ext(nm, ORIG_SUFFIX))
			continue;
		snprintf(orig, sizeof(orig), "%s/%s", dir, nm);
		snprintf(conf, sizeof(conf), "%s/%.*s", dir, (int)(l - sl), nm);
		snprintf(listp, sizeof(listp), "%s/%.*s.conflist", dir, (int)(l - sl - 5), nm);
		if (rename(orig, conf) < 0) {
			ret = -errno;
			mc_msg(why, n, "cannot restore %s: %s", conf, strerror(errno));
			continue;
		}
		unlink(listp);
		log_info("restored %s", conf);
		changed++;
	}
	for (int i = 0; i < cnt; i++) {
		const char *nm = list[i]->d_name;
		char path[2 * MC_PATH_MAX], *buf = NULL, *out;
		size_t len, out_n;
		mode_t mode;
		int r;

		if (!has_ext(nm, ".conflist") || nm[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, nm);
		if (read_file(path, &buf, &len, &mode, MAX_CONF) < 0 || !buf)
			continue; /* gone with its restored .conf */
		r = conflist_remove(buf, len, &out, &out_n);
		if (r > 0) {
			r = write_atomic(dir, nm, out, out_n, mode);
			if (r < 0) {
				ret = r;
				mc_msg(why, n, "cannot rewrite %s: %s", path, strerror(-r));
			} else {
				log_info("removed meshcut from %s", path);
				changed++;
			}
		}
		if (r >= 0)
			free(out);
		free(buf);
	}
	for (int i = 0; i < cnt; i++)
		free(list[i]);
	free(list);
	return ret < 0 ? ret : changed;
}

static int teardown_one(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	ep_teardown(data, key, ep);
	return 0;
}

static void rm_pins(const char *dir)
{
	struct dirent **list = NULL;
	int cnt = scandir(dir, &list, NULL, by_name);

	for (int i = 0; i < cnt; i++) {
		char p[2 * MC_PATH_MAX + 256];

		if (strcmp(list[i]->d_name, ".") != 0 && strcmp(list[i]->d_name, "..") != 0) {
			snprintf(p, sizeof(p), "%s/%s", dir, list[i]->d_name);
			if (list[i]->d_type == DT_DIR)
				rm_pins(p);
			else
				unlink(p);
		}
		free(list[i]);
	}
	free(list);
	rmdir(dir);
}

int uninstall_state(const struct mc_install *o)
{
	char root[MC_PATH_MAX], why[256];
	struct mc_node node;
	int ret;

	if (install_host_path(o, o->bpffs_root, root, sizeof(root)) < 0)
		return -ENAMETOOLONG;
	ret = node_open(&node, root, MC_NODE_EXISTING, true, why, sizeof(why));
	if (ret == 0) {
		ep_foreach(&node, teardown_one, &node);
		/* sockets no endpoint claims any more (their pod's DEL left
		 * them because a reader was behind) */
		sock_teardown(&node, 0, MC_SOCK_DRAIN_MS);
		node_close(&node);
	}
	/* whatever is left under our root is ours: maps, programs, stale dirs */
	if (bpffs_check(root) == 0)
		rm_pins(root);
	return path_exists(root) ? -EBUSY : 0;
}

/* Our own binary into the bin dir, unless the one there is already it. */
static int install_binary(const struct mc_install *o, char *why, size_t n)
{
	char dir[MC_PATH_MAX], dst[2 * MC_PATH_MAX], *self = NULL, *there = NULL;
	size_t len, there_len;
	mode_t mode;
	int ret;

	if (install_host_path(o, o->bin_dir, dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	snprintf(dst, sizeof(dst), "%s/meshcut", dir);
	ret = read_file("/proc/self/exe", &self, &len, &mode, MAX_BIN);
	if (ret < 0)
		return mc_msg(why, n, "cannot read our own binary: %s", strerror(-ret)), ret;
	if (read_file(dst, &there, &there_len, NULL, MAX_BIN) == 0 && there_len == len &&
	    !memcmp(self, there, len)) {
		ret = 0;
		goto out;
	}
	ret = write_atomic(dir, "meshcut", self, len, mode);
	if (ret < 0) {
		mc_msg(why, n, "cannot install %s: %s", dst, strerror(-ret));
		goto out;
	}
	log_info("installed %s", dst);
	ret = 1;
out:
	free(there);
	free(self);
	return ret;
}

static int ensure_bpffs(const struct mc_install *o, char *why, size_t n)
{
	char p[MC_PATH_MAX];
	struct statfs sf;

	if (install_host_path(o, "/sys/fs/bpf", p, sizeof(p)) < 0)
		return -ENAMETOOLONG;
	if (statfs(p, &sf) == 0 && sf.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return mc_msg(why, n, "cannot create %s: %s", p, strerror(errno)), -errno;
	if (mount("bpf", p, "bpf", 0, "mode=0700") < 0)
		return mc_msg(why, n, "cannot mount bpffs on %s: %s", p, strerror(errno)), -errno;
	log_info("mounted bpffs on %s", p);
	return 1;
}

int cli_install(int argc, char **argv)
{
	struct mc_install o;
	char why[512] = "";
	int ret, bin, fs;

	ret = install_opts(argc, argv, "install", &o);
	if (ret)
		return ret;
	if ((bin = install_binary(&o, why, sizeof(why))) < 0 ||
	    (fs = ensure_bpffs(&o, why, sizeof(why))) < 0 ||
	    (ret = install_conf(&o, why, sizeof(why))) < 0) {
		fprintf(stderr, "meshcut install: %s\n", why);
		return 1;
	}
	printf("meshcut install: binary %s, bpffs %s, CNI config %s\n", bin ? "installed" : "unchanged",
	       fs ? "mounted" : "already mounted", ret ? "updated" : "unchanged");
	return 0;
}

int uninstall_all(const struct mc_install *o)
{
	char why[512] = "", bin[2 * MC_PATH_MAX + 16];
	int ret, err = 0;

	/* the entry first: from here on no new pod runs meshcut */
	ret = uninstall_conf(o, why, sizeof(why));
	if (ret < 0) {
		log_err("%s", why);
		err = -EIO;
	}
	snprintf(bin, sizeof(bin), "%s%s/meshcut", o->host_root, o->bin_dir);
	if (unlink(bin) < 0 && errno != ENOENT) {
		log_err("cannot remove %s: %s", bin, strerror(errno));
		err = -EIO;
	}
	if (uninstall_state(o) < 0) {
		log_err("state under %s%s is still there", o->host_root, o->bpffs_root);
		err = -EIO;
	}
	if (!err)
		log_info("CNI config %s; binary and node state removed",
			 ret > 0 ? "restored" : "had no meshcut entry");
	return err;
}

int cli_uninstall(int argc, char **argv)
{
	struct mc_install o;
	int ret;

	ret = install_opts(argc, argv, "uninstall", &o);
	if (ret)
		return ret;
	return uninstall_all(&o) < 0 ? 1 : 0;
}
