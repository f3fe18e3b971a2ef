// SPDX-License-Identifier: Apache-2.0
/* DEL: take the endpoint down, whatever is already gone. Succeeds when
 * nothing was ever added, on a second DEL, without CNI_NETNS, after the
 * netns, veth or cgroup went away, and on an empty bpffs after a reboot. */
#include <errno.h>
#include <string.h>

#include "endpoint.h"
#include "log.h"
#include "meshcut.h"
#include "node.h"

int cmd_del(struct mc_ctx *ctx)
{
	struct mc_endpoint ep;
	struct mc_ep_key key;
	struct mc_node node;
	char why[256] = "";
	int ret;

	if (ctx->env.container_id_too_long)
		return 0; /* ADD could not have recorded it */
	if (ep_key_make(&key, ctx->env.container_id, ctx->env.ifname) < 0)
		return 0;
	ret = node_open(&node, ctx->conf.bpffs_root, MC_NODE_WRITE, why, sizeof(why));
	if (ret == -ENOENT) {
		log_debug("nothing pinned under %s: nothing to delete", ctx->conf.bpffs_root);
		return 0;
	}
	if (ret < 0 && node.lock_fd < 0) {
		/* Cannot even lock the root: leave it for GC, never fail DEL. */
		log_warn("DEL could not open node state: %s", why);
		return 0;
	}
	/* Partially pinned state still gets what can be removed: maps that
	 * failed to open are -1 and ep_teardown skips them. */
	if (ep_lookup(&node, &key, &ep) == 0) {
		ret = ep_teardown(&node, &key, &ep);
	} else {
		ret = ep_teardown(&node, &key, NULL);
	}
	if (ret < 0)
		log_warn("DEL left something behind: %s", strerror(-ret));
	else
		log_info("endpoint removed");
	node_close(&node);
	return 0;
}
