// SPDX-License-Identifier: Apache-2.0
/* tc-foreign OBJ tcx|legacy IFNAME ingress|egress PINDIR: attach the test's
 * "foreign" counting program the way another plugin would: a tcx link
 * (pinned as PINDIR/link) or a clsact cls_bpf filter at priority 1. Its
 * counter map is pinned as PINDIR/count. Run it in the netns of IFNAME. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	char path[512];
	int ifindex, egress, ret = 1, fd;

	if (argc != 6) {
		fprintf(stderr, "usage: tc-foreign OBJ tcx|legacy IFNAME ingress|egress PINDIR\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[3]);
	egress = !strcmp(argv[4], "egress");
	if (!ifindex) {
		fprintf(stderr, "tc-foreign: %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "tc-foreign: cannot load %s\n", argv[1]);
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "foreign_tc");
	map = bpf_object__find_map_by_name(obj, "foreign_count");
	snprintf(path, sizeof(path), "%s/count", argv[5]);
	if (!prog || !map || bpf_map__pin(map, path)) {
		fprintf(stderr, "tc-foreign: cannot pin %s\n", path);
		goto out;
	}
	if (!strcmp(argv[2], "tcx")) {
		fd = bpf_link_create(bpf_program__fd(prog), ifindex,
				     (enum bpf_attach_type)(egress ? 47 : 46), NULL);
		snprintf(path, sizeof(path), "%s/link", argv[5]);
		if (fd < 0 || bpf_obj_pin(fd, path)) {
			fprintf(stderr, "tc-foreign: tcx attach: %s\n", strerror(errno));
			goto out;
		}
	} else {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1,
			    .prog_fd = bpf_program__fd(prog));

		bpf_tc_hook_create(&hook); /* EEXIST is fine */
		if (bpf_tc_attach(&hook, &opts)) {
			fprintf(stderr, "tc-foreign: clsact attach failed\n");
			goto out;
		}
	}
	ret = 0;
out:
	bpf_object__close(obj);
	return ret;
}
