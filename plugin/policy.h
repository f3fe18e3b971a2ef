/* SPDX-License-Identifier: Apache-2.0 */
/* The endpoint policy (docs/endpoint-policy.md): what `meshcut endpoint`
 * reads and changes in place. ADD writes the conflist's defaults; a change
 * is written to mc_sockcfg_v1 (socket shortcut, excluded ports) and to the
 * endpoint's mc_dp_v1 / mc_veth_v2 entries (packet shortcut), then the
 * node's policy generation moves, so that every socket of the shortcut
 * reads its policy again at its next message. */
#ifndef MC_POLICY_H
#define MC_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "mc_endpoint.h"
#include "mc_sock.h"
#include "node.h"

#define MC_POLICY_KEEP (-1) /* a change that leaves this part as it is */

struct mc_policy {
	int socket; /* 1 on, 0 off, or MC_POLICY_KEEP */
	int packet;
	int n_ports; /* excluded ports, or MC_POLICY_KEEP */
	__u16 ports[MC_MAX_EXCLUDE_PORTS];
};

/* A change that keeps everything. */
void policy_keep(struct mc_policy *p);

/* "80,443" into p->ports (sorted, without repeats); "" or "none" is no
 * port. 0, or -EINVAL with why[] naming the bad part. */
int policy_parse_ports(const char *s, struct mc_policy *p, char *why, size_t n);
/* "on"/"off" (or true/false in JSON) into *v. */
int policy_parse_onoff(const char *s, int *v);
/* One entry of an apply file: its target (pod or containerId) and the
 * change. 0, or -EINVAL with why[]. */
int policy_from_json(const cJSON *o, char *target, size_t tn, struct mc_policy *p, char *why,
		     size_t n);

/* What an endpoint's policy is now; cfg (may be NULL) gets the raw entry. */
int policy_get(const struct mc_node *node, const struct mc_endpoint *ep, struct mc_policy *out,
	       struct mc_sock_cfg *cfg);
/* Whether the endpoint can take the change: 0, or -ENOTSUP with why[]
 * saying what ADD found missing. Changes nothing. */
int policy_check(const struct mc_node *node, const struct mc_endpoint *ep,
		 const struct mc_policy *change, char *why, size_t n);
/* Write the change (after policy_check): 1 if something changed, 0 if the
 * endpoint already had this policy (nothing is written), or -errno. */
int policy_apply(const struct mc_node *node, const struct mc_endpoint *ep,
		 const struct mc_policy *change);

/* JSON of an endpoint's policy, as `endpoint get --json` and /metrics see it */
cJSON *policy_json(const struct mc_ep_key *key, const struct mc_endpoint *ep,
		   const struct mc_policy *p, const struct mc_sock_cfg *cfg);

#endif
