/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The packet shortcut's policy gate: ask the host's conntrack whether it
 * already accepted this flow. Only the fields we read of the kernel's
 * struct nf_conn are declared; CO-RE finds them in the running kernel. */
#ifndef MC_BPF_CT_H
#define MC_BPF_CT_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <bpf/bpf_helpers.h>

/* 1: mc_packet, with the gate; 0: mc_packet_trust (packet_trust.bpf.c) */
#ifndef MC_CT_GATE
#define MC_CT_GATE 1
#endif

#define MC_CT_FIN_TIMEOUT_MS 120000 /* conntrack's own FIN_WAIT / TIME_WAIT */
#define MC_CT_RST_TIMEOUT_MS 10000  /* conntrack's CLOSE */
#define MC_TCP_FIN 0x01
#define MC_TCP_RST 0x04

/* The original 12-byte layout: every kernel with these kfuncs takes it
 * (newer ones also take a 16-byte one with conntrack zone fields, which we
 * do not use), so one size serves all and no lookup needs a retry. */
struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u8 reserved[2];
};
_Static_assert(sizeof(struct bpf_ct_opts) == 12, "bpf_ct_opts as the kfuncs first took it");

struct ip_ct_tcp {
	__u8 state;
} __attribute__((preserve_access_index));

union nf_conntrack_proto {
	struct ip_ct_tcp tcp;
} __attribute__((preserve_access_index));

struct nf_conn {
	unsigned long status;
	union nf_conntrack_proto proto;
} __attribute__((preserve_access_index));

struct mc_flow {
	struct bpf_sock_tuple tuple; /* as the packet carries it */
	__u8 v6;
	__u8 l4proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 tcp_flags;
};

#if MC_CT_GATE
/* Strong externs: an object that calls them loads only where libbpf finds
 * them (kernel or nf_conntrack module BTF) and the verifier lets tc call
 * them. No existence test (bpf_ksym_exists): Linux 6.1's verifier refuses
 * ld_imm64 of a function, and the weak call of a missing kfunc alike. */
extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct bpf_ct_opts *opts,
					 __u32 opts__sz) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;
extern int bpf_ct_change_timeout(struct nf_conn *ct, __u32 timeout) __ksym;

/* The verifier wants the tuple's size known at each call. */
static __always_inline struct nf_conn *ct_lookup(struct __sk_buff *skb, struct mc_flow *f,
						 struct bpf_ct_opts *opts)
{
	if (f->v6)
		return bpf_skb_ct_lookup(skb, &f->tuple, sizeof(f->tuple.ipv6), opts, sizeof(*opts));
	return bpf_skb_ct_lookup(skb, &f->tuple, sizeof(f->tuple.ipv4), opts, sizeof(*opts));
}

/* 1 when the host accepted the flow in both directions and did not NAT it:
 * UDP has seen a reply, TCP is ESTABLISHED (its handshake, the third ACK
 * included, went through netfilter). Anything else is 0: the packet takes
 * the normal path. */
static __always_inline int mc_ct_accepted(struct __sk_buff *skb, struct mc_flow *f)
{
	struct bpf_ct_opts opts = { .netns_id = -1, .l4proto = f->l4proto };
	struct nf_conn *ct;
	unsigned long status;
	int ok;

	ct = ct_lookup(skb, f, &opts);
	if (!ct)
		return 0;
	status = ct->status;
	ok = (status & IPS_SEEN_REPLY) && !(status & IPS_NAT_MASK);
	if (ok && f->l4proto == IPPROTO_TCP) {
		ok = ct->proto.tcp.state == TCP_CONNTRACK_ESTABLISHED;
		/* Conntrack will not see the close of a flow we carry: give the
		 * entry the lifetime conntrack would give it after FIN or RST,
		 * instead of the days of an established one. */
		if (ok && (f->tcp_flags & (MC_TCP_FIN | MC_TCP_RST)))
			bpf_ct_change_timeout(ct, (f->tcp_flags & MC_TCP_RST) ? MC_CT_RST_TIMEOUT_MS
									  : MC_CT_FIN_TIMEOUT_MS);
	}
	bpf_ct_release(ct);
	return ok;
}

#else
/* mc_packet_trust: no gate, so that "trust" pods keep the shortcut on a
 * kernel that refuses the kfuncs; no flow is ever accepted here. */
static __always_inline int mc_ct_accepted(struct __sk_buff *skb, struct mc_flow *f)
{
	(void)skb;
	(void)f;
	return 0;
}
#endif

#endif
