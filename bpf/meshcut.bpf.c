// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* meshcut node programs and maps. Loaded once per node by the plugin (the
 * object is embedded in the binary as a libbpf skeleton), pinned under the
 * bpffs root, and attached per pod: mc_tc_ingress to the host veth,
 * mc_sockops to the pod cgroup.
 *
 * This file holds the plumbing both shortcuts share: endpoint lookup and
 * counters. A program that does not act returns MC_TC_NEXT / 1 so that the
 * kernel's normal path, and every other program on the hook, still runs. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "mc_common.h"
#include "mc_endpoint.h"
#include "mc_datapath.h"
#include "mc_stats.h"
#include "mc_node.h"
#include "packet.h"
#include "sock.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Endpoint records: written and read by the plugin only. Declared here so
 * that the object owns every map meshcut pins. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, struct mc_ep_key);
	__type(value, struct mc_endpoint);
} mc_endpoints_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MC_MAX_ENDPOINTS * MC_MAX_ADDRS);
	__type(key, struct mc_dp_key);
	__type(value, struct mc_dp_value);
} mc_dp_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, __u32);
	__type(value, struct mc_ep_ref);
} mc_veth_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, __u64);
	__type(value, struct mc_ep_ref);
} mc_netns_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MC_MAX_ENDPOINTS);
	__type(key, __u32);
	__type(value, struct mc_stats);
} mc_stats_v2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mc_node_info);
} mc_node_v1 SEC(".maps");

static __always_inline struct mc_stats *stats_of(__u32 slot)
{
	if (slot == 0 || slot >= MC_MAX_ENDPOINTS)
		return 0;
	return bpf_map_lookup_elem(&mc_stats_v2, &slot);
}

/* Host veth ingress: every packet the pod sends. Returns MC_TC_NEXT for
 * everything it does not deliver itself, so the rest of the hook and the
 * host's normal path run as if we were not there. */
SEC("tc")
int mc_tc_ingress(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex, len = skb->len, to = 0;
	enum mc_pkt_verdict v;
	struct mc_ep_ref *ref;
	struct mc_stats *st;

	ref = bpf_map_lookup_elem(&mc_veth_v1, &ifindex);
	if (!ref)
		return MC_TC_NEXT;
	v = pkt_decide(skb, ref, &mc_dp_v1, &to);
	st = stats_of(ref->slot);
	if (st) {
		st->tc_pkts_seen++;
		st->tc_bytes_seen += len;
		if (v == MC_PKT_REDIRECT) {
			st->tc_pkts_redirected++;
			st->tc_bytes_redirected += len;
		} else {
			st->tc_pkts_passed++;
			st->tc_bytes_passed += len;
			if (v == MC_PKT_POLICY) {
				st->tc_pkts_policy++;
				st->tc_bytes_policy += len;
			}
		}
	}
	if (v == MC_PKT_REDIRECT)
		return bpf_redirect_peer(to, 0);
	return MC_TC_NEXT;
}

/* ---- socket shortcut ------------------------------------------------ */

/* The entry of this socket's connection, or NULL if there is none (either
 * end closed, or DEL removed it) or it belongs to another connection. */
