// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfobj.h"
#include "log.h"
#include "mc_sock.h"
#include "sock.h"

int sock_cfg_write(const struct mc_node *node, __u32 slot, const struct mc_conf *conf,
		   __u32 flags)
{
	struct mc_sock_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = flags;
	if (conf)
		for (int i = 0; i < conf->n_exclude_ports && i < MC_MAX_EXCLUDE_PORTS; i++)
			cfg.exclude_ports[i] = conf->exclude_ports[i];
	if (node->maps[MC_MAP_SOCKCFG] < 0)
		return -EBADF;
	return bpf_map_update_elem(node->maps[MC_MAP_SOCKCFG], &slot, &cfg, BPF_ANY) < 0 ? -errno : 0;
}

/* Run mc_sock_sweep once over mc_socks_v1 with (slot, phase). */
static int sweep(const struct mc_node *node, __u32 slot, __u32 phase, struct mc_sweep *out)
{
	struct mc_sweep arg = { .slot = slot, .phase = phase };
	union bpf_iter_link_info info;
	char buf[64];
	__u32 zero = 0;
	int link, iter, ret = 0;
	ssize_t r;

	memset(out, 0, sizeof(*out));
	if (bpf_map_update_elem(node->maps[MC_MAP_SWEEP], &zero, &arg, BPF_ANY) < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	info.map.map_fd = (__u32)node->maps[MC_MAP_SOCKS];
	LIBBPF_OPTS(bpf_link_create_opts, o, .iter_info = &info, .iter_info_len = sizeof(info));
	link = bpf_link_create(node->progs[MC_PROG_SWEEP], 0, BPF_TRACE_ITER, &o);
	if (link < 0)
		return -errno;
	iter = bpf_iter_create(link);
	if (iter < 0) {
		ret = -errno;
		goto out_link;
	}
	while ((r = read(iter, buf, sizeof(buf))) > 0)
		;
	if (r < 0)
		ret = -errno;
	close(iter);
	if (ret == 0 && bpf_map_lookup_elem(node->maps[MC_MAP_SWEEP], &zero, out) < 0)
		ret = -errno;
out_link:
	close(link);
	return ret;
}

static bool pair_of_slot(const void *key, const void *value, const void *ctx)
{
	const struct mc_pair *v = value;
	__u32 slot = *(const __u32 *)ctx;

	(void)key;
	return !slot || v->slot == slot || v->server_slot == slot;
}

/* Connection ids a client of slot published, or a server of slot claimed:
 * without them nobody can pair with the pod's sockets any more. */
static void pair_sweep(const struct mc_node *node, __u32 slot)
{
	map_delete_if(node->maps[MC_MAP_PAIR], sizeof(struct mc_conn_id), sizeof(struct mc_pair),
		      pair_of_slot, &slot);
}

/* Whether a (v4-mapped) address of mc_sock_tuple is a. */
static bool tuple_addr_is(const __u8 *t, const struct mc_addr *a)
{
	static const __u8 v4_prefix[12] = { [10] = 0xff, [11] = 0xff };

	if (a->family == MC_AF_INET)
		return memcmp(t, v4_prefix, 12) == 0 && memcmp(t + 12, a->addr, 4) == 0;
	return memcmp(t, a->addr, 16) == 0;
}

static bool revoked_of_ep(const void *key, const void *value, const void *ctx)
{
	const struct mc_sock_tuple *t = key;
	const struct mc_endpoint *ep = ctx;

	(void)value;
	for (__u32 i = 0; i < ep->n_addrs && i < MC_MAX_ADDRS; i++)
		if (tuple_addr_is(t->local, &ep->addrs[i]))
			return true;
	return false;
}

void sock_revoke_sweep(const struct mc_node *node, const struct mc_endpoint *ep)
{
	map_delete_if(node->maps[MC_MAP_REVOKE], sizeof(struct mc_sock_tuple), sizeof(__u64), revoked_of_ep, ep);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int sock_teardown(const struct mc_node *node, __u32 slot, int wait_ms)
{
	struct mc_sweep res = { 0 };
	int ret, waited = 0;

	if (node->maps[MC_MAP_SOCKS] < 0 || node->maps[MC_MAP_PAIR] < 0)
		return 0; /* the socket shortcut is off: nothing of this kind was made */
	if (node->maps[MC_MAP_SWEEP] < 0 || node->progs[MC_PROG_SWEEP] < 0) {
		/* socket-teardown off: no socket was let in (cmd_add.c) */
		pair_sweep(node, slot);
		return 0;
	}
	ret = sweep(node, slot, MC_SWEEP_MARK, &res);
	if (ret < 0) {
		log_warn("cannot stop the socket shortcut of slot %u: %s", slot, strerror(-ret));
		pair_sweep(node, slot);
		return ret;
	}
	/* A sender that read its mc_sock just before MARK may still be
	 * handing over its last message: let it finish. Only then remove the
	 * pod's connection entries: a socket takes a missing entry to mean
	 * that nothing more comes (sock_leave in meshcut.bpf.c). */
	if (res.matched)
		sleep_ms(20);
	pair_sweep(node, slot);
	if (!res.matched)
		return 0;
	for (;;) {
		ret = sweep(node, slot, MC_SWEEP_REMOVE, &res);
		if (ret < 0) {
			log_warn("cannot remove sockets of slot %u: %s", slot, strerror(-ret));
			return ret;
		}
		if (!res.pending || waited >= wait_ms)
			break;
		sleep_ms(20);
		waited += 20;
	}
	if (res.pending)
		log_warn("%u sockets still hold redirected data their reader has not read; they stay in the shortcut until they close",
			 res.pending);
	log_info("socket shortcut: %u sockets taken out", res.removed);
	return (int)res.pending;
}
