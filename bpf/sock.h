/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The socket shortcut: maps and helpers for mc_sockops and mc_sk_msg
 * (socket.bpf.c), mc_sock_sweep (sweep.bpf.c) and mc_splice_guard
 * (guard.bpf.c). docs/socket-shortcut.md explains the
 * rules; the comments here say where each one is enforced. */
#ifndef MC_BPF_SOCK_H
#define MC_BPF_SOCK_H

#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "mc_names.h"

#include "maps.h"
#include "mc_sock.h"

#define MC_TCP_CLOSE 7
/* sk_user_data carries flag bits below the psock pointer */
#define MC_SK_USER_DATA_PTRMASK (~7UL)

/* A receiver may have at most this much redirected data unread before its
 * sender is paused on TCP, where TCP's own buffers make the writer wait
 * (mc_sk_msg). Plain TCP between two local sockets holds a few MiB in
 * flight; this stays below that. Fixed, not the reader's sk_rcvbuf (which
 * autotuning grows to 6 MiB): a deeper queue made 64 KiB streams slower
 * on one CPU (issue 15: 0.5-1.0 GB/s at 1 MiB to 8 MiB, 1.8-2.3 at 512
 * KiB, against TCP's 1.1), and 512 KiB keeps 97% of a cross-CPU stream
 * on the shortcut where 256 KiB kept 86%. */
#define MC_QUEUE_BOUND (512U << 10)

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, MC_MAX_SOCKS);
	__type(key, __u64);
	__type(value, __u64);
} MC_SOCKS_MAP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MC_MAX_SOCKS);
	__type(key, struct mc_conn_id);
	__type(value, struct mc_pair);
} MC_PAIR_MAP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mc_sock);
} MC_SK_MAP SEC(".maps");

/* connections the host revoked: written by mc_ct_revoke (revoke.bpf.c),
 * read by mc_sk_msg when the node's policy generation moved */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MC_MAX_SOCKS);
	__type(key, struct mc_sock_tuple);
	__type(value, __u64);
} MC_REVOKE_MAP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct mc_listener);
} MC_LSN_MAP SEC(".maps");

/* Kernel structures read with CO-RE; the ___mc suffix keeps them apart from
 * UAPI names, and libbpf matches them against the running kernel's BTF. */
struct file___mc {
	unsigned int f_flags;
} __attribute__((preserve_access_index));

struct socket___mc {
	struct file___mc *file;
	struct sock *sk;
} __attribute__((preserve_access_index));

struct sock___mc {
	void *sk_user_data;
	struct socket___mc *sk_socket;
} __attribute__((preserve_access_index));

struct sk_psock___mc {
	__u32 msg_tot_len;
} __attribute__((preserve_access_index));

struct tcp_sock___mc {
	__u32 write_seq;  /* the sender's: the end of what it queued to TCP */
	__u32 copied_seq; /* the receiver's: the end of what its reader read */
} __attribute__((preserve_access_index));

/* Whether the reader at peer_sk has read every byte the socket at sk
 * queued to TCP: then a redirect overtakes nothing. Both addresses are
 * only read, as in psock_queued(); write_seq does not move while the
 * sender holds its lock (mc_sk_msg), copied_seq only grows. */
static __always_inline int tcp_all_read(__u64 sk, __u64 peer_sk)
{
	const struct tcp_sock___mc *w = (const void *)sk, *r = (const void *)peer_sk;
	__u32 written = 0, read = 1;

	if (!sk || !peer_sk || bpf_probe_read_kernel(&written, sizeof(written), &w->write_seq) < 0 ||
	    bpf_probe_read_kernel(&read, sizeof(read), &r->copied_seq) < 0)
		return 0;
	return written == read;
}

/* Bytes redirected to the socket at address sk that its reader has not
 * read yet, or -1 when the kernel does not say (then nothing is redirected
 * to it). The address comes from a socket that was alive when it was
 * recorded; it is only read, with bpf_probe_read_kernel. If that socket is
 * gone, what is read is meaningless, but then the redirect, by cookie,
 * finds no socket and the message goes to TCP anyway. */
static __always_inline long psock_queued(__u64 sk)
{
	const struct sock___mc *s = (const void *)sk;
	unsigned long ud = 0;
	__u32 queued = 0;

	if (!sk || !bpf_core_field_exists(struct sk_psock___mc, msg_tot_len))
		return -1;
	if (bpf_probe_read_kernel(&ud, sizeof(ud), &s->sk_user_data) < 0)
		return -1;
	ud &= MC_SK_USER_DATA_PTRMASK;
	if (!ud || bpf_probe_read_kernel(&queued, sizeof(queued),
					 &((const struct sk_psock___mc *)ud)->msg_tot_len) < 0)
		return -1;
	return queued;
}

/* Whether a reader with `queued` bytes of redirected data unread may be
 * handed `size` more: within the bound, or one message of any size into an
 * empty queue (the kernel bounds a message by the writer's send buffer) */
