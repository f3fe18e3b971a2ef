// SPDX-License-Identifier: Apache-2.0
/* Datapath features: their names and what the node says of each, and the
 * node's summary for status and /metrics. Which objects make a feature,
 * and how it is loaded, is node_load.c's. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node.h"

const char *const mc_feature_names[MC_FEAT_COUNT] = {
	[MC_FEAT_PACKET] = "packet",
	[MC_FEAT_CT_GATE] = "conntrack-gate",
	[MC_FEAT_SOCKET] = "socket",
	[MC_FEAT_SOCK_TEARDOWN] = "socket-teardown",
	[MC_FEAT_SPLICE_GUARD] = "splice-guard",
	[MC_FEAT_SOCK_QUEUE] = "socket-queue",
	[MC_FEAT_SOCK_REVOKE] = "socket-revoke",
	[MC_FEAT_VERDICT_CACHE] = "verdict-cache",
};

static const char *const state_names[] = {
	[MC_FEAT_UNKNOWN] = "unknown", [MC_FEAT_ON] = "on", [MC_FEAT_REFUSED] = "refused",
	[MC_FEAT_NEEDS] = "off", [MC_FEAT_FORCED] = "forced-off",
};
_Static_assert(MC_ARRAY_SIZE(state_names) == MC_FEAT_FORCED + 1,
	       "a name for every feature state");

const char *mc_feature_state_name(__u32 state)
{
	return state < MC_ARRAY_SIZE(state_names) ? state_names[state] : "unknown";
}

bool node_feature_on(const struct mc_node *node, enum mc_feature_id id)
{
	return id < MC_FEAT_COUNT && node->features[id].state == MC_FEAT_ON;
}

void node_feature_why(const struct mc_node *node, enum mc_feature_id id, char *buf, size_t n)
{
	const struct mc_feature *f = &node->features[id];

	switch (f->state) {
	case MC_FEAT_ON:
		snprintf(buf, n, "%s on", mc_feature_names[id]);
		break;
	case MC_FEAT_UNKNOWN:
		snprintf(buf, n, "%s unknown: the node was loaded by a version that does not record features",
			 mc_feature_names[id]);
		break;
	case MC_FEAT_NEEDS:
		snprintf(buf, n, "%s off: %s", mc_feature_names[id], f->why);
		break;
	default:
		snprintf(buf, n, "%s off: %s %s (%s): %s", mc_feature_names[id],
			 f->program[0] ? f->program : "it",
			 f->state == MC_FEAT_FORCED ? "refused by MESHCUT_REFUSE" : "refused by the kernel",
			 strerror(f->err), f->why);
		break;
	}
}

int mc_feature_mask_parse(const char *s, __u32 *mask, char *bad, size_t n)
{
	char buf[256], *tok, *save = NULL;

	*mask = 0;
	if (!s || !*s)
		return 0;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < MC_FEAT_COUNT; i++)
			if (strcmp(tok, mc_feature_names[i]) == 0)
				break;
		if (i == MC_FEAT_COUNT) {
			snprintf(bad, n, "%s", tok);
			return -EINVAL;
		}
		*mask |= 1U << i;
	}
	return 0;
}

int node_open_summary(struct mc_node *node, const char *root, struct mc_node_summary *sum,
		      char *why, size_t why_len)
{
	int ret;

	memset(sum, 0, sizeof(*sum));
	ret = node_open(node, root, MC_NODE_READ, why, why_len);
	if (ret < 0)
		return ret;
	sum->loaded = true;
	if (node_pinned_hash(root, &sum->programs) == 0)
		sum->programs_current = sum->programs == node->obj_hash;
	sum->splice_guard = node_has_guard(node);
	return 0;
}

const char *node_summary_str(const struct mc_node_summary *sum)
{
	if (!sum->loaded)
		return "nothing loaded";
	return sum->programs_current ? "loaded, programs current" : "loaded, programs from another version";
}
