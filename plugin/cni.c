// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cni.h"
#include "log.h"

const char *const cni_supported_versions[] = { "0.3.0", "0.3.1", "0.4.0",
						"1.0.0", "1.1.0" };
const size_t cni_n_supported_versions =
	MC_ARRAY_SIZE(cni_supported_versions);

int mc_fail(struct mc_err *err, int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	if (err->code)
		return -1;
	err->code = code;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	err->details[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(err->details, sizeof(err->details), fmt, ap);
		va_end(ap);
	}
	return -1;
}

void mc_vdegrade(uint32_t *bits, char *reason, size_t n, uint32_t bit, const char *fmt, va_list ap)
{
	char why[512];

	vsnprintf(why, sizeof(why), fmt, ap);
	*bits |= bit;
	log_warn("endpoint degraded: %s", why);
	if (n && !reason[0])
		snprintf(reason, n, "%.*s", (int)n - 1, why);
}

void cni_print_error(const char *cni_version, const struct mc_err *err)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	if (!cni_version || !cni_version_supported(cni_version))
		cni_version = MC_DEFAULT_CNI_VERSION;
	cJSON_AddStringToObject(o, "cniVersion", cni_version);
	cJSON_AddNumberToObject(o, "code", err->code);
	cJSON_AddStringToObject(o, "msg", err->msg);
	if (err->details[0])
		cJSON_AddStringToObject(o, "details", err->details);
	s = cJSON_Print(o);
	if (s) {
		printf("%s\n", s);
		free(s);
	}
	fflush(stdout);
	cJSON_Delete(o);
	mc_log(MC_LOG_ERROR, "code=%d msg=\"%s\" details=\"%s\"", err->code,
	       err->msg, err->details);
}

bool cni_version_supported(const char *v)
{
	for (size_t i = 0; i < cni_n_supported_versions; i++)
		if (strcmp(v, cni_supported_versions[i]) == 0)
			return true;
	return false;
}

static int parse_version(const char *s, int out[3])
{
	int n = 0;

	out[0] = out[1] = out[2] = -1;
	for (int i = 0; i < 3; i++) {
		char *end;
		long x;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		x = strtol(s, &end, 10);
		if (x > 1000)
			return -EINVAL;
		out[i] = (int)x;
		n++;
		s = end;
		if (*s == '\0')
			break;
		if (*s != '.')
			return -EINVAL;
		s++;
	}
	return *s == '\0' ? n : -EINVAL;
}

int cni_version_cmp(const char *a, const char *b)
{
	int va[3], vb[3];
	int ra = parse_version(a, va), rb = parse_version(b, vb);

	if (ra < 0 || rb < 0)
		return ra < 0 && rb < 0 ? 0 : ra < 0 ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		int x = va[i] < 0 ? 0 : va[i], y = vb[i] < 0 ? 0 : vb[i];

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static const struct {
	const char *name;
	enum cni_command cmd;
} commands[] = {
	{ "ADD", CNI_CMD_ADD },	      { "DEL", CNI_CMD_DEL },
	{ "CHECK", CNI_CMD_CHECK },   { "GC", CNI_CMD_GC },
	{ "STATUS", CNI_CMD_STATUS }, { "VERSION", CNI_CMD_VERSION },
};

enum cni_command cni_command_parse(const char *s)
{
	for (size_t i = 0; s && i < MC_ARRAY_SIZE(commands); i++)
		if (strcmp(s, commands[i].name) == 0)
			return commands[i].cmd;
	return CNI_CMD_NONE;
}

/* SPEC: must start with an alphanumeric character, followed by any of
 * alphanumerics, '_', '.', '-'. It ends up in bpffs paths, so this check
 * is also what keeps "../" out of them. */
bool cni_valid_container_id(const char *id)
{
	if (!id || !isalnum((unsigned char)id[0]))
		return false;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	return true;
}

/* SPEC: not empty, not "." or "..", shorter than 16, no '/', ':' or
 * whitespace. */
bool cni_valid_ifname(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strlen(name);
	if (n == 0 || n >= MC_IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) ||
		    !isprint((unsigned char)*p))
			return false;
	return true;
}

static bool valid_k8s_token(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

/* CNI_ARGS: "K=V;K=V". Keys we do not know are ignored, as libcni's
 * IgnoreUnknown does; a pair without '=' is malformed. */
static int parse_cni_args(struct mc_env *env, const char *args, struct mc_err *err)
{
	char buf[4096];
	char *save = NULL, *tok;

	if (strlen(args) >= sizeof(buf))
		return mc_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_ARGS",
			       "longer than %zu bytes", sizeof(buf) - 1);
	strcpy(buf, args);
	for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tok, '=');
		struct {
			const char *key;
			char *dst;
			size_t max;
		} known[] = {
			{ "K8S_POD_NAMESPACE", env->k8s_namespace, sizeof(env->k8s_namespace) },
			{ "K8S_POD_NAME", env->k8s_pod, sizeof(env->k8s_pod) },
			{ "K8S_POD_UID", env->k8s_pod_uid, sizeof(env->k8s_pod_uid) },
		};

		if (!eq || eq == tok)
			return mc_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_ARGS",
				       "pair '%s' is not KEY=VALUE", tok);
		*eq = '\0';
		for (size_t i = 0; i < MC_ARRAY_SIZE(known); i++) {
			if (strcmp(tok, known[i].key) != 0)
				continue;
			if (eq[1] && !valid_k8s_token(eq + 1, known[i].max))
				return mc_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_ARGS",
					       "%s has an invalid value", tok);
			snprintf(known[i].dst, known[i].max, "%s", eq + 1);
		}
	}
	return 0;
}

