// SPDX-License-Identifier: Apache-2.0
/* The endpoint policy: parse, read, check and write it (policy.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "endpoint.h"
#include "log.h"
#include "policy.h"
#include "util.h"

void policy_keep(struct mc_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->socket = p->packet = p->n_ports = MC_POLICY_KEEP;
}

static int port_cmp(const void *a, const void *b)
{
	return (int)*(const __u16 *)a - (int)*(const __u16 *)b;
}

/* sorted, without repeats: the same set always reads the same */
static int ports_add(struct mc_policy *p, long v, char *why, size_t n)
{
	if (v < 1 || v > 65535)
		return mc_msg(why, n, "port %ld is not between 1 and 65535", v), -EINVAL;
	for (int i = 0; i < p->n_ports; i++)
		if (p->ports[i] == v)
			return 0;
	if (p->n_ports >= MC_MAX_EXCLUDE_PORTS)
		return mc_msg(why, n, "at most %d excluded ports", MC_MAX_EXCLUDE_PORTS), -EINVAL;
	p->ports[p->n_ports++] = (__u16)v;
	qsort(p->ports, (size_t)p->n_ports, sizeof(p->ports[0]), port_cmp);
	return 0;
}

int policy_parse_ports(const char *s, struct mc_policy *p, char *why, size_t n)
{
	const char *c = s;
	char *end;
	int ret;

	p->n_ports = 0;
	memset(p->ports, 0, sizeof(p->ports));
	if (!*s || strcmp(s, "none") == 0)
		return 0;
	for (;;) {
		long v;

		errno = 0;
		v = strtol(c, &end, 10);
		if (end == c || errno || (*end && *end != ','))
			return mc_msg(why, n, "\"%s\" is not a comma-separated list of ports", s), -EINVAL;
		ret = ports_add(p, v, why, n);
		if (ret < 0)
			return ret;
		if (!*end)
			return 0;
		c = end + 1;
	}
}

int policy_parse_onoff(const char *s, int *v)
{
	if (strcmp(s, "on") == 0)
		*v = 1;
	else if (strcmp(s, "off") == 0)
		*v = 0;
	else
		return -EINVAL;
	return 0;
}

static int json_onoff(const cJSON *o, const char *name, int *v, char *why, size_t n)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!x)
		return 0;
	if (cJSON_IsBool(x))
		*v = cJSON_IsTrue(x);
	else if (!cJSON_IsString(x) || policy_parse_onoff(x->valuestring, v) < 0)
		return mc_msg(why, n, "\"%s\" must be \"on\" or \"off\"", name), -EINVAL;
	return 0;
}

int policy_from_json(const cJSON *o, char *target, size_t tn, struct mc_policy *p, char *why,
		     size_t n)
{
	static const char *const known[] = { "pod", "containerId", "socket", "packet", "excludePorts" };
	const cJSON *pod = cJSON_GetObjectItemCaseSensitive(o, "pod");
	const cJSON *cid = cJSON_GetObjectItemCaseSensitive(o, "containerId");
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(o, "excludePorts");
	const cJSON *x;
	int ret;

	policy_keep(p);
	if (!cJSON_IsObject(o))
		return mc_msg(why, n, "an entry is not an object"), -EINVAL;
	cJSON_ArrayForEach(x, o) {
		size_t i;

		for (i = 0; i < MC_ARRAY_SIZE(known); i++)
			if (strcmp(x->string, known[i]) == 0)
				break;
		if (i == MC_ARRAY_SIZE(known))
			return mc_msg(why, n, "unknown field \"%s\"", x->string), -EINVAL;
	}
	if (!!pod == !!cid || !cJSON_IsString(pod ? pod : cid) || !(pod ? pod : cid)->valuestring[0])
		return mc_msg(why, n, "an entry names its endpoint by exactly one of \"pod\" "
			      "(namespace/name) or \"containerId\""), -EINVAL;
	if (pod && !strchr(pod->valuestring, '/'))
		return mc_msg(why, n, "\"pod\" is namespace/name, not \"%s\"", pod->valuestring), -EINVAL;
	if (mc_fmtn(target, tn, "%s", (pod ? pod : cid)->valuestring) < 0)
		return mc_msg(why, n, "the endpoint's name is too long"), -EINVAL;
	if ((ret = json_onoff(o, "socket", &p->socket, why, n)) < 0 ||
	    (ret = json_onoff(o, "packet", &p->packet, why, n)) < 0)
		return ret;
	if (ports) {
		if (!cJSON_IsArray(ports))
			return mc_msg(why, n, "\"excludePorts\" must be a list of ports"), -EINVAL;
		p->n_ports = 0;
		cJSON_ArrayForEach(x, ports) {
			if (!cJSON_IsNumber(x) || x->valuedouble != (double)(long)x->valuedouble)
				return mc_msg(why, n, "\"excludePorts\" must be a list of ports"), -EINVAL;
			if ((ret = ports_add(p, (long)x->valuedouble, why, n)) < 0)
				return ret;
		}
	}
	if (p->socket == MC_POLICY_KEEP && p->packet == MC_POLICY_KEEP && p->n_ports == MC_POLICY_KEEP)
		return mc_msg(why, n, "an entry changes nothing: give socket, packet or excludePorts"),
		       -EINVAL;
	return 0;
}

