// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mc_ctgate: a probe, never attached. The packet shortcut's default policy
 * gate asks the host's conntrack through kfuncs (ct.h), which mc_packet
 * declares weak so that it loads on kernels without them. This object
 * runs the same gate with them strong: it loads only where libbpf finds
 * them (kernel or nf_conntrack module BTF) and the verifier lets a tc
 * program call them, which is what the gate needs. */
#define MC_CT_KSYM __ksym
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "ct.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int mc_ct_probe(struct __sk_buff *skb)
{
	struct mc_flow f = { .l4proto = IPPROTO_TCP };

	return mc_ct_accepted(skb, &f) ? TC_ACT_OK : TC_ACT_UNSPEC;
}
