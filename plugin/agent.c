// SPDX-License-Identifier: Apache-2.0
/* `meshcut agent`: the DaemonSet's main container.
 *
 * - Keeps our entry in the primary conflist: inotify on the conf dir, and
 *   whenever the file install would pick lacks meshcut as its last plugin,
 *   install_conf() again. A primary CNI that rewrites its file now and then
 *   is normal; one that undoes us again and again is a fight: after
 *   FIGHT_MAX re-inserts within FIGHT_WINDOW seconds the agent backs off
 *   (doubling, up to BACKOFF_MAX) and logs an error each time, instead of
 *   rewriting in a tight loop. It puts the entry back only while our
 *   binary is in the bin dir, and under install_lock(), so that a
 *   `meshcut uninstall` beside it wins: an entry without the binary would
 *   fail every pod's ADD.
 * - Ready (--ready-file exists) only while the entry is in place.
 * - Every ORPHAN_EVERY seconds removes endpoints whose host veth and pod
 *   netns are both gone (a runtime that never ran DEL).
 * - SIGTERM/SIGINT: exit; with --uninstall-on-term, uninstall first.
 * - With --metrics ADDR:PORT, serves Prometheus metrics (metrics.c) from
 *   this same loop; a port it cannot bind costs the metrics, not the agent. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "endpoint.h"
#include "install.h"
#include "log.h"
#include "netns.h"
#include "metrics.h"
#include "nl.h"
#include "node.h"

#define FIGHT_MAX 5
#define FIGHT_WINDOW 30
#define BACKOFF_MAX 300
#define ORPHAN_EVERY 30

static void set_ready(const struct mc_install *o, bool ready)
{
	FILE *f;

	if (!o->ready_file[0])
		return;
	if (!ready) {
		unlink(o->ready_file);
		return;
	}
	f = fopen(o->ready_file, "we");
	if (f)
		fclose(f);
}

/* --- orphans ------------------------------------------------------------- */

struct netns_set {
	__u64 ino[8192];
	int n;
};

static void add_ino(struct netns_set *s, const char *path)
{
	struct stat st;

	if (s->n < (int)MC_ARRAY_SIZE(s->ino) && stat(path, &st) == 0)
		s->ino[s->n++] = st.st_ino;
}

static int add_process_netns(const char *pid, const struct stat *ns, void *data)
{
	struct netns_set *s = data;

	(void)pid;
	if (s->n < (int)MC_ARRAY_SIZE(s->ino))
		s->ino[s->n++] = ns->st_ino;
	return 0;
}

/* Every netns alive that we can see: processes', and bind mounts under
 * the runtimes' netns directories. */
static void live_netns(const struct mc_install *o, struct netns_set *s)
{
	static const char *const dirs[] = { "/var/run/netns", "/run/netns" };
	char p[2 * MC_PATH_MAX];
	struct dirent *d;
	DIR *dir;

	s->n = 0;
	netns_foreach_process(add_process_netns, s);
	for (size_t i = 0; i < MC_ARRAY_SIZE(dirs); i++) {
		dir = mc_fmt(p, "%s%s", o->host_root, dirs[i]) == 0 ? opendir(p) : NULL;
		while (dir && (d = readdir(dir))) {
			if (d->d_name[0] != '.' && mc_fmt(p, "%s%s/%s", o->host_root, dirs[i], d->d_name) == 0)
				add_ino(s, p);
		}
		if (dir)
			closedir(dir);
	}
}

struct sweep {
	const struct mc_node *node;
	struct netns_set live;
	int removed;
};

static int sweep_one(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	struct sweep *sw = data;

	if (ep_veth_still_ours(ep->veth_ifindex, ep->veth_name))
		return 0; /* veth still there */
	for (int i = 0; i < sw->live.n; i++)
		if (ep->netns_ino && sw->live.ino[i] == ep->netns_ino)
			return 0; /* netns still there */
	log_warn("removing orphan endpoint %s/%s (pod %s/%s): veth and netns are gone", key->container_id,
		 key->ifname, ep->k8s_namespace, ep->k8s_pod);
	ep_teardown(sw->node, key, ep);
	sw->removed++;
	return 0;
}

static int remove_orphans(const struct mc_install *o)
{
	char root[MC_PATH_MAX], why[256];
	struct sweep *sw = calloc(1, sizeof(*sw));
	struct mc_node node;
	int ret;

	if (!sw)
		return -ENOMEM;
	if (mc_fmt(root, "%s%s", o->host_root, o->bpffs_root) < 0) {
		free(sw);
		return -ENAMETOOLONG;
	}
	ret = node_open(&node, root, MC_NODE_WRITE, why, sizeof(why));
	if (ret == 0) {
		live_netns(o, &sw->live);
		sw->node = &node;
		ep_foreach(&node, sweep_one, sw);
		node_close(&node);
		ret = sw->removed;
	}
	free(sw);
	return ret == -ENOENT ? 0 : ret;
}

/* --- the loop ------------------------------------------------------------ */