static __always_inline struct mc_pair *pair_of(const struct mc_sock *me)
{
	struct mc_pair *pair = bpf_map_lookup_elem(&mc_pair_v2, &me->id);

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

/* A tracked socket: STATE to remove its connection's entry when it closes,
 * HDR_OPT_LEN to let it leave the sockhash (sock_leave). */
static __always_inline void track_events(struct bpf_sock_ops *skops)
{
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG |
						 BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
}

/* sock_mode() of a socket address stored in a map value. The verifier
 * allows no arithmetic on a socket pointer, so the address is written to
 * the map and loaded back (volatile: clang would reuse the pointer). */
static __always_inline int sock_mode_stored(const __u64 *addr)
{
	return sock_mode(*(volatile const __u64 *)addr);
}

/* This socket's sends go through TCP from now on. */
static __always_inline void tx_to_tcp(struct mc_sock *me, struct mc_stats *st)
{
	struct mc_pair *pair = pair_of(me);
	int d = out_dir(me);

	if (pair && d < 2) {
		/* the time first: a receiver that sees TCP reads it */
		if (me->tx == MC_TX_REDIRECT)
			pair->tcp_since[d] = bpf_ktime_get_ns();
		__sync_lock_test_and_set(&pair->dir[d], MC_TX_TCP);
	}
	if (me->tx == MC_TX_REDIRECT && st)
		st->sock_back_to_tcp++;
	me->tx = MC_TX_TCP;
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
		if (__sync_val_compare_and_swap(&pair->dir[in], MC_TX_UNDECIDED, MC_TX_TCP) ==
		    MC_TX_REDIRECT)
			return 0;
		since = pair->tcp_since[in];
		if (since && bpf_ktime_get_ns() - since < MC_LEAVE_GRACE_NS)
			return 0;
	}
	return psock_queued(me->sk) <= 0;
}

/* Client side at ACTIVE_ESTABLISHED: publish the connection id so that a
 * local server side can find us. Storage first, then the sockhash entry,
 * then the id, so that whoever finds the id finds the rest. */
static __always_inline void sock_client(struct bpf_sock_ops *skops, struct bpf_sock *sk,
					const struct mc_conn_id *id, __u32 slot,
					struct mc_stats *st)
{
	struct mc_pair pair = { .slot = slot };
	struct mc_sock *me, *old;
	__u64 cookie = bpf_get_socket_cookie(skops);

	me = bpf_sk_storage_get(&mc_sk_v3, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!me)
		return;
	me->sk = (__u64)sk;
	/* a blocking client never enters (sock_mode()) */
	if (sock_mode_stored(&me->sk) != MC_MODE_NONBLOCK) {
		if (st)
			st->sock_blocking++;
		goto drop_storage;
	}
	me->cookie = cookie;
	me->peer_cookie = 0;
	me->file = 0;
	me->peer_file = 0;
	me->id = *id;
	me->slot = slot;
	me->flags = MC_SK_CLIENT;
	me->tx = MC_TX_UNDECIDED;
	if (bpf_sock_hash_update(skops, &mc_socks_v1, &cookie, BPF_NOEXIST) < 0)
		goto drop_storage;
	pair.cookie = cookie;
	pair.sk = (__u64)sk;
	if (bpf_map_update_elem(&mc_pair_v2, id, &pair, BPF_NOEXIST) < 0) {
		/* Taken: two live connections share the id. Neither may be
		 * paired, or one could receive the other's bytes. */
		old = (void *)bpf_map_lookup_elem(&mc_pair_v2, id);
		if (old) {
			__sync_fetch_and_or(&((struct mc_pair *)old)->flags, MC_PAIR_COLLIDED);
			if (st)
				st->sock_collisions++;
		}
		bpf_map_delete_elem(&mc_socks_v1, &cookie);
		goto drop_storage;
	}
	me->flags |= MC_SK_PENDING;
	track_events(skops);
	return;
drop_storage:
	bpf_sk_storage_delete(&mc_sk_v3, sk);
}

/* Server side at PASSIVE_ESTABLISHED: claim the connection a tracked
 * client of this node published under the same id. (sockops may not hold a
 * socket reference, so the client's own mc_sock is completed later, by
 * pair_complete, from its first message.) The server has not been accepted
 * yet: its listener's mode stands for its own until it is (mc_lsn_v1). */
static __always_inline void sock_server(struct bpf_sock_ops *skops, struct bpf_sock *sk,
					const struct mc_conn_id *id, __u32 slot,
					struct mc_stats *st)
{
	struct mc_listener *lsn;
	struct mc_pair *pair;
	struct mc_sock *me;
	__u64 cookie;

