// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns.h"
#include "util.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

int netns_enter(const char *path, int *saved)
{
	int cur, target, ret = 0;

	cur = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (cur < 0)
		return -errno;
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		ret = -errno;
		goto err_cur;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		ret = -errno;
		goto err_target;
	}
	close(target);
	*saved = cur;
	return 0;

err_target:
	close(target);
err_cur:
	close(cur);
	return ret;
}

int netns_leave(int *saved)
{
	int ret = 0;

	if (*saved < 0)
		return 0;
	if (setns(*saved, CLONE_NEWNET) < 0)
		ret = -errno;
	close(*saved);
	*saved = -1;
	return ret;
}

int netns_cookie(uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd, ret = 0;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int netns_same(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

int netns_foreach_process(int (*fn)(const char *pid, const struct stat *ns, void *data),
			  void *data)
{
	char p[64];
	struct dirent *de;
	struct stat st;
	int ret = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while (ret == 0 && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (mc_fmt(p, "/proc/%s/ns/net", de->d_name) < 0 ||
		    stat(p, &st) < 0)
			continue; /* gone meanwhile, or a kernel thread */
		ret = fn(de->d_name, &st, data);
	}
	closedir(d);
	return ret;
}

uint64_t netns_ino(const char *path)
{
	struct stat st;

	if (!path || stat(path, &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}
