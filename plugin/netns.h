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

#endif
