/* SPDX-License-Identifier: Apache-2.0 */
/* Node lifecycle: put meshcut into the node's CNI chain and take it out. */
#ifndef MC_INSTALL_H
#define MC_INSTALL_H

#include <stdbool.h>

#include "conf.h"

struct mc_install {
	char host_root[MC_PATH_MAX]; /* "" or e.g. /host: prefixed to every path below */
	char bin_dir[MC_PATH_MAX];
	char conf_dir[MC_PATH_MAX];
	char conflist[MC_PATH_MAX]; /* a file name in conf_dir; "" = first by name */
	char bpffs_root[MC_PATH_MAX];
	char entry[2048];	    /* extra fields of our entry, a JSON object */
	int wait_s;		    /* for a primary conflist to appear */
	bool uninstall_on_term;	    /* agent */
	char ready_file[MC_PATH_MAX]; /* agent */
	char metrics[80];	      /* agent: Prometheus ADDR:PORT, "" = off */
};

/* Parses the options shared by install, uninstall and agent and sends info
 * logs to stderr. 0, or 2 with a usage message printed. */
int install_opts(int argc, char **argv, const char *cmd, struct mc_install *o);


/* Our entry into the primary conflist. 1 if a file was written, 0 if it
 * already was as it should be, <0 with why set. */
int install_conf(const struct mc_install *o, char *why, size_t n);
/* Our entry out of every conflist of the conf dir (a converted .conf is
 * restored). Number of files changed, or <0. */
int uninstall_conf(const struct mc_install *o, char *why, size_t n);
/* Is our entry the last plugin of the file install_conf would pick? */
bool install_conf_ok(const struct mc_install *o);
/* Every endpoint's links, filters and entries, then every pin. */
int uninstall_state(const struct mc_install *o);

/* The conf dir, flock()ed: held by uninstall while it takes the entry and
 * the binary out, and by the agent while it puts the entry back, so that
 * the agent never re-inserts an entry uninstall has just removed. An fd to
 * close(), or -errno (no conf dir: nothing to exclude). */
int install_lock(const struct mc_install *o);
/* Is <bin dir>/meshcut there? An entry without it would fail every pod's
 * ADD ("failed to find plugin"), so the agent puts none back without it. */
bool install_binary_present(const struct mc_install *o);

/* uninstall_conf, the binary, uninstall_state: 0 or -EIO (logged). */
int uninstall_all(const struct mc_install *o);

int cli_install(int argc, char **argv);
int cli_uninstall(int argc, char **argv);
int cli_agent(int argc, char **argv);

#endif
