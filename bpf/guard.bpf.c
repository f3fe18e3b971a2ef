// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mc_guard: the splice guard, a BPF LSM program attached node-wide. Only
 * where the kernel has BPF LSM enabled (lsm=...,bpf) and lets it load. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "mc_names.h"

#include "maps.h"
#include "sock.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* splice(2) and sendfile(2) from a TCP socket read its receive queue only
 * (tcp_splice_read), never what was redirected to it: a splicing reader
 * would miss those bytes and see what TCP brings after them. Such a read
 * of one of our sockets is let through only once the socket can be read
 * like any TCP socket (inbound_drained(), which seals an undecided inbound
 * direction on TCP, so a reader that splices from its first read keeps
 * splicing). Otherwise it fails with EINVAL, the kernel's "this file
 * cannot splice", on which haproxy and Go's io.Copy fall back to read(2);
 * read(2) gets every byte in order. The LSM hook is node-wide; every other
 * file and every other syscall leaves at the first checks.
 * docs/socket-shortcut.md, "splice and sendfile readers". */
#define MC_MAY_READ 4
#define MC_EINVAL 22

#if defined(__TARGET_ARCH_x86)
struct pt_regs___mc {
	unsigned long orig_ax;
} __attribute__((preserve_access_index));
#define MC_SYSCALL_NR(r) ((long)(r)->orig_ax)
#define MC_NR_SENDFILE 40
#define MC_NR_SPLICE 275
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs___mc {
	int syscallno;
} __attribute__((preserve_access_index));
#define MC_SYSCALL_NR(r) ((long)(r)->syscallno)
#define MC_NR_SENDFILE 71
#define MC_NR_SPLICE 76
#else
#error "the splice guard needs this architecture's syscall numbers"
#endif

SEC("lsm/file_permission")
int mc_splice_guard(unsigned long long *ctx)
{
	struct file *file = (void *)ctx[0]; /* security_file_permission(file, mask) */
	int mask = (int)ctx[1];
	struct pt_regs___mc *regs;
	struct socket___mc *so;
	struct mc_stats *st;
	struct mc_sock *me;
	long nr;

	if (!(mask & MC_MAY_READ))
		return 0;
	regs = (void *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return 0;
	nr = MC_SYSCALL_NR(regs);
	if (nr != MC_NR_SPLICE && nr != MC_NR_SENDFILE)
		return 0;
	so = (void *)bpf_sock_from_file(file);
	if (!so || !so->sk)
		return 0;
	me = bpf_sk_storage_get(&MC_SK_MAP, so->sk, 0, 0);
	if (!me || (me->flags & MC_SK_OUT) || inbound_drained(me))
		return 0;
	st = stats_of(me->slot);
	if (st)
		st->sock_splice_refused++;
	return -MC_EINVAL;
}
