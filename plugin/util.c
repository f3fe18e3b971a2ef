// SPDX-License-Identifier: Apache-2.0
/* The util layer (util.h): one implementation of each small job. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int mc_fmtn(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

void mc_msg(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

bool mc_path_exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

int mc_mkdir(const char *p, mode_t mode)
{
	return mkdir(p, mode) < 0 && errno != EEXIST ? -errno : 0;
}

int mc_read_file(const char *path, char **buf, size_t *len, mode_t *mode, off_t max)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	r = read(fd, *buf, (size_t)st.st_size);
	close(fd);
	if (r != st.st_size) {
		free(*buf);
		*buf = NULL;
		return -EIO;
	}
	(*buf)[r] = '\0';
	*len = (size_t)r;
	if (mode)
		*mode = st.st_mode & 07777;
	return 0;
}

int mc_write_atomic(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char tmp[4096], dst[4096];
	const char *p = data;
	int fd, ret = 0, dfd;

	if (mc_fmt(tmp, "%s/.meshcut-tmp-%d", dir, (int)getpid()) < 0 ||
	    mc_fmt(dst, "%s/%s", dir, name) < 0)
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len && ret == 0;) {
		ssize_t w = write(fd, p + off, len - off);

		if (w < 0)
			ret = -errno;
		else
			off += (size_t)w;
	}
	if (ret == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		ret = -errno;
	close(fd);
	if (ret == 0 && rename(tmp, dst) < 0)
		ret = -errno;
	if (ret < 0) {
		unlink(tmp);
		return ret;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}
