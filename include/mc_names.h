/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Every map meshcut pins, named once, for bpf/ and plugin/ alike (as
 * Cilium's bpf/lib names its maps). A name carries the version of its
 * layout: a changed layout (include/) gets a new suffix here, and the
 * loader lists the old name among those it removes (node_load.c). BPF
 * code declares and uses maps by these macros; the plugin pins and opens
 * them by MC_NAME(). */
#ifndef MC_NAMES_H
#define MC_NAMES_H

#define MC_ENDPOINTS_MAP mc_endpoints_v1 /* (container ID, ifname) -> record */
#define MC_DP_MAP mc_dp_v1		  /* pod IP -> delivery */
#define MC_VETH_MAP mc_veth_v2		  /* host veth ifindex -> sender */
#define MC_NETNS_MAP mc_netns_v1	  /* pod netns cookie -> slot */
#define MC_STATS_MAP mc_stats_v5	  /* slot -> counters (per CPU) */
#define MC_NODE_MAP mc_node_v1		  /* which objects are loaded */
#define MC_FEATURES_MAP mc_features_v1	  /* feature -> on, or why not */
#define MC_SOCKCFG_MAP mc_sockcfg_v1	  /* slot -> endpoint policy */
#define MC_REVOKE_MAP mc_revoke_v1	  /* connections the host revoked */
#define MC_VERDICT_MAP mc_verdict_v1	  /* flows conntrack accepted (packet gate cache) */
#define MC_SOCKS_MAP mc_socks_v1	  /* sockhash: cookie -> socket */
#define MC_PAIR_MAP mc_pair_v2		  /* connection id -> pairing */
#define MC_SK_MAP mc_sk_v4		  /* sk_storage: per-socket state */
#define MC_LSN_MAP mc_lsn_v1		  /* sk_storage: listener mode */
#define MC_SWEEP_MAP mc_sweep_v1	  /* mc_sock_sweep's arguments */

/* the names older binaries pinned for layouts since replaced */
#define MC_OBSOLETE_MAPS "mc_stats_v1", "mc_stats_v2", "mc_pair_v1", "mc_sk_v1", "mc_sk_v2", "mc_sk_v3", \
	"mc_veth_v1", "mc_stats_v3", "mc_stats_v4"

#define MC_NAME_(x) #x
#define MC_NAME(x) MC_NAME_(x)

#endif
