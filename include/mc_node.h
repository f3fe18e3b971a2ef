/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* mc_node_v1: one entry describing the node objects that are loaded, so
 * that a newer binary knows when to replace the programs in place.
 * mc_features_v1: one entry per datapath feature, on or off and why. */
#ifndef MC_NODE_INFO_H
#define MC_NODE_INFO_H

#include "mc_common.h"

struct mc_node_info {
	__u32 abi;
	__u32 pad;
	__u64 obj_hash; /* FNV-1a of the embedded BPF objects */
	__u64 loaded_ns;
	char version[32];
};
#define MC_NODE_ABI 1
_Static_assert(sizeof(struct mc_node_info) == 56, "mc_node_info is ABI");

/* The datapath features, each loaded from its own BPF object (bpf/, one .bpf.c each)
 * and turned off on its own when the kernel refuses it (docs/features.md).
 * Indexes into mc_features_v1; never renumbered, new ones go at the end. */
enum mc_feature_id {
	MC_FEAT_PACKET = 0,	   /* mc_tc_ingress: the packet shortcut */
	MC_FEAT_CT_GATE = 1,	   /* mc_tc_ingress with the conntrack kfuncs: the default gate */
	MC_FEAT_SOCKET = 2,	   /* mc_sockops + mc_sk_msg + sockhash: the socket shortcut */
	MC_FEAT_SOCK_TEARDOWN = 3, /* mc_sock_sweep: taking sockets out at DEL */
	MC_FEAT_SPLICE_GUARD = 4,  /* mc_splice_guard (BPF LSM) */
	MC_FEAT_SOCK_QUEUE = 5,	   /* sk_psock.msg_tot_len: bounding what a writer queues */
	MC_FEAT_SOCK_REVOKE = 6,   /* mc_ct_revoke (fentry, else kprobe): conntrack deletions reach sockets */
	MC_FEAT_VERDICT_CACHE = 7, /* mc_ct_forget (fexit): the gate's verdicts cached per flow */
	MC_FEAT_COUNT
};
#define MC_FEAT_MAX 16 /* entries of mc_features_v1: room to grow */
_Static_assert(MC_FEAT_COUNT <= MC_FEAT_MAX, "mc_features_v1 is too small");

/* mc_feature.state */
enum {
	MC_FEAT_UNKNOWN = 0, /* never loaded by this node (an older binary) */
	MC_FEAT_ON = 1,
	MC_FEAT_REFUSED = 2, /* the kernel refused it: err and why say how */
	MC_FEAT_NEEDS = 3,   /* off because a feature it needs is off */
	MC_FEAT_FORCED = 4,  /* off by MESHCUT_REFUSE (a test and diagnosis switch) */
};

#define MC_FEAT_WHY_MAX 200

struct mc_feature {
	__u32 state; /* MC_FEAT_ON, ... */
	__s32 err;   /* errno of the refusal, 0 when on */
	char program[32]; /* the program or facility refused */
	char why[MC_FEAT_WHY_MAX]; /* the kernel's (or libbpf's) last word on it */
};
_Static_assert(sizeof(struct mc_feature) == 240, "mc_feature is ABI");

#endif
