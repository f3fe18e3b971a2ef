/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI protocol side: environment, versions, the one error path. */
#ifndef MC_CNI_H
#define MC_CNI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_endpoint.h"
#include "util.h"

/* CNI spec 1.1 well-known error codes, and ours (100+). */
enum cni_code {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_NOT_AVAILABLE = 50,
	CNI_ERR_NOT_AVAILABLE_LIMITED = 51,
	MC_ERR_SETUP = 100,	/* acceleration failed with failurePolicy fail */
	MC_ERR_CHECK = 101,	/* CHECK found missing or stale state */
	MC_ERR_STATE = 102,	/* node state (bpffs) unusable */
	MC_ERR_GC = 103,	/* GC could not remove every stale endpoint */
};

struct mc_err {
	int code; /* 0: no error */
	char msg[256];
	char details[1024];
};

/* Fill *err (first error wins) and return -1. */
int mc_fail(struct mc_err *err, int code, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The one place errors are printed: CNI error JSON on stdout. */
void cni_print_error(const char *cni_version, const struct mc_err *err);

#define MC_DEFAULT_CNI_VERSION "1.1.0"
extern const char *const cni_supported_versions[];
extern const size_t cni_n_supported_versions;
bool cni_version_supported(const char *v);
/* <0, 0, >0 like strcmp, for dotted versions; unparsable sorts lowest */
int cni_version_cmp(const char *a, const char *b);

enum cni_command {
	CNI_CMD_NONE = 0,
	CNI_CMD_ADD,
	CNI_CMD_DEL,
	CNI_CMD_CHECK,
	CNI_CMD_GC,
	CNI_CMD_STATUS,
	CNI_CMD_VERSION,
};

struct mc_env {
	enum cni_command command;
	const char *command_name;
	const char *container_id; /* validated, NULL when not given */
	const char *netns;
	const char *ifname;
	const char *path;
	bool container_id_too_long; /* valid per spec but beyond our key size */
	/* CNI_ARGS keys we use; unknown keys are ignored */
	char k8s_namespace[MC_K8S_NS_MAX];
	char k8s_pod[MC_K8S_POD_MAX];
	char k8s_pod_uid[80];
};

typedef const char *(*mc_getenv_fn)(const char *name);

enum cni_command cni_command_parse(const char *s);
/* Reads and validates CNI_* per the spec's table of required variables. */
int mc_env_parse(struct mc_env *env, mc_getenv_fn get, struct mc_err *err);
bool cni_valid_container_id(const char *id);
bool cni_valid_ifname(const char *name);

struct cJSON;
/* Print a JSON document on stdout (the CNI result channel). */
int mc_print_json(const struct cJSON *o);

#define MC_STDIN_MAX ((size_t)1024 * 1024)
/* Reads at most MC_STDIN_MAX bytes; *out is NUL terminated, free() it. */
int mc_read_all(int fd, char **out, size_t *len, struct mc_err *err);

/* Degraded: set bit in *bits, and write the reason into reason[] if it is
 * still empty (the first reason is the one to read); every one is logged. */
void mc_vdegrade(uint32_t *bits, char *reason, size_t n, uint32_t bit, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

#endif