	pair = bpf_map_lookup_elem(&mc_pair_v2, id);
	if (!pair || pair->server_cookie)
		return; /* client elsewhere, not accelerated, sealed or already claimed */
	if (pair->flags & MC_PAIR_COLLIDED) {
		if (st)
			st->sock_collisions++;
		return;
	}
	/* Only a server whose listener was nonblocking: a blocking one would
	 * wait in the sockhash at its first read, before it could leave. */
	lsn = bpf_sk_storage_get(&mc_lsn_v1, sk, 0, 0);
	if (!lsn || !(lsn->flags & MC_LSN_NONBLOCK)) {
		if (st)
			st->sock_blocking++;
		return;
	}
	cookie = bpf_get_socket_cookie(skops);
	me = bpf_sk_storage_get(&mc_sk_v3, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!me)
		return;
	me->cookie = cookie;
	me->sk = (__u64)sk;
	me->peer_cookie = pair->cookie;
	me->peer_sk = pair->sk;
	me->file = 0;
	me->peer_file = 0;
	me->id = *id;
	me->slot = slot;
	me->peer_slot = pair->slot;
	me->flags = 0;
	me->tx = MC_TX_UNDECIDED;
	if (bpf_sock_hash_update(skops, &mc_socks_v1, &cookie, BPF_NOEXIST) < 0)
		goto drop_storage;
	/* the rest first: whoever sees server_cookie reads them */
	pair->server_sk = (__u64)sk;
	pair->server_slot = slot;
	if (__sync_val_compare_and_swap(&pair->server_cookie, 0, cookie) != 0) {
		bpf_map_delete_elem(&mc_socks_v1, &cookie);
		goto drop_storage;
	}
	track_events(skops);
	if (st)
		st->sock_paired++;
	return;
drop_storage:
	bpf_sk_storage_delete(&mc_sk_v3, sk);
}

/* Either end closing takes the connection's entry with it. Runs even after
 * the pod's DEL removed its netns entry; DEL also sweeps mc_pair_v2
 * itself, for sockets whose cgroup link went first. */
static __always_inline void sock_closed(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct mc_sock *me;

	if (!sk || skops->args[1] != MC_TCP_CLOSE)
		return;
	me = bpf_sk_storage_get(&mc_sk_v3, sk, 0, 0);
	if (me && pair_of(me))
		bpf_map_delete_elem(&mc_pair_v2, &me->id);
}

/* Whether the peer has stopped redirecting to this socket (its direction
 * went to TCP, or its end closed) while this one redirects nothing either:
 * a connection that went back to TCP, with nothing left for the sockhash
 * to do. */
static __always_inline int peer_gave_up(const struct mc_sock *me)
{
	struct mc_pair *pair;
	__u32 in = in_dir(me);

	if (me->tx == MC_TX_REDIRECT)
		return 0;
	pair = pair_of(me);
	return !pair || (in < 2 && pair->dir[in] == MC_TX_TCP);
}

/* Called for every segment a tracked socket sends through TCP (the
 * header-option length callback, which reserves nothing); a connection
 * the shortcut carries whole sends none. A socket read in blocking mode
 * leaves the shortcut, because the kernel gets blocking reads of sockhash
 * sockets wrong (sock_mode()); so does one that has no use for it: its
 * sends went to TCP (a client that found no server, a writer past the
 * bound), or its peer's did and its own never left UNDECIDED. A socket in
 * the sockhash costs each of its sends and reads the tcp_bpf path, a copy
 * into an sk_msg and a verdict. It may leave only
 * when nothing more can be redirected to it and nothing redirected is left
 * unread (MC_LEAVE_GRACE_NS); until then it stays and tries again. */
