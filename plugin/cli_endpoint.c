// SPDX-License-Identifier: Apache-2.0
/* `meshcut endpoint get|set|apply`: the endpoint policy, read and changed
 * in place (docs/endpoint-policy.md). An endpoint is named by its pod
 * (namespace/name, as the runtime passed it in CNI_ARGS) or its container
 * ID; every interface of it is meant. A change is checked whole before
 * anything is written: an unknown endpoint, a bad value or a shortcut the
 * endpoint cannot have changes nothing. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "meshcut.h"
#include "node.h"
#include "policy.h"
#include "util.h"

#define MAX_TARGETS 1024 /* entries of one apply file */
#define TARGET_MAX (MC_K8S_NS_MAX + MC_K8S_POD_MAX + 2)

/* One endpoint a target named, and the change for it. */
struct hit {
	struct mc_ep_key key;
	struct mc_endpoint ep;
	const struct mc_policy *change;
};

struct find {
	const char *target;
	struct hit *hits;
	int n, max;
};

static bool target_is(const char *target, const struct mc_ep_key *key,
		      const struct mc_endpoint *ep)
{
	const char *slash = strchr(target, '/');

	if (!slash)
		return strcmp(target, key->container_id) == 0;
	return ep->k8s_pod[0] && strlen(ep->k8s_namespace) == (size_t)(slash - target) &&
	       strncmp(target, ep->k8s_namespace, (size_t)(slash - target)) == 0 &&
	       strcmp(slash + 1, ep->k8s_pod) == 0;
}

static int find_one(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	struct find *f = data;

	if (!target_is(f->target, key, ep))
		return 0;
	if (f->n >= f->max)
		return -E2BIG;
	f->hits[f->n].key = *key;
	f->hits[f->n].ep = *ep;
	f->n++;
	return 0;
}

/* The endpoints target names, appended to hits[*n]; -ENOENT if none. */
static int resolve(const struct mc_node *node, const char *target, struct hit *hits, int *n,
		   int max)
{
	struct find f = { .target = target, .hits = hits + *n, .n = 0, .max = max - *n };
	int ret = ep_foreach(node, find_one, &f);

	if (ret < 0)
		return ret;
	if (!f.n)
		return -ENOENT;
	*n += f.n;
	return 0;
}

static void print_policy(const struct hit *h, const struct mc_policy *p,
			 const struct mc_sock_cfg *c, const char *what)
{
	char ports[8 * MC_MAX_EXCLUDE_PORTS + 8] = "none";
	size_t o = 0;

	for (int i = 0; i < p->n_ports; i++)
		o += (size_t)snprintf(ports + o, sizeof(ports) - o, "%s%u", i ? "," : "", p->ports[i]);
	printf("%s/%s %s %s: socket %s, packet %s, exclude-ports %s, generation %u (%s)%s%s\n",
	       h->ep.k8s_namespace[0] ? h->ep.k8s_namespace : "-", h->ep.k8s_pod[0] ? h->ep.k8s_pod : "-",
	       h->key.container_id, h->key.ifname, p->socket ? "on" : "off", p->packet ? "on" : "off",
	       ports, c->gen, (c->flags & MC_SOCKCFG_LIVE) ? "live" : "conflist", what[0] ? ": " : "",
	       what);
}

/* Print each hit's policy as it is now (what: "changed", "unchanged" or ""). */
static int show(const struct mc_node *node, const struct hit *hits, int n, const char *const *what,
		bool json)
{
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	int ret = 0;

	for (int i = 0; i < n && ret == 0; i++) {
		struct mc_policy p;
		struct mc_sock_cfg c;

		ret = policy_get(node, &hits[i].ep, &p, &c);
		if (ret < 0)
			fprintf(stderr, "meshcut: cannot read the policy of %s: %s\n",
				hits[i].key.container_id, strerror(-ret));
		else if (json) {
			cJSON *o = policy_json(&hits[i].key, &hits[i].ep, &p, &c);

			if (o && what)
				cJSON_AddBoolToObject(o, "changed", strcmp(what[i], "changed") == 0);
			cJSON_AddItemToArray(arr, o);
		} else {
			print_policy(&hits[i], &p, &c, what ? what[i] : "");
		}
	}
	if (json) {
		mc_print_json(arr);
		cJSON_Delete(arr);
	}
	return ret < 0 ? 1 : 0;
}

