// SPDX-License-Identifier: Apache-2.0
/* The agent's Prometheus endpoint (text format 0.0.4). A deliberately small
 * HTTP/1.1 server: one request per connection, read and written with
 * timeouts from the agent's single loop, so a slow or silent client costs
 * the loop at most about two seconds and never blocks it for good. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "endpoint.h"
#include "log.h"
#include "metrics.h"
#include "node.h"
#include "policy.h"
#include "stats.h"
#include "util.h"
#include "version.h"

#define REQ_MAX 4096
#define IO_TIMEOUT_S 1.0
#define CONNS_PER_WAKE 8

int metrics_listen(const char *addr, char *why, size_t n)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	char host[64];
	const char *colon = strrchr(addr, ':');
	char *end;
	long port;
	int fd, one = 1, zero = 0, ret;
	size_t hl;

	if (!colon)
		goto bad;
	port = strtol(colon + 1, &end, 10);
	hl = (size_t)(colon - addr);
	if (*end || colon[1] == '\0' || port < 1 || port > 65535 || hl >= sizeof(host))
		goto bad;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			goto bad;
		s6->sin6_family = AF_INET6;
	} else if (hl == 0) {
		s6->sin6_family = AF_INET6; /* in6addr_any, and IPv4 through it */
	} else if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
	} else {
		goto bad;
	}
	if (ss.ss_family == AF_INET6)
		s6->sin6_port = htons((uint16_t)port);
	else
		s4->sin_port = htons((uint16_t)port);

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 && hl == 0 && errno == EAFNOSUPPORT) {
		/* no IPv6 on this node: every IPv4 address then */
		memset(&ss, 0, sizeof(ss));
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	}
	if (fd < 0) {
		ret = -errno;
		snprintf(why, n, "socket: %s", strerror(errno));
		return ret;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 && hl == 0)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, sizeof(ss)) < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		snprintf(why, n, "cannot listen on %s: %s", addr, strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
bad:
	snprintf(why, n, "--metrics wants IP:PORT, [IPv6]:PORT or :PORT, not '%s'", addr);
	return -EINVAL;
}

/* --- exposition ------------------------------------------------------- */