static __always_inline void sock_leave(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct mc_stats *st;
	struct mc_sock *me;

	if (!sk)
		return;
	me = bpf_sk_storage_get(&mc_sk_v3, sk, 0, 0);
	if (!me || (me->flags & MC_SK_OUT))
		goto done;
	if (!(me->flags & MC_SK_LEAVE) && sock_mode_cached(me->sk, &me->file) != MC_MODE_BLOCKING &&
	    !peer_gave_up(me))
		return;
	if (!inbound_drained(me))
		return; /* the peer may still hand us data, or some is unread */
	st = stats_of(me->slot);
	tx_to_tcp(me, st);
	me->flags |= MC_SK_OUT;
	if (bpf_map_delete_elem(&mc_socks_v1, &me->cookie) == 0 && st)
		st->sock_left++;
done:
	bpf_sock_ops_cb_flags_set(skops,
				  skops->bpf_sock_ops_cb_flags & ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
}

/* listen(): remember whether the listener is read without blocking; the
 * sockets it accepts inherit this (mc_lsn_v1 is BPF_F_CLONE). */
static __always_inline void sock_listen(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct mc_listener *lsn;

	if (!sk)
		return;
	lsn = bpf_sk_storage_get(&mc_lsn_v1, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!lsn)
		return;
	lsn->sk = (__u64)sk;
	lsn->flags = sock_mode_stored(&lsn->sk) == MC_MODE_NONBLOCK ? MC_LSN_NONBLOCK : 0;
}

/* Pod cgroup: TCP socket events of every container in the pod. Sockets
 * enter the shortcut here and only here, at ESTABLISHED: before any byte
 * of theirs can have gone through TCP and before a reader can wait on
 * them. */
SEC("sockops")
int mc_sockops(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk;
	struct mc_conn_id id;
	struct mc_ep_ref *ref;
	struct mc_stats *st;
	__u64 cookie;
	int client;

	if (skops->op == BPF_SOCK_OPS_HDR_OPT_LEN_CB) {
		sock_leave(skops);
		return 1;
	}
	if (skops->op == BPF_SOCK_OPS_STATE_CB) {
		sock_closed(skops);
		return 1;
	}
	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_TCP_LISTEN_CB)
		return 1;
	client = skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB;

	cookie = bpf_get_netns_cookie(skops);
	ref = bpf_map_lookup_elem(&mc_netns_v1, &cookie);
	if (!ref)
		return 1;
	if (skops->op == BPF_SOCK_OPS_TCP_LISTEN_CB) {
		sock_listen(skops);
		return 1;
	}
	st = stats_of(ref->slot);
	if (st) {
		if (client)
			st->sock_active_estab++;
		else
			st->sock_passive_estab++;
	}
	sk = skops->sk;
	if (!sk)
		return 1;
	/* Data in the handshake (TCP Fast Open) already went through TCP. */
	if (skops->data_segs_in || skops->data_segs_out)
		return 1;
	if (!sock_allowed(ref->slot, (__u16)skops->local_port, remote_port_of(skops)))
		return 1;
	conn_id_of(skops, client, &id);
	if (client)
		sock_client(skops, sk, &id, ref->slot, st);
	else
		sock_server(skops, sk, &id, ref->slot, st);
	return 1;
}

/* The client's first message: copy the server's claim into its mc_sock.
 * No claim yet means no local server we may take (a server claims at its
 * ESTABLISHED, before it can have sent us anything, and only if it came
 * from a nonblocking listener): seal the entry so none can claim it later,
 * and leave. */
static __always_inline void pair_complete(struct mc_sock *me)
{
	struct mc_pair *pair;
	__u64 server;

	if (!(me->flags & MC_SK_PENDING))
		return;
	me->flags &= ~MC_SK_PENDING;
	pair = pair_of(me);
	if (!pair || (pair->flags & MC_PAIR_COLLIDED)) {
		me->flags |= MC_SK_LEAVE;
		return;
	}
	server = __sync_val_compare_and_swap(&pair->server_cookie, 0, MC_COOKIE_SEALED);
	if (!server || server == MC_COOKIE_SEALED) {
		me->flags |= MC_SK_LEAVE;
		return;
	}
	me->peer_sk = pair->server_sk;
	me->peer_slot = pair->server_slot;
	me->peer_cookie = server;
}

