// SPDX-License-Identifier: Apache-2.0
/* A redirect_peer from the sender's host veth ingress lands in the
 * receiver's pod-side interface: it skips whatever else would have run on
 * the sender veth's ingress after our program (legacy tc filters run after
 * every tcx program) and everything on the receiver veth's egress (its root
 * qdisc, egress filters and programs). Another plugin's tc work — the CNI
 * bandwidth plugin's ifb redirect on ingress and tbf on egress, for one —
 * must keep its effect, so such an endpoint is never a redirect source
 * (FOREIGN_IN) or destination (FOREIGN_OUT). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/pkt_sched.h>

#include "bpfobj.h"
#include "compat.h"
#include "log.h"
#include "nl.h"
#include "packet.h"

void pkt_flags_probe(const struct mc_conf *conf, struct mc_endpoint *ep)
{
	char why[256];
	size_t n = sizeof(why);
	__u16 our_prio = (ep->attached & MC_ATT_TC_LEGACY) ? MC_TC_LEGACY_PRIO : 0;
	int n_in = 0, n_out = 0, n_tcx_out;
	char qdisc[32];
	struct mc_link l;

	why[0] = '\0';
	ep->pkt_flags = 0;
	if (!conf->packet_shortcut || !(ep->attached & (MC_ATT_TC_TCX | MC_ATT_TC_LEGACY)))
		return;
	if (nl_link_get((int)ep->veth_ifindex, NULL, &l) < 0)
		return;
	ep->pkt_flags = MC_PKT_ON;
	if (conf->pkt_policy == MC_POLICY_TRUST)
		ep->pkt_flags |= MC_PKT_TRUST;
	if (!l.master)
		ep->pkt_flags |= MC_PKT_ROUTED;

	/* Unreadable counts the same as "something is there". */
	if (nl_count_foreign_filters((int)ep->veth_ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
				     our_prio, &n_in) < 0 || n_in > 0) {
		ep->pkt_flags |= MC_PKT_FOREIGN_IN;
		mc_msg(why, n, "tc filters on the ingress of %s: not a redirect source", ep->veth_name);
	}
	n_tcx_out = tcx_count(ep->veth_ifindex, MC_BPF_TCX_EGRESS);
	if (nl_root_qdisc((int)ep->veth_ifindex, qdisc, sizeof(qdisc)) < 0)
		snprintf(qdisc, sizeof(qdisc), "unknown");
	if (nl_count_filters((int)ep->veth_ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), &n_out) < 0)
		n_out = 1;
	if (n_out > 0 || n_tcx_out != 0 || (qdisc[0] && strcmp(qdisc, "noqueue") != 0)) {
		ep->pkt_flags |= MC_PKT_FOREIGN_OUT;
		mc_msg(why + strlen(why), n - strlen(why), "%sroot qdisc %s, %d egress filters, %d tcx egress programs on %s: not a redirect destination",
		       why[0] ? "; " : "", qdisc[0] ? qdisc : "none", n_out, n_tcx_out, ep->veth_name);
	}
	if (why[0])
		log_info("packet shortcut limited: %s", why);
}
