/* SPDX-License-Identifier: Apache-2.0 */
/* The socket shortcut's per-pod state in userspace: the settings ADD
 * writes for the programs, and the teardown DEL, GC and uninstall run. */
#ifndef MC_PLUGIN_SOCK_H
#define MC_PLUGIN_SOCK_H

#include "conf.h"
#include "node.h"

/* How long DEL waits for readers to read what was redirected to them. */
#define MC_SOCK_DRAIN_MS 1000

/* mc_sockcfg_v1[slot]: flags (MC_SOCKCFG_*) and the config's excludePorts;
 * conf NULL and flags 0 clear it. */
int sock_cfg_write(const struct mc_node *node, __u32 slot, const struct mc_conf *conf,
		   __u32 flags);

/* The mc_revoke_v1 entries of the endpoint's own views of its connections
 * (those whose local address is one of its addresses): DEL's, once its
 * sockets are gone. */
void sock_revoke_sweep(const struct mc_node *node, const struct mc_endpoint *ep);

/* Take a pod's sockets (slot) out of the shortcut, or every socket when
 * slot is 0: its connection ids, then, after stopping every sender on
 * both ends, its sockhash entries and per-socket state. A socket whose
 * reader has not read everything redirected to it yet is left alone up to
 * wait_ms (removing it would free that data); it leaves the sockhash by
 * itself when it closes. Returns how many were left. */
int sock_teardown(const struct mc_node *node, __u32 slot, int wait_ms);

#endif