/* Every message a tracked socket sends. A direction is redirected only if
 * its first message was, and once it has gone through TCP it stays there
 * (mc_sock.h, MC_TX_*). The sender's socket lock is held: tx needs no
 * atomics. */
SEC("sk_msg")
int mc_sk_msg(struct sk_msg_md *msg)
{
	struct bpf_sock *sk = msg->sk;
	struct mc_pair *pair;
	struct mc_sock *me;
	struct mc_stats *st;
	__u64 peer_cookie;
	__u32 size = msg->size, d;
	long queued;

	if (!sk)
		return SK_PASS;
	me = bpf_sk_storage_get(&mc_sk_v3, sk, 0, 0);
	if (!me)
		return SK_PASS;
	st = stats_of(me->slot);
	if (me->tx == MC_TX_TCP)
		goto pass;
	if (me->flags & MC_SK_CLIENT)
		pair_complete(me);
	peer_cookie = me->peer_cookie;
	if (!peer_cookie || (me->flags & (MC_SK_DRAIN | MC_SK_COLLIDED | MC_SK_LEAVE)))
		goto to_tcp;
	/* Both ends must read without blocking (sock_mode()), checked at each
	 * message since a program may switch. */
	if (sock_mode_cached(me->sk, &me->file) != MC_MODE_NONBLOCK) {
		me->flags |= MC_SK_LEAVE;
		goto blocking;
	}
	/* a peer not accepted yet came from a nonblocking listener (sock_server) */
	if (sock_mode_cached(me->peer_sk, &me->peer_file) == MC_MODE_BLOCKING)
		goto blocking;
	/* bounded like TCP's buffers: past the limit, TCP makes us wait */
	queued = psock_queued(me->peer_sk);
	if (queued < 0 || !queue_fits(me->peer_sk, (__u64)queued + size))
		goto to_tcp;
	if (me->tx == MC_TX_UNDECIDED) {
		/* the receiver may have sealed this direction (sock_leave) */
		pair = pair_of(me);
		d = out_dir(me);
		if (!pair || d >= 2 ||
		    __sync_val_compare_and_swap(&pair->dir[d], MC_TX_UNDECIDED, MC_TX_REDIRECT) !=
			    MC_TX_UNDECIDED)
			goto to_tcp;
	}
	if (bpf_msg_redirect_hash(msg, &mc_socks_v1, &peer_cookie, BPF_F_INGRESS) != SK_PASS)
		goto to_tcp; /* the peer is gone */
	me->tx = MC_TX_REDIRECT;
	if (st) {
		st->msg_redirected++;
		st->msg_bytes_redirected += size;
	}
	return SK_PASS;
blocking:
	if (st)
		st->sock_blocking++;
to_tcp:
	tx_to_tcp(me, st);
	/* Its sends have no more use for the sockhash, whose verdict on
	 * every message costs a copy (tcp_bpf): leave once nothing more can
	 * come in (sock_leave), and send as plain TCP. */
	me->flags |= MC_SK_LEAVE;
pass:
	if (st) {
		st->msg_passed++;
		st->msg_bytes_passed += size;
	}
	return SK_PASS;
}

/* ---- splice guard ---------------------------------------------------- */

/* splice(2) and sendfile(2) from a TCP socket read its receive queue only
 * (tcp_splice_read), never what was redirected to it: a splicing reader
 * would miss those bytes and see what TCP brings after them. Such a read
 * of one of our sockets is let through only once the socket can be read
 * like any TCP socket (inbound_drained(), which seals an undecided inbound
 * direction on TCP, so a reader that splices from its first read keeps
 * splicing). Otherwise it fails with EINVAL, the kernel's "this file
 * cannot splice", on which haproxy and Go's io.Copy fall back to read(2);
 * read(2) gets every byte in order. The LSM hook is node-wide; every other
 * file and every other syscall leaves at the first checks.
 * docs/socket-shortcut.md, "splice and sendfile readers". */
