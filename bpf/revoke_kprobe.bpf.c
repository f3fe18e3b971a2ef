// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mc_revoke_kprobe: mc_revoke built as a kprobe. The loader falls back to
 * it where the kernel refuses fentry programs; a kernel without kprobes
 * (CONFIG_KPROBES off) or without kprobe links (before 5.15) refuses it
 * too, and then socket-revoke is off (docs/features.md). */
#define MC_REVOKE_KPROBE 1
#include "revoke.bpf.c"
