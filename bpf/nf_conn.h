/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The kernel's conntrack entry as the programs on nf_ct_delete read it
 * (revoke.bpf.c, verdict.bpf.c): only the fields they read; CO-RE finds
 * the offsets in the running kernel's (or nf_conntrack module's) BTF. */
#ifndef MC_BPF_NF_CONN_H
#define MC_BPF_NF_CONN_H

#include <linux/types.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define MC_NFPROTO_IPV4 2
#define MC_NFPROTO_IPV6 10

union nf_inet_addr___mc {
	__u32 all[4];
} __attribute__((preserve_access_index));

union nf_conntrack_man_proto___mc {
	__be16 all;
} __attribute__((preserve_access_index));

struct nf_conntrack_man___mc {
	union nf_inet_addr___mc u3;
	union nf_conntrack_man_proto___mc u;
	__u16 l3num;
} __attribute__((preserve_access_index));

struct nf_conntrack_tuple___mc {
	struct nf_conntrack_man___mc src;
	struct {
		union nf_inet_addr___mc u3;
		union {
			__be16 all;
		} u;
		__u8 protonum;
	} dst;
} __attribute__((preserve_access_index));

struct nf_conntrack_tuple_hash___mc {
	struct nf_conntrack_tuple___mc tuple;
} __attribute__((preserve_access_index));

struct nf_conn___mc {
	struct nf_conntrack_tuple_hash___mc tuplehash[2];
} __attribute__((preserve_access_index));

/* One direction's source and destination addresses (IPv4 in word 0) */
static __always_inline int nf_tuple_addrs(const struct nf_conntrack_tuple___mc *t, __u32 s[4], __u32 d[4])
{
	if (bpf_core_read(s, 4 * sizeof(__u32), &t->src.u3.all) < 0 ||
	    bpf_core_read(d, 4 * sizeof(__u32), &t->dst.u3.all) < 0)
		return -1;
	return 0;
}

#endif
