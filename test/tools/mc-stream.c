// SPDX-License-Identifier: Apache-2.0
/* mc-stream: checks TCP byte streams end to end, for the socket shortcut's
 * integrity tests.
 *
 *   mc-stream serve ADDR PORT [--slow MS] [--nonblock] [--signals]
 *                   [--splice] [--hello]
 *   mc-stream client ADDR PORT [--conns N] [--bytes N] [--seed N]
 *                    [--bind ADDR:PORT] [--timeout S] [--nonblock] [--signals]
 *                    [--hello] [--write N]
 *
 * Each connection starts with a header (length, seed). The client then
 * writes a pseudo-random stream derived from its seed in writes of random
 * size (1 byte to 1 MiB), and shuts down its write side. The server reads
 * with random read sizes, checks every byte against the same generator
 * (a lost, reordered, corrupted or misdelivered byte changes what follows),
 * checks that EOF comes exactly after the last byte, then answers with a
 * stream of its own (seed + 1) and closes; the client checks that one the
 * same way. With --slow, the server waits MS milliseconds before it starts
 * reading and between reads of its first MiB (a slow reader behind a fast
 * writer). Prints one line per failure and exits 1 on any; on success
 * prints "ok conns=N bytes=N". Every run is bounded by --timeout (alarm).
 *
 * --nonblock: O_NONBLOCK sockets, waiting in poll() (as event-driven
 * servers and proxies do); otherwise blocking sockets, where EAGAIN is a
 * failure. --signals: a SIGUSR1 every millisecond with an SA_RESTART
 * handler, as a program with timers gets; TCP restarts the reads and
 * writes it interrupts, so the program must never see an error for it.
 *
 * --splice (server): read the stream with splice(2) into a pipe, as
 * haproxy's splicing and Go's io.Copy do, after reading the header with
 * read(2) as a proxy reads a request's head. On EINVAL ("cannot splice
 * this socket") it goes on with read(2), as they do, and prints
 * "splice fallback". Prints "spliced N bytes, fallback F" per connection.
 * --hello: the server tries one splice (or read) right after accept and
 * then sends one byte; the client waits for that byte before it writes:
 * a reader that was reading before the first byte arrived.
 * --write N (client): every write of the upload N bytes (64: the small
 * writes TCP's Nagle coalesces), instead of random sizes. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_IO (1U << 20)

struct hdr {
	uint64_t len;
	uint64_t seed;
};

struct gen {
	uint64_t s;
	uint64_t word;
	int left;
};

static void gen_init(struct gen *g, uint64_t seed)
{
	g->s = seed * 0x9e3779b97f4a7c15ULL + 1;
	g->left = 0;
}

static uint8_t gen_byte(struct gen *g)
{
	if (!g->left) {
		g->s ^= g->s << 13;
		g->s ^= g->s >> 7;
		g->s ^= g->s << 17;
		g->word = g->s;
		g->left = 8;
	}
	g->left--;
	return (uint8_t)(g->word >> (g->left * 8));
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int nonblock;
static size_t write_size; /* client --write: fixed size of every write, 0 = random */
static int use_splice;
static __thread int splice_fallback;
static __thread uint64_t spliced;

