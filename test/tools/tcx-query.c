// SPDX-License-Identifier: Apache-2.0
/* tcx-query IFNAME [ingress|egress]: print the ids of the BPF programs the
 * kernel runs on IFNAME's tcx hook, one per line. Tests use it to check
 * attachments independently of meshcut's own records (Debian 12's bpftool
 * cannot list tcx). Run it in the netns of the interface. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

int main(int argc, char **argv)
{
	__u32 ids[64], cnt = 64;
	int ifindex, type;
	LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = cnt);

	if (argc < 2) {
		fprintf(stderr, "usage: tcx-query IFNAME [ingress|egress]\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "tcx-query: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	type = argc > 2 && !strcmp(argv[2], "egress") ? 47 : 46; /* BPF_TCX_* */
	if (bpf_prog_query_opts(ifindex, (enum bpf_attach_type)type, &q) < 0) {
		fprintf(stderr, "tcx-query: %s\n", strerror(errno));
		return 1;
	}
	for (__u32 i = 0; i < q.prog_cnt && i < 64; i++)
		printf("%u\n", ids[i]);
	return 0;
}