/* A label value as the text format wants it: \, " and newline escaped. */
static void label(FILE *f, const char *name, const char *v, bool last)
{
	fprintf(f, "%s=\"", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputs(last ? "\"" : "\",", f);
}

/* An endpoint's label set, and one more label if name is not NULL. */
static void ep_labels(FILE *f, const struct mc_ep_key *key, const struct mc_endpoint *ep,
		      const char *name, const char *value)
{
	fputc('{', f);
	label(f, "namespace", ep->k8s_namespace, false);
	label(f, "pod", ep->k8s_pod, false);
	label(f, "container_id", key->container_id, false);
	label(f, "interface", key->ifname, !(name && value));
	if (name && value)
		label(f, name, value, true);
	fputc('}', f);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP meshcut_%s %s\n# TYPE meshcut_%s %s\n", name, help, name, type);
}

/* Each feature on (1) or off (0), and for each one off, why. */
static void node_features(FILE *f, const struct mc_node *node)
{
	char err[16];

	head(f, "node_feature", "gauge",
	     "1 when the datapath feature is on, 0 when the kernel refused it or what it needs.");
	for (int i = 0; i < MC_FEAT_COUNT; i++) {
		fputs("meshcut_node_feature{", f);
		label(f, "feature", mc_feature_names[i], true);
		fprintf(f, "} %d\n", node_feature_on(node, i));
	}
	head(f, "node_feature_off_info", "gauge",
	     "1 for each feature that is off: the program refused, its errno and the kernel's words.");
	for (int i = 0; i < MC_FEAT_COUNT; i++) {
		const struct mc_feature *ft = &node->features[i];

		if (ft->state == MC_FEAT_ON)
			continue;
		snprintf(err, sizeof(err), "%d", ft->err);
		fputs("meshcut_node_feature_off_info{", f);
		label(f, "feature", mc_feature_names[i], false);
		label(f, "state", mc_feature_state_name(ft->state), false);
		label(f, "program", ft->program, false);
		label(f, "errno", err, false);
		label(f, "reason", ft->why, true);
		fputs("} 1\n", f);
	}
}

struct collect {
	const struct mc_node *node;
	size_t n, cap;
	struct ep_row {
		struct mc_ep_key key;
		struct mc_endpoint ep;
		struct mc_stats st;
		struct mc_policy pol;
		struct mc_sock_cfg cfg;
		bool has_pol;
	} *rows;
};

static int collect_one(const struct mc_ep_key *key, const struct mc_endpoint *ep, void *data)
{
	struct collect *c = data;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct ep_row *r = realloc(c->rows, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		c->rows = r;
		c->cap = cap;
	}
	c->rows[c->n].key = *key;
	c->rows[c->n].ep = *ep;
	ep_stats(c->node, ep->slot, &c->rows[c->n].st);
	c->rows[c->n].has_pol =
		policy_get(c->node, ep, &c->rows[c->n].pol, &c->rows[c->n].cfg) == 0;
	c->n++;
	return 0;
}

/* The endpoint policy (docs/endpoint-policy.md) of each endpoint. */
static void policy_metrics(FILE *f, const struct collect *c)
{
	head(f, "endpoint_policy", "gauge",
	     "1 when the endpoint's policy has the shortcut on, 0 when off (meshcut endpoint get).");
	for (size_t i = 0; i < c->n; i++) {
		const struct ep_row *r = &c->rows[i];

		if (!r->has_pol)
			continue;
		fputs("meshcut_endpoint_policy", f);
		ep_labels(f, &r->key, &r->ep, "shortcut", "socket");
		fprintf(f, " %d\n", r->pol.socket);
		fputs("meshcut_endpoint_policy", f);
		ep_labels(f, &r->key, &r->ep, "shortcut", "packet");
		fprintf(f, " %d\n", r->pol.packet);
	}
	head(f, "endpoint_policy_excluded_port", "gauge",
	     "1 for each port the endpoint's policy keeps off the socket shortcut.");
	for (size_t i = 0; i < c->n; i++) {
		const struct ep_row *r = &c->rows[i];

		for (int p = 0; r->has_pol && p < r->pol.n_ports; p++) {
			char port[8];

			snprintf(port, sizeof(port), "%u", r->pol.ports[p]);
			fputs("meshcut_endpoint_policy_excluded_port", f);
			ep_labels(f, &r->key, &r->ep, "port", port);
			fputs(" 1\n", f);
		}
	}
	head(f, "endpoint_policy_generation", "gauge",
	     "How often meshcut endpoint changed the endpoint's policy since its ADD.");
	for (size_t i = 0; i < c->n; i++) {
		const struct ep_row *r = &c->rows[i];

		if (!r->has_pol)
			continue;
		fputs("meshcut_endpoint_policy_generation", f);
		ep_labels(f, &r->key, &r->ep, NULL, NULL);
		fprintf(f, " %u\n", r->cfg.gen);
	}
}

void metrics_render(FILE *f, const char *root, const struct mc_agent_stats *st)
{
	static const __u32 states[] = { MC_EP_PENDING, MC_EP_READY, MC_EP_DEGRADED };
	struct mc_node_summary sum;
	struct collect c = { 0 };
	struct mc_node node;
	char why[256];

	head(f, "build_info", "gauge", "The running meshcut's version.");
	fprintf(f, "meshcut_build_info{version=\"%s\"} 1\n", MC_VERSION);
	head(f, "agent_ready", "gauge", "1 while meshcut is the last plugin of the primary conflist.");
	fprintf(f, "meshcut_agent_ready %d\n", st->ready);
	head(f, "agent_conf_reinserts_total", "counter",
	     "Times the agent put meshcut back into the primary conflist.");
	fprintf(f, "meshcut_agent_conf_reinserts_total %lu\n", st->reinserts);
	head(f, "agent_backoffs_total", "counter",
	     "Times the agent backed off from another writer of the conflist.");
	fprintf(f, "meshcut_agent_backoffs_total %lu\n", st->backoffs);
	head(f, "agent_orphans_removed_total", "counter",
	     "Endpoints removed because their veth and netns were gone.");
	fprintf(f, "meshcut_agent_orphans_removed_total %lu\n", st->orphans_removed);

	node_open_summary(&node, root, &sum, why, sizeof(why));
	head(f, "node_loaded", "gauge", "1 when meshcut's programs and maps are pinned on this node.");
	fprintf(f, "meshcut_node_loaded %d\n", sum.loaded);
	if (!sum.loaded)
		return;
	c.node = &node;
	ep_foreach(&node, collect_one, &c);
	head(f, "node_programs_current", "gauge",
	     "1 when the node runs this binary's BPF programs, 0 while it runs another version's.");
	fprintf(f, "meshcut_node_programs_current %d\n", sum.programs_current);
	head(f, "node_splice_guard", "gauge", "1 when the splice guard (BPF LSM) is attached.");
	fprintf(f, "meshcut_node_splice_guard %d\n", sum.splice_guard);
	node_features(f, &node);
	node_close(&node);

	head(f, "endpoints", "gauge", "Endpoints on this node by state.");
	for (size_t s = 0; s < MC_ARRAY_SIZE(states); s++) {
		unsigned int n = 0;

		for (size_t i = 0; i < c.n; i++)
			n += c.rows[i].ep.state == states[s];
		fprintf(f, "meshcut_endpoints{state=\"%s\"} %u\n", ep_state_name(states[s]), n);
	}
	head(f, "endpoint_degraded", "gauge",
	     "1 for an endpoint meshcut could not fully accelerate; reasons as in meshcut status.");
	for (size_t i = 0; i < c.n; i++) {
		char d[160];

		if (c.rows[i].ep.state != MC_EP_DEGRADED)
			continue;
		ep_degraded_str(c.rows[i].ep.degraded, d, sizeof(d));
		fputs("meshcut_endpoint_degraded", f);
		ep_labels(f, &c.rows[i].key, &c.rows[i].ep, "reasons", d);
		fputs(" 1\n", f);
	}
	policy_metrics(f, &c);
	for (size_t k = 0; k < mc_stat_fields_n; k++) {
		const struct mc_stat_field *fl = &mc_stat_fields[k];

		head(f, fl->metric, "counter", fl->help);
		for (size_t i = 0; i < c.n; i++) {
			fprintf(f, "meshcut_%s", fl->metric);
			ep_labels(f, &c.rows[i].key, &c.rows[i].ep, NULL, NULL);
			fprintf(f, " %llu\n", (unsigned long long)mc_stat_get(&c.rows[i].st, fl));
		}
	}
	free(c.rows);
}

/* --- HTTP --------------------------------------------------------------- */

/* Waits for fd to be ready for events, until deadline (mc_mono_s()). */
static bool wait_fd(int fd, short events, double deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	double left = deadline - mc_mono_s();

	return left > 0 && poll(&p, 1, (int)(left * 1000) + 1) == 1 && (p.revents & events);
}

static void send_all(int fd, const char *buf, size_t len, double deadline)
{
	while (len > 0 && wait_fd(fd, POLLOUT, deadline)) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return;
		if (w > 0) {
			buf += w;
			len -= (size_t)w;
		}
	}
}

