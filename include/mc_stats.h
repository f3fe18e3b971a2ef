/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-endpoint counters: mc_stats_v5, a per-CPU array indexed by the
 * endpoint's slot. The plugin zeroes a slot at ADD and at DEL and sums the
 * CPUs when it reads. */
#ifndef MC_STATS_H
#define MC_STATS_H

#include "mc_common.h"

struct mc_stats {
	/* packet shortcut (tc, host veth ingress = what the pod sends) */
	__u64 tc_pkts_seen;
	__u64 tc_bytes_seen;
	__u64 tc_pkts_redirected;
	__u64 tc_bytes_redirected;
	__u64 tc_pkts_passed;
	__u64 tc_bytes_passed;
	__u64 tc_pkts_policy;  /* passed because of the policy gate */
	__u64 tc_bytes_policy;
	/* socket shortcut (sockops + sk_msg) */
	__u64 sock_active_estab;
	__u64 sock_passive_estab;
	__u64 msg_redirected; /* messages this endpoint's sockets handed over */
	__u64 msg_bytes_redirected;
	__u64 msg_passed; /* messages of tracked sockets sent through TCP */
	__u64 msg_bytes_passed;
	__u64 sock_collisions; /* connection ids seen twice: both stay on TCP */
	__u64 sock_paired;     /* connections whose two ends were paired */
	__u64 sock_back_to_tcp; /* directions that went back to TCP after
				  * redirecting (queue bound, peer gone, DEL) */
	__u64 sock_left;     /* sockets that left the sockhash before closing */
	__u64 sock_blocking; /* directions kept on TCP because an end reads in
			      * blocking mode (docs/socket-shortcut.md) */
	__u64 sock_splice_refused; /* splice(2)/sendfile(2) reads refused with
				    * EINVAL while redirected data could be
				    * waiting (the reader falls back to read) */
	__u64 sock_policy_off; /* directions taken back to TCP because an endpoint
				* policy turned the connection off */
	__u64 sock_ct_revoked; /* directions taken back to TCP because the host
				* deleted the connection's conntrack entry */
	__u64 tc_pkts_cached; /* redirected on a verdict the gate remembered
			       * (mc_verdict_v1), without asking conntrack */
	__u64 sock_paused;  /* times a direction's reader fell behind by the
			     * queue bound: TCP carried it while it caught up */
	__u64 sock_resumed; /* times a paused direction went back to the
			     * shortcut, its reader having read every TCP byte */
	__u64 sock_small_writes; /* directions left to TCP for good because they
				  * carried small writes faster than their
				  * reader read them (TCP coalesces them) */
};
_Static_assert(sizeof(struct mc_stats) == 208, "mc_stats is ABI");

#endif