static __always_inline int queue_fits(long queued, __u32 size)
{
	return queued == 0 || (__u64)queued + size <= MC_QUEUE_BOUND;
}

/* A stream of small writes is the one case TCP carries faster: it
 * coalesces them (autocorking, Nagle) into few segments and wake-ups,
 * where each redirected message is a wake-up of the reader. Measured with
 * sockperf tp, reader on the other CPU (AMD EPYC, 6.18; MB/s, TCP /
 * shortcut / TCP after the shortcut let go): 64 B 25 / 16 / 28, 128 B
 * 26 / 27 / 29, 256 B 34 / 57, 1 KiB 92 / 230; on one CPU, 64 B 13 / 17
 * / 16. So a direction whose message is smaller than MC_SMALL_WRITE while
 * its reader has MC_SMALL_BACKLOG or more unread goes to TCP for good.
 * Request/response traffic never has such a backlog when it writes. */
#define MC_SMALL_WRITE 256U
#define MC_SMALL_BACKLOG 4096
static __always_inline int small_write_stream(long queued, __u32 size)
{
	return size < MC_SMALL_WRITE && queued >= MC_SMALL_BACKLOG;
}

#define MC_O_NONBLOCK 04000

enum {
	MC_MODE_NONBLOCK,   /* its file is O_NONBLOCK: every read returns at once */
	MC_MODE_UNACCEPTED, /* a server socket nobody has accepted yet */
	MC_MODE_BLOCKING,   /* blocking, or cannot tell */
};

/* How the socket at address sk is read. A blocking reader must not wait
 * in the sockhash: tcp_bpf_recvmsg() returns -EAGAIN to a blocking reader
 * woken by anything but data (a signal, even with SA_RESTART; write space
 * from its own TCP sends), where tcp_recvmsg() would go on waiting. The
 * address is only read, as in psock_queued().
 *
 * *file remembers the socket's struct file once it has one (0: not known
 * yet), since a socket's file never changes while it is open: one probe
 * read instead of three, at every message (the three cost most of
 * mc_sk_msg's run time). A remembered file of a socket closed since may be
 * read after it was freed, and what is read is then meaningless; but a
 * closed socket has left the sockhash, so a redirect to it finds nothing
 * and the message goes to TCP anyway. */
static __always_inline int sock_mode_cached(__u64 sk, __u64 *file)
{
	const struct sock___mc *s = (const void *)sk;
	struct socket___mc *so = NULL;
	unsigned int fl = 0;
	__u64 f = *file;

	if (!f) {
		if (!sk || bpf_probe_read_kernel(&so, sizeof(so), &s->sk_socket) < 0)
			return MC_MODE_BLOCKING;
		if (!so)
			return MC_MODE_UNACCEPTED;
		if (bpf_probe_read_kernel(&f, sizeof(f), &so->file) < 0 || !f)
			return MC_MODE_BLOCKING;
		*file = f;
	}
	if (bpf_probe_read_kernel(&fl, sizeof(fl), &((const struct file___mc *)f)->f_flags) < 0)
		return MC_MODE_BLOCKING;
	return fl & MC_O_NONBLOCK ? MC_MODE_NONBLOCK : MC_MODE_BLOCKING;
}

static __always_inline int sock_mode(__u64 sk)
{
	__u64 file = 0;

	return sock_mode_cached(sk, &file);
}

/* One 4-byte context load each: clang would merge neighbours into an
 * 8-byte load, which the verifier refuses for bpf_sock_ops. */
#define CTX_U32(field) (*(volatile const __u32 *)&(field))

/* remote_port holds the network-order port in its upper 16 bits */
static __always_inline __u16 remote_port_of(const struct bpf_sock_ops *skops)
{
	return bpf_ntohs((__u16)(CTX_U32(skops->remote_port) >> 16));
}

static __always_inline void v4_mapped(__u8 *out, __u32 a)
{
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(&out[12], &a, 4);
}

/* The sockets' view of their connection (mc_sock_tuple), at ESTABLISHED. */
static __always_inline void sock_tuple_of(const struct bpf_sock_ops *skops, struct mc_sock_tuple *t)
{
	__u32 w[4];

	__builtin_memset(t, 0, sizeof(*t));
	if (skops->family == MC_AF_INET) {
		v4_mapped(t->local, CTX_U32(skops->local_ip4));
		v4_mapped(t->remote, CTX_U32(skops->remote_ip4));
	} else {
		w[0] = CTX_U32(skops->local_ip6[0]);
		w[1] = CTX_U32(skops->local_ip6[1]);
		w[2] = CTX_U32(skops->local_ip6[2]);
		w[3] = CTX_U32(skops->local_ip6[3]);
		__builtin_memcpy(t->local, w, 16);
		w[0] = CTX_U32(skops->remote_ip6[0]);
		w[1] = CTX_U32(skops->remote_ip6[1]);
		w[2] = CTX_U32(skops->remote_ip6[2]);
		w[3] = CTX_U32(skops->remote_ip6[3]);
		__builtin_memcpy(t->remote, w, 16);
	}
	t->lport = (__u16)CTX_U32(skops->local_port);
	t->rport = remote_port_of(skops);
}

