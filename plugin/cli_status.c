// SPDX-License-Identifier: Apache-2.0
/* `meshcut status [--json] [--bpffs-root DIR]`: the endpoints as the pinned
 * state describes them, with their counters. Read-only. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "endpoint.h"
#include "meshcut.h"
#include "node.h"
#include "stats.h"
#include "version.h"

struct list_state {
	const struct mc_node *node;
	cJSON *arr;
	bool json;
	int count;
};

static void add_stats(cJSON *o, const struct mc_stats *st)
{
	cJSON *p = cJSON_AddObjectToObject(o, "packet");
	cJSON *s = cJSON_AddObjectToObject(o, "socket");

	for (size_t i = 0; i < mc_stat_fields_n; i++) {
		const struct mc_stat_field *f = &mc_stat_fields[i];

		cJSON_AddNumberToObject(f->group[0] == 'p' ? p : s, f->json, (double)mc_stat_get(st, f));
	}
}

/* How many connections the host's conntrack tracks in this netns, or -1
 * when it cannot tell (no nf_conntrack). */
static long conntrack_count(void)
{
	FILE *f = fopen("/proc/sys/net/netfilter/nf_conntrack_count", "r");
	long n = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/* Why an endpoint's packet shortcut has delivered nothing, when the
 * answer is the host's: the conntrack gate passed every packet of its to
 * the normal path, and the host tracks no connection at all (no rule uses
 * conntrack: a Kubernetes node's kube-proxy rules always do). "" else. */
static const char *packet_waiting(const struct mc_endpoint *ep, const struct mc_stats *st)
{
	if (!(ep->pkt_flags & MC_PKT_ON) || (ep->pkt_flags & MC_PKT_TRUST) || st->tc_pkts_redirected ||
	    !st->tc_pkts_policy || conntrack_count() > 0)
		return "";
	return "packet shortcut waiting: the host does not track connections, so the conntrack "
	       "gate passes every packet to the normal path";
}

static int list_one(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	struct list_state *ls = data;
	char attached[160], degraded[160], pkt[80], ips[MC_MAX_ADDRS * 48] = "", a[64], mac[24];
	struct mc_stats st;
	size_t off = 0;
	cJSON *o, *arr;

	ep_stats(ls->node, ep->slot, &st);
	ep_attached_str(ep->attached, attached, sizeof(attached));
	ep_degraded_str(ep->degraded, degraded, sizeof(degraded));
	ep_pkt_flags_str(ep->pkt_flags, pkt, sizeof(pkt));
	ls->count++;
	if (!ls->json) {
		for (__u32 i = 0; i < ep->n_addrs && i < MC_MAX_ADDRS; i++)
			off += snprintf(ips + off, sizeof(ips) - off, "%s%s", i ? "," : "",
					mc_addr_str(&ep->addrs[i], a, sizeof(a)));
		printf("%-16.16s %-6s %-24.24s %-9s %-15s %-28s %-28s %s%s%s pkt=%llu/%llu msg=%llu/%llu\n",
		       key->container_id, key->ifname,
		       ep->k8s_pod[0] ? ep->k8s_pod : "-", ep_state_name(ep->state),
		       ep->veth_name[0] ? ep->veth_name : "-", ips[0] ? ips : "-", attached,
		       ep->degraded ? degraded : "", ep->degraded ? ": " : "",
		       ep->degraded ? ep->reason : "",
		       (unsigned long long)st.tc_pkts_redirected, (unsigned long long)st.tc_pkts_seen,
		       (unsigned long long)st.msg_redirected,
		       (unsigned long long)(st.msg_redirected + st.msg_passed));
		if (packet_waiting(ep, &st)[0])
			printf("  %s\n", packet_waiting(ep, &st));
		return 0;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "containerID", key->container_id);
	cJSON_AddStringToObject(o, "ifname", key->ifname);
	cJSON_AddStringToObject(o, "network", ep->network);
	cJSON_AddStringToObject(o, "namespace", ep->k8s_namespace);
	cJSON_AddStringToObject(o, "pod", ep->k8s_pod);
	cJSON_AddStringToObject(o, "state", ep_state_name(ep->state));
	cJSON_AddNumberToObject(o, "slot", ep->slot);
	arr = cJSON_AddArrayToObject(o, "ips");
	for (__u32 i = 0; i < ep->n_addrs && i < MC_MAX_ADDRS; i++) {
		char cidr[80];

		snprintf(cidr, sizeof(cidr), "%s/%u", mc_addr_str(&ep->addrs[i], a, sizeof(a)),
			 ep->addrs[i].prefixlen);
		cJSON_AddItemToArray(arr, cJSON_CreateString(cidr));
	}
	cJSON_AddStringToObject(o, "veth", ep->veth_name);
	cJSON_AddNumberToObject(o, "vethIfindex", ep->veth_ifindex);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ep->veth_mac[0], ep->veth_mac[1],
		 ep->veth_mac[2], ep->veth_mac[3], ep->veth_mac[4], ep->veth_mac[5]);
	cJSON_AddStringToObject(o, "vethMac", mac);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ep->pod_mac[0], ep->pod_mac[1],
		 ep->pod_mac[2], ep->pod_mac[3], ep->pod_mac[4], ep->pod_mac[5]);
	cJSON_AddStringToObject(o, "podMac", mac);
	cJSON_AddStringToObject(o, "cgroup", ep->cgroup_path);
	cJSON_AddNumberToObject(o, "cgroupId", (double)ep->cgroup_id);
	cJSON_AddNumberToObject(o, "netnsCookie", (double)ep->netns_cookie);
	cJSON_AddStringToObject(o, "attached", attached);
	cJSON_AddStringToObject(o, "degraded", ep->degraded ? degraded : "");
	cJSON_AddStringToObject(o, "reason", ep->reason);
	cJSON_AddStringToObject(o, "packetShortcut", pkt);
	cJSON_AddStringToObject(o, "packetWaiting", packet_waiting(ep, &st));
	cJSON_AddNumberToObject(o, "createdUnix", (double)(__u64)(ep->created_ns / 1000000000ULL));
	add_stats(o, &st);
	cJSON_AddItemToArray(ls->arr, o);
	return 0;
}

