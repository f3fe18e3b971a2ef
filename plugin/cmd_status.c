// SPDX-License-Identifier: Apache-2.0
/* STATUS: a failing STATUS takes the whole node's network NotReady, so it
 * fails only where ADD would fail: an invalid config (caught by
 * parse_conf), or with failurePolicy "fail" a datapath that cannot be set
 * up. With "ignore", a node that cannot accelerate is degraded, not down:
 * STATUS logs why and succeeds. It never needs an ADD to have run. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cgroup.h"
#include "log.h"
#include "meshcut.h"
#include "node.h"

static int probe_datapath(const struct mc_conf *conf, char *why, size_t n)
{
	struct mc_node node;
	char cgroot[MC_PATH_MAX];
	int ret;

	if (conf->socket_shortcut && mc_cgroup_root(conf, cgroot, sizeof(cgroot)) < 0) {
		mc_msg(why, n, "no cgroup2 mount: the socket shortcut cannot attach");
		return -ENOENT;
	}
	if (conf->socket_shortcut && cgroup_is_cgroup2(cgroot) != 1) {
		mc_msg(why, n, "cgroupRoot %s is not on cgroup2", cgroot);
		return -ENOENT;
	}
	/* Loads and pins the node programs if they are not there yet: exactly
	 * what the next ADD would need, so success means ADD can attach. */
	ret = node_open(&node, conf->bpffs_root, MC_NODE_CREATE, why, n);
	if (ret < 0)
		return ret;
	node_close(&node);
	return 0;
}

int cmd_status(struct mc_ctx *ctx)
{
	char why[256] = "";

	if (probe_datapath(&ctx->conf, why, sizeof(why)) == 0)
		return 0;
	if (ctx->conf.failure_policy == MC_FAIL_FAIL)
		return mc_fail(&ctx->err, CNI_ERR_NOT_AVAILABLE, "meshcut datapath unavailable",
			       "%s (failurePolicy is \"fail\")", why);
	log_warn("node degraded, pods start without acceleration: %s", why);
	return 0;
}
