/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MC_NETNS_H
#define MC_NETNS_H

#include <stdint.h>

/* Enter the netns at path; *saved gets an fd of the netns we were in. */
int netns_enter(const char *path, int *saved);
/* Return to *saved and close it. Failing here would leave the process in
 * the pod's netns, so callers treat it as fatal. */
int netns_leave(int *saved);
/* SO_NETNS_COOKIE of the current netns: what BPF's bpf_get_netns_cookie()
 * returns for sockets in it. */
int netns_cookie(uint64_t *cookie);
/* inode of the netns file (0 when it cannot be stat'ed) */
uint64_t netns_ino(const char *path);

struct stat;
/* Calls fn for the netns of every process (stat of /proc/PID/ns/net) until
 * fn returns non-zero, and returns that; 0 when it never did, -errno when
 * /proc cannot be read. */
int netns_foreach_process(int (*fn)(const char *pid, const struct stat *ns, void *data),
			  void *data);
/* Two stats of netns files are the same netns: the same nsfs inode (and
 * device, so that no other file system's inode can match). */
int netns_same(const struct stat *a, const struct stat *b);

#endif
