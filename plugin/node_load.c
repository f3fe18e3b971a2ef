// SPDX-License-Identifier: Apache-2.0
/* Loading the node: the embedded BPF objects, one per datapath feature,
 * each loaded on its own, and what the node records of each (the state,
 * the program refused, the errno and the kernel's words). node.c opens
 * what this pinned. docs/features.md. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "endpoint.h"
#include "log.h"
#include "mc_base.skel.h"
#include "mc_guard.skel.h"
#include "mc_objhash.h"
#include "mc_packet.skel.h"
#include "mc_packet_trust.skel.h"
#include "mc_revoke.skel.h"
#include "mc_revoke_kprobe.skel.h"
#include "mc_socket.skel.h"
#include "mc_sweep.skel.h"
#include "mc_verdict.skel.h"
#include "mc_names.h"
#include "node.h"
#include "node_load.h"
#include "version.h"

/* pins of map layouts this binary replaced (a new suffix each time) */
static const char *const obsolete_maps[] = { MC_OBSOLETE_MAPS };

/* What the loader loads, in order: mc_base first (the maps; without it
 * nothing works), then the features. A feature is on only if its object
 * loads (or its probe of the kernel passes) and what it needs is on; an
 * entry whose feature an earlier one decided is skipped. docs/features.md
 * says why one object per feature. */
#define NO_FEATURE (-1)
#define BIT(f) (1U << (f))
static int probe_sock_queue(struct mc_feature *f);
static const struct feat_obj {
	const char *name;
	const void *(*elf)(size_t *sz);	   /* the embedded object, or NULL: */
	int (*probe)(struct mc_feature *f); /* a probe of the kernel instead */
	int feature;			    /* MC_FEAT_*, or NO_FEATURE for mc_base */
	int also;			    /* a feature its load turns on too */
	__u32 needs;			    /* features it needs */
	bool pin_progs;			    /* its programs are pinned */
	bool retry; /* loaded where an earlier entry's object for the same
		     * feature was refused */
} feat_objs[] = {
	{ "mc_base", mc_base_bpf__elf_bytes, NULL, NO_FEATURE, NO_FEATURE, 0, false, false },
	/* the packet program with the conntrack gate turns on both; where the
	 * kernel refuses it, the one without serves "trust" pods */
	{ "mc_packet", mc_packet_bpf__elf_bytes, NULL, MC_FEAT_CT_GATE, MC_FEAT_PACKET, 0, true, false },
	{ "mc_packet_trust", mc_packet_trust_bpf__elf_bytes, NULL, MC_FEAT_PACKET, NO_FEATURE, 0, true, false },
	{ "mc_socket", mc_socket_bpf__elf_bytes, NULL, MC_FEAT_SOCKET, NO_FEATURE, 0, true, false },
	{ "sk_psock.msg_tot_len", NULL, probe_sock_queue, MC_FEAT_SOCK_QUEUE, NO_FEATURE,
	  BIT(MC_FEAT_SOCKET), false, false },
	{ "mc_sweep", mc_sweep_bpf__elf_bytes, NULL, MC_FEAT_SOCK_TEARDOWN, NO_FEATURE,
	  BIT(MC_FEAT_SOCKET), true, false },
	{ "mc_guard", mc_guard_bpf__elf_bytes, NULL, MC_FEAT_SPLICE_GUARD, NO_FEATURE,
	  BIT(MC_FEAT_SOCKET), false, false },
	/* fentry where the kernel allows it, else a kprobe */
	{ "mc_revoke", mc_revoke_bpf__elf_bytes, NULL, MC_FEAT_SOCK_REVOKE, NO_FEATURE,
	  BIT(MC_FEAT_SOCKET), false, false },
	{ "mc_revoke_kprobe", mc_revoke_kprobe_bpf__elf_bytes, NULL, MC_FEAT_SOCK_REVOKE, NO_FEATURE,
	  BIT(MC_FEAT_SOCKET), false, true },
	{ "mc_verdict", mc_verdict_bpf__elf_bytes, NULL, MC_FEAT_VERDICT_CACHE, NO_FEATURE,
	  BIT(MC_FEAT_CT_GATE), false, false },
};
#define N_OBJS MC_ARRAY_SIZE(feat_objs)

/* Of the objects this binary embeds, made by the build (Makefile): a
 * node loaded by another build, or a test build with another object
 * (upgrade.bats), records another */
uint64_t node_embedded_hash(void)
{
	return MC_OBJ_HASH;
}

