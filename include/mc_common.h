/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Constants shared by the BPF programs (bpf/) and the plugin (plugin/).
 * Everything in include/ is ABI between binary versions: fixed-width fields,
 * explicit padding, size asserts, and a new map name suffix when a layout
 * changes (see docs/state.md). */
#ifndef MC_COMMON_H
#define MC_COMMON_H

#include <linux/types.h>

#define MC_MAX_ENDPOINTS 4096 /* slots 1..MAX-1; 0 means "no endpoint" */
#define MC_MAX_ADDRS 4	      /* pod IPs kept per endpoint */
#define MC_IFNAMSIZ 16

/* elements of an array (not a pointer) */
#define MC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MC_AF_INET 2
#define MC_AF_INET6 10

/* tc verdicts, named here so bpf/ and plugin/ agree. TC_ACT_UNSPEC is
 * TCX_NEXT for tcx links and "continue with the next filter" for cls_bpf in
 * direct-action mode: either way we never end the chain when we do not
 * redirect. */
#define MC_TC_NEXT (-1)

/* Legacy (clsact + cls_bpf) filter identity: fixed, so DEL can always find
 * our own filter even when a killed ADD never recorded it. */
#define MC_TC_LEGACY_HANDLE 0x4d43 /* "MC" */
#define MC_TC_LEGACY_PRIO 0xc0de

#endif