int cli_agent(int argc, char **argv)
{
	struct mc_install o;
	char dir[MC_PATH_MAX], why[512];
	double fights[FIGHT_MAX] = { 0 }, backoff_until = 0, next_sweep = 0;
	int backoff = 0, n_fights = 0, ifd, sfd, wd = -1, mfd = -1, ret;
	struct mc_agent_stats stats = { 0 };
	bool no_binary_said = false;
	char root[MC_PATH_MAX];
	sigset_t mask;

	ret = install_opts(argc, argv, "agent", &o);
	if (ret)
		return ret;
	if (mc_fmt(dir, "%s%s", o.host_root, o.conf_dir) < 0) {
		fprintf(stderr, "meshcut agent: conf dir path too long\n");
		return 2;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (sfd < 0 || ifd < 0) {
		fprintf(stderr, "meshcut agent: %s\n", strerror(errno));
		return 1;
	}
	set_ready(&o, false);
	log_info("watching %s", dir);
	if (o.metrics[0]) {
		if (mc_fmt(root, "%s%s", o.host_root, o.bpffs_root) < 0)
			root[0] = '\0';
		mfd = root[0] ? metrics_listen(o.metrics, why, sizeof(why)) : -ENAMETOOLONG;
		if (mfd < 0)
			log_err("no metrics: %s", root[0] ? why : "bpffs root path too long");
		else
			log_info("metrics on http://%s/metrics", o.metrics);
	}

	for (;;) {
		struct pollfd pfd[3] = { { .fd = ifd, .events = POLLIN },
					 { .fd = sfd, .events = POLLIN },
					 { .fd = mfd, .events = POLLIN } }; /* fd -1: ignored */
		double t = mc_mono_s(), wake;
		char buf[4096];
		bool ok;

		if (wd < 0)
			wd = inotify_add_watch(ifd, dir, IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM |
							IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF);
		ok = install_conf_ok(&o);
		if (!ok && t >= backoff_until) {
			struct mc_install quick = o;
			int lock = install_lock(&o);

			quick.wait_s = 0;
			if (!install_binary_present(&o)) {
				/* uninstalled, or never installed: an entry now
				 * would fail every pod's ADD */
				if (!no_binary_said)
					log_err("%s%s/meshcut is not there (uninstalled?): the entry stays out until "
						"meshcut install runs", o.host_root, o.bin_dir);
				no_binary_said = true;
				ret = 0;
			} else {
				no_binary_said = false;
				ret = install_conf(&quick, why, sizeof(why));
			}
			if (lock >= 0)
				close(lock);
			if (ret < 0 && ret != -ETIMEDOUT) {
				log_err("cannot put meshcut into the CNI config: %s", why);
			} else if (ret > 0) {
				/* re-inserted: count it, and stop if it is a fight */
				stats.reinserts++;
				memmove(fights + 1, fights, sizeof(fights) - sizeof(fights[0]));
				fights[0] = t;
				n_fights = n_fights < FIGHT_MAX ? n_fights + 1 : FIGHT_MAX;
				if (n_fights == FIGHT_MAX && t - fights[FIGHT_MAX - 1] < FIGHT_WINDOW) {
					backoff = backoff ? (backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2) : 5;
					backoff_until = t + backoff;
					n_fights = 0;
					stats.backoffs++;
					log_err("another writer removed meshcut from %s %d times in %d s: backing off %d s "
						"(is a second installer or the primary CNI rewriting it?)",
						dir, FIGHT_MAX, FIGHT_WINDOW, backoff);
				}
			}
			ok = install_conf_ok(&o);
		} else if (ok && backoff && t - fights[0] > FIGHT_WINDOW) {
			backoff = 0; /* calm again */
		}
		set_ready(&o, ok); /* never ready while the entry is missing */
		stats.ready = ok;
		if (t >= next_sweep) {
			ret = remove_orphans(&o);
			if (ret > 0) {
				log_info("removed %d orphan endpoints", ret);
				stats.orphans_removed += (unsigned long)ret;
			}
			next_sweep = t + ORPHAN_EVERY;
		}

		wake = next_sweep;
		if (backoff_until > t && backoff_until < wake)
			wake = backoff_until;
		if (wd < 0 && t + 1 < wake)
			wake = t + 1; /* conf dir missing: look again soon */
		if (poll(pfd, 3, (int)((wake - t) * 1000) + 1) < 0 && errno != EINTR)
			break;
		if (pfd[2].revents & POLLIN)
			metrics_serve(mfd, root, &stats);
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			log_info("signal %u: stopping", si.ssi_signo);
			set_ready(&o, false);
			if (!o.uninstall_on_term)
				return 0;
			return uninstall_all(&o) < 0 ? 1 : 0;
		}
		if (pfd[0].revents & POLLIN) {
			ssize_t r;

			usleep(100 * 1000); /* let a writer finish its burst */
			while ((r = read(ifd, buf, sizeof(buf))) > 0) {
				for (char *p = buf; p < buf + r;) {
					const struct inotify_event *ev = (const void *)p;

					if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
						wd = -1;
					p += sizeof(*ev) + ev->len;
				}
			}
		}
	}
	return 1;
}
