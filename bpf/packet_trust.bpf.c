// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mc_packet_trust: mc_packet built without the conntrack gate (ct.h). The
 * loader falls back to it where the kernel refuses mc_packet (no conntrack
 * kfuncs, or a verifier that will not let tc call them): then the packet
 * shortcut serves packetPolicy "trust" pods, and pods with the default
 * policy get no tc program (docs/features.md). */
#define MC_CT_GATE 0
#include "packet.bpf.c"