/* Check every change, then write them all; on any error nothing is written. */
static int change_all(const struct mc_node *node, struct hit *hits, int n, bool json)
{
	const char **what = calloc((size_t)n + 1, sizeof(*what));
	char why[256];
	int ret = 0, changed = 0;

	if (!what)
		return 1;
	for (int i = 0; i < n; i++)
		if (policy_check(node, &hits[i].ep, hits[i].change, why, sizeof(why)) < 0) {
			fprintf(stderr, "meshcut: %s (%s): %s; nothing changed\n", hits[i].key.container_id,
				hits[i].key.ifname, why);
			free(what);
			return 1;
		}
	for (int i = 0; i < n; i++) {
		ret = policy_apply(node, &hits[i].ep, hits[i].change);
		if (ret < 0) {
			fprintf(stderr, "meshcut: cannot write the policy of %s: %s\n",
				hits[i].key.container_id, strerror(-ret));
			free(what);
			return 1;
		}
		what[i] = ret ? "changed" : "unchanged";
		changed += ret;
	}
	ret = show(node, hits, n, what, json);
	if (!json)
		printf("%d of %d endpoint%s changed\n", changed, n, n == 1 ? "" : "s");
	free(what);
	return ret;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: meshcut endpoint get ENDPOINT [--json] [--bpffs-root DIR]\n"
		"       meshcut endpoint set ENDPOINT [--socket on|off] [--packet on|off]\n"
		"                                     [--exclude-ports LIST|none] [--json] [--bpffs-root DIR]\n"
		"       meshcut endpoint apply -f FILE.json [--json] [--bpffs-root DIR]\n"
		"ENDPOINT is namespace/pod or a container ID\n");
	return 2;
}