static void feature_set(struct mc_feature *f, __u32 state, int err, const char *program,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void feature_set(struct mc_feature *f, __u32 state, int err, const char *program,
			const char *fmt, ...)
{
	va_list ap;

	memset(f, 0, sizeof(*f));
	f->state = state;
	f->err = err;
	snprintf(f->program, sizeof(f->program), "%s", program ? program : "");
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
}

/* The name of an object's first program (what a refusal names when
 * libbpf named none). */
static const char *first_prog(struct bpf_object *obj)
{
	struct bpf_program *prog = bpf_object__next_program(obj, NULL);

	return prog ? bpf_program__name(prog) : "";
}

/* Open and load one embedded object, reusing the pinned maps (libbpf
 * pin_path; internal maps such as .rodata stay the object's own). On
 * failure, f says what the kernel refused and in its words. */
static struct bpf_object *obj_load(const struct mc_node *node, const struct feat_obj *o,
				   struct mc_feature *f, int *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = o->name);
	struct mc_libbpf_words w = { 0 };
	char p[MC_PATH_MAX + 64];
	struct bpf_object *obj;
	struct bpf_map *map;
	const void *elf;
	size_t sz;
	int ret;

	elf = o->elf(&sz);
	mc_log_libbpf_capture(&w);
	obj = bpf_object__open_mem(elf, sz, &oo);
	ret = obj ? 0 : -errno;
	if (obj)
		bpf_object__for_each_map(map, obj) {
			if (bpf_map__is_internal(map))
				continue;
			ret = mc_fmt(p, "%s/maps/%s", node->root, bpf_map__name(map));
			if (ret == 0)
				ret = bpf_map__set_pin_path(map, p);
			if (ret < 0)
				break;
		}
	if (ret == 0)
		ret = bpf_object__load(obj);
	mc_log_libbpf_capture(NULL);
	if (ret == 0) {
		*err = 0;
		return obj;
	}
	feature_set(f, MC_FEAT_REFUSED, -ret, w.program[0] ? w.program : obj ? first_prog(obj) : "",
		    "%s", w.why[0] ? w.why : strerror(-ret));
	bpf_object__close(obj);
	*err = ret;
	return NULL;
}

static int pin_progs(const struct mc_node *node, struct bpf_object *obj, struct mc_feature *f)
{
	char p[MC_PATH_MAX + 64];
	int ret;

	for (int i = 0; i < MC_PROG_COUNT; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, mc_prog_names[i]);

		if (!prog)
			continue;
		ret = prog_path(node->root, i, p, sizeof(p));
		if (ret == 0)
			ret = pin_replace(bpf_program__fd(prog), p);
		if (ret < 0) {
			feature_set(f, MC_FEAT_REFUSED, -ret, mc_prog_names[i], "cannot pin %s", p);
			return ret;
		}
	}
	return 0;
}

/* What a feature needs beyond loading: mc_sk_msg becomes the sockhash's
 * verdict program (a socket keeps the program it was inserted with, so an
 * upgrade reaches new connections only); the splice guard and the
 * conntrack revocation and verdict cache hooks are attached node-wide and
 * their links pinned, replacing the previous ones. A kprobe link can be pinned only
 * where the kernel makes kprobes bpf_links (BPF_LINK_TYPE_PERF_EVENT): on
 * older kernels the pin fails and socket-revoke is off. */
static const char *feature_link_pin(int id)
{
	switch (id) {
	case MC_FEAT_SPLICE_GUARD:
		return MC_GUARD_PIN;
	case MC_FEAT_SOCK_REVOKE:
		return MC_REVOKE_PIN;
	case MC_FEAT_VERDICT_CACHE:
		return MC_VERDICT_PIN;
	default:
		return NULL; /* no node-wide link */
	}
}

static int feature_attach(const struct mc_node *node, int id, struct bpf_object *obj,
			  struct mc_feature *f)
{
	struct mc_libbpf_words w = { 0 };
	struct bpf_program *prog;
	struct bpf_link *link;
	struct bpf_map *socks;
	char p[MC_PATH_MAX + 64];
	int ret = 0;

	if (id == MC_FEAT_SOCKET) {
		prog = bpf_object__find_program_by_name(obj, mc_prog_names[MC_PROG_SK_MSG]);
		socks = bpf_object__find_map_by_name(obj, mc_map_names[MC_MAP_SOCKS]);
		if (!prog || !socks)
			ret = -ENOENT;
		else if (bpf_prog_attach(bpf_program__fd(prog), bpf_map__fd(socks),
					 BPF_SK_MSG_VERDICT, 0) < 0)
			ret = -errno;
		if (ret < 0)
			feature_set(f, MC_FEAT_REFUSED, -ret, mc_prog_names[MC_PROG_SK_MSG],
				    "cannot attach it to %s", mc_map_names[MC_MAP_SOCKS]);
		return ret;
	}
	if (!feature_link_pin(id) || mc_fmt(p, "%s/%s", node->root, feature_link_pin(id)) < 0)
		return feature_link_pin(id) ? -ENAMETOOLONG : 0;
	prog = bpf_object__next_program(obj, NULL);
	mc_log_libbpf_capture(&w);
	if (!prog)
		link = NULL;
	else if (id == MC_FEAT_SPLICE_GUARD)
		link = bpf_program__attach_lsm(prog);
	else
		link = bpf_program__attach(prog); /* its SEC() names nf_ct_delete */
	ret = link ? pin_replace(bpf_link__fd(link), p) : -errno;
	mc_log_libbpf_capture(NULL);
	bpf_link__destroy(link); /* the pin holds it */
	if (ret < 0)
		feature_set(f, MC_FEAT_REFUSED, -ret, prog ? bpf_program__name(prog) : "",
			    "attach: %s", w.why[0] ? w.why : strerror(-ret));
	return ret;
}

