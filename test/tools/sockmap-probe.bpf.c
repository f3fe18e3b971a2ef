// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The kernel behaviour probe for blocking readers (sockmap-probe.c): every
 * message the writer (key 0) sends is handed to the reader's (key 1)
 * receive queue, as meshcut's sk_msg program does to a paired peer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} probe_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} probe_count SEC(".maps"); /* [0] redirected, [1] passed */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} probe_writer SEC(".maps"); /* the writer's local port (host order) */

SEC("sk_msg")
int probe_msg(struct sk_msg_md *msg)
{
	__u32 zero = 0, one = 1, *port = bpf_map_lookup_elem(&probe_writer, &zero);
	__u64 *c;
	long r;

	if (!port || msg->local_port != *port) {
		c = bpf_map_lookup_elem(&probe_count, &one);
		if (c)
			__sync_fetch_and_add(c, 1);
		return SK_PASS; /* the reader's own sends go by TCP */
	}
	r = bpf_msg_redirect_hash(msg, &probe_socks, &one, BPF_F_INGRESS);
	c = bpf_map_lookup_elem(&probe_count, r == SK_PASS ? &zero : &one);
	if (c)
		__sync_fetch_and_add(c, 1);
	return (int)r;
}