/* Which variables each command requires (SPEC "Parameters"). */
#define REQ_CID (1U << 0)
#define REQ_NETNS (1U << 1)
#define REQ_IFNAME (1U << 2)
#define REQ_PATH (1U << 3)

static unsigned int required_for(enum cni_command c)
{
	switch (c) {
	case CNI_CMD_ADD:
	case CNI_CMD_CHECK:
		return REQ_CID | REQ_NETNS | REQ_IFNAME | REQ_PATH;
	case CNI_CMD_DEL:
		return REQ_CID | REQ_IFNAME | REQ_PATH;
	case CNI_CMD_GC:
	case CNI_CMD_STATUS:
		return REQ_PATH;
	default:
		return 0;
	}
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

int mc_env_parse(struct mc_env *env, mc_getenv_fn get, struct mc_err *err)
{
	const char *cmd = nonempty(get("CNI_COMMAND"));
	const char *args = nonempty(get("CNI_ARGS"));
	unsigned int req;

	memset(env, 0, sizeof(*env));
	if (!cmd)
		return mc_fail(err, CNI_ERR_INVALID_ENV, "required env variable CNI_COMMAND is missing", NULL);
	env->command = cni_command_parse(cmd);
	if (env->command == CNI_CMD_NONE)
		return mc_fail(err, CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND",
			       "'%.64s' is none of ADD, DEL, CHECK, GC, STATUS, VERSION", cmd);
	env->command_name = cmd;
	req = required_for(env->command);
	env->container_id = nonempty(get("CNI_CONTAINERID"));
	env->netns = nonempty(get("CNI_NETNS"));
	env->ifname = nonempty(get("CNI_IFNAME"));
	env->path = nonempty(get("CNI_PATH"));

	if ((req & REQ_CID) && !env->container_id)
		return mc_fail(err, CNI_ERR_INVALID_ENV, "required env variable CNI_CONTAINERID is missing", NULL);
	if ((req & REQ_NETNS) && !env->netns)
		return mc_fail(err, CNI_ERR_INVALID_ENV, "required env variable CNI_NETNS is missing", NULL);
	if ((req & REQ_IFNAME) && !env->ifname)
		return mc_fail(err, CNI_ERR_INVALID_ENV, "required env variable CNI_IFNAME is missing", NULL);
	if ((req & REQ_PATH) && !env->path)
		return mc_fail(err, CNI_ERR_INVALID_ENV, "required env variable CNI_PATH is missing", NULL);

	if (env->container_id && (req & REQ_CID)) {
		if (!cni_valid_container_id(env->container_id))
			return mc_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_CONTAINERID",
				       "must start with an alphanumeric character followed by alphanumerics, '_', '.' or '-'");
		env->container_id_too_long = strlen(env->container_id) >= MC_CONTAINER_ID_MAX;
	}
	if (env->ifname && (req & REQ_IFNAME) && !cni_valid_ifname(env->ifname))
		return mc_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_IFNAME",
			       "must be 1-15 characters, not '.' or '..', without '/', ':' or whitespace");
	if (env->netns && (req & (REQ_NETNS | REQ_CID)) && env->netns[0] != '/')
		return mc_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_NETNS",
			       "'%.128s' is not an absolute path", env->netns);
	if (args && (req & REQ_CID) && parse_cni_args(env, args, err) < 0)
		return -1;
	return 0;
}

int mc_read_all(int fd, char **out, size_t *len, struct mc_err *err)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return mc_fail(err, CNI_ERR_IO, "out of memory", NULL);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb;

			if (n > MC_STDIN_MAX) {
				free(buf);
				return mc_fail(err, CNI_ERR_DECODE, "network configuration too large",
					       "stdin exceeds %zu bytes", MC_STDIN_MAX);
			}
			cap = cap * 2 > MC_STDIN_MAX ? MC_STDIN_MAX + 1 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return mc_fail(err, CNI_ERR_IO, "out of memory", NULL);
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return mc_fail(err, CNI_ERR_IO, "cannot read stdin", "%s", strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int mc_print_json(const cJSON *o)
{
	char *s = cJSON_Print(o);

	if (!s)
		return -1;
	printf("%s\n", s);
	free(s);
	return fflush(stdout) == 0 ? 0 : -1;
}