/* What is pinned of a feature that is off goes: programs of an older
 * object that the kernel now refuses must not look current, and
 * node_has_guard() must tell the truth. */
static void feature_unpin(const struct mc_node *node, int id)
{
	char p[MC_PATH_MAX + 64];

	for (int i = 0; i < MC_PROG_COUNT; i++)
		if ((int)mc_prog_feature[i] == id && prog_path(node->root, i, p, sizeof(p)) == 0)
			unlink(p);
	if (feature_link_pin(id) && mc_fmt(p, "%s/%s", node->root, feature_link_pin(id)) == 0)
		unlink(p);
}

/* MESHCUT_REFUSE, or 0 (a bad name is logged and refuses nothing) */
static __u32 refused_by_env(void)
{
	char bad[64] = "";
	__u32 mask = 0;

	if (mc_feature_mask_parse(getenv("MESHCUT_REFUSE"), &mask, bad, sizeof(bad)) < 0) {
		log_warn("MESHCUT_REFUSE: no feature is called \"%s\"; it refuses nothing", bad);
		return 0;
	}
	return mask;
}

/* A feature MESHCUT_REFUSE names: refused where a refusal of o would be. */
static void feature_forced(struct mc_feature *f, const struct feat_obj *o)
{
	struct bpf_object *obj = NULL;
	const void *elf;
	size_t sz = 0;

	/* opened only for the name of the program it would refuse */
	if (o->elf) {
		elf = o->elf(&sz);
		obj = bpf_object__open_mem(elf, sz, NULL);
	}
	feature_set(f, MC_FEAT_FORCED, EPERM, obj ? first_prog(obj) : o->name, "MESHCUT_REFUSE=%s",
		    getenv("MESHCUT_REFUSE"));
	bpf_object__close(obj);
}

/* The socket shortcut bounds what a writer may queue towards a reader by
 * the reader's psock byte count (psock_queued() in bpf/sock.h). A kernel
 * whose sk_psock has none (before 6.6.128, 6.12.75) loads mc_sk_msg, but
 * it could hand nothing over: say so rather than look on. */
static int probe_sock_queue(struct mc_feature *f)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_member *m;
	const struct btf_type *t;
	int id, ret = -ENOENT;

	if (!btf) {
		ret = -errno;
		feature_set(f, MC_FEAT_REFUSED, -ret, "mc_sk_msg", "no kernel BTF to read sk_psock from");
		return ret;
	}
	id = btf__find_by_name_kind(btf, "sk_psock", BTF_KIND_STRUCT);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	m = t ? btf_members(t) : NULL;
	for (int i = 0; m && i < btf_vlen(t); i++)
		if (strcmp(btf__name_by_offset(btf, m[i].name_off), "msg_tot_len") == 0)
			ret = 0;
	btf__free(btf);
	if (ret < 0)
		feature_set(f, MC_FEAT_REFUSED, ENOTSUP, "mc_sk_msg",
			    "the kernel's struct sk_psock has no msg_tot_len: what a writer queues "
			    "towards a reader cannot be bounded");
	return ret;
}

