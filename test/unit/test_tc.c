// SPDX-License-Identifier: Apache-2.0
/* Datapath unit tests: the real tc program, loaded from the embedded
 * skeleton, run on hand-made packets with BPF_PROG_TEST_RUN. The test run
 * reports the verdict and returns the packet as the program left it, so
 * MAC rewrite, TTL and checksum are checked byte for byte. Needs root;
 * skipped otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mc_datapath.h"
#include "mc_node.h"
#include "mc_stats.h"
#include "mc_packet.skel.h"

#define LO 1	       /* test runs put the packet on loopback: our "sender veth" */
#define DST_VETH 4242 /* never dereferenced: the test run does not redirect */
#define SLOT_A 1
#define SLOT_B 2

static const __u8 mac_a[6] = { 0x02, 0, 0, 0, 0, 0xa }, veth_a[6] = { 0x02, 0, 0, 0, 0, 0xaa };
static const __u8 mac_b[6] = { 0x02, 0, 0, 0, 0, 0xb }, veth_b[6] = { 0x02, 0, 0, 0, 0, 0xbb };

struct pkt4 {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
	__u8 payload[32];
} __attribute__((packed));

struct pkt6 {
	struct ethhdr eth;
	struct ipv6hdr ip;
	struct tcphdr tcp;
	__u8 payload[32];
} __attribute__((packed));

static __u16 csum16(const void *p, size_t n)
{
	const __u8 *b = p;
	__u32 s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (__u32)(b[i] << 8 | b[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static void put_dp(struct mc_packet_bpf *s, int fam, const char *ip, __u32 slot, __u32 veth,
		   const __u8 *pod, const __u8 *vmac, __u32 flags)
{
	struct mc_dp_key k = { .family = (__u8)(fam == AF_INET ? MC_AF_INET : MC_AF_INET6) };
	struct mc_dp_value v = { .veth_ifindex = veth, .slot = slot, .flags = flags };

	assert_int_equal(inet_pton(fam, ip, k.addr), 1);
	memcpy(v.pod_mac, pod, 6);
	memcpy(v.veth_mac, vmac, 6);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(s->maps.mc_dp_v1), &k, &v, BPF_ANY), 0);
}

/* a (slot 1, sending on "lo") and b (slot 2), both with the given flags */
static struct mc_packet_bpf *setup_node(__u32 flags_a, __u32 flags_b)
{
	struct mc_veth_value ref = { .slot = SLOT_A, .flags = flags_a, .n_addrs = 2 };
	__u32 lo = LO;
	struct mc_packet_bpf *s;
	int err;

	if (geteuid() != 0)
		return NULL;
	s = mc_packet_bpf__open();
	assert_non_null(s);
	/* a kernel that refuses the packet shortcut's program: the node turns
	 * that feature off (node.c), and there is nothing here to test */
	err = mc_packet_bpf__load(s);
	if (err < 0) {
		printf("# skip: the kernel refuses mc_tc_ingress: %s\n", strerror(-err));
		mc_packet_bpf__destroy(s);
		return NULL;
	}
	/* a's own addresses and gateway MAC, as ADD writes them */
	memcpy(ref.veth_mac, veth_a, 6);
	ref.addrs[0].family = MC_AF_INET;
	assert_int_equal(inet_pton(AF_INET, "10.1.0.2", ref.addrs[0].addr), 1);
	ref.addrs[1].family = MC_AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "fd01::2", ref.addrs[1].addr), 1);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(s->maps.mc_veth_v2), &lo, &ref, BPF_ANY), 0);
	put_dp(s, AF_INET, "10.1.0.2", SLOT_A, LO, mac_a, veth_a, flags_a);
	put_dp(s, AF_INET, "10.1.0.3", SLOT_B, DST_VETH, mac_b, veth_b, flags_b);
	put_dp(s, AF_INET6, "fd01::2", SLOT_A, LO, mac_a, veth_a, flags_a);
	put_dp(s, AF_INET6, "fd01::3", SLOT_B, DST_VETH, mac_b, veth_b, flags_b);
	return s;
}

