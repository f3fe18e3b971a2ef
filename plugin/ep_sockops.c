// SPDX-License-Identifier: Apache-2.0
/* The sockops piece of an endpoint: mc_sockops on the pod's cgroup, as a
 * pinned cgroup link, and at teardown the pod's sockets taken out of the
 * socket shortcut (sock.c). Attach, detach, verify and upgrade, for
 * endpoint.c's table of pieces. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfobj.h"
#include "endpoint.h"
#include "log.h"
#include "sock.h"

struct cg_owner {
	__u64 cgroup_id;
	const struct mc_ep_key *self;
	bool found;
};

static int find_cg_owner(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	struct cg_owner *o = data;

	if ((ep->attached & MC_ATT_SOCKOPS) && ep->cgroup_id == o->cgroup_id &&
	    memcmp(key, o->self, sizeof(*key)) != 0)
		o->found = true;
	return 0;
}

int ep_attach_sockops(const struct mc_node *node, const struct mc_ep_key *key,
		      struct mc_endpoint *ep, const struct mc_ep_paths *p)
{
	struct cg_owner owner = { .cgroup_id = ep->cgroup_id, .self = key };
	int cg, fd, ret;

	/* One pod, two interfaces (multus): the cgroup is the pod's, and our
	 * program must run once per socket, not once per interface. */
	ep_foreach(node, find_cg_owner, &owner);
	if (owner.found) {
		ep_degrade(ep, MC_DEG_CGROUP_SHARED,
			   "cgroup already accelerated through another interface of this pod");
		return 0;
	}
	cg = open(ep->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		ret = -errno;
		goto fail;
	}
	fd = bpf_link_create(node->progs[MC_PROG_SOCKOPS], cg, BPF_CGROUP_SOCK_OPS, NULL);
	ret = fd < 0 ? -errno : 0;
	close(cg);
	if (ret < 0)
		goto fail;
	ret = link_pin(fd, p->sockops);
	close(fd);
	if (ret < 0)
		goto fail;
	ep->attached |= MC_ATT_SOCKOPS;
	return 0;
fail:
	ep_degrade(ep, MC_DEG_SOCKOPS_ATTACH, "sockops attach to %s failed: %s",
		   ep->cgroup_path, strerror(-ret));
	return ret;
}

static void sockops_detach(const struct mc_node *node, const struct mc_endpoint *ep,
			   const struct mc_ep_paths *p)
{
	link_unpin(p->sockops);
	if (ep && (ep->attached & MC_ATT_SOCKOPS) && ep->slot) {
		sock_teardown(node, ep->slot, MC_SOCK_DRAIN_MS);
		sock_revoke_sweep(node, ep);
	}
}

static int sockops_verify(const struct mc_node *node, const struct mc_endpoint *ep,
			  const struct mc_ep_paths *p, char *msg, size_t n)
{
	__u32 want = 0, got = 0;
	int cg, has;

	if (!(ep->attached & MC_ATT_SOCKOPS))
		return 0;
	if (prog_id_of_fd(node->progs[MC_PROG_SOCKOPS], &want) < 0)
		return mc_msg(msg, n, "node sockops program is not loaded"), -1;
	if (link_prog_id(p->sockops, &got) < 0)
		return mc_msg(msg, n, "sockops link pin %s is missing", p->sockops), -1;
	if (got != want)
		return mc_msg(msg, n, "sockops link runs program %u, not the current %u", got, want), -1;
	cg = open(ep->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return mc_msg(msg, n, "pod cgroup %s is gone", ep->cgroup_path), -1;
	has = kernel_has_prog(cg, BPF_CGROUP_SOCK_OPS, want);
	close(cg);
	if (has != 1)
		return mc_msg(msg, n, "cgroup %s does not run meshcut sockops", ep->cgroup_path), -1;
	return 0;
}

static void sockops_upgrade(const struct mc_node *node, const struct mc_ep_key *key,
			    const struct mc_endpoint *ep, const struct mc_ep_paths *p)
{
	int fd;

	if (!(ep->attached & MC_ATT_SOCKOPS) || node->progs[MC_PROG_SOCKOPS] < 0)
		return;
	fd = bpf_obj_get(p->sockops);
	if (fd < 0)
		return;
	if (bpf_link_update(fd, node->progs[MC_PROG_SOCKOPS], NULL) < 0)
		log_warn("cannot update sockops link of %s: %s", key->container_id, strerror(errno));
	close(fd);
}

const struct ep_piece ep_sockops_piece = {
	.name = "sockops",
	.detach = sockops_detach,
	.verify = sockops_verify,
	.upgrade = sockops_upgrade,
};