#define MC_MAY_READ 4
#define MC_EINVAL 22

#if defined(__TARGET_ARCH_x86)
struct pt_regs___mc {
	unsigned long orig_ax;
} __attribute__((preserve_access_index));
#define MC_SYSCALL_NR(r) ((long)(r)->orig_ax)
#define MC_NR_SENDFILE 40
#define MC_NR_SPLICE 275
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs___mc {
	int syscallno;
} __attribute__((preserve_access_index));
#define MC_SYSCALL_NR(r) ((long)(r)->syscallno)
#define MC_NR_SENDFILE 71
#define MC_NR_SPLICE 76
#else
#error "the splice guard needs this architecture's syscall numbers"
#endif

SEC("lsm/file_permission")
int mc_splice_guard(unsigned long long *ctx)
{
	struct file *file = (void *)ctx[0]; /* security_file_permission(file, mask) */
	int mask = (int)ctx[1];
	struct pt_regs___mc *regs;
	struct socket___mc *so;
	struct mc_stats *st;
	struct mc_sock *me;
	long nr;

	if (!(mask & MC_MAY_READ))
		return 0;
	regs = (void *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return 0;
	nr = MC_SYSCALL_NR(regs);
	if (nr != MC_NR_SPLICE && nr != MC_NR_SENDFILE)
		return 0;
	so = (void *)bpf_sock_from_file(file);
	if (!so || !so->sk)
		return 0;
	me = bpf_sk_storage_get(&mc_sk_v3, so->sk, 0, 0);
	if (!me || (me->flags & MC_SK_OUT) || inbound_drained(me))
		return 0;
	st = stats_of(me->slot);
	if (st)
		st->sock_splice_refused++;
	return -MC_EINVAL;
}

/* bpf_iter over mc_socks_v1, run by DEL, GC and uninstall (mc_sweep_v1
 * holds the arguments). MARK stops every sender towards the slot's
 * sockets; REMOVE then takes out those whose reader has read everything
 * redirected to it: removing a socket from the sockhash frees whatever
 * it still had queued, so a socket with unread data stays until a later
 * pass or until it closes (which removes it too). */
struct bpf_iter_meta___mc {
	void *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__sockmap___mc {
	struct bpf_iter_meta___mc *meta;
	void *key;
	void *sk;
} __attribute__((preserve_access_index));

SEC("iter/sockmap")
int mc_sock_sweep(struct bpf_iter__sockmap___mc *ctx)
{
	struct mc_sweep *sw;
	struct mc_sock *s;
	void *sk = ctx->sk;
	__u64 *key = ctx->key, cookie;
	__u32 zero = 0;

	sw = bpf_map_lookup_elem(&mc_sweep_v1, &zero);
	if (!sw || !sk || !key)
		return 0;
	s = bpf_sk_storage_get(&mc_sk_v3, sk, 0, 0);
	if (!s)
		return 0;
	if (sw->phase == MC_SWEEP_MARK) {
		/* both ends: a sender only reads its own mc_sock */
		if (!sw->slot || s->slot == sw->slot || s->peer_slot == sw->slot) {
			__sync_fetch_and_or(&s->flags, MC_SK_DRAIN);
			sw->matched++;
		}
		return 0;
	}
	if ((sw->slot && s->slot != sw->slot) || !(s->flags & MC_SK_DRAIN))
		return 0;
	sw->matched++;
	if (psock_queued((__u64)sk) != 0) {
		sw->pending++;
		return 0;
	}
	cookie = *key; /* the key buffer is read-only */
	/* storage first: a sender that still finds the socket sees no peer */
	bpf_sk_storage_delete(&mc_sk_v3, sk);
	if (bpf_map_delete_elem(&mc_socks_v1, &cookie) == 0)
		sw->removed++;
	return 0;
}
