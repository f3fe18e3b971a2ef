// SPDX-License-Identifier: Apache-2.0
/* The tc piece of an endpoint: mc_tc_ingress on the pod's host veth, as a
 * pinned tcx link, or (kernels without tcx, or tcMode legacy) as our own
 * clsact filter with a fixed handle and priority. Attach, detach, verify
 * and upgrade, for endpoint.c's table of pieces. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_sched.h>

#include "bpfobj.h"
#include "compat.h"
#include "endpoint.h"
#include "log.h"

static int attach_tcx(const struct mc_node *node, struct mc_endpoint *ep, const char *pin)
{
	int fd, ret;

	/* No BPF_F_BEFORE/AFTER: appended after every program already there,
	 * so the primary CNI's programs run first. */
	fd = bpf_link_create(node->progs[MC_PROG_TC], (int)ep->veth_ifindex,
			     (enum bpf_attach_type)MC_BPF_TCX_INGRESS, NULL);
	if (fd < 0)
		return -errno;
	ret = link_pin(fd, pin);
	close(fd); /* the pin holds the link; on failure closing detaches it */
	if (ret == 0)
		ep->attached |= MC_ATT_TC_TCX;
	return ret;
}

static int attach_legacy(const struct mc_node *node, struct mc_endpoint *ep)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ep->veth_ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MC_TC_LEGACY_HANDLE,
		    .priority = MC_TC_LEGACY_PRIO, .prog_fd = node->progs[MC_PROG_TC]);
	int ret;

	ret = bpf_tc_hook_create(&hook);
	if (ret == 0)
		ep->attached |= MC_ATT_QDISC_CREATED;
	else if (ret != -EEXIST)
		return ret;
	ret = bpf_tc_attach(&hook, &opts);
	if (ret == 0)
		ep->attached |= MC_ATT_TC_LEGACY;
	return ret;
}

int ep_attach_tc(const struct mc_node *node, struct mc_endpoint *ep,
		 const struct mc_ep_paths *p, enum mc_tc_mode mode)
{
	int ret = -EOPNOTSUPP;

	if (mode != MC_TC_LEGACY) {
		ret = attach_tcx(node, ep, p->tc);
		if (ret == 0)
			return 0;
		/* an older kernel says EINVAL for an attach type it lacks */
		if (mode == MC_TC_TCX || (ret != -EINVAL && ret != -EOPNOTSUPP)) {
			ep_degrade(ep, MC_DEG_TC_ATTACH, "tcx attach to %s failed: %s",
				   ep->veth_name, strerror(-ret));
			return ret;
		}
		log_info("tcx unavailable (%s), using clsact", strerror(-ret));
	}
	ret = attach_legacy(node, ep);
	if (ret < 0)
		ep_degrade(ep, MC_DEG_TC_ATTACH, "clsact filter on %s failed: %s",
			   ep->veth_name, strerror(-ret));
	return ret;
}

/* Our legacy filter is the one with our handle and priority that runs a
 * program named like ours: never anyone else's. */
static void legacy_detach(__u32 ifindex, const char *veth_name, bool qdisc_created)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MC_TC_LEGACY_HANDLE, .priority = MC_TC_LEGACY_PRIO);
	char name[32];
	int n_in = 0, n_eg = 0;

	if (!ep_veth_still_ours(ifindex, veth_name))
		return; /* veth gone, or the ifindex now belongs to another */
	if (bpf_tc_query(&hook, &opts) == 0 && prog_name_of_id(opts.prog_id, name, sizeof(name)) == 0 &&
	    strcmp(name, mc_prog_names[MC_PROG_TC]) == 0) {
		LIBBPF_OPTS(bpf_tc_opts, del, .handle = MC_TC_LEGACY_HANDLE, .priority = MC_TC_LEGACY_PRIO);

		if (bpf_tc_detach(&hook, &del) < 0)
			log_warn("cannot remove our clsact filter on %s", veth_name);
	}
	if (!qdisc_created)
		return;
	/* we made the clsact: remove it only if nobody else put a filter in */
	if (nl_count_filters((int)ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), &n_in) == 0 &&
	    nl_count_filters((int)ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), &n_eg) == 0 &&
	    n_in == 0 && n_eg == 0)
		nl_del_clsact((int)ifindex);
}

