// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mc_verdict: the conntrack gate's verdicts cached per flow, kept true.
 * mc_tc_ingress remembers a flow conntrack accepted in mc_verdict_v1 and
 * asks conntrack again only after MC_VERDICT_TTL_NS, where this program
 * runs: mc_ct_forget, fexit on nf_ct_delete (every deletion: conntrack -D,
 * expiry, early drop, flush), removes both directions of the deleted
 * entry before nf_ct_delete returns. By then the kernel has marked the
 * entry dying and unhashed it, so a packet that found it just before and
 * remembers it afterwards sees the mark and forgets it again (ct.h): a
 * deleted entry's flow goes back to the host's rules at its next packet,
 * cached or not. Where the kernel refuses this program the gate asks
 * conntrack at every packet, as before (docs/packet-shortcut.md). */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "mc_names.h"

#include "maps.h"
#include "nf_conn.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* the flow one direction of the entry describes, as its packets carry it */
static __always_inline void forget(const struct nf_conntrack_tuple___mc *t, __u16 l3, __u8 proto)
{
	struct mc_verdict_key k = {};
	__u32 s[4] = {}, d[4] = {};

	if (nf_tuple_addrs(t, s, d) < 0)
		return;
	if (l3 == MC_NFPROTO_IPV4) {
		__builtin_memcpy(k.saddr, &s[0], 4);
		__builtin_memcpy(k.daddr, &d[0], 4);
	} else {
		__builtin_memcpy(k.saddr, s, 16);
		__builtin_memcpy(k.daddr, d, 16);
		k.v6 = 1;
	}
	k.sport = BPF_CORE_READ(t, src.u.all);
	k.dport = BPF_CORE_READ(t, dst.u.all);
	k.l4proto = proto;
	bpf_map_delete_elem(&MC_VERDICT_MAP, &k);
}

/* bool nf_ct_delete(struct nf_conn *ct, u32 portid, int report): its
 * caller holds a reference, so ct is still the entry deleted. */
SEC("fexit/nf_ct_delete")
int BPF_PROG(mc_ct_forget, struct nf_conn___mc *ct)
{
	__u8 proto;
	__u16 l3;

	(void)ctx;
	if (!ct)
		return 0;
	proto = BPF_CORE_READ(ct, tuplehash[0].tuple.dst.protonum);
	l3 = BPF_CORE_READ(ct, tuplehash[0].tuple.src.l3num);
	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) ||
	    (l3 != MC_NFPROTO_IPV4 && l3 != MC_NFPROTO_IPV6))
		return 0;
	forget(&ct->tuplehash[0].tuple, l3, proto);
	forget(&ct->tuplehash[1].tuple, l3, proto);
	return 0;
}
