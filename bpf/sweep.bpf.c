// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mc_sweep: socket teardown. DEL, GC and uninstall run mc_sock_sweep, an
 * iterator over mc_socks_v1, to take a pod's sockets out of the shortcut
 * without losing a byte. A kernel that refuses iterators over a sockhash
 * refuses this object alone; then no socket may enter the shortcut
 * (docs/features.md). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "mc_names.h"

#include "maps.h"
#include "sock.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mc_sweep);
} MC_SWEEP_MAP SEC(".maps");

/* bpf_iter over mc_socks_v1, run by DEL, GC and uninstall (mc_sweep_v1
 * holds the arguments). MARK stops every sender towards the slot's
 * sockets; REMOVE then takes out those whose reader has read everything
 * redirected to it: removing a socket from the sockhash frees whatever
 * it still had queued, so a socket with unread data stays until a later
 * pass or until it closes (which removes it too). */
struct bpf_iter_meta___mc {
	void *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__sockmap___mc {
	struct bpf_iter_meta___mc *meta;
	void *key;
	void *sk;
} __attribute__((preserve_access_index));

SEC("iter/sockmap")
int mc_sock_sweep(struct bpf_iter__sockmap___mc *ctx)
{
	struct mc_sweep *sw;
	struct mc_sock *s;
	void *sk = ctx->sk;
	__u64 *key = ctx->key, cookie;
	__u32 zero = 0;

	sw = bpf_map_lookup_elem(&MC_SWEEP_MAP, &zero);
	if (!sw || !sk || !key)
		return 0;
	s = bpf_sk_storage_get(&MC_SK_MAP, sk, 0, 0);
	if (!s)
		return 0;
	if (sw->phase == MC_SWEEP_MARK) {
		/* both ends: a sender only reads its own mc_sock */
		if (!sw->slot || s->slot == sw->slot || s->peer_slot == sw->slot) {
			__sync_fetch_and_or(&s->flags, MC_SK_DRAIN);
			sw->matched++;
		}
		return 0;
	}
	if ((sw->slot && s->slot != sw->slot) || !(s->flags & MC_SK_DRAIN))
		return 0;
	sw->matched++;
	if (psock_queued((__u64)sk) != 0) {
		sw->pending++;
		return 0;
	}
	cookie = *key; /* the key buffer is read-only */
	/* storage first: a sender that still finds the socket sees no peer */
	bpf_sk_storage_delete(&MC_SK_MAP, sk);
	if (bpf_map_delete_elem(&MC_SOCKS_MAP, &cookie) == 0)
		sw->removed++;
	return 0;
}
