// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define conf_err(err, ...) mc_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network configuration", __VA_ARGS__)

/* whether a field must be there */
enum need { OPTIONAL, REQUIRED };

static int get_string(cJSON *obj, const char *key, char *dst, size_t n, enum need need,
		      struct mc_err *err)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v)) {
		if (need == REQUIRED)
			return conf_err(err, "field '%s' is required", key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return conf_err(err, "field '%s' must be a string", key);
	if (strlen(v->valuestring) >= n)
		return conf_err(err, "field '%s' is longer than %zu characters", key, n - 1);
	strcpy(dst, v->valuestring);
	return 1;
}

/* An optional string field with one of the given values; *out becomes the
 * index of the value (the enums are declared in the same order). */
static int get_enum(cJSON *obj, const char *key, const char *const *names, int *out,
		    struct mc_err *err)
{
	char buf[64], list[256] = "";
	size_t off = 0;
	int r, i;

	r = get_string(obj, key, buf, sizeof(buf), OPTIONAL, err);
	if (r <= 0)
		return r;
	for (i = 0; names[i]; i++) {
		if (!strcmp(buf, names[i])) {
			*out = i;
			return 0;
		}
	}
	for (int k = 0; k < i && off < sizeof(list); k++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s\"%s\"",
					k == 0 ? "" : k == i - 1 ? " or " : ", ", names[k]);
	return conf_err(err, "field '%s' must be %s", key, list);
}

/* "excludePorts": [15020, 15021]: TCP ports (either end) the socket
 * shortcut leaves alone, e.g. health checks that must see the real path. */
static int get_ports(cJSON *obj, const char *key, struct mc_conf *conf, struct mc_err *err)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key), *e;

	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return conf_err(err, "field '%s' must be an array of port numbers", key);
	if (cJSON_GetArraySize(a) > MC_MAX_EXCLUDE_PORTS)
		return conf_err(err, "field '%s' has more than %d ports", key, MC_MAX_EXCLUDE_PORTS);
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsNumber(e) || e->valuedouble != (double)(int)e->valuedouble ||
		    e->valueint < 1 || e->valueint > 65535)
			return conf_err(err, "field '%s' must hold integers from 1 to 65535", key);
		conf->exclude_ports[conf->n_exclude_ports++] = (__u16)e->valueint;
	}
	return 0;
}

static int get_bool(cJSON *obj, const char *key, bool *dst, struct mc_err *err)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return conf_err(err, "field '%s' must be true or false", key);
	*dst = cJSON_IsTrue(v);
	return 1;
}

