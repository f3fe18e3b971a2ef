/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MC_POD_H
#define MC_POD_H

#include <stdint.h>

#include "cni.h"
#include "conf.h"
#include "nl.h"

/* What ADD learns about the pod before it touches anything. */
struct mc_pod {
	uint64_t netns_ino;
	uint64_t netns_cookie;
	struct mc_link pod;  /* CNI_IFNAME inside the pod netns */
	struct mc_link veth; /* its peer in our (the node's) netns */
	uint32_t degraded;   /* MC_DEG_* */
	char reason[MC_REASON_MAX];
};

/* Fills *pod; problems become degraded bits. Returns -errno only when the
 * process could not return to its own netns (then it must stop at once). */
int pod_discover(const struct mc_env *env, const struct mc_conf *conf, struct mc_pod *pod);

#endif
