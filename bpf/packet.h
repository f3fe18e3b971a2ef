/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The packet shortcut: on the sender's host veth ingress, a packet for
 * another local pod goes straight into that pod's netns with
 * bpf_redirect_peer, as the host's bridge or router would have delivered
 * it, if and only if the host's normal path already accepted its flow. */
#ifndef MC_BPF_PACKET_H
#define MC_BPF_PACKET_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "mc_datapath.h"
#include "ct.h"

#define MC_IP_MF 0x2000
#define MC_IP_OFFSET 0x1fff
#define MC_HDR_MAX (ETH_HLEN + sizeof(struct ipv6hdr) + 20) /* + a TCP header */

enum mc_pkt_verdict {
	MC_PKT_PASS,	 /* not ours to shortcut */
	MC_PKT_POLICY,	 /* ours, but the host has not accepted the flow */
	MC_PKT_REDIRECT, /* delivered; *to is the destination's host veth */
	MC_PKT_REDIRECT_REMEMBERED, /* the same, on a remembered verdict */
};

struct mc_pkt {
	struct mc_dp_key src, dst;
	struct mc_flow flow;
	__u32 l4off;
	__u8 ttl;
	__u8 is_v6;
};

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) |
		(a[5] ^ b[5])) == 0;
}

/* Addresses, protocol and TTL of an unfragmented IPv4/IPv6 packet without
 * options or extension headers; -1 for anything else. */
static __always_inline int pkt_parse(struct __sk_buff *skb, struct mc_pkt *p, __u8 *dmac_out)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if (data + MC_HDR_MAX > end && skb->len > (__u32)(end - data)) {
		bpf_skb_pull_data(skb, skb->len < MC_HDR_MAX ? skb->len : MC_HDR_MAX);
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		eth = data;
	}
	if ((void *)(eth + 1) > end)
		return -1;
	__builtin_memcpy(dmac_out, eth->h_dest, ETH_ALEN);
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl != 5 ||
		    (ip->frag_off & bpf_htons(MC_IP_MF | MC_IP_OFFSET)))
			return -1;
		p->src.family = p->dst.family = MC_AF_INET;
		__builtin_memcpy(p->src.addr, &ip->saddr, 4);
		__builtin_memcpy(p->dst.addr, &ip->daddr, 4);
		p->flow.tuple.ipv4.saddr = ip->saddr;
		p->flow.tuple.ipv4.daddr = ip->daddr;
		p->flow.l4proto = ip->protocol;
		p->ttl = ip->ttl;
		p->l4off = ETH_HLEN + sizeof(*ip);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return -1;
		p->src.family = p->dst.family = MC_AF_INET6;
		__builtin_memcpy(p->src.addr, &ip6->saddr, 16);
		__builtin_memcpy(p->dst.addr, &ip6->daddr, 16);
		__builtin_memcpy(p->flow.tuple.ipv6.saddr, &ip6->saddr, 16);
		__builtin_memcpy(p->flow.tuple.ipv6.daddr, &ip6->daddr, 16);
		p->flow.v6 = 1;
		p->flow.l4proto = ip6->nexthdr; /* an extension header is not TCP/UDP */
		p->ttl = ip6->hop_limit;
		p->l4off = ETH_HLEN + sizeof(*ip6);
		p->is_v6 = 1;
	} else {
		return -1;
	}
	return 0;
}

/* Ports (and TCP flags) for the conntrack lookup; -1 if not TCP/UDP or
 * the header is not there. */
static __always_inline int pkt_ports(struct __sk_buff *skb, struct mc_pkt *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__be16 *ports;
	__u8 *l4;

	if (p->flow.l4proto != IPPROTO_TCP && p->flow.l4proto != IPPROTO_UDP)
		return -1;
	if (p->l4off > MC_HDR_MAX)
		return -1;
	l4 = data + p->l4off;
	if ((void *)(l4 + 4) > end) /* the ports: a UDP datagram may carry 0 bytes */
		return -1;
	ports = (__be16 *)l4;
	if (p->is_v6) {
		p->flow.tuple.ipv6.sport = ports[0];
		p->flow.tuple.ipv6.dport = ports[1];
	} else {
		p->flow.tuple.ipv4.sport = ports[0];
		p->flow.tuple.ipv4.dport = ports[1];
	}
	if (p->flow.l4proto == IPPROTO_TCP) {
		if ((void *)(l4 + 14) > end) /* TCP's flags byte */
			return -1;
		p->flow.tcp_flags = l4[13];
	}
	return 0;
}