static int check_abs_path(const char *key, const char *p, struct mc_err *err)
{
	if (p[0] != '/')
		return conf_err(err, "field '%s' must be an absolute path", key);
	if (strstr(p, "/../") || (strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/..")))
		return conf_err(err, "field '%s' must not contain '..'", key);
	return 0;
}

int mc_parse_mac(const char *s, unsigned char mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)b[i];
	return 0;
}

int mc_parse_cidr(const char *s, struct mc_addr *out)
{
	char buf[64];
	char *slash, *end;
	long plen;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = MC_AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = MC_AF_INET6;
	else
		return -EINVAL;
	if (!slash[1])
		return -EINVAL;
	errno = 0;
	plen = strtol(slash + 1, &end, 10);
	if (errno || *end || plen < 0 || plen > (out->family == MC_AF_INET ? 32 : 128))
		return -EINVAL;
	out->prefixlen = (unsigned char)plen;
	return 0;
}

const char *mc_addr_str(const struct mc_addr *a, char *buf, size_t n)
{
	if (!inet_ntop(a->family == MC_AF_INET ? AF_INET : AF_INET6, a->addr, buf, n))
		snprintf(buf, n, "?");
	return buf;
}

static int parse_prev_result(cJSON *pr, const char *ifname, struct mc_conf *conf,
			     struct mc_err *err)
{
	cJSON *ifaces, *ips, *it;
	int n_ifaces = 0;

	if (!cJSON_IsObject(pr))
		return conf_err(err, "field 'prevResult' must be an object");
	conf->prev_result = pr;

	ifaces = cJSON_GetObjectItemCaseSensitive(pr, "interfaces");
	if (ifaces && !cJSON_IsNull(ifaces)) {
		if (!cJSON_IsArray(ifaces))
			return conf_err(err, "prevResult.interfaces must be an array");
		n_ifaces = cJSON_GetArraySize(ifaces);
		cJSON_ArrayForEach(it, ifaces) {
			struct mc_prev_iface pi;
			char mac[32] = "";
			char sandbox[MC_PATH_MAX] = "";

			memset(&pi, 0, sizeof(pi));
			if (!cJSON_IsObject(it))
				return conf_err(err, "prevResult.interfaces[] must be objects");
			if (get_string(it, "name", pi.name, sizeof(pi.name), REQUIRED, err) < 0 ||
			    get_string(it, "mac", mac, sizeof(mac), OPTIONAL, err) < 0 ||
			    get_string(it, "sandbox", sandbox, sizeof(sandbox), OPTIONAL, err) < 0)
				return -1;
			if (mac[0]) {
				if (mc_parse_mac(mac, pi.mac) < 0)
					return conf_err(err, "prevResult.interfaces[].mac '%s' is not a MAC address", mac);
				pi.has_mac = true;
			}
			pi.in_sandbox = sandbox[0] != '\0';
			if (conf->n_prev_ifaces < MC_MAX_PREV_IFACES)
				conf->prev_ifaces[conf->n_prev_ifaces++] = pi;
		}
	}

	ips = cJSON_GetObjectItemCaseSensitive(pr, "ips");
	if (ips && !cJSON_IsNull(ips)) {
		if (!cJSON_IsArray(ips))
			return conf_err(err, "prevResult.ips must be an array");
		cJSON_ArrayForEach(it, ips) {
			char cidr[64];
			struct mc_addr a;
			cJSON *idx;

			if (!cJSON_IsObject(it))
				return conf_err(err, "prevResult.ips[] must be objects");
			if (get_string(it, "address", cidr, sizeof(cidr), REQUIRED, err) < 0)
				return -1;
			if (mc_parse_cidr(cidr, &a) < 0)
				return conf_err(err, "prevResult.ips[].address '%s' is not an address/prefix", cidr);
			idx = cJSON_GetObjectItemCaseSensitive(it, "interface");
			if (idx && !cJSON_IsNull(idx)) {
				int i;

				if (!cJSON_IsNumber(idx) || idx->valuedouble < 0 ||
				    idx->valuedouble != (double)idx->valueint ||
				    idx->valueint >= n_ifaces)
					return conf_err(err, "prevResult.ips[].interface is not an index into interfaces");
				/* only the addresses of our pod interface */
				i = idx->valueint;
				if (ifname && i < conf->n_prev_ifaces &&
				    (!conf->prev_ifaces[i].in_sandbox ||
				     strcmp(conf->prev_ifaces[i].name, ifname) != 0))
					continue;
			}
			if (conf->n_addrs < MC_MAX_ADDRS)
				conf->addrs[conf->n_addrs++] = a;
			else
				conf->n_addrs_dropped++;
		}
	}
	return 0;
}

static int parse_attachments(cJSON *arr, struct mc_conf *conf, struct mc_err *err)
{
	cJSON *it;
	int n;

	if (!cJSON_IsArray(arr))
		return conf_err(err, "field 'cni.dev/valid-attachments' must be an array");
	n = cJSON_GetArraySize(arr);
	if (n > MC_MAX_ATTACHMENTS)
		return conf_err(err, "more than %d valid attachments", MC_MAX_ATTACHMENTS);
	conf->attachments = calloc(n ? n : 1, sizeof(*conf->attachments));
	if (!conf->attachments)
		return mc_fail(err, CNI_ERR_IO, "out of memory", NULL);
	cJSON_ArrayForEach(it, arr) {
		struct mc_attachment *a = &conf->attachments[conf->n_attachments];
		char cid[1024], ifname[64];

		if (!cJSON_IsObject(it))
			return conf_err(err, "valid attachments must be objects");
		if (get_string(it, "containerID", cid, sizeof(cid), REQUIRED, err) < 0 ||
		    get_string(it, "ifname", ifname, sizeof(ifname), REQUIRED, err) < 0)
			return -1;
		if (!cni_valid_container_id(cid) || !cni_valid_ifname(ifname))
			return conf_err(err, "valid attachment '%.128s'/'%.32s' is not a container ID and interface name",
					cid, ifname);
		/* an ID too long to have a record cannot match one: skip it */
		if (strlen(cid) >= sizeof(a->container_id))
			continue;
		strcpy(a->container_id, cid);
		strcpy(a->ifname, ifname);
		conf->n_attachments++;
	}
	conf->has_attachments = true;
	return 0;
}

int parse_conf(cJSON *root, const struct mc_env *env, struct mc_conf *conf, struct mc_err *err)
{
	enum cni_command cmd = env->command;
	char buf[64];
	cJSON *rc, *pr, *att;
	int r, fp = MC_FAIL_IGNORE, tcm = MC_TC_AUTO, pp = MC_POLICY_CONNTRACK, sg = MC_GUARD_REQUIRED;
	int sr = MC_REVOKE_REQUIRED;

	memset(conf, 0, sizeof(*conf));
	conf->log_level = MC_LOG_WARN;
	strcpy(conf->bpffs_root, MC_DEFAULT_BPFFS_ROOT);
	conf->socket_shortcut = true;
	conf->packet_shortcut = true;

	if (!cJSON_IsObject(root))
		return mc_fail(err, CNI_ERR_DECODE, "failed to decode network configuration",
			       "stdin is not a JSON object");

	if (get_string(root, "cniVersion", conf->cni_version, sizeof(conf->cni_version), REQUIRED, err) < 0)
		return -1;
	if (!cni_version_supported(conf->cni_version)) {
		char v[sizeof(conf->cni_version)], list[128];
		size_t off = 0;

		strcpy(v, conf->cni_version);
		conf->cni_version[0] = '\0'; /* the error itself is printed as 1.1.0 */
		/* from the one table VERSION prints too */
		for (size_t i = 0; i < cni_n_supported_versions; i++)
			off += (size_t)snprintf(list + off, off < sizeof(list) ? sizeof(list) - off : 0,
						"%s\"%s\"", i ? ", " : "", cni_supported_versions[i]);
		return mc_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI versions",
			       "config is \"%s\", plugin supports [%s]", v, list);
	}
	if (get_string(root, "name", conf->name, sizeof(conf->name), REQUIRED, err) < 0)
		return -1;
	if (get_string(root, "type", buf, sizeof(buf), REQUIRED, err) < 0)
		return -1;

	if (get_string(root, "logFile", conf->log_file, sizeof(conf->log_file), OPTIONAL, err) < 0)
		return -1;
	if (conf->log_file[0] && check_abs_path("logFile", conf->log_file, err) < 0)
		return -1;
	r = get_string(root, "logLevel", buf, sizeof(buf), OPTIONAL, err);
	if (r < 0)
		return -1;
	if (r > 0 && mc_log_level_parse(buf, &conf->log_level) < 0)
		return conf_err(err, "field 'logLevel' must be one of error, warn, info, debug");

	if (get_string(root, "bpffsRoot", conf->bpffs_root, sizeof(conf->bpffs_root), OPTIONAL, err) < 0 ||
	    check_abs_path("bpffsRoot", conf->bpffs_root, err) < 0)
		return -1;
	if (strlen(conf->bpffs_root) > 128)
		return conf_err(err, "field 'bpffsRoot' is longer than 128 characters");
	if (get_string(root, "cgroupRoot", conf->cgroup_root, sizeof(conf->cgroup_root), OPTIONAL, err) < 0)
		return -1;
	if (conf->cgroup_root[0] && check_abs_path("cgroupRoot", conf->cgroup_root, err) < 0)
		return -1;

	if (get_enum(root, "failurePolicy", (const char *const[]){ "ignore", "fail", NULL }, &fp, err) < 0 ||
	    get_bool(root, "socketShortcut", &conf->socket_shortcut, err) < 0 ||
	    get_bool(root, "socketRedirect", &conf->socket_redirect, err) < 0 ||
	    get_bool(root, "packetShortcut", &conf->packet_shortcut, err) < 0 ||
	    get_enum(root, "tcAttachMode", (const char *const[]){ "auto", "tcx", "legacy", NULL }, &tcm, err) < 0 ||
	    get_enum(root, "packetPolicy", (const char *const[]){ "conntrack", "trust", NULL }, &pp, err) < 0 ||
	    get_enum(root, "spliceGuard", (const char *const[]){ "required", "optional", NULL }, &sg, err) < 0 ||
	    get_enum(root, "socketRevoke", (const char *const[]){ "required", "optional", NULL }, &sr, err) < 0)
		return -1;
	if (get_ports(root, "excludePorts", conf, err) < 0)
		return -1;
	conf->failure_policy = (enum mc_failure_policy)fp;
	conf->tc_mode = (enum mc_tc_mode)tcm;
	conf->pkt_policy = (enum mc_pkt_policy)pp;
	conf->splice_guard = (enum mc_splice_guard)sg;
	conf->socket_revoke = (enum mc_socket_revoke)sr;

	rc = cJSON_GetObjectItemCaseSensitive(root, "runtimeConfig");
	if (rc && !cJSON_IsNull(rc)) {
		if (!cJSON_IsObject(rc))
			return conf_err(err, "field 'runtimeConfig' must be an object");
		if (get_string(rc, "cgroupPath", conf->rc_cgroup_path, sizeof(conf->rc_cgroup_path), OPTIONAL, err) < 0)
			return -1;
		if (strstr(conf->rc_cgroup_path, ".."))
			return conf_err(err, "runtimeConfig.cgroupPath must not contain '..'");
	}

	pr = cJSON_GetObjectItemCaseSensitive(root, "prevResult");
	if (pr && !cJSON_IsNull(pr)) {
		if (parse_prev_result(pr, env->ifname, conf, err) < 0)
			return -1;
	} else if (cmd == CNI_CMD_ADD || cmd == CNI_CMD_CHECK) {
		return conf_err(err, "must be called as a chained plugin: 'prevResult' is missing");
	}

	if (cmd == CNI_CMD_CHECK && cni_version_cmp(conf->cni_version, "0.4.0") < 0)
		return mc_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI versions",
			       "config version %s does not allow CHECK", conf->cni_version);
	if ((cmd == CNI_CMD_GC || cmd == CNI_CMD_STATUS) && cni_version_cmp(conf->cni_version, "1.1.0") < 0)
		return mc_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI versions",
			       "config version %s does not allow %s", conf->cni_version,
			       cmd == CNI_CMD_GC ? "GC" : "STATUS");

	if (cmd == CNI_CMD_GC) {
		/* the spec's name, and the one libcni also sends (cni#1101) */
		att = cJSON_GetObjectItemCaseSensitive(root, "cni.dev/valid-attachments");
		if (!att || cJSON_IsNull(att))
			att = cJSON_GetObjectItemCaseSensitive(root, "cni.dev/attachments");
		/* Without the list, GC would have to delete every endpoint of this
		 * network: refuse rather than guess. */
		if (!att || cJSON_IsNull(att))
			return conf_err(err, "GC needs 'cni.dev/valid-attachments'");
		if (parse_attachments(att, conf, err) < 0)
			return -1;
	}
	return 0;
}

void conf_free(struct mc_conf *conf)
{
	free(conf->attachments);
	conf->attachments = NULL;
}
