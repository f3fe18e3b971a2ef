// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mc_socket: the socket shortcut. mc_sockops runs on each pod's cgroup and
 * puts the pod's TCP sockets into mc_socks_v1 at ESTABLISHED, paired with
 * their local peer; mc_sk_msg, the sockhash's verdict program, hands each
 * message straight to the peer socket. docs/socket-shortcut.md explains the
 * rules; sock.h holds the maps and the state both programs read. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "mc_names.h"

#include "maps.h"
#include "sock.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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

/* Whether this direction has handed anything over (redirecting, or
 * paused on TCP to redirect again) */
static __always_inline int tx_handed_over(__u32 tx)
{
	return tx == MC_TX_REDIRECT || tx == MC_TX_PAUSED;
}

/* Move this socket's direction in the pairing entry from `from` to `to`,
 * where the receiver sees it; 0 if there is no entry or it was not `from`
 * (the receiver sealed it, or DEL removed the entry). */
static __always_inline int dir_move(const struct mc_sock *me, __u32 from, __u32 to)
{
	struct mc_pair *pair = pair_of(me);
	int d = out_dir(me);

	return pair && d < 2 && __sync_val_compare_and_swap(&pair->dir[d], from, to) == from;
}

/* This socket's sends go through TCP from now on. */
static __always_inline void tx_to_tcp(struct mc_sock *me, struct mc_stats *st)
{
	struct mc_pair *pair = pair_of(me);
	int d = out_dir(me);

	if (pair && d < 2) {
		/* the time first: a receiver that sees TCP reads it */
		if (tx_handed_over(me->tx))
			pair->tcp_since[d] = bpf_ktime_get_ns();
		__sync_lock_test_and_set(&pair->dir[d], MC_TX_TCP);
	}
	if (tx_handed_over(me->tx) && st)
		st->sock_back_to_tcp++;
	me->tx = MC_TX_TCP;
}

/* Client side at ACTIVE_ESTABLISHED: publish the connection id so that a
 * local server side can find us. Storage first, then the sockhash entry,
 * then the id, so that whoever finds the id finds the rest. */
