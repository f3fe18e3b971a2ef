// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"
#include "pod.h"

static void degrade(struct mc_pod *pod, uint32_t bit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void degrade(struct mc_pod *pod, uint32_t bit, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mc_vdegrade(&pod->degraded, pod->reason, sizeof(pod->reason), bit, fmt, ap);
	va_end(ap);
}

/* Inside the pod netns: CNI_IFNAME, its peer's ifindex and netns id, and
 * the id under which the pod netns knows ours. */
static int inspect_pod_side(const struct mc_env *env, struct mc_pod *pod, int *host_nsid)
{
	int saved = -1, host_fd, ret, lret;

	host_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host_fd < 0)
		return -errno;
	ret = netns_enter(env->netns, &saved);
	if (ret < 0) {
		close(host_fd);
		degrade(pod, MC_DEG_NO_NETNS, "cannot enter netns %s: %s", env->netns, strerror(-ret));
		return 0;
	}
	ret = nl_link_get(0, env->ifname, &pod->pod);
	if (ret < 0)
		degrade(pod, MC_DEG_NO_VETH, "no interface %s in the pod netns: %s", env->ifname,
			strerror(-ret));
	else if (nl_nsid_of(host_fd, host_nsid) < 0)
		*host_nsid = -1;
	if (netns_cookie(&pod->netns_cookie) < 0)
		pod->netns_cookie = 0;
	lret = netns_leave(&saved);
	close(host_fd);
	return lret;
}

static void cross_check_prev_result(const struct mc_conf *conf, struct mc_pod *pod)
{
	bool host_listed = false, found = false;

	for (int i = 0; i < conf->n_prev_ifaces; i++) {
		const struct mc_prev_iface *pi = &conf->prev_ifaces[i];

		if (pi->in_sandbox)
			continue;
		host_listed = true;
		if (!strcmp(pi->name, pod->veth.name) &&
		    (!pi->has_mac || !memcmp(pi->mac, pod->veth.mac, 6)))
			found = true;
	}
	/* A primary that lists host interfaces must list this one (Calico and
	 * others list none: then the kernel's word is all there is). */
	if (host_listed && !found)
		degrade(pod, MC_DEG_VETH_MISMATCH,
			"host veth %s is not among prevResult's host interfaces", pod->veth.name);
}

int pod_discover(const struct mc_env *env, const struct mc_conf *conf, struct mc_pod *pod)
{
	int host_nsid = -1, ret;

	memset(pod, 0, sizeof(*pod));
	pod->netns_ino = netns_ino(env->netns);
	if (!pod->netns_ino) {
		degrade(pod, MC_DEG_NO_NETNS, "netns %s does not exist", env->netns);
		return 0;
	}
	ret = inspect_pod_side(env, pod, &host_nsid);
	if (ret < 0)
		return ret;
	if (pod->degraded)
		return 0;
	if (strcmp(pod->pod.kind, "veth") != 0 || !pod->pod.has_link) {
		degrade(pod, MC_DEG_NO_VETH, "pod interface %s is a %s, not a veth", env->ifname,
			pod->pod.kind[0] ? pod->pod.kind : "device without a kind");
		return 0;
	}
	/* The peer must live in *our* netns: its ifindex means nothing
	 * elsewhere. */
	if (!pod->pod.has_link_netnsid || host_nsid < 0 || pod->pod.link_netnsid != host_nsid) {
		degrade(pod, MC_DEG_NO_VETH, "the peer of %s is not in this netns", env->ifname);
		return 0;
	}
	ret = nl_link_get(pod->pod.link, NULL, &pod->veth);
	if (ret < 0) {
		degrade(pod, MC_DEG_NO_VETH, "peer ifindex %d not found: %s", pod->pod.link, strerror(-ret));
		return 0;
	}
	if (strcmp(pod->veth.kind, "veth") != 0 || pod->veth.link != pod->pod.ifindex) {
		degrade(pod, MC_DEG_VETH_MISMATCH, "ifindex %d (%s) is not the peer of %s", pod->veth.ifindex,
			pod->veth.name, env->ifname);
		return 0;
	}
	cross_check_prev_result(conf, pod);
	log_debug("pod %s: veth %s ifindex %d, netns cookie %llu", env->ifname, pod->veth.name,
		  pod->veth.ifindex, (unsigned long long)pod->netns_cookie);
	return 0;
}
