/* SPDX-License-Identifier: Apache-2.0 */
/* Between node.c (opening what is pinned) and node_load.c (loading and
 * pinning it): not for the rest of the plugin, which uses node.h. */
#ifndef MC_NODE_LOAD_H
#define MC_NODE_LOAD_H

#include "node.h"

/* the feature each pinned program (MC_PROG_*) belongs to */
extern const enum mc_feature_id mc_prog_feature[MC_PROG_COUNT];

int map_path(const char *root, int id, char *out, size_t n);
int prog_path(const char *root, int id, char *out, size_t n);
/* Pin fd at path, replacing what is there in one step (rename). */
int pin_replace(int fd, const char *path);
int open_pinned(struct mc_node *node);
void close_fds(struct mc_node *node);

/* Load every feature, pin, record, move existing endpoints to the new
 * programs. Fails only where even the base maps cannot be made. */
int node_load(struct mc_node *node, char *why, size_t why_len);
/* Whether the node was loaded under this call's MESHCUT_REFUSE. */
bool node_same_refusals(const struct mc_node *node);

#endif
