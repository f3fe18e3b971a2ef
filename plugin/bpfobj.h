/* SPDX-License-Identifier: Apache-2.0 */
/* BPF programs and links as the kernel reports them, and pinned links:
 * what CHECK asks instead of trusting meshcut's own records (bpftool's
 * prog.c and link.c); and the one walk that deletes map entries. */
#ifndef MC_BPFOBJ_H
#define MC_BPFOBJ_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/bpf.h>

/* The id of the program behind a program fd, or behind a pinned link. */
int prog_id_of_fd(int fd, __u32 *id);
int link_prog_id(const char *pin, __u32 *prog_id);
int prog_name_of_id(__u32 id, char *name, size_t n);
/* 1 if prog_id runs at (target, type) according to BPF_PROG_QUERY, 0 if
 * not, -errno if the kernel cannot say */
int kernel_has_prog(int target, enum bpf_attach_type type, __u32 prog_id);
/* programs at (ifindex, tcx attach type); 0 where the kernel has no tcx */
int tcx_count(__u32 ifindex, int type);

/* Pin a link, replacing a stale pin of a killed ADD for the same path. */
int link_pin(int link_fd, const char *path);
/* Detach (so that no fd held elsewhere keeps it alive) and unpin. */
void link_unpin(const char *path);

/* Delete every entry of a hash map for which match(key, value, ctx) says
 * so; value_size is the map's. Read in batches where the kernel can batch
 * the map (one syscall per 1024 entries), else key by key, each next key
 * taken before its predecessor goes (from a deleted key the kernel would
 * start over). Entries added meanwhile may or may not be seen. Returns how
 * many it deleted. */
typedef bool (*map_match_fn)(const void *key, const void *value, const void *ctx);
int map_delete_if(int fd, size_t key_size, size_t value_size, map_match_fn match, const void *ctx);
/* its walk key by key alone, for a kernel that cannot batch the map (and
 * for the unit test of that path) */
int map_delete_if_by_key(int fd, size_t key_size, size_t value_size, map_match_fn match, const void *ctx);

#endif
