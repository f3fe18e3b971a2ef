// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mc_revoke: the host's revocations reach the socket shortcut. A policy
 * engine revokes a verdict by deleting the flow's conntrack entry (its next
 * packet meets the rules again); a connection the socket shortcut carries
 * sends no packets, so mc_ct_revoke, an fentry program on nf_ct_delete
 * (every deletion: conntrack -D, expiry, early drop; revoke_kprobe.bpf.c
 * builds it as a kprobe for kernels that refuse fentry), records each deleted TCP
 * connection between two of this node's pods in mc_revoke_v1, one entry
 * per end's view of it, and moves the node's policy generation. mc_sk_msg
 * then reads the connection's policy again at its next message, finds the
 * entry and sends it, and all that follows, through TCP: the host's rules
 * apply to it from there on. docs/endpoint-policy.md. */
#include <linux/bpf.h>
#include <linux/in.h>
#include <asm/ptrace.h> /* struct pt_regs, for BPF_KPROBE */
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "mc_names.h"

#include "maps.h"
#include "nf_conn.h"
#include "sock.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* One direction of the entry as the socket that sends it sees its
 * connection, and whether its source is one of this node's pods. */
static __always_inline int tuple_of(const struct nf_conntrack_tuple___mc *ct, __u16 l3,
				    struct mc_sock_tuple *t)
{
	struct mc_dp_key k = {};
	__u32 s[4] = {}, d[4] = {};

	__builtin_memset(t, 0, sizeof(*t));
	if (nf_tuple_addrs(ct, s, d) < 0)
		return -1;
	t->lport = bpf_ntohs(BPF_CORE_READ(ct, src.u.all));
	t->rport = bpf_ntohs(BPF_CORE_READ(ct, dst.u.all));
	if (l3 == MC_NFPROTO_IPV4) {
		k.family = MC_AF_INET;
		__builtin_memcpy(k.addr, &s[0], 4);
		v4_mapped(t->local, s[0]);
		v4_mapped(t->remote, d[0]);
	} else {
		k.family = MC_AF_INET6;
		__builtin_memcpy(k.addr, s, 16);
		__builtin_memcpy(t->local, s, 16);
		__builtin_memcpy(t->remote, d, 16);
	}
	return bpf_map_lookup_elem(&MC_DP_MAP, &k) ? 0 : -1;
}

static __always_inline int ct_deleted(struct nf_conn___mc *ct)
{
	struct mc_sock_tuple orig, reply;
	__u32 node = MC_SOCKCFG_NODE_SLOT;
	struct mc_sock_cfg *cfg;
	__u64 now;
	__u16 l3;

	if (!ct || BPF_CORE_READ(ct, tuplehash[0].tuple.dst.protonum) != IPPROTO_TCP)
		return 0;
	l3 = BPF_CORE_READ(ct, tuplehash[0].tuple.src.l3num);
	if (l3 != MC_NFPROTO_IPV4 && l3 != MC_NFPROTO_IPV6)
		return 0;
	/* both ends local pods: the client's source, the server's (after any
	 * DNAT, in the reply direction) */
	if (tuple_of(&ct->tuplehash[0].tuple, l3, &orig) < 0 ||
	    tuple_of(&ct->tuplehash[1].tuple, l3, &reply) < 0)
		return 0;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&MC_REVOKE_MAP, &orig, &now, BPF_ANY);
	bpf_map_update_elem(&MC_REVOKE_MAP, &reply, &now, BPF_ANY);
	/* the entries first: a socket that sees the new generation finds them */
	cfg = bpf_map_lookup_elem(&MC_SOCKCFG_MAP, &node);
	if (cfg)
		__sync_fetch_and_add(&cfg->gen, 1);
	return 0;
}

/* bool nf_ct_delete(struct nf_conn *ct, u32 portid, int report) */
#ifdef MC_REVOKE_KPROBE
SEC("kprobe/nf_ct_delete")
int BPF_KPROBE(mc_ct_revoke, struct nf_conn___mc *ct)
{
	(void)ctx;
	return ct_deleted(ct);
}
#else
SEC("fentry/nf_ct_delete")
int BPF_PROG(mc_ct_revoke, struct nf_conn___mc *ct)
{
	(void)ctx;
	return ct_deleted(ct);
}
#endif
