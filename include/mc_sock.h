/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The socket shortcut's state (see docs/socket-shortcut.md):
 *
 *   mc_socks_v1   sockhash, key = socket cookie: every socket that may
 *                 send or receive redirected data. Its sk_msg program is
 *                 mc_sk_msg.
 *   mc_pair_v2    hash, key = mc_conn_id: one entry per tracked connection,
 *                 from the client's ESTABLISHED until either end closes:
 *                 the pairing and the state of both directions.
 *   mc_sk_v4      sk_storage, value = mc_sock: per-socket decisions. Freed
 *                 by the kernel with the socket.
 *   mc_lsn_v1     sk_storage (cloned into accepted sockets), value =
 *                 mc_listener: how a pod's listening socket was read when
 *                 it started listening.
 *   mc_sockcfg_v1 array by endpoint slot: each endpoint's policy (socket
 *                 and packet shortcut on or off, excluded ports), written
 *                 by ADD from the conflist and by `meshcut endpoint`; its
 *                 entry 0 (no endpoint has slot 0) holds the node's policy
 *                 generation.
 *   mc_revoke_v1  LRU hash, key = mc_sock_tuple: connections whose
 *                 conntrack entry the host deleted (mc_ct_revoke).
 *   mc_sweep_v1   one entry: arguments and results of mc_sock_sweep, the
 *                 iterator DEL runs over mc_socks_v1. */
#ifndef MC_SOCK_H
#define MC_SOCK_H

#include "mc_common.h"

#define MC_MAX_SOCKS 65536
#define MC_MAX_EXCLUDE_PORTS 8

/* Both ends of one TCP connection compute the same id, whatever NAT did to
 * the server's address: the client's endpoint as the server saw it (DNAT
 * and REDIRECT never change the source) and both initial sequence numbers,
 * which no NAT rewrites. IPv4 is stored v4-mapped (::ffff:a.b.c.d), so a
 * dual-stack listener's v4-mapped socket pairs with its AF_INET client. */
struct mc_conn_id {
	__u8 client_addr[16];
	__u32 isn_client;
	__u32 isn_server;
	__u16 client_port; /* host byte order */
	__u16 pad0;
	__u32 pad1;
};
_Static_assert(sizeof(struct mc_conn_id) == 32, "mc_conn_id is ABI");

#define MC_PAIR_COLLIDED (1U << 0) /* a second client claimed this id */

/* server_cookie of a client that found no server at its first message: no
 * server may claim it any more. */
#define MC_COOKIE_SEALED (~0ULL)

/* mc_pair.dir[] and tcp_since[] index */
enum {
	MC_DIR_C2S = 0, /* the client's sends */
	MC_DIR_S2C = 1, /* the server's sends */
};

/* The client publishes cookie; the server that finds it claims the
 * connection by setting server_cookie (compare-and-swap from 0). The entry
 * then holds the state of both directions (MC_TX_*) for as long as both
 * ends are open; either end deletes it when it closes. A direction moves
 * out of UNDECIDED by compare-and-swap, so a receiver can seal it
 * (UNDECIDED -> TCP) without racing a sender's first redirect. */
struct mc_pair {
	__u64 cookie;	     /* the client socket */
	__u64 server_cookie; /* the server socket once one claimed it, or SEALED */
	__u64 sk;	     /* addresses of the two struct sock, read (never */
	__u64 server_sk;     /* dereferenced) to see how much a reader has queued */
	__u64 tcp_since[2];  /* when dir[d] went REDIRECT -> TCP (ktime ns); 0
			      * if nothing of d was ever redirected */
	__u32 slot;	     /* the client's endpoint */
	__u32 server_slot;
	__u32 flags; /* MC_PAIR_* */
	__u32 dir[2]; /* MC_TX_* of each direction */
	__u16 client_dport; /* the port the client dialed (before any DNAT) */
	__u16 server_lport; /* the server socket's own port (after it) */
};
_Static_assert(sizeof(struct mc_pair) == 72, "mc_pair is ABI");

/* What one direction (this socket's sends) does. Moves UNDECIDED ->
 * REDIRECT -> TCP or UNDECIDED -> TCP, and REDIRECT <-> PAUSED -> TCP:
 * redirected bytes are read before TCP bytes, so going to TCP (for good,
 * or paused while the reader is behind) keeps the order. A paused
 * direction redirects again only once its reader has read every byte it
 * sent through TCP (the receiver's copied_seq is the sender's write_seq):
 * then no TCP byte is left for a redirect to overtake. */
enum {
	MC_TX_UNDECIDED = 0,
	MC_TX_REDIRECT = 1,
	MC_TX_TCP = 2,
	MC_TX_PAUSED = 3, /* on TCP while the reader is past the queue bound */
};

#define MC_SK_CLIENT (1U << 0)	 /* the active (connecting) side */
#define MC_SK_PENDING (1U << 1)	 /* client that has not yet read its server from mc_pair_v2 */
#define MC_SK_COLLIDED (1U << 2) /* its connection id was not unique */
#define MC_SK_DRAIN (1U << 3)	 /* DEL of its or its peer's pod: redirect no more */
#define MC_SK_LEAVE (1U << 4)	 /* should leave the sockhash (see MC_LEAVE_GRACE_NS) */
#define MC_SK_OUT (1U << 5)	 /* has left the sockhash: plain TCP from now on */

