// SPDX-License-Identifier: Apache-2.0
/* ADD: find the pod's veth and cgroup, attach our programs, record the
 * endpoint, print prevResult through. With failurePolicy "ignore" (the
 * default) nothing here can fail the pod: whatever cannot be set up is
 * recorded as degraded and the pod starts on the normal path. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroup.h"
#include "endpoint.h"
#include "log.h"
#include "meshcut.h"
#include "node.h"
#include "packet.h"
#include "sock.h"
#include "pod.h"

static int print_prev_result(struct mc_ctx *ctx)
{
	cJSON *out = cJSON_Duplicate(ctx->conf.prev_result, 1);
	int ret;

	if (!out)
		return mc_fail(&ctx->err, CNI_ERR_IO, "out of memory", NULL);
	/* the result speaks the config's version, as the primary's did */
	cJSON_DeleteItemFromObjectCaseSensitive(out, "cniVersion");
	cJSON_AddStringToObject(out, "cniVersion", ctx->conf.cni_version);
	ret = mc_print_json(out);
	cJSON_Delete(out);
	if (ret < 0)
		return mc_fail(&ctx->err, CNI_ERR_IO, "cannot write result", NULL);
	return 0;
}

static void fill_record(const struct mc_ctx *ctx, const struct mc_pod *pod,
			const struct mc_cgroup *cg, struct mc_endpoint *ep)
{
	struct timespec ts;

	memset(ep, 0, sizeof(*ep));
	ep->abi = MC_ENDPOINT_ABI;
	ep->state = MC_EP_PENDING;
	ep->degraded = pod->degraded;
	snprintf(ep->reason, sizeof(ep->reason), "%s", pod->reason);
	ep->netns_ino = pod->netns_ino;
	ep->netns_cookie = pod->netns_cookie;
	ep->pod_ifindex = (__u32)pod->pod.ifindex;
	memcpy(ep->pod_mac, pod->pod.mac, 6);
	if (!(pod->degraded & (MC_DEG_NO_VETH | MC_DEG_VETH_MISMATCH | MC_DEG_NO_NETNS))) {
		ep->veth_ifindex = (__u32)pod->veth.ifindex;
		memcpy(ep->veth_mac, pod->veth.mac, 6);
		snprintf(ep->veth_name, sizeof(ep->veth_name), "%s", pod->veth.name);
	}
	if (cg->source != MC_CG_NONE) {
		ep->cgroup_id = cg->id;
		snprintf(ep->cgroup_path, sizeof(ep->cgroup_path), "%s", cg->path);
	}
	ep->n_addrs = (__u32)ctx->conf.n_addrs;
	memcpy(ep->addrs, ctx->conf.addrs, sizeof(ep->addrs));
	snprintf(ep->network, sizeof(ep->network), "%s", ctx->conf.name);
	snprintf(ep->k8s_namespace, sizeof(ep->k8s_namespace), "%s", ctx->env.k8s_namespace);
	snprintf(ep->k8s_pod, sizeof(ep->k8s_pod), "%s", ctx->env.k8s_pod);
	clock_gettime(CLOCK_REALTIME, &ts);
	ep->created_ns = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* The endpoint's degraded bit for each feature the node may have off. */
static const __u32 feature_deg_bit[MC_FEAT_COUNT] = {
	[MC_FEAT_PACKET] = MC_DEG_NO_PACKET,
	[MC_FEAT_CT_GATE] = MC_DEG_NO_CT_GATE,
	[MC_FEAT_SOCKET] = MC_DEG_NO_SOCKET,
	[MC_FEAT_SOCK_TEARDOWN] = MC_DEG_NO_SOCK_TEARDOWN,
	[MC_FEAT_SPLICE_GUARD] = MC_DEG_NO_SPLICE_GUARD,
	[MC_FEAT_SOCK_QUEUE] = MC_DEG_NO_SOCK_QUEUE,
	[MC_FEAT_SOCK_REVOKE] = MC_DEG_NO_SOCK_REVOKE,
};

/* true if the node has feature id on; else ep is degraded, naming it */
static bool feature_or_degrade(const struct mc_node *node, struct mc_endpoint *ep,
			       enum mc_feature_id id)
{
	char d[MC_FEAT_WHY_MAX + 128];

	if (node_feature_on(node, id))
		return true;
	node_feature_why(node, id, d, sizeof(d));
	ep_degrade(ep, feature_deg_bit[id], "%s", d);
	return false;
}

/* Whether the node has feature id on; when degrade, as feature_or_degrade() */
static bool feature_if(const struct mc_node *node, struct mc_endpoint *ep, enum mc_feature_id id,
		       bool degrade)
{
	return degrade ? feature_or_degrade(node, ep, id) : node_feature_on(node, id);
}

/* What the node can do for the endpoint's sockets under conf, as ADD
 * records it beside the policy (mc_sock.h): MC_SOCKCFG_CAPABLE if their
 * sockets may enter at all, MC_SOCKCFG_REMOTE_OK if they may pair with
 * another pod's. Where socketRedirect asks for it, each missing piece
 * degrades ep, naming it. */
static __u32 sock_facts(const struct mc_node *node, const struct mc_conf *conf,
			struct mc_endpoint *ep)
{
	bool asked = conf->socket_redirect, capable;
	__u32 f = 0;

	/* without a way to take them out at DEL, or to bound what a writer
	 * queues, no socket may enter */
	capable = feature_if(node, ep, MC_FEAT_SOCK_TEARDOWN, asked) &&
		  feature_if(node, ep, MC_FEAT_SOCK_QUEUE, asked);
	/* without the guard, splice(2) readers would lose data */
	if (capable && conf->splice_guard == MC_GUARD_REQUIRED && !node_has_guard(node)) {
		capable = false;
		if (asked)
			ep_degrade(ep, MC_DEG_NO_SPLICE_GUARD,
				   "socketRedirect needs the splice guard (BPF LSM), which this "
				   "node cannot attach: sockets stay on TCP");
	}
	if (capable)
		f |= MC_SOCKCFG_CAPABLE;
	/* pod to pod only where the host's revocations reach sockets, unless
	 * the pod asks no host policy of them */
	if (conf->pkt_policy == MC_POLICY_TRUST || conf->socket_revoke == MC_REVOKE_OPTIONAL)
		return f | MC_SOCKCFG_REMOTE_OK;
	asked = asked && capable;
	if (feature_if(node, ep, MC_FEAT_SOCK_REVOKE, asked)) {
		/* mc_ct_revoke knows a pod by its mc_dp_v1 entries, which a
		 * pod without a veth has none of */
		if (ep->veth_ifindex)
			f |= MC_SOCKCFG_REMOTE_OK;
		else if (asked)
			ep_degrade(ep, MC_DEG_NO_SOCK_REVOKE,
				   "no host veth: the host's conntrack revocations would not reach "
				   "its sockets, which stay on TCP towards other pods");
	}
	return f;
}

/* The packet shortcut needs its program, and its default policy gate the
 * conntrack kfuncs: without them the program could deliver nothing, so it
 * is not attached at all ("trust" needs no gate). */
static bool packet_possible(const struct mc_node *node, const struct mc_conf *conf,
			    struct mc_endpoint *ep)
{
	if (!feature_or_degrade(node, ep, MC_FEAT_PACKET))
		return false;
	return conf->pkt_policy == MC_POLICY_TRUST || feature_or_degrade(node, ep, MC_FEAT_CT_GATE);
}

/* Attach under the node lock. Returns <0 only for failures that leave no
 * record to describe them (the caller then logs and carries on). */
static int accelerate(struct mc_ctx *ctx, struct mc_node *node, const struct mc_pod *pod,
		      const struct mc_cgroup *cg, struct mc_endpoint *ep, char *why, size_t n)
{
	const struct mc_conf *conf = &ctx->conf;
	struct mc_ep_paths paths;
	struct mc_ep_key key;
	struct mc_endpoint old;
	int ret;

	ret = ep_key_make(&key, ctx->env.container_id, ctx->env.ifname);
	if (ret == 0)
		ret = ep_paths(node->root, &key, &paths);
	if (ret < 0) {
		mc_msg(why, n, "endpoint key: %s", strerror(-ret));
		return ret;
	}
	/* ADD again without DEL (a runtime retrying): start from nothing */
	if (ep_lookup(node, &key, &old) == 0) {
		log_info("replacing an existing endpoint record");
		ep_teardown(node, &key, &old);
	}
	fill_record(ctx, pod, cg, ep);
	if (cg->source == MC_CG_NONE && conf->socket_shortcut)
		ep_degrade(ep, MC_DEG_NO_CGROUP, "%s", cg->why);
	ret = ep_alloc_slot(node, &ep->slot);
	if (ret < 0) {
		mc_msg(why, n, "no free endpoint slot (%d in use)", MC_MAX_ENDPOINTS - 1);
		return ret;
	}
	ep_stats_reset(node, ep->slot);
	sock_cfg_write(node, ep->slot, NULL, 0); /* no policy of an earlier owner */
	/* The record goes in before anything it describes, so DEL and GC can
	 * always undo a half-made endpoint. */
	ret = ep_store(node, &key, ep);
	if (ret < 0) {
		mc_msg(why, n, "cannot write endpoint record: %s", strerror(-ret));
		return ret;
	}
	if ((mkdir(paths.cid_dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(paths.dir, 0700) < 0 && errno != EEXIST)) {
		ret = -errno;
		mc_msg(why, n, "cannot create %s: %s", paths.dir, strerror(-ret));
		ep_teardown(node, &key, ep);
		return ret;
	}

	if (conf->packet_shortcut && ep->veth_ifindex && packet_possible(node, conf, ep)) {
		ep_attach_tc(node, ep, &paths, conf->tc_mode);
		pkt_flags_probe(conf, ep);
		ep_store(node, &key, ep);
	}
	if (conf->socket_shortcut && ep->cgroup_id && feature_or_degrade(node, ep, MC_FEAT_SOCKET)) {
		__u32 facts = sock_facts(node, conf, ep);
		bool redirect = conf->socket_redirect && (facts & MC_SOCKCFG_CAPABLE);

		ret = sock_cfg_write(node, ep->slot, conf,
				     facts | (redirect ? MC_SOCKCFG_REDIRECT : 0));
		if (ret < 0)
			log_warn("cannot write the socket shortcut settings: %s", strerror(-ret));
		ep_attach_sockops(node, &key, ep, &paths);
		ep_store(node, &key, ep);
	}
	if (ep->veth_ifindex || ep->netns_cookie)
		ep_write_datapath(node, &key, ep);
	if (conf->n_addrs_dropped)
		log_warn("%d pod addresses beyond the first %d are not accelerated",
			 conf->n_addrs_dropped, MC_MAX_ADDRS);

	ep->state = ep->degraded ? MC_EP_DEGRADED : MC_EP_READY;
	ret = ep_store(node, &key, ep);
	if (ret < 0) {
		mc_msg(why, n, "cannot write endpoint record: %s", strerror(-ret));
		ep_teardown(node, &key, ep);
		return ret;
	}
	if (ep->degraded && conf->failure_policy == MC_FAIL_FAIL) {
		mc_msg(why, n, "%s", ep->reason);
		ep_teardown(node, &key, ep);
		return -EAGAIN;
	}
	return 0;
}

int cmd_add(struct mc_ctx *ctx)
{
	const struct mc_conf *conf = &ctx->conf;
	struct mc_endpoint ep;
	struct mc_cgroup cg;
	struct mc_node node;
	struct mc_pod pod;
	char why[MC_REASON_MAX + 64] = "", cgroot[MC_PATH_MAX];
	int ret;

	if (ctx->env.container_id_too_long) {
		snprintf(why, sizeof(why), "container ID longer than %d characters",
			 MC_CONTAINER_ID_MAX - 1);
		goto degraded;
	}
	ret = pod_discover(&ctx->env, conf, &pod);
	if (ret < 0)
		return mc_fail(&ctx->err, CNI_ERR_IO, "cannot return to the node netns", "%s",
			       strerror(-ret));
	memset(&cg, 0, sizeof(cg));
	if (conf->socket_shortcut) {
		if (mc_cgroup_root(conf, cgroot, sizeof(cgroot)) < 0)
			snprintf(cg.why, sizeof(cg.why), "no cgroup2 mount found");
		else
			cgroup_find_pod(cgroot, conf, &ctx->env, &cg);
	}

	ret = node_open(&node, conf->bpffs_root, MC_NODE_CREATE, why, sizeof(why));
	if (ret < 0)
		goto degraded;
	ret = accelerate(ctx, &node, &pod, &cg, &ep, why, sizeof(why));
	node_close(&node);
	if (ret < 0)
		goto degraded;
	if (ep.degraded) {
		char bits[128];

		ep_degraded_str(ep.degraded, bits, sizeof(bits));
		log_warn("endpoint degraded (%s): %s", bits, ep.reason);
	} else {
		log_info("endpoint ready: veth %s, cgroup %s", ep.veth_name, ep.cgroup_path);
	}
	return print_prev_result(ctx);

degraded:
	if (conf->failure_policy == MC_FAIL_FAIL)
		return mc_fail(&ctx->err, MC_ERR_SETUP, "meshcut could not accelerate the pod",
			       "%s (failurePolicy is \"fail\")", why);
	log_warn("pod not accelerated, it runs on the normal path: %s", why);
	return print_prev_result(ctx);
}
