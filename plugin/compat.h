/* SPDX-License-Identifier: Apache-2.0 */
/* What Debian 12's UAPI headers (6.1) and libbpf (1.1) lack but the kernels
 * we run on have. Probed at run time, never assumed. */
#ifndef MC_COMPAT_H
#define MC_COMPAT_H

#include <linux/bpf.h>

/* tcx (Linux 6.6): enum bpf_attach_type values */
#define MC_BPF_TCX_INGRESS 46
#define MC_BPF_TCX_EGRESS 47

#endif
