/* SPDX-License-Identifier: Apache-2.0 */
/* Monotonic time in seconds: for timeouts and intervals (the agent's loop,
 * install's wait, the metrics server's deadlines). */
#ifndef MC_CLOCK_H
#define MC_CLOCK_H

#include <time.h>

static inline double mc_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