static void make4(struct pkt4 *p, const __u8 *dmac, const char *src, const char *dst, __u8 ttl)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->eth.h_dest, dmac, 6);
	memcpy(p->eth.h_source, mac_a, 6);
	p->eth.h_proto = htons(ETH_P_IP);
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.tot_len = htons(sizeof(*p) - sizeof(p->eth));
	p->ip.ttl = ttl;
	p->ip.protocol = IPPROTO_TCP;
	inet_pton(AF_INET, src, &p->ip.saddr);
	inet_pton(AF_INET, dst, &p->ip.daddr);
	p->ip.check = htons(csum16(&p->ip, sizeof(p->ip)));
	p->tcp.source = htons(40000);
	p->tcp.dest = htons(80);
	p->tcp.doff = 5;
	p->tcp.ack = 1;
	memset(p->payload, 'x', sizeof(p->payload));
}

static void make6(struct pkt6 *p, const __u8 *dmac, __u8 hops)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->eth.h_dest, dmac, 6);
	memcpy(p->eth.h_source, mac_a, 6);
	p->eth.h_proto = htons(ETH_P_IPV6);
	p->ip.version = 6;
	p->ip.payload_len = htons(sizeof(p->tcp) + sizeof(p->payload));
	p->ip.nexthdr = IPPROTO_TCP;
	p->ip.hop_limit = hops;
	inet_pton(AF_INET6, "fd01::2", &p->ip.saddr);
	inet_pton(AF_INET6, "fd01::3", &p->ip.daddr);
	p->tcp.doff = 5;
}

/* Run the tc program on pkt (in place); returns its verdict. */
static int run(struct mc_packet_bpf *s, void *pkt, size_t len)
{
	struct __sk_buff ctx = { .ifindex = LO };
	__u8 out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(s->progs.mc_tc_ingress), &o), 0);
	assert_int_equal(o.data_size_out, len);
	memcpy(pkt, out, len);
	return (int)o.retval;
}

/* The packet takes the normal path, exactly as it came. */
static void expect_untouched(struct mc_packet_bpf *s, struct pkt4 *p)
{
	struct pkt4 orig = *p;

	assert_int_equal(run(s, p, sizeof(*p)), TC_ACT_UNSPEC);
	assert_memory_equal(p, &orig, sizeof(*p));
}

static struct mc_stats stats_a(struct mc_packet_bpf *s)
{
	int ncpu = libbpf_num_possible_cpus();
	struct mc_stats v[ncpu], sum = { 0 };
	__u32 slot = SLOT_A;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(s->maps.mc_stats_v5), &slot, v), 0);
	for (int c = 0; c < ncpu; c++) {
		sum.tc_pkts_redirected += v[c].tc_pkts_redirected;
		sum.tc_pkts_passed += v[c].tc_pkts_passed;
		sum.tc_pkts_policy += v[c].tc_pkts_policy;
		sum.tc_pkts_cached += v[c].tc_pkts_cached;
	}
	return sum;
}

#define NEED(s)                                        \
	do {                                           \
		if (!(s))                              \
			skip(); /* not root, or no such program */         \
	} while (0)

static void test_routed_v4_rewrites_like_a_router(void **state)
{
	__u32 f = MC_PKT_ON | MC_PKT_ROUTED | MC_PKT_TRUST;
	struct mc_packet_bpf *s = setup_node(f, f);
	struct pkt4 p, orig;

	(void)state;
	NEED(s);
	make4(&p, veth_a, "10.1.0.2", "10.1.0.3", 64);
	orig = p;
	assert_int_equal(run(s, &p, sizeof(p)), TC_ACT_REDIRECT);
	assert_memory_equal(p.eth.h_dest, mac_b, 6);
	assert_memory_equal(p.eth.h_source, veth_b, 6);
	assert_int_equal(p.ip.ttl, 63);
	assert_int_equal(csum16(&p.ip, sizeof(p.ip)), 0); /* checksum still valid */
	/* nothing else changed */
	orig.ip.ttl = 63;
	orig.ip.check = p.ip.check;
	assert_memory_equal(&p.ip, &orig.ip, sizeof(p.ip));
	assert_memory_equal(&p.tcp, &orig.tcp, sizeof(p.tcp) + sizeof(p.payload));
	assert_int_equal(stats_a(s).tc_pkts_redirected, 1);
	mc_packet_bpf__destroy(s);
}

