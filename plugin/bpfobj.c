// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
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
