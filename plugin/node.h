/* SPDX-License-Identifier: Apache-2.0 */
/* Node objects: the programs and maps every endpoint shares, loaded once
 * from the embedded skeletons, one BPF object per feature (node.c), and
 * pinned under the bpffs root:
 *
 *   <root>/maps/<map>          mc_endpoints_v1, mc_dp_v1, ...
 *   <root>/progs/<prog>        mc_tc_ingress, mc_sockops, mc_sk_msg,
 *                              mc_sock_sweep
 *   <root>/links/mc_splice_guard   node-wide link of the splice guard
 *                              (BPF LSM), when the kernel allows it
 *   <root>/links/mc_ct_revoke  node-wide kprobe link on nf_ct_delete
 *                              (socket-revoke), when the kernel allows it
 *   <root>/endpoints/<cid>/<ifname>/{tc,sockops}   per-pod links
 *
 * The root directory itself is the lock (flock) that serialises changes. */
#ifndef MC_NODE_H
#define MC_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "mc_node.h"

enum mc_map_id {
	MC_MAP_ENDPOINTS,
	MC_MAP_DP,
	MC_MAP_VETH,
	MC_MAP_NETNS,
	MC_MAP_STATS,
	MC_MAP_NODE,
	MC_MAP_SOCKS,
	MC_MAP_PAIR,
	MC_MAP_SK,
	MC_MAP_SOCKCFG,
	MC_MAP_SWEEP,
	MC_MAP_LSN,
	MC_MAP_FEATURES,
	MC_MAP_REVOKE,
	MC_MAP_VERDICT,
	MC_MAP_COUNT
};
enum mc_prog_id { MC_PROG_TC, MC_PROG_SOCKOPS, MC_PROG_SK_MSG, MC_PROG_SWEEP, MC_PROG_COUNT };

extern const char *const mc_map_names[MC_MAP_COUNT];
extern const char *const mc_prog_names[MC_PROG_COUNT];

struct mc_node {
	char root[MC_PATH_MAX];
	int lock_fd;
	int maps[MC_MAP_COUNT];
	int progs[MC_PROG_COUNT];
	uint64_t obj_hash;
	bool upgraded; /* this call replaced older programs */
	struct mc_feature features[MC_FEAT_COUNT]; /* as mc_features_v1 says */
};

/* What a caller does with the node, and so which lock it holds. */
enum mc_node_mode {
	MC_NODE_READ,	/* CHECK, status, metrics: what is there, shared lock */
	MC_NODE_WRITE,	/* DEL, GC, agent, uninstall: what is there, exclusive */
	MC_NODE_CREATE, /* ADD, STATUS: create the root, load and pin what is
			 * missing; exclusive */
};

/* Returns 0, or -ENOENT (nothing pinned: a fresh node or after reboot), or
 * another -errno with why[] saying what went wrong. */
int node_open(struct mc_node *node, const char *root, enum mc_node_mode mode, char *why,
	      size_t why_len);
void node_close(struct mc_node *node);

#define MC_GUARD_PIN "links/mc_splice_guard"
#define MC_REVOKE_PIN "links/mc_ct_revoke"
#define MC_VERDICT_PIN "links/mc_ct_forget"

/* Whether the splice guard is attached (docs/socket-shortcut.md). */
bool node_has_guard(const struct mc_node *node);

/* FNV-1a of the embedded BPF object: the node's program version. */
uint64_t node_embedded_hash(void);
/* Reads what is pinned: 0 and *hash when the node is loaded. */
int node_pinned_hash(const char *root, uint64_t *hash);

/* Features (feature.c): names, and what the node recorded of each. */
extern const char *const mc_feature_names[MC_FEAT_COUNT];
const char *mc_feature_state_name(__u32 state);
bool node_feature_on(const struct mc_node *node, enum mc_feature_id id);
/* "socket-teardown off: mc_sock_sweep refused (Operation not permitted):
 * prog 'mc_sock_sweep': BPF program load failed: ..." */
void node_feature_why(const struct mc_node *node, enum mc_feature_id id, char *buf, size_t n);
/* What status and /metrics say of the node, read once for both. */
struct mc_node_summary {
	bool loaded;		/* the node's objects are pinned under the root */
	uint64_t programs;	/* hash of the pinned BPF objects (0: unknown) */
	bool programs_current;	/* they are this binary's */
	bool splice_guard;	/* the splice guard is attached */
};
/* node_open(MC_NODE_READ) and the summary; 0 with the node open (close it),
 * -ENOENT with nothing loaded (summary says so), or another -errno with
 * why[] saying what went wrong. */
int node_open_summary(struct mc_node *node, const char *root, struct mc_node_summary *sum,
		      char *why, size_t why_len);
/* "loaded, programs current", "loaded, programs from another version" or
 * "nothing loaded" */
const char *node_summary_str(const struct mc_node_summary *sum);

/* MESHCUT_REFUSE: comma-separated feature names the loader treats as
 * refused. 0 and *mask, or -EINVAL naming the bad one in bad[]. */
int mc_feature_mask_parse(const char *s, __u32 *mask, char *bad, size_t n);

/* Is path (or, if it does not exist, its parent) on bpffs? */
int bpffs_check(const char *path);

#endif
