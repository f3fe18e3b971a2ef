/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's Prometheus endpoint: GET /metrics on --metrics ADDR:PORT,
 * served from the agent's own loop, one short request at a time. */
#ifndef MC_METRICS_H
#define MC_METRICS_H

#include <stdbool.h>
#include <stdio.h>

/* What the agent itself counts. */
struct mc_agent_stats {
	bool ready;		      /* our entry is in the primary conflist */
	unsigned long reinserts;      /* times the agent put the entry back */
	unsigned long backoffs;	      /* times it backed off from a fight */
	unsigned long orphans_removed;
};

/* A listening socket on "IP:PORT", "[IPv6]:PORT" or ":PORT" (every
 * address, IPv6 and IPv4). fd, or -errno with why set. */
int metrics_listen(const char *addr, char *why, size_t n);

/* Answers the connections waiting on lfd (each bounded to about 2 s). */
void metrics_serve(int lfd, const char *bpffs_root, const struct mc_agent_stats *st);

/* The exposition text: the agent's counters, the node's state and every
 * endpoint's counters under bpffs_root. */
void metrics_render(FILE *f, const char *bpffs_root, const struct mc_agent_stats *st);

#endif