/* With --nonblock, wait until fd is ready for events; 0 or -errno. */
static int wait_ready(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	if (!nonblock)
		return -EAGAIN; /* a blocking socket said EAGAIN: a failure */
	do
		r = poll(&p, 1, 20000);
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

/* After a read or write failed: may it be retried (interrupted, or
 * nonblocking and now ready)? */
static int io_again(int fd, short events)
{
	return errno == EINTR || (errno == EAGAIN && wait_ready(fd, events) == 0);
}

static void set_nonblock(int fd)
{
	if (nonblock)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void on_signal(int sig)
{
	(void)sig;
}

/* SIGUSR1 every millisecond to this process, restarted syscalls */
static void start_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	struct itimerspec its = { { 0, 1000000 }, { 0, 1000000 } };
	timer_t t;

	sigaction(SIGUSR1, &sa, NULL);
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) == 0)
		timer_settime(t, 0, &its, NULL);
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (io_again(fd, POLLOUT))
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);

		if (r == 0)
			return -EPIPE;
		if (r < 0) {
			if (io_again(fd, POLLIN))
				continue;
			return -errno;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Send len bytes of stream seed in writes of random size. */
static int send_stream(int fd, uint64_t len, uint64_t seed, uint64_t *rs, const char *who)
{
	static __thread uint8_t *buf;
	struct gen g;

	if (!buf && !(buf = malloc(MAX_IO)))
		return -ENOMEM;
	gen_init(&g, seed);
	while (len) {
		/* mostly small writes, some large ones */
		size_t n = (rnd(rs) & 3) ? 1 + rnd(rs) % 2048 : 1 + rnd(rs) % MAX_IO;

		if (write_size)
			n = write_size;
		int ret;

		if (n > len)
			n = (size_t)len;
		for (size_t i = 0; i < n; i++)
			buf[i] = gen_byte(&g);
		ret = write_all(fd, buf, n);
		if (ret < 0) {
			printf("%s: write: %s\n", who, strerror(-ret));
			return ret;
		}
		len -= n;
	}
	return 0;
}

/* read(2), or with --splice, splice(2) through a pipe, until EINVAL
 * switches this process to read(2) for good. */
static ssize_t stream_read(int fd, void *buf, size_t n)
{
	static __thread int pipefd[2] = { -1, -1 };
	ssize_t r;

	if (!use_splice || splice_fallback)
		return read(fd, buf, n);
	if (pipefd[0] < 0 && pipe(pipefd) < 0)
		return -1;
	if (n > 65536)
		n = 65536; /* a pipe's default capacity */
	r = splice(fd, NULL, pipefd[1], NULL, n, SPLICE_F_NONBLOCK);
	if (r < 0 && errno == EINVAL) {
		printf("splice fallback after %llu bytes\n", (unsigned long long)spliced);
		splice_fallback = 1;
		return read(fd, buf, n);
	}
	if (r <= 0)
		return r;
	spliced += (uint64_t)r;
	return read(pipefd[0], buf, (size_t)r); /* all of it: the pipe holds it */
}

static void splice_report(void)
{
	if (use_splice)
		printf("spliced %llu bytes, fallback %d\n", (unsigned long long)spliced,
		       splice_fallback);
}

/* Read and check len bytes of stream seed, then EOF. slow_ms > 0: sleep
 * before reading and between reads of the first MiB. */
static int check_stream(int fd, uint64_t len, uint64_t seed, uint64_t *rs, int slow_ms,
			const char *who)
{
	static __thread uint8_t *buf;
	uint64_t off = 0;
	struct gen g;
	char extra;
	ssize_t r;

	if (!buf && !(buf = malloc(MAX_IO)))
		return -ENOMEM;
	gen_init(&g, seed);
	if (slow_ms)
		usleep((useconds_t)slow_ms * 1000);
	while (off < len) {
		size_t want = 1 + rnd(rs) % ((rnd(rs) & 1) ? 64 : MAX_IO);

		if (want > len - off)
			want = (size_t)(len - off);
		r = stream_read(fd, buf, want);
		if (r < 0 && io_again(fd, POLLIN))
			continue;
		if (r < 0) {
			printf("%s: read at byte %llu: %s\n", who, (unsigned long long)off, strerror(errno));
			return -1;
		}
		if (r == 0) {
			printf("%s: EOF after %llu of %llu bytes (lost)\n", who,
			       (unsigned long long)off, (unsigned long long)len);
			return -1;
		}
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != gen_byte(&g)) {
				printf("%s: byte %llu differs (corrupted, reordered or misdelivered)\n",
				       who, (unsigned long long)(off + (uint64_t)i));
				return -1;
			}
		off += (uint64_t)r;
		if (slow_ms && off < MAX_IO)
			usleep((useconds_t)slow_ms * 100);
	}
	do
		r = read(fd, &extra, 1);
	while (r < 0 && io_again(fd, POLLIN));
	if (r != 0) {
		printf("%s: more data or an error where EOF was due after %llu bytes\n", who,
		       (unsigned long long)len);
		return -1;
	}
	return 0;
}

static int serve_one(int c, int slow_ms, int hello)
{
	struct hdr h;
	uint64_t rs;
	char who[64], b = 'H';

	if (hello) {
		/* a reader already waiting: nothing can have arrived yet */
		if (stream_read(c, &h, 1) >= 0 || (errno != EAGAIN && errno != EINVAL)) {
			printf("server: hello read did not find an empty socket\n");
			return 1;
		}
		if (write_all(c, &b, 1) < 0)
			return 1;
	}
	if (read_all(c, &h, sizeof(h)) < 0) {
		printf("server: short header\n");
		return 1;
	}
	snprintf(who, sizeof(who), "server seed %llu", (unsigned long long)h.seed);
	rs = h.seed ^ 0x5555;
	if (check_stream(c, h.len, h.seed, &rs, slow_ms, who) < 0)
		return 1;
	splice_report();
	if (send_stream(c, h.len, h.seed + 1, &rs, who) < 0)
		return 1;
	return 0;
}

static int parse_addr(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int slow = 0, one = 1, signals = 0, hello = 0, s;

	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--slow") && i + 1 < argc)
			slow = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--nonblock"))
			nonblock = 1;
		else if (!strcmp(argv[i], "--signals"))
			signals = 1;
		else if (!strcmp(argv[i], "--splice"))
			use_splice = 1;
		else if (!strcmp(argv[i], "--hello"))
			hello = 1;
		else
			return 2;
	}
	if (hello && !nonblock)
		return 2; /* its first read must not block */
	if (parse_addr(argv[2], argv[3], &ss, &sl) < 0)
		return 2;
	s = socket(ss.ss_family, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_nonblock(s); /* before listen(), as event-driven servers do */
	if (s < 0 || bind(s, (struct sockaddr *)&ss, sl) < 0 || listen(s, 128) < 0) {
		perror("serve");
		return 2;
	}
	signal(SIGCHLD, SIG_IGN);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept4(s, NULL, NULL, nonblock ? SOCK_NONBLOCK : 0);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = { .fd = s, .events = POLLIN };

				poll(&p, 1, -1);
				continue;
			}
			return 2;
		}
		if (fork() == 0) {
			close(s);
			if (signals)
				start_signals();
			_exit(serve_one(c, slow, hello));
		}
		close(c);
	}
}