static void test_routed_v6_decrements_hop_limit(void **state)
{
	__u32 f = MC_PKT_ON | MC_PKT_ROUTED | MC_PKT_TRUST;
	struct mc_packet_bpf *s = setup_node(f, f);
	struct pkt6 p;

	(void)state;
	NEED(s);
	make6(&p, veth_a, 64);
	assert_int_equal(run(s, &p, sizeof(p)), TC_ACT_REDIRECT);
	assert_int_equal(p.ip.hop_limit, 63);
	assert_memory_equal(p.eth.h_dest, mac_b, 6);
	mc_packet_bpf__destroy(s);
}

static void test_bridged_is_delivered_unchanged(void **state)
{
	__u32 f = MC_PKT_ON | MC_PKT_TRUST;
	struct mc_packet_bpf *s = setup_node(f, f);
	struct pkt4 p, orig;

	(void)state;
	NEED(s);
	make4(&p, mac_b, "10.1.0.2", "10.1.0.3", 64);
	orig = p;
	assert_int_equal(run(s, &p, sizeof(p)), TC_ACT_REDIRECT);
	assert_memory_equal(&p, &orig, sizeof(p));
	mc_packet_bpf__destroy(s);
}

static void test_not_for_us_takes_the_normal_path(void **state)
{
	__u32 f = MC_PKT_ON | MC_PKT_ROUTED | MC_PKT_TRUST;
	const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct mc_packet_bpf *s = setup_node(f, f);
	struct pkt4 p;

	(void)state;
	NEED(s);
	/* spoofed source (unknown, or another local pod's), TTL 1, broadcast,
	 * unknown destination, wrong MAC, a fragment: each stays on the normal
	 * path, untouched */
	make4(&p, veth_a, "10.1.0.9", "10.1.0.3", 64);
	expect_untouched(s, &p);
	make4(&p, veth_a, "10.1.0.3", "10.1.0.3", 64);
	expect_untouched(s, &p);
	make4(&p, veth_a, "10.1.0.2", "10.1.0.3", 1);
	expect_untouched(s, &p);
	make4(&p, bcast, "10.1.0.2", "10.1.0.3", 64);
	expect_untouched(s, &p);
	make4(&p, veth_a, "10.1.0.2", "10.1.0.77", 64);
	expect_untouched(s, &p);
	make4(&p, mac_b, "10.1.0.2", "10.1.0.3", 64); /* L2 address to a routed pod */
	expect_untouched(s, &p);
	make4(&p, veth_a, "10.1.0.2", "10.1.0.3", 64);
	p.ip.frag_off = htons(0x2000);
	expect_untouched(s, &p);
	assert_int_equal(stats_a(s).tc_pkts_redirected, 0);
	assert_int_equal(stats_a(s).tc_pkts_passed, 7);
	mc_packet_bpf__destroy(s);
}

static void test_foreign_tc_blocks_redirect(void **state)
{
	__u32 f = MC_PKT_ON | MC_PKT_ROUTED | MC_PKT_TRUST;
	struct mc_packet_bpf *s = setup_node(f | MC_PKT_FOREIGN_IN, f);
	struct pkt4 p;

	(void)state;
	NEED(s);
	make4(&p, veth_a, "10.1.0.2", "10.1.0.3", 64);
	expect_untouched(s, &p);
	mc_packet_bpf__destroy(s);
	s = setup_node(f, f | MC_PKT_FOREIGN_OUT);
	expect_untouched(s, &p);
	mc_packet_bpf__destroy(s);
}

