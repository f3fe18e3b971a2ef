/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MC_CGROUP_H
#define MC_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "cni.h"
#include "conf.h"

/* Mount point of the cgroup2 hierarchy: /sys/fs/cgroup on unified hosts,
 * /sys/fs/cgroup/unified on hybrid ones. */
int cgroup2_mount(char *out, size_t n);
/* Is path on a cgroup2 filesystem? */
int cgroup_is_cgroup2(const char *path);
/* The 64-bit cgroup id (what bpf_get_current_cgroup_id() returns). */
int cgroup_id_of(const char *path, uint64_t *id);

enum mc_cgroup_source {
	MC_CG_NONE = 0,
	MC_CG_RUNTIME_CONFIG, /* runtimeConfig.cgroupPath */
	MC_CG_POD_UID,	      /* K8S_POD_UID under the cgroup root */
	MC_CG_NETNS_PROCESS,  /* a process already in the pod netns */
};

struct mc_cgroup {
	enum mc_cgroup_source source;
	char path[MC_CGROUP_PATH_MAX]; /* absolute */
	uint64_t id;
	char why[MC_REASON_MAX]; /* when not found */
};

/* Systemd slice name -> path: "kubepods-besteffort-pod1.slice" ->
 * "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice" */
int cgroup_expand_slice(const char *slice, char *out, size_t n);
/* Find the pod cgroup strictly below root; -ENOENT with cg->why set if no
 * method finds one. Never returns root itself. */
int cgroup_find_pod(const char *root, const struct mc_conf *conf,
		    const struct mc_env *env, struct mc_cgroup *cg);

/* cgroup root from config, else the detected cgroup2 mount. */
int mc_cgroup_root(const struct mc_conf *conf, char *out, size_t n);

#endif
