// SPDX-License-Identifier: Apache-2.0
/* sockmap-probe OBJ [--seconds S] [--acks] [--no-signals]: does this kernel answer a
 * blocking read of a socket in a sockhash with a false EAGAIN or a false
 * end of stream when the wait is woken by something other than data?
 *
 * A TCP connection over 127.0.0.1 (run it in a netns of its own), both
 * ends blocking and in a sockhash whose sk_msg program (sockmap-probe.bpf.c)
 * hands every write of the client to the server's receive queue, as
 * meshcut's socket shortcut does. The client writes 64 bytes every 2 ms;
 * the server reads them in a thread that gets a SIGUSR1 every millisecond
 * (SA_RESTART handler, as a program with timers has). With --acks the
 * server also keeps its send buffer full over TCP (nonblocking sends from
 * another thread) while the client drains it slowly, so the write-space
 * wakeups that the ACKs of its own sends cause wake its blocked read too;
 * --no-signals leaves only those. TCP restarts an interrupted read
 * and keeps waiting on a wakeup without data; a reader must never see
 * EAGAIN (the socket is blocking) or 0 before the client's last byte.
 *
 * Prints one line and exits 0 when the hazard was not seen, 1 when it was
 * (with the counts), 2 when it cannot probe (with why). Bounded by
 * --seconds (default 3) plus 10 s. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MSG 64

static int rfd, wfd;
static atomic_int writer_done, reader_done;
static atomic_ulong sent;
static unsigned long got, eagain, eof_early, eintr, bad, other;
static int other_errno;
static bool acks, no_signals;

static unsigned char pattern(unsigned long i)
{
	return (unsigned char)(i * 131 + 7);
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void *reader(void *arg)
{
	unsigned char buf[4096];
	unsigned long zeros = 0;

	(void)arg;
	for (;;) {
		ssize_t r = read(rfd, buf, sizeof(buf));

		if (r > 0) {
			for (ssize_t i = 0; i < r; i++)
				if (buf[i] != pattern(got + (unsigned long)i))
					bad++;
			got += (unsigned long)r;
		} else if (r == 0) {
			if (atomic_load(&writer_done) && got == atomic_load(&sent))
				break; /* the real end */
			eof_early++;
			if (++zeros > 1000)
				break; /* a reader would have closed long ago */
		} else if (errno == EAGAIN) {
			eagain++;
		} else if (errno == EINTR) {
			eintr++;
		} else {
			other++;
			other_errno = errno;
			break;
		}
	}
	atomic_store(&reader_done, 1);
	return NULL;
}

static void *signaller(void *arg)
{
	static char fill[16384];
	pthread_t t = *(pthread_t *)arg;

	while (!atomic_load(&reader_done)) {
		if (!no_signals)
			pthread_kill(t, SIGUSR1);
		/* until the send buffer is full (EAGAIN sets SOCK_NOSPACE:
		 * freed space then wakes the socket's waiters) */
		while (acks && send(rfd, fill, sizeof(fill), MSG_DONTWAIT) > 0)
			;
		sleep_us(1000);
	}
	return NULL;
}

/* the client's receive side: what the server sends with --acks, read
 * slowly so that the server's send buffer fills and frees again */
static void *drain(void *arg)
{
	char buf[4096];

	(void)arg;
	while (read(wfd, buf, sizeof(buf)) > 0)
		sleep_us(200);
	return NULL;
}

static int fail(const char *what)
{
	printf("cannot probe: %s: %s\n", what, strerror(errno));
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	socklen_t al = sizeof(a);
	double seconds = 3;
	struct bpf_object *obj;
	int lfd, map, prog, one = 1;
	__u32 k0 = 0, k1 = 1, port;
	__u64 cnt[2] = { 0, 0 };
	pthread_t rt, st, dt;
	unsigned char m[MSG];
	struct timespec t0, t;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--acks"))
			acks = true;
		else if (!strcmp(argv[i], "--no-signals"))
			no_signals = true;
		else
			argc = 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: sockmap-probe OBJ [--seconds S] [--acks] [--no-signals]\n");
		return 2;
	}
	alarm((unsigned int)seconds + 10);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj))
		return fail("load the probe object");
	map = bpf_object__find_map_fd_by_name(obj, "probe_socks");
	prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "probe_msg"));
	if (bpf_prog_attach(prog, map, BPF_SK_MSG_VERDICT, 0) < 0)
		return fail("attach sk_msg");

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &al) < 0)
		return fail("listen on 127.0.0.1");
	wfd = socket(AF_INET, SOCK_STREAM, 0);
	if (wfd < 0 || connect(wfd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail("connect");
	rfd = accept(lfd, NULL, NULL);
	al = sizeof(a);
	if (rfd < 0 || getsockname(wfd, (struct sockaddr *)&a, &al) < 0)
		return fail("accept");
	port = ntohs(a.sin_port);
	if (bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "probe_writer"), &k0, &port, BPF_ANY) < 0 ||
	    bpf_map_update_elem(map, &k0, &(__u64){ (__u64)wfd }, BPF_NOEXIST) < 0 ||
	    bpf_map_update_elem(map, &k1, &(__u64){ (__u64)rfd }, BPF_NOEXIST) < 0)
		return fail("insert into the sockhash");

	sigaction(SIGUSR1, &sa, NULL);
	if (pthread_create(&rt, NULL, reader, NULL) || pthread_create(&st, NULL, signaller, &rt) ||
	    pthread_create(&dt, NULL, drain, NULL))
		return fail("threads");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long off = 0;; off += MSG) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= seconds ||
		    atomic_load(&reader_done))
			break;
		for (int i = 0; i < MSG; i++)
			m[i] = pattern(off + (unsigned long)i);
		if (write(wfd, m, MSG) != MSG)
			return fail("write");
		atomic_fetch_add(&sent, MSG);
		sleep_us(2000);
	}
	atomic_store(&writer_done, 1);
	shutdown(wfd, SHUT_WR);
	pthread_join(rt, NULL);
	pthread_join(st, NULL);
	shutdown(rfd, SHUT_RDWR);
	pthread_join(dt, NULL);
	bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "probe_count"), &k0, &cnt[0]);
	bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "probe_count"), &k1, &cnt[1]);
	if (cnt[0] == 0) {
		printf("cannot probe: nothing was redirected (%llu messages passed)\n", (unsigned long long)cnt[1]);
		return 2;
	}
	printf("blocking-read hazard %s: sent=%lu got=%lu redirected=%llu eagain=%lu false_eof=%lu eintr=%lu "
	       "corrupt=%lu other=%lu%s%s%s\n",
	       eagain || eof_early || eintr || bad || other || got != sent ? "seen" : "not seen",
	       (unsigned long)sent, got, (unsigned long long)cnt[0], eagain, eof_early, eintr, bad, other,
	       other ? " (" : "", other ? strerror(other_errno) : "", other ? ")" : "");
	return eagain || eof_early || eintr || bad || other || got != sent ? 1 : 0;
}