/* The node section: each feature, on or off and why (docs/features.md). */
static void node_features(const struct mc_node *node, cJSON *doc, bool json)
{
	cJSON *feats = cJSON_AddObjectToObject(cJSON_AddObjectToObject(doc, "node"), "features");
	char d[MC_FEAT_WHY_MAX + 128];

	for (int i = 0; i < MC_FEAT_COUNT; i++) {
		const struct mc_feature *f = &node->features[i];
		cJSON *o = cJSON_AddObjectToObject(feats, mc_feature_names[i]);

		cJSON_AddStringToObject(o, "state", mc_feature_state_name(f->state));
		cJSON_AddBoolToObject(o, "on", f->state == MC_FEAT_ON);
		if (f->state != MC_FEAT_ON) {
			node_feature_why(node, i, d, sizeof(d));
			cJSON_AddStringToObject(o, "program", f->program);
			cJSON_AddNumberToObject(o, "errno", f->err);
			cJSON_AddStringToObject(o, "error", f->err ? strerror(f->err) : "");
			cJSON_AddStringToObject(o, "why", f->why);
			cJSON_AddStringToObject(o, "summary", d);
		}
		if (!json) {
			node_feature_why(node, i, d, sizeof(d));
			printf("  feature %s\n", d);
		}
	}
}

int cli_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "bpffs-root", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root = MC_DEFAULT_BPFFS_ROOT;
	struct list_state ls = { 0 };
	struct mc_node_summary sum;
	struct mc_node node;
	char why[256] = "";
	cJSON *doc;
	int c, ret;

	while ((c = getopt_long(argc, argv, "jr:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ls.json = true;
			break;
		case 'r':
			root = optarg;
			break;
		default:
			fprintf(stderr, "usage: meshcut status [--json] [--bpffs-root DIR]\n");
			return 2;
		}
	}
	ret = node_open_summary(&node, root, &sum, why, sizeof(why));
	if (ret < 0 && ret != -ENOENT) {
		fprintf(stderr, "meshcut: %s\n", why);
		return 1;
	}
	ls.node = &node;
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "bpffsRoot", root);
	cJSON_AddBoolToObject(doc, "loaded", sum.loaded);
	if (sum.loaded && sum.programs) {
		char h[20];

		snprintf(h, sizeof(h), "%016llx", (unsigned long long)sum.programs);
		cJSON_AddStringToObject(doc, "programs", h);
		cJSON_AddBoolToObject(doc, "programsCurrent", sum.programs_current);
		cJSON_AddBoolToObject(doc, "spliceGuard", sum.splice_guard);
	}
	ls.arr = cJSON_AddArrayToObject(doc, "endpoints");
	if (!ls.json)
		printf("meshcut %s, state under %s: %s\n", MC_VERSION, root, node_summary_str(&sum));
	if (ret == 0) {
		node_features(&node, doc, ls.json);
		if (!ls.json)
			printf("%-16s %-6s %-24s %-9s %-15s %-28s %-28s %s\n", "CONTAINER", "IF",
			       "POD", "STATE", "VETH", "IPS", "ATTACHED", "DEGRADED / COUNTERS");
		ep_foreach(&node, list_one, &ls);
		node_close(&node);
	}
	if (ls.json)
		mc_print_json(doc);
	else
		printf("%d endpoint%s\n", ls.count, ls.count == 1 ? "" : "s");
	cJSON_Delete(doc);
	return 0;
}