static void tc_detach(const struct mc_node *node, const struct mc_endpoint *ep,
		      const struct mc_ep_paths *p)
{
	(void)node;
	link_unpin(p->tc); /* whatever the record says: a killed ADD pinned it */
	if (ep && (ep->attached & (MC_ATT_TC_LEGACY | MC_ATT_QDISC_CREATED)) && ep->veth_ifindex)
		legacy_detach(ep->veth_ifindex, ep->veth_name, ep->attached & MC_ATT_QDISC_CREATED);
}

static int tc_verify(const struct mc_node *node, const struct mc_endpoint *ep,
		     const struct mc_ep_paths *p, char *msg, size_t n)
{
	__u32 want = 0, got = 0;

	if (!(ep->attached & (MC_ATT_TC_TCX | MC_ATT_TC_LEGACY)))
		return 0;
	if (!ep_veth_still_ours(ep->veth_ifindex, ep->veth_name))
		return mc_msg(msg, n, "host veth %s (ifindex %u) is gone", ep->veth_name,
			      ep->veth_ifindex), -1;
	if (prog_id_of_fd(node->progs[MC_PROG_TC], &want) < 0)
		return mc_msg(msg, n, "node tc program is not loaded"), -1;
	if (ep->attached & MC_ATT_TC_TCX) {
		if (link_prog_id(p->tc, &got) < 0)
			return mc_msg(msg, n, "tc link pin %s is missing", p->tc), -1;
		if (got != want)
			return mc_msg(msg, n, "tc link on %s runs program %u, not the current %u",
				      ep->veth_name, got, want), -1;
		if (kernel_has_prog((int)ep->veth_ifindex, (enum bpf_attach_type)MC_BPF_TCX_INGRESS, want) != 1)
			return mc_msg(msg, n, "tcx ingress of %s does not run meshcut", ep->veth_name), -1;
	}
	if (ep->attached & MC_ATT_TC_LEGACY) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ep->veth_ifindex, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MC_TC_LEGACY_HANDLE, .priority = MC_TC_LEGACY_PRIO);

		if (bpf_tc_query(&hook, &opts) < 0 || opts.prog_id != want)
			return mc_msg(msg, n, "clsact ingress filter of %s does not run meshcut",
				      ep->veth_name), -1;
	}
	return 0;
}

static void tc_upgrade(const struct mc_node *node, const struct mc_ep_key *key,
		       const struct mc_endpoint *ep, const struct mc_ep_paths *p)
{
	int fd;

	/* a feature off since: its links keep the programs they run */
	if (node->progs[MC_PROG_TC] < 0)
		return;
	if (ep->attached & MC_ATT_TC_TCX) {
		fd = bpf_obj_get(p->tc);
		if (fd >= 0) {
			if (bpf_link_update(fd, node->progs[MC_PROG_TC], NULL) < 0)
				log_warn("cannot update tc link of %s: %s", key->container_id, strerror(errno));
			close(fd);
		}
	}
	if (ep->attached & MC_ATT_TC_LEGACY) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ep->veth_ifindex, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MC_TC_LEGACY_HANDLE, .priority = MC_TC_LEGACY_PRIO,
			    .prog_fd = node->progs[MC_PROG_TC], .flags = BPF_TC_F_REPLACE);

		if (bpf_tc_attach(&hook, &opts) < 0)
			log_warn("cannot replace clsact filter of %s", key->container_id);
	}
}

const struct ep_piece ep_tc_piece = {
	.name = "tc",
	.detach = tc_detach,
	.verify = tc_verify,
	.upgrade = tc_upgrade,
};