static int cfg_read(const struct mc_node *node, __u32 slot, struct mc_sock_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (node->maps[MC_MAP_SOCKCFG] < 0)
		return -EBADF;
	return bpf_map_lookup_elem(node->maps[MC_MAP_SOCKCFG], &slot, cfg) < 0 ? -errno : 0;
}

int policy_get(const struct mc_node *node, const struct mc_endpoint *ep, struct mc_policy *out,
	       struct mc_sock_cfg *cfg)
{
	struct mc_sock_cfg c;
	int ret = cfg_read(node, ep->slot, &c);

	if (ret < 0)
		return ret;
	memset(out, 0, sizeof(*out));
	out->socket = !!(c.flags & MC_SOCKCFG_REDIRECT);
	out->packet = (ep->pkt_flags & MC_PKT_ON) && !(c.flags & MC_SOCKCFG_PACKET_OFF);
	for (int i = 0; i < MC_MAX_EXCLUDE_PORTS; i++)
		if (c.exclude_ports[i])
			out->ports[out->n_ports++] = c.exclude_ports[i];
	qsort(out->ports, (size_t)out->n_ports, sizeof(out->ports[0]), port_cmp);
	if (cfg)
		*cfg = c;
	return 0;
}

int policy_check(const struct mc_node *node, const struct mc_endpoint *ep,
		 const struct mc_policy *change, char *why, size_t n)
{
	struct mc_sock_cfg c;
	int ret = cfg_read(node, ep->slot, &c);

	if (ret < 0)
		return mc_msg(why, n, "cannot read its policy: %s", strerror(-ret)), ret;
	if (change->socket == 1 && !(c.flags & MC_SOCKCFG_REDIRECT) &&
	    (!(ep->attached & MC_ATT_SOCKOPS) || !(c.flags & MC_SOCKCFG_CAPABLE)))
		return mc_msg(why, n, "the socket shortcut cannot carry this endpoint's sockets: %s",
			      !(ep->attached & MC_ATT_SOCKOPS)
				      ? "its sockops program is not attached (socketShortcut off, or no cgroup)"
				      : "the node lacks what socketRedirect needs (meshcut status says what)"),
		       -ENOTSUP;
	if (change->packet == 1 && !(ep->pkt_flags & MC_PKT_ON))
		return mc_msg(why, n, "the packet shortcut is not set up for this endpoint "
			      "(packetShortcut off, not a veth, or the node refused the program)"),
		       -ENOTSUP;
	return 0;
}

/* Move the node's policy generation: every socket reads its policy again
 * at its next message. mc_ct_revoke adds to it too; a lost race between
 * the two still leaves a value no socket has seen. */
