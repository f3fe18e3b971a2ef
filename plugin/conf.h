/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MC_CONF_H
#define MC_CONF_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "cni.h"
#include "log.h"
#include "mc_endpoint.h"
#include "mc_sock.h"

#define MC_DEFAULT_BPFFS_ROOT "/sys/fs/bpf/meshcut"
#define MC_PATH_MAX 256
#define MC_MAX_PREV_IFACES 16
#define MC_MAX_ATTACHMENTS 8192

enum mc_failure_policy { MC_FAIL_IGNORE = 0, MC_FAIL_FAIL };
enum mc_tc_mode { MC_TC_AUTO = 0, MC_TC_TCX, MC_TC_LEGACY };
/* which pod-to-pod packets the tc program may deliver directly */
enum mc_pkt_policy { MC_POLICY_CONNTRACK = 0, MC_POLICY_TRUST };
/* spliceGuard: whether socketRedirect needs the node's splice guard */
enum mc_splice_guard { MC_GUARD_REQUIRED = 0, MC_GUARD_OPTIONAL };
/* socketRevoke: whether sockets of two pods pair only where the host's
 * conntrack revocations reach them (socket-revoke) */
enum mc_socket_revoke { MC_REVOKE_REQUIRED = 0, MC_REVOKE_OPTIONAL };

struct mc_prev_iface {
	char name[MC_IFNAMSIZ];
	unsigned char mac[6];
	bool has_mac;
	bool in_sandbox; /* "sandbox" set: a pod-side interface */
};

struct mc_attachment {
	char container_id[MC_CONTAINER_ID_MAX];
	char ifname[MC_IFNAMSIZ];
};

struct mc_conf {
	char cni_version[16];
	char name[MC_NETWORK_MAX];
	char log_file[MC_PATH_MAX];
	enum mc_log_level log_level;
	char bpffs_root[MC_PATH_MAX];
	char cgroup_root[MC_PATH_MAX]; /* empty: detect */
	enum mc_failure_policy failure_policy;
	bool socket_shortcut;
	bool socket_redirect; /* socketRedirect: sockets may enter the sockhash */
	enum mc_splice_guard splice_guard; /* spliceGuard */
	enum mc_socket_revoke socket_revoke; /* socketRevoke */
	bool packet_shortcut;
	enum mc_tc_mode tc_mode;
	enum mc_pkt_policy pkt_policy;
	int n_exclude_ports; /* excludePorts: never shortcut these TCP ports */
	__u16 exclude_ports[MC_MAX_EXCLUDE_PORTS];
	char rc_cgroup_path[MC_PATH_MAX]; /* runtimeConfig.cgroupPath */

	/* prevResult, when present; the object itself is kept for printing */
	cJSON *prev_result; /* borrowed from the parsed document */
	int n_prev_ifaces;
	struct mc_prev_iface prev_ifaces[MC_MAX_PREV_IFACES];
	int n_addrs;
	struct mc_addr addrs[MC_MAX_ADDRS];
	int n_addrs_dropped; /* pod IPs beyond MC_MAX_ADDRS */

	/* GC */
	bool has_attachments;
	int n_attachments;
	struct mc_attachment *attachments; /* malloc'd */
};

/* Validates everything up front; nothing on the node is touched before it
 * returns 0. */
int parse_conf(cJSON *root, const struct mc_env *env, struct mc_conf *conf, struct mc_err *err);
void conf_free(struct mc_conf *conf);

int mc_parse_mac(const char *s, unsigned char mac[6]);
/* "10.1.2.3/24" or "fd00::3/64" */
int mc_parse_cidr(const char *s, struct mc_addr *out);
const char *mc_addr_str(const struct mc_addr *a, char *buf, size_t n);

#endif
