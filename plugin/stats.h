/* SPDX-License-Identifier: Apache-2.0 */
/* The per-endpoint counters (include/mc_stats.h) by name: one table that
 * `meshcut status --json` and the agent's Prometheus metrics both read, so
 * that the two can never disagree on what a counter is called or means. */
#ifndef MC_PLUGIN_STATS_H
#define MC_PLUGIN_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "mc_stats.h"

struct mc_stat_field {
	const char *group;  /* "packet" or "socket": the object in status --json */
	const char *json;   /* the counter's name in status --json */
	const char *metric; /* the Prometheus counter, without "meshcut_" */
	const char *help;
	size_t off;	    /* of the __u64 in struct mc_stats */
};

extern const struct mc_stat_field mc_stat_fields[];
extern const size_t mc_stat_fields_n;

static inline uint64_t mc_stat_get(const struct mc_stats *st, const struct mc_stat_field *f)
{
	return *(const __u64 *)((const char *)st + f->off);
}

#endif