static int gen_bump(const struct mc_node *node)
{
	struct mc_sock_cfg c;
	__u32 slot = MC_SOCKCFG_NODE_SLOT;
	int ret = cfg_read(node, slot, &c);

	if (ret < 0)
		return ret;
	c.gen++;
	return bpf_map_update_elem(node->maps[MC_MAP_SOCKCFG], &slot, &c, BPF_ANY) < 0 ? -errno : 0;
}

int policy_apply(const struct mc_node *node, const struct mc_endpoint *ep,
		 const struct mc_policy *change)
{
	struct mc_policy now;
	struct mc_sock_cfg c, want;
	int ret = policy_get(node, ep, &now, &c);

	if (ret < 0)
		return ret;
	want = c;
	if (change->socket != MC_POLICY_KEEP) {
		want.flags &= ~MC_SOCKCFG_REDIRECT;
		want.flags |= change->socket ? MC_SOCKCFG_REDIRECT : 0;
	}
	if (change->packet != MC_POLICY_KEEP) {
		want.flags &= ~MC_SOCKCFG_PACKET_OFF;
		want.flags |= change->packet ? 0 : MC_SOCKCFG_PACKET_OFF;
	}
	if (change->n_ports != MC_POLICY_KEEP) {
		memset(want.exclude_ports, 0, sizeof(want.exclude_ports));
		for (int i = 0; i < change->n_ports && i < MC_MAX_EXCLUDE_PORTS; i++)
			want.exclude_ports[i] = change->ports[i];
	}
	if (memcmp(want.exclude_ports, c.exclude_ports, sizeof(c.exclude_ports)) == 0 &&
	    ((want.flags ^ c.flags) & (MC_SOCKCFG_REDIRECT | MC_SOCKCFG_PACKET_OFF)) == 0)
		return 0; /* idempotent: nothing written, no generation moved */
	want.flags |= MC_SOCKCFG_LIVE;
	want.gen = c.gen + 1;
	/* the policy first, then the packet flags, then the generation: a
	 * socket that sees the new generation reads the new policy */
	if (bpf_map_update_elem(node->maps[MC_MAP_SOCKCFG], &ep->slot, &want, BPF_EXIST) < 0)
		return -errno;
	if ((want.flags ^ c.flags) & MC_SOCKCFG_PACKET_OFF) {
		__u32 flags = ep->pkt_flags;

		if (want.flags & MC_SOCKCFG_PACKET_OFF)
			flags &= ~MC_PKT_ON;
		ret = ep_datapath_flags(node, ep, flags);
		if (ret < 0)
			return ret;
	}
	ret = gen_bump(node);
	return ret < 0 ? ret : 1;
}

cJSON *policy_json(const struct mc_ep_key *key, const struct mc_endpoint *ep,
		   const struct mc_policy *p, const struct mc_sock_cfg *cfg)
{
	cJSON *o = cJSON_CreateObject(), *ports;
	char pod[MC_K8S_NS_MAX + MC_K8S_POD_MAX + 2] = "";

	if (!o)
		return NULL;
	if (ep->k8s_pod[0])
		mc_fmt(pod, "%s/%s", ep->k8s_namespace, ep->k8s_pod);
	cJSON_AddStringToObject(o, "pod", pod);
	cJSON_AddStringToObject(o, "containerId", key->container_id);
	cJSON_AddStringToObject(o, "interface", key->ifname);
	cJSON_AddStringToObject(o, "socket", p->socket ? "on" : "off");
	cJSON_AddStringToObject(o, "packet", p->packet ? "on" : "off");
	ports = cJSON_AddArrayToObject(o, "excludePorts");
	for (int i = 0; i < p->n_ports; i++)
		cJSON_AddItemToArray(ports, cJSON_CreateNumber(p->ports[i]));
	cJSON_AddNumberToObject(o, "generation", cfg->gen);
	cJSON_AddStringToObject(o, "source", (cfg->flags & MC_SOCKCFG_LIVE) ? "live" : "conflist");
	return o;
}