/* A socket leaves the sockhash only once nothing more can be redirected to
 * it: its inbound direction is sealed or went to TCP at least this long ago
 * (a sender's last redirect may still be on its way), and its reader has
 * read everything that was. */
#define MC_LEAVE_GRACE_NS (20ULL * 1000 * 1000)

/* A connection as one of its sockets sees it: the key of mc_revoke_v1.
 * Addresses v4-mapped for IPv4, ports in host byte order. A client's view
 * is its conntrack entry's original tuple, a server's the reply tuple. */
struct mc_sock_tuple {
	__u8 local[16];
	__u8 remote[16];
	__u16 lport;
	__u16 rport;
};
_Static_assert(sizeof(struct mc_sock_tuple) == 36, "mc_sock_tuple is ABI");

struct mc_sock {
	__u64 cookie;	   /* this socket */
	__u64 sk;	   /* its struct sock, for sock_mode() only */
	__u64 peer_cookie; /* the other end, once paired; 0 before */
	__u64 peer_sk;	   /* its struct sock, for psock_queued() only */
	struct mc_conn_id id;
	__u32 slot;	 /* endpoint that owns it */
	__u32 peer_slot; /* endpoint that owns the other end */
	__u32 flags;	 /* MC_SK_* */
	__u32 tx;	 /* MC_TX_* */
	__u64 file;	 /* struct file of sk and of peer_sk once known, 0 */
	__u64 peer_file; /* before (read only: sock_mode_cached()) */
	struct mc_sock_tuple tuple; /* this socket's view of its connection */
	__u32 gen;	  /* the node's policy generation its policy was last read at */
	__u16 peer_lport; /* the peer's view of the ports, for its endpoint's */
	__u16 peer_rport; /* excluded ports */
	__u32 pad;
};
_Static_assert(sizeof(struct mc_sock) == 144, "mc_sock is ABI");

/* A listener's mode when it started listening. The kernel copies it into
 * every socket the listener accepts (BPF_F_CLONE): only a server socket
 * whose listener was nonblocking enters the shortcut, since it is not
 * accepted yet at ESTABLISHED (docs/socket-shortcut.md, "Blocking
 * readers"). */
#define MC_LSN_NONBLOCK (1U << 0)

struct mc_listener {
	__u64 sk;    /* the listener's struct sock, for sock_mode() only */
	__u32 flags; /* MC_LSN_* */
	__u32 pad;
};
_Static_assert(sizeof(struct mc_listener) == 16, "mc_listener is ABI");

/* The endpoint policy (docs/endpoint-policy.md). Policy bits: */
/* socket shortcut on (socketRedirect, or `meshcut endpoint set --socket
 * on`): the pod's sockets may enter the sockhash. Without it mc_sockops
 * only counts (docs/socket-shortcut.md says why it is not the default). */
#define MC_SOCKCFG_REDIRECT (1U << 0)
#define MC_SOCKCFG_PACKET_OFF (1U << 1) /* packet shortcut turned off (its MC_PKT_ON
					 * cleared in mc_dp_v1 and mc_veth_v2) */
#define MC_SOCKCFG_LIVE (1U << 2)	/* set by `meshcut endpoint`, not the conflist */
/* Facts ADD found, which the policy cannot change: */
#define MC_SOCKCFG_CAPABLE (1U << 3)	/* the node can carry its sockets (features,
					 * splice guard): REDIRECT may be turned on */
#define MC_SOCKCFG_REMOTE_OK (1U << 4)	/* its sockets may pair with another pod's:
					 * the host's revocations reach them
					 * (socket-revoke), socketRevoke is optional
					 * or packetPolicy is trust */

#define MC_SOCKCFG_NODE_SLOT 0 /* entry whose gen is the node's policy generation */

struct mc_sock_cfg {
	__u16 exclude_ports[MC_MAX_EXCLUDE_PORTS]; /* 0 = unused */
	__u32 flags;				   /* MC_SOCKCFG_* */
	__u32 gen; /* entry 0: bumped by every policy change and every revocation,
		    * so that sockets read their policy again; others: how
		    * often `meshcut endpoint` changed this endpoint's */
};
_Static_assert(sizeof(struct mc_sock_cfg) == 24, "mc_sock_cfg is ABI");

enum {
	MC_SWEEP_MARK = 1,   /* flag MC_SK_DRAIN the slot's sockets and their peers */
	MC_SWEEP_REMOVE = 2, /* drop those with nothing queued for their reader */
};

struct mc_sweep {
	__u32 slot;  /* 0: every socket */
	__u32 phase; /* MC_SWEEP_* */
	__u32 matched;
	__u32 removed;
	__u32 pending; /* still hold redirected bytes their reader has not read */
	__u32 pad;
};
_Static_assert(sizeof(struct mc_sweep) == 24, "mc_sweep is ABI");

#endif
