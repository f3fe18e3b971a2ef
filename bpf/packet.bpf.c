// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mc_packet: the packet shortcut, mc_tc_ingress on each pod's host veth
 * (tcx, or clsact where the kernel has no tcx), with the conntrack policy
 * gate (ct.h; packet_trust.bpf.c builds it without). Returns MC_TC_NEXT for
 * everything it does not deliver itself, so that the kernel's normal path,
 * and every other program on the hook, still runs. */
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "mc_names.h"

#include "maps.h"
#include "packet.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Host veth ingress: every packet the pod sends. Returns MC_TC_NEXT for
 * everything it does not deliver itself, so the rest of the hook and the
 * host's normal path run as if we were not there. */
SEC("tc")
int mc_tc_ingress(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex, len = skb->len, to = 0;
	enum mc_pkt_verdict v;
	struct mc_veth_value *ref;
	struct mc_stats *st;

	ref = bpf_map_lookup_elem(&MC_VETH_MAP, &ifindex);
	if (!ref)
		return MC_TC_NEXT;
	v = pkt_decide(skb, ref, &MC_DP_MAP, &to);
	st = stats_of(ref->slot);
	if (st) {
		st->tc_pkts_seen++;
		st->tc_bytes_seen += len;
		if (v >= MC_PKT_REDIRECT) {
			st->tc_pkts_redirected++;
			st->tc_bytes_redirected += len;
			if (v == MC_PKT_REDIRECT_REMEMBERED)
				st->tc_pkts_cached++;
		} else {
			st->tc_pkts_passed++;
			st->tc_bytes_passed += len;
			if (v == MC_PKT_POLICY) {
				st->tc_pkts_policy++;
				st->tc_bytes_policy += len;
			}
		}
	}
	if (v >= MC_PKT_REDIRECT) {
		/* The frame is for the pod now. A bridged pod's frame came in
		 * addressed to another MAC than the host veth's, so the host
		 * marked it PACKET_OTHERHOST; a kernel whose redirect_peer does
		 * not scrub the packet (before 6.15's skb_scrub_packet there and
		 * its stable backports: 5.10, 5.15, older 6.1 and 6.6) keeps
		 * that mark into the pod, whose IP layer drops it. */
		bpf_skb_change_type(skb, PACKET_HOST);
		return bpf_redirect_peer(to, 0);
	}
	return MC_TC_NEXT;
}