/* Load one feature after mc_base: its object, then what it attaches. */
static void feature_load(struct mc_node *node, const struct feat_obj *o, __u32 refuse)
{
	struct mc_feature *f = &node->features[o->feature], first = *f;
	struct bpf_object *obj;
	int ret;

	if (f->state != MC_FEAT_UNKNOWN && !(o->retry && f->state == MC_FEAT_REFUSED))
		return; /* an earlier entry decided it */
	if (o->also != NO_FEATURE && (refuse & BIT(o->also))) {
		feature_forced(&node->features[o->also], o);
		feature_set(f, MC_FEAT_NEEDS, 0, "", "needs %s, which is off", mc_feature_names[o->also]);
		return;
	}
	for (int d = 0; d < MC_FEAT_COUNT; d++)
		if ((o->needs & BIT(d)) && node->features[d].state != MC_FEAT_ON) {
			feature_set(f, MC_FEAT_NEEDS, 0, "", "needs %s, which is off", mc_feature_names[d]);
			return;
		}
	if (refuse & BIT(o->feature)) {
		feature_forced(f, o);
		return;
	}
	if (!o->elf) {
		if (o->probe(f) == 0)
			feature_set(f, MC_FEAT_ON, 0, "", "%s", "");
		return;
	}
	obj = obj_load(node, o, f, &ret);
	if (obj && (!o->pin_progs || pin_progs(node, obj, f) == 0) &&
	    feature_attach(node, o->feature, obj, f) == 0) {
		feature_set(f, MC_FEAT_ON, 0, "", "%s", "");
		if (o->also != NO_FEATURE)
			feature_set(&node->features[o->also], MC_FEAT_ON, 0, "", "%s", "");
	}
	/* the programs and maps live on through their pins */
	bpf_object__close(obj);
	if (f->state == MC_FEAT_REFUSED && first.state == MC_FEAT_REFUSED) {
		/* both refused: say why of each (the first's words first) */
		char why[2 * MC_FEAT_WHY_MAX + 64];

		snprintf(why, sizeof(why), "%s; %s: %s", first.why, o->name, f->why);
		snprintf(f->why, sizeof(f->why), "%.*s", (int)sizeof(f->why) - 1, why);
	}
}

/* Load the embedded objects, pin their programs, record which features
 * are on, and move every existing endpoint to the programs just pinned.
 * Fails only if mc_base cannot load: then the node can record nothing. */
int node_load(struct mc_node *node, char *why, size_t why_len)
{
	__u32 refuse = refused_by_env(), zero = 0;
	struct mc_feature base_f;
	struct bpf_object *base;
	struct mc_node_info info;
	struct timespec ts;
	char p[MC_PATH_MAX + 64], desc[MC_FEAT_WHY_MAX + 128];
	int ret;

	base = obj_load(node, &feat_objs[0], &base_f, &ret);
	if (!base) {
		mc_msg(why, why_len, "cannot create the BPF maps: %s", base_f.why);
		return ret;
	}
	bpf_object__close(base); /* pinned */
	memset(node->features, 0, sizeof(node->features));
	for (size_t o = 1; o < N_OBJS; o++)
		feature_load(node, &feat_objs[o], refuse);
	for (int i = 0; i < MC_FEAT_COUNT; i++) {
		if (node_feature_on(node, i))
			continue;
		feature_unpin(node, i);
		node_feature_why(node, i, desc, sizeof(desc));
		/* a kernel without BPF LSM is common: no warning for the guard */
		mc_log(i == MC_FEAT_SPLICE_GUARD ? MC_LOG_INFO : MC_LOG_WARN, "%s", desc);
	}
	close_fds(node);
	ret = open_pinned(node); /* node->features stay what this load found */
	if (ret < 0) {
		mc_msg(why, why_len, "cannot open pinned node objects: %s", strerror(-ret));
		return ret;
	}
	for (__u32 i = 0; i < MC_FEAT_COUNT && node->maps[MC_MAP_FEATURES] >= 0; i++)
		if (bpf_map_update_elem(node->maps[MC_MAP_FEATURES], &i, &node->features[i], BPF_ANY) < 0)
			log_warn("cannot record feature %s: %s", mc_feature_names[i], strerror(errno));
	for (size_t i = 0; i < MC_ARRAY_SIZE(obsolete_maps); i++) {
		if (mc_fmt(p, "%s/maps/%s", node->root, obsolete_maps[i]) == 0 && unlink(p) == 0)
			log_info("removed %s, replaced by a newer layout", p);
	}
	/* existing endpoints run the programs just pinned */
	ret = endpoints_upgrade(node);
	if (ret < 0)
		log_warn("some endpoints still run the previous programs: %s", strerror(-ret));
	memset(&info, 0, sizeof(info));
	info.abi = MC_NODE_ABI;
	info.obj_hash = node->obj_hash;
	clock_gettime(CLOCK_REALTIME, &ts);
	info.loaded_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	snprintf(info.version, sizeof(info.version), "%s", MC_VERSION);
	ret = bpf_map_update_elem(node->maps[MC_MAP_NODE], &zero, &info, BPF_ANY) < 0 ? -errno : 0;
	if (ret < 0)
		mc_msg(why, why_len, "cannot record node version: %s", strerror(-ret));
	log_info("loaded node programs (objects %016llx) under %s", (unsigned long long)node->obj_hash,
		 node->root);
	return ret;
}

/* Whether the features the node recorded were loaded under the same
 * MESHCUT_REFUSE as this call's: if not, load again. */
bool node_same_refusals(const struct mc_node *node)
{
	__u32 refuse = refused_by_env();

	for (int i = 0; i < MC_FEAT_COUNT; i++)
		if ((node->features[i].state == MC_FEAT_FORCED) != !!(refuse & BIT(i)) ||
		    node->features[i].state == MC_FEAT_UNKNOWN)
			return false;
	return true;
}
