// SPDX-License-Identifier: Apache-2.0
/* mc-perf: the benchmark's Unix-socket floor. sockperf (Debian's 3.7)
 * speaks only TCP and UDP, so the floor is measured with this tool, over a
 * Unix socket and over the same TCP path as the baseline, and reported as
 * the ratio of the two; both sides work as sockperf's do in the benchmark
 * (nonblocking sockets, epoll).
 *
 *   mc-perf serve ADDR [--sink]
 *   mc-perf pp ADDR [-m BYTES] [-t SECONDS]
 *   mc-perf tp ADDR [-m BYTES] [-t SECONDS]
 *
 * ADDR is IP:PORT ([v6]:PORT) or unix:PATH. serve echoes what it reads
 * (--sink: discards it). pp: ping-pong of -m bytes, TCP_NODELAY, as
 * sockperf ping-pong; prints "p50 p99 count", latency in microseconds as
 * sockperf reports it (half the round trip), the first 10% of the run
 * left out as warm-up. tp: writes -m bytes at a time as fast as the
 * socket takes them, Nagle on, as sockperf throughput; prints the rate in
 * MB/s (10^6 bytes) it wrote. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUF (256U << 10)
#define MAX_SAMPLES (8U << 20)

static uint8_t buf[BUF];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_addr(const char *a, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;
	char host[128];
	const char *colon = strrchr(a, ':');
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (strncmp(a, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		if (strlen(a + 5) >= sizeof(un->sun_path))
			return -1;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, a + 5);
		*len = sizeof(*un);
		return 0;
	}
	if (!colon || (hl = (size_t)(colon - a)) >= sizeof(host))
		return -1;
	memcpy(host, a, hl);
	host[hl] = 0;
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
	}
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Waits in epoll until fd is ready for ev; 0 or -1 (10 s without). */
static int wait_for(int ep, int fd, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.fd = fd };

	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e) < 0)
		return -1;
	return epoll_wait(ep, &e, 1, 10000) == 1 ? 0 : -1;
}

static int write_all(int ep, int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EAGAIN) {
			if (wait_for(ep, fd, EPOLLOUT) < 0)
				return -1;
		} else if (!(w < 0 && errno == EINTR)) {
			return -1;
		}
	}
	return 0;
}

static int cmd_serve(const char *addr, int sink)
{
	struct sockaddr_storage ss;
	struct epoll_event e, evs[64];
	socklen_t sl;
	int one = 1, ls, ep, n, i;

	if (parse_addr(addr, &ss, &sl) < 0)
		return fprintf(stderr, "mc-perf: bad address %s\n", addr), 2;
	if (ss.ss_family == AF_UNIX)
		unlink(((struct sockaddr_un *)&ss)->sun_path);
	ls = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ls, (struct sockaddr *)&ss, sl) < 0 || listen(ls, 64) < 0)
		return perror("mc-perf: listen"), 1;
	ep = epoll_create1(0);
	e = (struct epoll_event){ .events = EPOLLIN, .data.fd = ls };
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &e);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		n = epoll_wait(ep, evs, 64, -1);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t r;

			if (fd == ls) {
				int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK);

				if (c < 0)
					continue;
				if (ss.ss_family != AF_UNIX)
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				e = (struct epoll_event){ .events = EPOLLIN, .data.fd = c };
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
				continue;
			}
			while ((r = read(fd, buf, BUF)) > 0)
				if (!sink && write_all(ep, fd, buf, (size_t)r) < 0)
					break;
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				close(fd);
				continue;
			}
			/* write_all may have left it waiting for EPOLLOUT */
			e = (struct epoll_event){ .events = EPOLLIN, .data.fd = fd };
			epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int ping_pong(int ep, int fd, size_t m, double secs)
{
	double *lat = malloc(MAX_SAMPLES * sizeof(*lat)), start = now(), t0;
	size_t n = 0, got, skip;

	if (!lat)
		return 1;
	memset(buf, 'x', m);
	while ((t0 = now()) - start < secs && n < MAX_SAMPLES) {
		if (write_all(ep, fd, buf, m) < 0)
			goto fail;
		for (got = 0; got < m;) {
			ssize_t r = read(fd, buf, m - got);

			if (r > 0)
				got += (size_t)r;
			else if (r < 0 && errno == EAGAIN && wait_for(ep, fd, EPOLLIN) == 0)
				continue;
			else if (!(r < 0 && errno == EINTR))
				goto fail;
		}
		lat[n++] = (now() - t0) / 2 * 1e6;
	}
	skip = n / 10;
	if (n - skip < 2)
		goto fail;
	qsort(lat + skip, n - skip, sizeof(*lat), cmp_double);
	printf("%.3f %.3f %zu\n", lat[skip + (n - skip) / 2], lat[skip + (n - skip) * 99 / 100], n);
	free(lat);
	return 0;
fail:
	fprintf(stderr, "mc-perf: ping-pong failed after %zu messages\n", n);
	free(lat);
	return 1;
}

static int throughput(int ep, int fd, size_t m, double secs)
{
	double start = now(), t;
	uint64_t bytes = 0;

	memset(buf, 'x', m);
	while ((t = now() - start) < secs) {
		if (write_all(ep, fd, buf, m) < 0)
			return fprintf(stderr, "mc-perf: write failed\n"), 1;
		bytes += m;
	}
	printf("%.3f\n", bytes / t / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct epoll_event e;
	double secs = 3;
	size_t m = 64;
	socklen_t sl, el = sizeof(int);
	int one = 1, err = 0, i, fd, ep, pp;

	if (argc >= 3 && strcmp(argv[1], "serve") == 0)
		return cmd_serve(argv[2], argc > 3 && strcmp(argv[3], "--sink") == 0);
	if (argc < 3 || (strcmp(argv[1], "pp") != 0 && strcmp(argv[1], "tp") != 0))
		goto usage;
	pp = argv[1][0] == 'p';
	for (i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-m") == 0)
			m = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "-t") == 0)
			secs = strtod(argv[i + 1], NULL);
		else
			goto usage;
	}
	if (i != argc || m == 0 || m > BUF || secs <= 0)
		goto usage;
	if (parse_addr(argv[2], &ss, &sl) < 0)
		return fprintf(stderr, "mc-perf: bad address %s\n", argv[2]), 2;
	/* nonblocking from the start, as sockperf --nonblocked (and as the
	 * socket shortcut needs, should this run in an accelerated pod) */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ep = epoll_create1(0);
	e = (struct epoll_event){ .events = EPOLLOUT, .data.fd = fd };
	if (fd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0)
		return perror("mc-perf: socket"), 1;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 &&
	    (errno != EINPROGRESS || wait_for(ep, fd, EPOLLOUT) < 0 ||
	     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || (errno = err) != 0))
		return perror("mc-perf: connect"), 1;
	if (pp && ss.ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return pp ? ping_pong(ep, fd, m, secs) : throughput(ep, fd, m, secs);
usage:
	fprintf(stderr, "usage: mc-perf serve ADDR [--sink] | mc-perf pp|tp ADDR [-m BYTES] [-t SECONDS]\n");
	return 2;
}