/* What the host's router would have done on the way to a ptp pod: its
 * gateway (the host veth) as source MAC, the pod as destination, TTL or
 * hop limit one less. Returns -1 if the headers moved out of reach. */
static __always_inline int pkt_route(struct __sk_buff *skb, const struct mc_pkt *p,
				     const struct mc_dp_value *dv)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return -1;
	__builtin_memcpy(eth->h_dest, dv->pod_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, dv->veth_mac, ETH_ALEN);
	if (p->is_v6) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return -1;
		ip6->hop_limit--;
	} else {
		struct iphdr *ip = (void *)(eth + 1);
		__u16 old, new;

		if ((void *)(ip + 1) > end)
			return -1;
		/* TTL and protocol share a 16-bit word of the checksum */
		old = *(__u16 *)&ip->ttl;
		ip->ttl--;
		new = *(__u16 *)&ip->ttl;
		if (bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old, new, 2) < 0)
			return -1;
	}
	return 0;
}

/* 1 if src is one of the sender's own addresses */
static __always_inline int own_addr(const struct mc_veth_value *v, const struct mc_dp_key *src)
{
	const __u32 *s = (const __u32 *)src;

#pragma unroll
	for (int i = 0; i < MC_MAX_ADDRS; i++) {
		const __u32 *a = (const __u32 *)&v->addrs[i];

		if (i >= v->n_addrs)
			break;
		if (((a[0] ^ s[0]) | (a[1] ^ s[1]) | (a[2] ^ s[2]) | (a[3] ^ s[3]) | (a[4] ^ s[4])) == 0)
			return 1;
	}
	return 0;
}

static __always_inline enum mc_pkt_verdict pkt_decide(struct __sk_buff *skb, const struct mc_veth_value *ref,
						      const void *dp_map, __u32 *to)
{
	struct mc_pkt p = {};
	struct mc_dp_value *dv;
	__u8 dmac[ETH_ALEN];
	int ok = 1;

	if (!(ref->flags & MC_PKT_ON) || (ref->flags & MC_PKT_FOREIGN_IN))
		return MC_PKT_PASS;
	if (pkt_parse(skb, &p, dmac) < 0 || (dmac[0] & 1)) /* broadcast, multicast */
		return MC_PKT_PASS;
	dv = bpf_map_lookup_elem((void *)dp_map, &p.dst);
	if (!dv || !(dv->flags & MC_PKT_ON) || (dv->flags & MC_PKT_FOREIGN_OUT) ||
	    dv->veth_ifindex == skb->ifindex)
		return MC_PKT_PASS;
	/* The source must be one of the sender's own addresses: a spoofed
	 * packet takes the normal path, and its rp_filter. */
	if (!own_addr(ref, &p.src))
		return MC_PKT_PASS;
	if (dv->flags & MC_PKT_ROUTED) {
		/* routed pods address their gateway, the sender's host veth */
		if (!(ref->flags & MC_PKT_ROUTED) || !mac_eq(dmac, ref->veth_mac) || p.ttl <= 1)
			return MC_PKT_PASS;
	} else {
		/* bridged pods address each other directly */
		if ((ref->flags & MC_PKT_ROUTED) || !mac_eq(dmac, dv->pod_mac))
			return MC_PKT_PASS;
	}
	if (ref->flags & MC_PKT_TRUST) {
		if (p.flow.l4proto == IPPROTO_ICMPV6)
			return MC_PKT_PASS; /* neighbour discovery stays with the host */
	} else if (pkt_ports(skb, &p) < 0 || !(ok = mc_ct_accepted(skb, &p.flow))) {
		return MC_PKT_POLICY;
	}
	if ((dv->flags & MC_PKT_ROUTED) && pkt_route(skb, &p, dv) < 0)
		return MC_PKT_PASS;
	*to = dv->veth_ifindex;
	return ok == MC_CT_REMEMBERED ? MC_PKT_REDIRECT_REMEMBERED : MC_PKT_REDIRECT;
}

#endif