static __always_inline void sock_client(struct bpf_sock_ops *skops, struct bpf_sock *sk,
					const struct mc_conn_id *id, const struct mc_sock_tuple *t,
					__u32 slot, __u32 gen, struct mc_stats *st)
{
	struct mc_pair pair = { .slot = slot };
	struct mc_sock *me, *old;
	__u64 cookie = bpf_get_socket_cookie(skops);

	me = bpf_sk_storage_get(&MC_SK_MAP, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
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
	me->tuple = *t;
	me->gen = gen;
	me->peer_lport = 0;
	me->peer_rport = 0;
	me->slot = slot;
	me->flags = MC_SK_CLIENT;
	me->tx = MC_TX_UNDECIDED;
	if (bpf_sock_hash_update(skops, &MC_SOCKS_MAP, &cookie, BPF_NOEXIST) < 0)
		goto drop_storage;
	pair.cookie = cookie;
	pair.sk = (__u64)sk;
	pair.client_dport = t->rport;
	if (bpf_map_update_elem(&MC_PAIR_MAP, id, &pair, BPF_NOEXIST) < 0) {
		/* Taken: two live connections share the id. Neither may be
		 * paired, or one could receive the other's bytes. */
		old = (void *)bpf_map_lookup_elem(&MC_PAIR_MAP, id);
		if (old) {
			__sync_fetch_and_or(&((struct mc_pair *)old)->flags, MC_PAIR_COLLIDED);
			if (st)
				st->sock_collisions++;
		}
		bpf_map_delete_elem(&MC_SOCKS_MAP, &cookie);
		goto drop_storage;
	}
	me->flags |= MC_SK_PENDING;
	track_events(skops);
	return;
drop_storage:
	bpf_sk_storage_delete(&MC_SK_MAP, sk);
}

/* Server side at PASSIVE_ESTABLISHED: claim the connection a tracked
 * client of this node published under the same id. (sockops may not hold a
 * socket reference, so the client's own mc_sock is completed later, by
 * pair_complete, from its first message.) The server has not been accepted
 * yet: its listener's mode stands for its own until it is (mc_lsn_v1). */
static __always_inline void sock_server(struct bpf_sock_ops *skops, struct bpf_sock *sk,
					const struct mc_conn_id *id, const struct mc_sock_tuple *t,
					__u32 slot, __u32 gen, struct mc_stats *st)
{
	struct mc_listener *lsn;
	struct mc_pair *pair;
	struct mc_sock *me;
	__u64 cookie;

	pair = bpf_map_lookup_elem(&MC_PAIR_MAP, id);
	if (!pair || pair->server_cookie)
		return; /* client elsewhere, not accelerated, sealed or already claimed */
	if (pair->flags & MC_PAIR_COLLIDED) {
		if (st)
			st->sock_collisions++;
		return;
	}
	/* Two pods: only if the host's revocations of the connection reach
	 * it (or neither pod asks the host's policy: packetPolicy trust) */
	if (pair->slot != slot && (!remote_ok(slot) || !remote_ok(pair->slot)))
		return;
	/* Only a server whose listener was nonblocking: a blocking one would
	 * wait in the sockhash at its first read, before it could leave. */
	lsn = bpf_sk_storage_get(&MC_LSN_MAP, sk, 0, 0);
	if (!lsn || !(lsn->flags & MC_LSN_NONBLOCK)) {
		if (st)
			st->sock_blocking++;
		return;
	}
	cookie = bpf_get_socket_cookie(skops);
	me = bpf_sk_storage_get(&MC_SK_MAP, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!me)
		return;
	me->cookie = cookie;
	me->sk = (__u64)sk;
	me->peer_cookie = pair->cookie;
	me->peer_sk = pair->sk;
	me->file = 0;
	me->peer_file = 0;
	me->id = *id;
	me->tuple = *t;
	me->gen = gen;
	me->peer_lport = id->client_port; /* the source port: no NAT changes it */
	me->peer_rport = pair->client_dport;
	me->slot = slot;
	me->peer_slot = pair->slot;
	me->flags = 0;
	me->tx = MC_TX_UNDECIDED;
	if (bpf_sock_hash_update(skops, &MC_SOCKS_MAP, &cookie, BPF_NOEXIST) < 0)
		goto drop_storage;
	/* the rest first: whoever sees server_cookie reads them */
	pair->server_sk = (__u64)sk;
	pair->server_slot = slot;
	pair->server_lport = t->lport;
	if (__sync_val_compare_and_swap(&pair->server_cookie, 0, cookie) != 0) {
		bpf_map_delete_elem(&MC_SOCKS_MAP, &cookie);
		goto drop_storage;
	}
	track_events(skops);
	if (st)
		st->sock_paired++;
	return;
drop_storage:
	bpf_sk_storage_delete(&MC_SK_MAP, sk);
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
	me = bpf_sk_storage_get(&MC_SK_MAP, sk, 0, 0);
	if (me && pair_of(me))
		bpf_map_delete_elem(&MC_PAIR_MAP, &me->id);
}

/* Whether the peer has stopped redirecting to this socket (its direction
 * went to TCP, or its end closed) while this one redirects nothing either:
 * a connection that went back to TCP, with nothing left for the sockhash
 * to do. */
static __always_inline int peer_gave_up(const struct mc_sock *me)
{
	struct mc_pair *pair;
	__u32 in = in_dir(me);

	if (tx_handed_over(me->tx))
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
	me = bpf_sk_storage_get(&MC_SK_MAP, sk, 0, 0);
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
	if (bpf_map_delete_elem(&MC_SOCKS_MAP, &me->cookie) == 0 && st)
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
	lsn = bpf_sk_storage_get(&MC_LSN_MAP, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
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
	struct mc_sock_tuple t;
	struct bpf_sock *sk;
	struct mc_conn_id id;
	struct mc_ep_ref *ref;
	struct mc_stats *st;
	__u64 cookie;
	__u32 gen;
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
	ref = bpf_map_lookup_elem(&MC_NETNS_MAP, &cookie);
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
	/* the generation first: a policy written after it is read again at
	 * the first message */
	gen = policy_gen();
	sock_tuple_of(skops, &t);
	if (!sock_allowed(ref->slot, t.lport, t.rport))
		return 1;
	/* a revocation of an earlier connection with this 4-tuple is not ours */
	bpf_map_delete_elem(&MC_REVOKE_MAP, &t);
	conn_id_of(skops, client, &t, &id);
	if (client)
		sock_client(skops, sk, &id, &t, ref->slot, gen, st);
	else
		sock_server(skops, sk, &id, &t, ref->slot, gen, st);
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
	me->peer_lport = pair->server_lport;
	me->peer_rport = me->tuple.lport;
	me->peer_cookie = server;
}

/* Why a connection may no longer be carried, read again since the node's
 * generation moved: either end's endpoint policy (each with its own view
 * of the ports: DNAT and REDIRECT change the server's), or the host's
 * conntrack (mc_ct_revoke). */
enum { MC_POLICY_ALLOWS, MC_POLICY_OFF, MC_POLICY_REVOKED };

static __always_inline int policy_verdict(const struct mc_sock *me)
{
	if (!sock_allowed(me->slot, me->tuple.lport, me->tuple.rport) ||
	    !sock_allowed(me->peer_slot, me->peer_lport, me->peer_rport))
		return MC_POLICY_OFF;
	if (bpf_map_lookup_elem(&MC_REVOKE_MAP, &me->tuple))
		return MC_POLICY_REVOKED;
	return MC_POLICY_ALLOWS;
}

/* Every message a tracked socket sends. A direction is redirected only if
 * its first message was; once it has gone through TCP it stays there,
 * except while paused by a reader that fell behind (mc_sock.h, MC_TX_*).
 * The sender's socket lock is held: tx needs no atomics. */
SEC("sk_msg")
int mc_sk_msg(struct sk_msg_md *msg)
{
	struct bpf_sock *sk = msg->sk;
	struct mc_sock *me;
	struct mc_stats *st;
	__u32 size = msg->size, gen;
	__u64 peer_cookie;
	int why;
	long queued;

	if (!sk)
		return SK_PASS;
	me = bpf_sk_storage_get(&MC_SK_MAP, sk, 0, 0);
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
	/* one array read a message: the policy itself only when it changed */
	gen = policy_gen();
	if (gen != me->gen) {
		me->gen = gen;
		why = policy_verdict(me);
		if (why != MC_POLICY_ALLOWS) {
			if (st && tx_handed_over(me->tx)) {
				if (why == MC_POLICY_OFF)
					st->sock_policy_off++;
				else
					st->sock_ct_revoked++;
			}
			goto to_tcp;
		}
	}
	/* Both ends must read without blocking (sock_mode()), checked at each
	 * message since a program may switch. */
	if (sock_mode_cached(me->sk, &me->file) != MC_MODE_NONBLOCK) {
		me->flags |= MC_SK_LEAVE;
		goto blocking;
	}
	/* a peer not accepted yet came from a nonblocking listener (sock_server) */
	if (sock_mode_cached(me->peer_sk, &me->peer_file) == MC_MODE_BLOCKING)
		goto blocking;
	/* Bounded like TCP's buffers: past the limit TCP carries this
	 * direction, and makes the writer wait, until the reader has read
	 * every byte, redirected and sent through TCP (tcp_all_read()). */
	queued = psock_queued(me->peer_sk);
	if (queued < 0)
		goto to_tcp;
	if (me->tx == MC_TX_PAUSED) {
		if (queued > 0 || !tcp_all_read(me->sk, me->peer_sk))
			goto paused;
		if (!dir_move(me, MC_TX_PAUSED, MC_TX_REDIRECT))
			goto to_tcp;
		me->tx = MC_TX_REDIRECT;
		if (st)
			st->sock_resumed++;
	} else if (!queue_fits(queued, size)) {
		if (me->tx != MC_TX_REDIRECT || !dir_move(me, MC_TX_REDIRECT, MC_TX_PAUSED))
			goto to_tcp; /* a first message past the bound: TCP for good */
		me->tx = MC_TX_PAUSED;
		if (st)
			st->sock_paused++;
		goto paused;
	} else if (small_write_stream(queued, size)) {
		if (st)
			st->sock_small_writes++;
		goto to_tcp; /* pausing instead measured slower than either */
	}
	if (me->tx == MC_TX_UNDECIDED) {
		/* the receiver may have sealed this direction (sock_leave) */
		if (!dir_move(me, MC_TX_UNDECIDED, MC_TX_REDIRECT))
			goto to_tcp;
	}
	if (bpf_msg_redirect_hash(msg, &MC_SOCKS_MAP, &peer_cookie, BPF_F_INGRESS) != SK_PASS)
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
paused: /* through TCP, staying in the sockhash to come back */
	if (st) {
		st->msg_passed++;
		st->msg_bytes_passed += size;
	}
	return SK_PASS;
}