struct client_arg {
	struct sockaddr_storage dst, src;
	socklen_t dst_len, src_len;
	uint64_t len, seed;
	int hello;
	int failed;
};

static void *client_one(void *p)
{
	struct client_arg *a = p;
	struct hdr h = { .len = a->len, .seed = a->seed };
	uint64_t rs = a->seed ^ 0xaaaa;
	char who[64], b;
	int c, one = 1;

	snprintf(who, sizeof(who), "client seed %llu", (unsigned long long)a->seed);
	a->failed = 1;
	c = socket(a->dst.ss_family, SOCK_STREAM, 0);
	if (c < 0)
		return NULL;
	if (a->src_len) {
		setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(c, (struct sockaddr *)&a->src, a->src_len) < 0) {
			printf("%s: bind: %s\n", who, strerror(errno));
			goto out;
		}
	}
	set_nonblock(c);
	if (connect(c, (struct sockaddr *)&a->dst, a->dst_len) < 0) {
		int err = errno;
		socklen_t el = sizeof(err);

		if (err == EINPROGRESS && wait_ready(c, POLLOUT) == 0 &&
		    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0)
			goto connected;
		printf("%s: connect: %s\n", who, strerror(err));
		goto out;
	}
connected:
	if (a->hello && read_all(c, &b, 1) < 0) {
		printf("%s: no hello from the server\n", who);
		goto out;
	}
	if (write_all(c, &h, sizeof(h)) < 0 || send_stream(c, a->len, a->seed, &rs, who) < 0)
		goto out;
	shutdown(c, SHUT_WR); /* half-close: the server must see EOF after the data */
	if (check_stream(c, a->len, a->seed + 1, &rs, 0, who) < 0)
		goto out;
	a->failed = 0;
out:
	close(c);
	return NULL;
}

static int cmd_client(int argc, char **argv)
{
	int conns = 4, timeout = 60, failed = 0, signals = 0, hello = 0;
	uint64_t bytes = 1 << 20, seed = (uint64_t)time(NULL);
	struct client_arg *args;
	pthread_t *th;
	char *bind_to = NULL;

	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--nonblock")) {
			nonblock = 1;
			continue;
		}
		if (!strcmp(argv[i], "--signals")) {
			signals = 1;
			continue;
		}
		if (!strcmp(argv[i], "--hello")) {
			hello = 1;
			continue;
		}
		if (i + 1 >= argc)
			return 2;
		if (!strcmp(argv[i], "--conns"))
			conns = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--bytes"))
			bytes = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--timeout"))
			timeout = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--bind"))
			bind_to = argv[++i];
		else if (!strcmp(argv[i], "--write"))
			write_size = (size_t)strtoul(argv[++i], NULL, 0);
		else
			return 2;
	}
	if (write_size > MAX_IO)
		return 2; /* the buffer holds MAX_IO bytes */
	alarm((unsigned)timeout);
	if (signals)
		start_signals();
	args = calloc((size_t)conns, sizeof(*args));
	th = calloc((size_t)conns, sizeof(*th));
	if (!args || !th)
		return 2;
	for (int i = 0; i < conns; i++) {
		if (parse_addr(argv[2], argv[3], &args[i].dst, &args[i].dst_len) < 0)
			return 2;
		if (bind_to) {
			char host[64], *colon;

			snprintf(host, sizeof(host), "%s", bind_to);
			colon = strrchr(host, ':');
			if (!colon)
				return 2;
			*colon = '\0';
			if (parse_addr(host, colon + 1, &args[i].src, &args[i].src_len) < 0)
				return 2;
		}
		args[i].len = bytes;
		args[i].hello = hello;
		args[i].seed = seed * 1000 + (uint64_t)i * 2;
		pthread_create(&th[i], NULL, client_one, &args[i]);
	}
	for (int i = 0; i < conns; i++) {
		pthread_join(th[i], NULL);
		failed += args[i].failed;
	}
	if (failed) {
		printf("FAILED %d of %d connections\n", failed, conns);
		return 1;
	}
	printf("ok conns=%d bytes=%llu\n", conns, (unsigned long long)bytes * 2 * (uint64_t)conns);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "serve"))
		return cmd_serve(argc, argv);
	if (argc >= 4 && !strcmp(argv[1], "client"))
		return cmd_client(argc, argv);
	fprintf(stderr, "usage: mc-stream serve ADDR PORT [--slow MS] [--nonblock] [--signals]\n"
			"                        [--splice] [--hello]\n"
			"       mc-stream client ADDR PORT [--conns N] [--bytes N] [--seed N] [--bind ADDR:PORT]\n"
			"                        [--timeout S] [--nonblock] [--signals] [--hello]\n");
	return 2;
}