static void test_conntrack_gate_without_a_flow(void **state)
{
	__u32 f = MC_PKT_ON | MC_PKT_ROUTED; /* default policy: conntrack */
	struct mc_packet_bpf *s = setup_node(f, f);
	struct pkt4 p;

	(void)state;
	NEED(s);
	/* no conntrack entry for this flow: normal path, counted as policy */
	make4(&p, veth_a, "10.1.0.2", "10.1.0.3", 64);
	expect_untouched(s, &p);
	assert_int_equal(stats_a(s).tc_pkts_policy, 1);
	assert_int_equal(stats_a(s).tc_pkts_passed, 1);
	mc_packet_bpf__destroy(s);
}

/* remember the flow make4() sends (10.1.0.2:40000 -> 10.1.0.3:80) as
 * accepted age_ns ago, as mc_tc_ingress would */
static void remember(struct mc_packet_bpf *s, __u64 age_ns)
{
	struct mc_verdict_key k = { .l4proto = IPPROTO_TCP };
	struct timespec ts;
	__u64 t;

	inet_pton(AF_INET, "10.1.0.2", k.saddr);
	inet_pton(AF_INET, "10.1.0.3", k.daddr);
	k.sport = htons(40000);
	k.dport = htons(80);
	clock_gettime(CLOCK_MONOTONIC, &ts); /* bpf_ktime_get_ns() */
	t = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec - age_ns;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(s->maps.mc_verdict_v1), &k, &t, BPF_ANY), 0);
}

static void test_conntrack_gate_remembered_verdict(void **state)
{
	__u32 f = MC_PKT_ON | MC_PKT_ROUTED, id = MC_FEAT_VERDICT_CACHE;
	struct mc_packet_bpf *s = setup_node(f, f);
	struct mc_feature on = { .state = MC_FEAT_ON };
	struct pkt4 p;

	(void)state;
	NEED(s);
	/* conntrack has no entry for the flow (this is a test run) */
	remember(s, 0);
	make4(&p, veth_a, "10.1.0.2", "10.1.0.3", 64);
	expect_untouched(s, &p); /* remembered, but mc_ct_forget does not run */
	assert_int_equal(stats_a(s).tc_pkts_policy, 1);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(s->maps.mc_features_v1), &id, &on, BPF_ANY), 0);
	make4(&p, veth_a, "10.1.0.2", "10.1.0.3", 64);
	assert_int_equal(run(s, &p, sizeof(p)), TC_ACT_REDIRECT); /* delivered on it */
	assert_int_equal(stats_a(s).tc_pkts_cached, 1);
	/* not past its lifetime, not for a FIN, not for another flow */
	remember(s, MC_VERDICT_TTL_NS + 1000000);
	make4(&p, veth_a, "10.1.0.2", "10.1.0.3", 64);
	expect_untouched(s, &p);
	remember(s, 0);
	make4(&p, veth_a, "10.1.0.2", "10.1.0.3", 64);
	p.tcp.fin = 1;
	expect_untouched(s, &p);
	make4(&p, veth_a, "10.1.0.2", "10.1.0.3", 64);
	p.tcp.source = htons(40001);
	expect_untouched(s, &p);
	assert_int_equal(stats_a(s).tc_pkts_policy, 4);
	assert_int_equal(stats_a(s).tc_pkts_cached, 1);
	assert_int_equal(stats_a(s).tc_pkts_redirected, 1);
	mc_packet_bpf__destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routed_v4_rewrites_like_a_router),
		cmocka_unit_test(test_routed_v6_decrements_hop_limit),
		cmocka_unit_test(test_bridged_is_delivered_unchanged),
		cmocka_unit_test(test_not_for_us_takes_the_normal_path),
		cmocka_unit_test(test_foreign_tc_blocks_redirect),
		cmocka_unit_test(test_conntrack_gate_without_a_flow),
		cmocka_unit_test(test_conntrack_gate_remembered_verdict),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests_name("tc datapath", tests, NULL, NULL);
}
