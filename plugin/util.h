/* SPDX-License-Identifier: Apache-2.0 */
/* The small util layer every file may use: bounded formatting (paths are
 * never cut: -ENAMETOOLONG instead), files, directories and the clock.
 * Functions return 0 or a negative errno. */
#ifndef MC_UTIL_H
#define MC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "mc_common.h"

/* snprintf into out[n]; -ENAMETOOLONG when it would not fit (out then holds
 * the cut string, which nobody may use as a path) */
int mc_fmtn(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* 0 for an array, a compile error for a pointer (the kernel's
 * __must_be_array): mc_fmt needs the array's own size */
#define MC_MUST_BE_ARRAY(a) \
	(sizeof(char[1 - 2 * __builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0]))]) - 1)

/* mc_fmtn into an array: how every path and name is built */
#define mc_fmt(buf, ...) mc_fmtn((buf), sizeof(buf) + MC_MUST_BE_ARRAY(buf), __VA_ARGS__)

/* Messages: formatted into buf, cut at n (a message may be cut, a path
 * never: use mc_fmt for those). */
void mc_msg(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

bool mc_path_exists(const char *p);
/* mkdir that accepts a directory already there */
int mc_mkdir(const char *p, mode_t mode);
/* The whole of a regular file of at most max bytes, NUL terminated, into
 * *buf (free() it); its mode into *mode if mode is not NULL. */
int mc_read_file(const char *path, char **buf, size_t *len, mode_t *mode, off_t max);
/* dir/name replaced atomically (a temp file in dir, fsync, rename, fsync of
 * dir): a reader sees the old content or the new, never a part. */
int mc_write_atomic(const char *dir, const char *name, const void *data, size_t len, mode_t mode);

/* Monotonic time in seconds: for timeouts and intervals (the agent's loop,
 * install's wait, the metrics server's deadlines). */
static inline double mc_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
