// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* "Another plugin's" tc program for coexistence tests: counts the packets
 * it sees and lets them continue (TCX_NEXT / next filter). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} foreign_count SEC(".maps");

SEC("tc")
int foreign_tc(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *c = bpf_map_lookup_elem(&foreign_count, &k);

	(void)skb;
	if (c)
		__sync_fetch_and_add(c, 1);
	return -1; /* TC_ACT_UNSPEC: TCX_NEXT, or the next legacy filter */
}
