/* SPDX-License-Identifier: Apache-2.0 */
/* What the packet shortcut may do for one endpoint, worked out at ADD from
 * the kernel's view of its host veth (MC_PKT_* in mc_datapath.h). */
#ifndef MC_PACKET_H
#define MC_PACKET_H

#include "conf.h"
#include "mc_datapath.h"
#include "mc_endpoint.h"

/* Sets ep->pkt_flags. Run after the tc attach, in the node netns; logs why
 * when a flag turns part of the shortcut off. */
void pkt_flags_probe(const struct mc_conf *conf, struct mc_endpoint *ep);

#endif