/* An apply file: a list of entries, or {"endpoints": [...]}. */
static int read_file_changes(const struct mc_node *node, const char *path, struct hit *hits,
			     int *n, struct mc_policy *changes)
{
	const cJSON *list, *e;
	char *buf = NULL, why[256], target[TARGET_MAX];
	size_t len = 0;
	cJSON *doc;
	int ret, i = 0;

	ret = mc_read_file(path, &buf, &len, NULL, 4 << 20);
	if (ret < 0) {
		fprintf(stderr, "meshcut: cannot read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	doc = cJSON_ParseWithLength(buf, len);
	free(buf);
	list = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "endpoints") : doc;
	if (!cJSON_IsArray(list)) {
		fprintf(stderr, "meshcut: %s: not a JSON list of entries (or {\"endpoints\": [...]})\n", path);
		cJSON_Delete(doc);
		return -EINVAL;
	}
	cJSON_ArrayForEach(e, list) {
		int before = *n;

		if (i >= MAX_TARGETS) {
			fprintf(stderr, "meshcut: %s: more than %d entries\n", path, MAX_TARGETS);
			ret = -E2BIG;
			break;
		}
		ret = policy_from_json(e, target, sizeof(target), &changes[i], why, sizeof(why));
		if (ret < 0) {
			fprintf(stderr, "meshcut: %s: entry %d: %s; nothing changed\n", path, i + 1, why);
			break;
		}
		ret = resolve(node, target, hits, n, MAX_TARGETS);
		if (ret < 0) {
			fprintf(stderr, "meshcut: %s: entry %d: %s; nothing changed\n", path, i + 1,
				ret == -ENOENT ? "no endpoint of that name on this node" : strerror(-ret));
			if (ret == -ENOENT)
				fprintf(stderr, "meshcut:   (%s)\n", target);
			break;
		}
		for (int h = before; h < *n; h++)
			hits[h].change = &changes[i];
		i++;
	}
	cJSON_Delete(doc);
	return ret;
}

int cli_endpoint(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	      { "bpffs-root", required_argument, NULL, 'r' },
		{ "socket", required_argument, NULL, 's' },   { "packet", required_argument, NULL, 'p' },
		{ "exclude-ports", required_argument, NULL, 'x' }, { "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const verbs[] = { "get", "set", "apply" };
	enum { GET, SET, APPLY, NONE } verb = NONE;
	const char *root = MC_DEFAULT_BPFFS_ROOT, *file = NULL;
	struct mc_policy change, *changes = NULL;
	struct hit *hits = NULL;
	struct mc_node node;
	char why[256] = "";
	bool json = false, any_change = false;
	int c, n = 0, ret;

	if (argc < 2)
		return usage();
	for (size_t i = 0; i < MC_ARRAY_SIZE(verbs); i++)
		if (strcmp(argv[1], verbs[i]) == 0)
			verb = (int)i;
	if (verb == NONE)
		return usage();
	policy_keep(&change);
	optind = 2;
	while ((c = getopt_long(argc, argv, "jr:f:", opts, NULL)) != -1) {
		bool is_set = c == 's' || c == 'p' || c == 'x';

		if ((is_set && verb != SET) || (c == 'f' && verb != APPLY)) {
			fprintf(stderr, "meshcut: endpoint %s takes no --%s\n", verbs[verb],
				c == 's' ? "socket" : c == 'p' ? "packet" : c == 'x' ? "exclude-ports" : "file");
			return 2;
		}
		any_change |= is_set;
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'r':
			root = optarg;
			break;
		case 's':
		case 'p':
			if (policy_parse_onoff(optarg, c == 's' ? &change.socket : &change.packet) < 0) {
				fprintf(stderr, "meshcut: --%s takes on or off, not \"%s\"\n",
					c == 's' ? "socket" : "packet", optarg);
				return 2;
			}
			break;
		case 'x':
			if (policy_parse_ports(optarg, &change, why, sizeof(why)) < 0) {
				fprintf(stderr, "meshcut: --exclude-ports: %s\n", why);
				return 2;
			}
			break;
		case 'f':
			file = optarg;
			break;
		default:
			return usage();
		}
	}
	if (verb == APPLY ? (!file || optind != argc) : optind != argc - 1)
		return usage();
	if (verb == SET && !any_change) {
		fprintf(stderr, "meshcut: endpoint set needs --socket, --packet or --exclude-ports\n");
		return 2;
	}
	hits = calloc(MAX_TARGETS, sizeof(*hits));
	changes = calloc(MAX_TARGETS, sizeof(*changes));
	if (!hits || !changes) {
		ret = 1;
		goto out;
	}
	ret = node_open(&node, root, verb == GET ? MC_NODE_READ : MC_NODE_WRITE, why, sizeof(why));
	if (ret < 0) {
		fprintf(stderr, "meshcut: %s\n",
			ret == -ENOENT ? "no meshcut node state under that bpffs root" : why);
		ret = 1;
		goto out;
	}
	if (file) {
		ret = read_file_changes(&node, file, hits, &n, changes) < 0 ? 1 : 0;
	} else {
		ret = resolve(&node, argv[optind], hits, &n, MAX_TARGETS);
		if (ret < 0)
			fprintf(stderr, "meshcut: %s: %s\n", argv[optind],
				ret == -ENOENT ? "no endpoint of that name on this node" : strerror(-ret));
		for (int i = 0; i < n; i++)
			hits[i].change = &change;
		ret = ret < 0 ? 1 : 0;
	}
	if (ret == 0)
		ret = verb == GET ? show(&node, hits, n, NULL, json) : change_all(&node, hits, n, json);
	node_close(&node);
out:
	free(hits);
	free(changes);
	return ret;
}
