// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfobj.h"
#include "log.h"

int prog_id_of_fd(int fd, __u32 *id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	*id = info.id;
	return 0;
}

int link_prog_id(const char *pin, __u32 *prog_id)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int fd, ret;

	fd = bpf_obj_get(pin);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? -errno : 0;
	close(fd);
	*prog_id = info.prog_id;
	return ret;
}

int prog_name_of_id(__u32 id, char *name, size_t n)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd, ret;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? -errno : 0;
	close(fd);
	if (ret == 0)
		snprintf(name, n, "%s", info.name);
	return ret;
}

int kernel_has_prog(int target, enum bpf_attach_type type, __u32 prog_id)
{
	__u32 ids[64];
	LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = 64);

	if (bpf_prog_query_opts(target, type, &q) < 0)
		return -errno;
	for (__u32 i = 0; i < q.prog_cnt && i < 64; i++)
		if (ids[i] == prog_id)
			return 1;
	return 0;
}

int tcx_count(__u32 ifindex, int type)
{
	LIBBPF_OPTS(bpf_prog_query_opts, q);

	if (bpf_prog_query_opts((int)ifindex, (enum bpf_attach_type)type, &q) < 0)
		return errno == EINVAL || errno == EOPNOTSUPP ? 0 : -errno; /* no tcx: none */
	return (int)q.prog_cnt;
}

int link_pin(int link_fd, const char *path)
{
	unlink(path); /* a stale pin of a killed ADD for this very endpoint */
	if (bpf_obj_pin(link_fd, path) < 0)
		return -errno;
	return 0;
}

void link_unpin(const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd >= 0) {
		if (bpf_link_detach(fd) < 0 && errno != EINVAL)
			log_debug("detach %s: %s", path, strerror(errno));
		close(fd);
	}
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("cannot unpin %s: %s", path, strerror(errno));
}

#define MAP_BATCH 1024
#define MAP_WALK_MAX 256 /* the largest key or value map_delete_if takes */

/* -1 when the kernel cannot batch this map (the caller walks it key by
 * key: entries already deleted are gone, the rest are walked again) */
static int delete_batched(int fd, size_t ksz, size_t vsz, map_match_fn match, const void *ctx,
			   int *deleted)
{
	unsigned char *keys = malloc(MAP_BATCH * ksz), *vals = malloc(MAP_BATCH * vsz);
	__u64 cursor[8]; /* the hash maps' batch token is a bucket number */
	bool first = true;
	int ret;

	if (!keys || !vals) {
		ret = -1;
		goto out;
	}
	do {
		__u32 n = MAP_BATCH;

		ret = bpf_map_lookup_batch(fd, first ? NULL : cursor, cursor, keys, vals, &n, NULL);
		if (ret < 0 && errno != ENOENT)
			goto out;
		first = false;
		for (__u32 i = 0; i < n; i++)
			if (match(keys + i * ksz, vals + i * vsz, ctx) && bpf_map_delete_elem(fd, keys + i * ksz) == 0)
				(*deleted)++;
	} while (ret == 0);
	ret = 0;
out:
	free(vals);
	free(keys);
	return ret;
}

int map_delete_if_by_key(int fd, size_t key_size, size_t value_size, map_match_fn match, const void *ctx)
{
	__u64 key[MAP_WALK_MAX / 8], next[MAP_WALK_MAX / 8], val[MAP_WALK_MAX / 8]; /* aligned for any struct */
	int deleted = 0;
	bool have;

	if (fd < 0 || key_size > sizeof(key) || value_size > sizeof(val))
		return 0;
	have = bpf_map_get_next_key(fd, NULL, key) == 0;
	while (have) {
		bool more = bpf_map_get_next_key(fd, key, next) == 0;

		if (bpf_map_lookup_elem(fd, key, val) == 0 && match(key, val, ctx) &&
		    bpf_map_delete_elem(fd, key) == 0)
			deleted++;
		memcpy(key, next, key_size);
		have = more;
	}
	return deleted;
}

int map_delete_if(int fd, size_t key_size, size_t value_size, map_match_fn match, const void *ctx)
{
	int deleted = 0;

	if (fd < 0 || key_size > MAP_WALK_MAX || value_size > MAP_WALK_MAX)
		return 0;
	if (delete_batched(fd, key_size, value_size, match, ctx, &deleted) == 0)
		return deleted;
	return deleted + map_delete_if_by_key(fd, key_size, value_size, match, ctx);
}