/* The connection id both ends agree on (mc_sock.h), from the socket's own
 * view of its connection (sock_tuple_of()). */
static __always_inline void conn_id_of(const struct bpf_sock_ops *skops, int client,
				       const struct mc_sock_tuple *t, struct mc_conn_id *id)
{
	/* At *_ESTABLISHED_CB: snd_nxt = own ISN + 1, rcv_nxt = peer ISN + 1.
	 * Both loaded before choosing: clang would turn a choice between the
	 * two fields into a computed context address, which the verifier
	 * refuses ("dereference of modified ctx ptr"). */
	__u32 own = CTX_U32(skops->snd_nxt) - 1, peer = CTX_U32(skops->rcv_nxt) - 1;

	__builtin_memset(id, 0, sizeof(*id));
	__builtin_memcpy(id->client_addr, client ? t->local : t->remote, 16);
	id->client_port = client ? t->lport : t->rport;
	id->isn_client = client ? own : peer;
	id->isn_server = client ? peer : own;
}

static __always_inline int conn_id_eq(const struct mc_conn_id *a, const struct mc_conn_id *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* The node's policy generation (mc_sockcfg_v1[0].gen): a socket whose
 * recorded generation differs reads its policy again (mc_sk_msg). */
static __always_inline __u32 policy_gen(void)
{
	__u32 node = MC_SOCKCFG_NODE_SLOT;
	struct mc_sock_cfg *cfg = bpf_map_lookup_elem(&MC_SOCKCFG_MAP, &node);

	return cfg ? *(volatile __u32 *)&cfg->gen : 0;
}

static __always_inline struct mc_sock_cfg *sock_cfg_of(__u32 slot)
{
	if (slot == MC_SOCKCFG_NODE_SLOT)
		return 0;
	return bpf_map_lookup_elem(&MC_SOCKCFG_MAP, &slot);
}

/* May this endpoint's socket, with these ports, enter the shortcut? */
static __always_inline int sock_allowed(__u32 slot, __u16 a, __u16 b)
{
	struct mc_sock_cfg *cfg = sock_cfg_of(slot);

	if (!cfg || !(cfg->flags & MC_SOCKCFG_REDIRECT))
		return 0;
#pragma unroll
	for (int i = 0; i < MC_MAX_EXCLUDE_PORTS; i++) {
		__u16 p = cfg->exclude_ports[i];

		if (p && (p == a || p == b))
			return 0;
	}
	return 1;
}

/* Whether the endpoint's sockets may pair with another pod's (ADD's
 * MC_SOCKCFG_REMOTE_OK). */
static __always_inline int remote_ok(__u32 slot)
{
	struct mc_sock_cfg *cfg = sock_cfg_of(slot);

	return cfg && (cfg->flags & MC_SOCKCFG_REMOTE_OK);
}

/* ---- the state of one connection (mc_pair_v2), shared by every program
 * that decides about a socket of it ---- */

/* The entry of this socket's connection, or NULL if there is none (either
 * end closed, or DEL removed it) or it belongs to another connection. */
static __always_inline struct mc_pair *pair_of(const struct mc_sock *me)
{
	struct mc_pair *pair = bpf_map_lookup_elem(&MC_PAIR_MAP, &me->id);

	if (!pair || (pair->cookie != me->cookie && pair->server_cookie != me->cookie))
		return 0;
	return pair;
}

/* mc_pair.dir[] index of this socket's sends, and of what it receives */
static __always_inline int out_dir(const struct mc_sock *me)
{
	return me->flags & MC_SK_CLIENT ? MC_DIR_C2S : MC_DIR_S2C;
}

static __always_inline int in_dir(const struct mc_sock *me)
{
	return me->flags & MC_SK_CLIENT ? MC_DIR_S2C : MC_DIR_C2S;
}

/* Whether this socket can be read like any TCP socket: nothing more can be
 * redirected to it and nothing redirected to it is left unread. Seals its
 * inbound direction on TCP if no byte of it was redirected yet. Without
 * the connection's entry the peer has closed, or DEL stopped it
 * (MC_SK_DRAIN before removing entries): nothing more comes. A direction
 * that left REDIRECT may still see the sender's last redirect arrive for
 * MC_LEAVE_GRACE_NS. */
static __always_inline int inbound_drained(const struct mc_sock *me)
{
	struct mc_pair *pair = pair_of(me);
	__u32 in = in_dir(me);
	__u64 since;

	if (pair && in < 2) {
		__u32 was = __sync_val_compare_and_swap(&pair->dir[in], MC_TX_UNDECIDED, MC_TX_TCP);

		if (was == MC_TX_REDIRECT || was == MC_TX_PAUSED)
			return 0; /* a paused sender redirects again later */
		since = pair->tcp_since[in];
		if (since && bpf_ktime_get_ns() - since < MC_LEAVE_GRACE_NS)
			return 0;
	}
	return psock_queued(me->sk) <= 0;
}

#endif
