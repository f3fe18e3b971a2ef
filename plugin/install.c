// SPDX-License-Identifier: Apache-2.0
/* `meshcut install` and `meshcut uninstall`: options, the binary, bpffs
 * and the node state. The CNI config file is install_conf.c's.
 *
 * install: binary into the CNI bin dir (temp file + rename, the mode
 * kept), bpffs mounted, then our entry into the primary conflist. Nothing
 * is written when nothing would change, so install is idempotent.
 *
 * uninstall: our entry out first, then the binary; then every link, pin
 * and map. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "endpoint.h"
#include "install.h"
#include "sock.h"
#include "log.h"
#include "node.h"
#include "util.h"

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
		if (dst && mc_fmtn(dst, dn, "%s", optarg) < 0)
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

static int teardown_one(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	ep_teardown(data, key, ep);
	return 0;
}

static void rm_pins(const char *dir)
{
	struct dirent **list = NULL;
	int cnt = scandir(dir, &list, NULL, alphasort);

	for (int i = 0; i < cnt; i++) {
		char p[2 * MC_PATH_MAX + 256];

		if (strcmp(list[i]->d_name, ".") != 0 && strcmp(list[i]->d_name, "..") != 0 &&
		    mc_fmt(p, "%s/%s", dir, list[i]->d_name) == 0) {
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

	if (mc_fmt(root, "%s%s", o->host_root, o->bpffs_root) < 0)
		return -ENAMETOOLONG;
	ret = node_open(&node, root, MC_NODE_WRITE, why, sizeof(why));
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
	return mc_path_exists(root) ? -EBUSY : 0;
}

int install_lock(const struct mc_install *o)
{
	char dir[MC_PATH_MAX];
	int fd, ret;

	if (mc_fmt(dir, "%s%s", o->host_root, o->conf_dir) < 0)
		return -ENAMETOOLONG;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

bool install_binary_present(const struct mc_install *o)
{
	char bin[2 * MC_PATH_MAX + 16];

	return mc_fmt(bin, "%s%s/meshcut", o->host_root, o->bin_dir) == 0 && access(bin, X_OK) == 0;
}

/* Our own binary into the bin dir, unless the one there is already it. */
static int install_binary(const struct mc_install *o, char *why, size_t n)
{
	char dir[MC_PATH_MAX], dst[2 * MC_PATH_MAX], *self = NULL, *there = NULL;
	size_t len, there_len;
	mode_t mode;
	int ret;

	if (mc_fmt(dir, "%s%s", o->host_root, o->bin_dir) < 0)
		return -ENAMETOOLONG;
	if (mc_fmt(dst, "%s/meshcut", dir) < 0)
		return -ENAMETOOLONG;
	ret = mc_read_file("/proc/self/exe", &self, &len, &mode, MAX_BIN);
	if (ret < 0)
		return mc_msg(why, n, "cannot read our own binary: %s", strerror(-ret)), ret;
	if (mc_read_file(dst, &there, &there_len, NULL, MAX_BIN) == 0 && there_len == len &&
	    !memcmp(self, there, len)) {
		ret = 0;
		goto out;
	}
	ret = mc_write_atomic(dir, "meshcut", self, len, mode);
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
	int ret;

	if (mc_fmt(p, "%s/sys/fs/bpf", o->host_root) < 0)
		return -ENAMETOOLONG;
	if (statfs(p, &sf) == 0 && sf.f_type == BPF_FS_MAGIC)
		return 0;
	if ((ret = mc_mkdir(p, 0700)) < 0)
		return mc_msg(why, n, "cannot create %s: %s", p, strerror(-ret)), ret;
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
	int ret, err = 0, lock;

	/* the entry first: from here on no new pod runs meshcut; then the
	 * binary, under the lock, so that an agent cannot put the entry back
	 * in between (and finds no binary after) */
	lock = install_lock(o);
	ret = uninstall_conf(o, why, sizeof(why));
	if (ret < 0) {
		log_err("%s", why);
		err = -EIO;
	}
	if (mc_fmt(bin, "%s%s/meshcut", o->host_root, o->bin_dir) < 0 || (unlink(bin) < 0 && errno != ENOENT)) {
		log_err("cannot remove %s: %s", bin, strerror(errno));
		err = -EIO;
	}
	if (lock >= 0)
		close(lock);
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
