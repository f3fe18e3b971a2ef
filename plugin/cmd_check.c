// SPDX-License-Identifier: Apache-2.0
/* CHECK: is what ADD set up still in place? Asks the kernel (links,
 * attachments, map entries), not only our own record. A degraded endpoint
 * is in its expected state; a missing or half-made one is not. */
#include <errno.h>
#include <string.h>

#include "endpoint.h"
#include "meshcut.h"
#include "node.h"
#include "packet.h"

int cmd_check(struct mc_ctx *ctx)
{
	struct mc_endpoint ep;
	struct mc_ep_key key;
	struct mc_node node;
	char why[256] = "", msg[256] = "";
	int ret;

	if (ctx->env.container_id_too_long)
		return 0; /* never accelerated, by design */
	if (ep_key_make(&key, ctx->env.container_id, ctx->env.ifname) < 0)
		return mc_fail(&ctx->err, MC_ERR_CHECK, "invalid endpoint key", NULL);
	ret = node_open(&node, ctx->conf.bpffs_root, MC_NODE_READ, why, sizeof(why));
	if (ret < 0)
		return mc_fail(&ctx->err, MC_ERR_CHECK, "meshcut node state is missing", "%s",
			       ret == -ENOENT ? "nothing pinned under the bpffs root" : why);
	if (ep_lookup(&node, &key, &ep) < 0) {
		node_close(&node);
		return mc_fail(&ctx->err, MC_ERR_CHECK, "no meshcut endpoint for this container",
			       "container %s interface %s has no endpoint record",
			       ctx->env.container_id, ctx->env.ifname);
	}
	ret = ep_verify(&node, &key, &ep, msg, sizeof(msg));
	node_close(&node);
	if (ret < 0)
		return mc_fail(&ctx->err, MC_ERR_CHECK, "meshcut endpoint is not as expected", "%s", msg);
	if (ep.pkt_flags & MC_PKT_ON) {
		/* Other plugins' tc work on the veth decides where we may redirect;
		 * if it changed since ADD our decision is stale. */
		struct mc_endpoint now = ep;
		char was[80], is[80];

		pkt_flags_probe(&ctx->conf, &now);
		if (now.pkt_flags != ep.pkt_flags) {
			ep_pkt_flags_str(ep.pkt_flags, was, sizeof(was));
			ep_pkt_flags_str(now.pkt_flags, is, sizeof(is));
			return mc_fail(&ctx->err, MC_ERR_CHECK, "tc setup of the host veth changed since ADD",
				       "packet shortcut was set up as \"%s\", the veth now calls for \"%s\"", was, is);
		}
	}
	return 0;
}
