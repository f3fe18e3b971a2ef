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

#include "maps.h"

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

#define MC_CT_REMEMBERED 2 /* mc_ct_accepted: accepted, by mc_verdict_v1 */

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

/* Whether mc_ct_forget runs (the verdict cache may be used) */
static __always_inline int verdict_cache_on(void)
{
	__u32 id = MC_FEAT_VERDICT_CACHE;
	struct mc_feature *feat = bpf_map_lookup_elem(&MC_FEATURES_MAP, &id);

	return feat && feat->state == MC_FEAT_ON;
}

static __always_inline void verdict_key_of(const struct mc_flow *f, struct mc_verdict_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	if (f->v6) {
		__builtin_memcpy(k->saddr, f->tuple.ipv6.saddr, 16);
		__builtin_memcpy(k->daddr, f->tuple.ipv6.daddr, 16);
		k->sport = f->tuple.ipv6.sport;
		k->dport = f->tuple.ipv6.dport;
	} else {
		__builtin_memcpy(k->saddr, &f->tuple.ipv4.saddr, 4);
		__builtin_memcpy(k->daddr, &f->tuple.ipv4.daddr, 4);
		k->sport = f->tuple.ipv4.sport;
		k->dport = f->tuple.ipv4.dport;
	}
	k->l4proto = f->l4proto;
	k->v6 = f->v6;
}

/* 1 when the host accepted the flow in both directions and did not NAT it:
 * UDP has seen a reply, TCP is ESTABLISHED (its handshake, the third ACK
 * included, went through netfilter). Anything else is 0: the packet takes
 * the normal path. Where mc_ct_forget runs, an accepted flow is
 * remembered (mc_verdict_v1) and conntrack asked again after
 * MC_VERDICT_TTL_NS or when the flow's entry is deleted, whichever comes
 * first (MC_CT_REMEMBERED: accepted without asking); a FIN or RST always
 * asks it (its timeout is set below). */
static __always_inline int mc_ct_accepted(struct __sk_buff *skb, struct mc_flow *f)
{
	struct bpf_ct_opts opts = { .netns_id = -1, .l4proto = f->l4proto };
	int cache = verdict_cache_on();
	struct mc_verdict_key k;
	__u64 now = 0, *seen;
	struct nf_conn *ct;
	unsigned long status;
	int ok;

	if (cache) {
		verdict_key_of(f, &k);
		now = bpf_ktime_get_ns();
		if (!(f->tcp_flags & (MC_TCP_FIN | MC_TCP_RST))) {
			seen = bpf_map_lookup_elem(&MC_VERDICT_MAP, &k);
			if (seen && now - *seen < MC_VERDICT_TTL_NS)
				return MC_CT_REMEMBERED;
		}
	}
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
	if (ok && cache) {
		bpf_map_update_elem(&MC_VERDICT_MAP, &k, &now, BPF_ANY);
		/* nf_ct_delete marks the entry dying before mc_ct_forget removes
		 * its flows; both take the map bucket's lock as our update does.
		 * No mark now: any removal comes after our update. A mark: the
		 * removal may have come before it, so undo it. */
		asm volatile("" ::: "memory");
		if (ct->status & IPS_DYING)
			bpf_map_delete_elem(&MC_VERDICT_MAP, &k);
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
