/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* mc_node_v1: one entry describing the node objects that are loaded, so
 * that a newer binary knows when to replace the programs in place. */
#ifndef MC_NODE_INFO_H
#define MC_NODE_INFO_H

#include "mc_common.h"

struct mc_node_info {
	__u32 abi;
	__u32 pad;
	__u64 obj_hash; /* FNV-1a of the embedded BPF object */
	__u64 loaded_ns;
	char version[32];
};
#define MC_NODE_ABI 1
_Static_assert(sizeof(struct mc_node_info) == 56, "mc_node_info is ABI");

#endif