/* The headers, then the body unless it is NULL (HEAD: its length only). */
static void respond(int fd, const char *status, const char *type, const char *body, size_t len,
		    double deadline)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, type, len);

	send_all(fd, hdr, (size_t)n, deadline);
	if (body)
		send_all(fd, body, len, deadline);
}

static void serve_one(int fd, const char *root, const struct mc_agent_stats *st)
{
	double deadline = mc_mono_s() + IO_TIMEOUT_S; /* for the whole request */
	char req[REQ_MAX + 1], *path, *sp, *body = NULL;
	size_t len = 0, blen = 0;
	bool head_only;
	FILE *f;

	/* the request line and headers, until the blank line */
	while (len < REQ_MAX && wait_fd(fd, POLLIN, deadline)) {
		ssize_t r = recv(fd, req + len, REQ_MAX - len, 0);

		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			break;
		}
		len += (size_t)r;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[len] = '\0';
	if (!strchr(req, '\n'))
		return; /* no request line: nothing to answer */
	deadline = mc_mono_s() + IO_TIMEOUT_S; /* for the whole answer */
	head_only = !strncmp(req, "HEAD ", 5);
	if (strncmp(req, "GET ", 4) != 0 && !head_only) {
		static const char m[] = "only GET and HEAD\n";

		respond(fd, "405 Method Not Allowed", "text/plain", m, sizeof(m) - 1, deadline);
		return;
	}
	path = req + (head_only ? 5 : 4);
	sp = strpbrk(path, " ?\r\n");
	if (sp)
		*sp = '\0';
	if (strcmp(path, "/metrics") != 0) {
		static const char m[] = "meshcut serves /metrics\n";

		respond(fd, "404 Not Found", "text/plain", head_only ? NULL : m, sizeof(m) - 1, deadline);
		return;
	}
	f = open_memstream(&body, &blen);
	if (!f)
		return;
	metrics_render(f, root, st);
	fclose(f);
	respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", head_only ? NULL : body,
		blen, deadline);
	free(body);
}

void metrics_serve(int lfd, const char *root, const struct mc_agent_stats *st)
{
	for (int i = 0; i < CONNS_PER_WAKE; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("metrics: accept: %s", strerror(errno));
			return;
		}
		serve_one(fd, root, st);
		close(fd);
	}
}
