// SPDX-License-Identifier: Apache-2.0
/* map_delete_if, the one walk that deletes map entries (DEL's verdict,
 * revocation and pairing sweeps, GC's orphan entries): on a hash and an
 * LRU hash map, batched and key by key, every matching entry goes and
 * every other stays. Runs of matching keys are what a walk that asks the
 * kernel for the key after a deleted one gets wrong (it starts over).
 * Needs root (map creation); skipped otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>

#include "bpfobj.h"

#define N 3000

struct key {
	__u32 id;
	__u8 pad[36]; /* the size of mc_verdict_key */
};

/* id % 7 in {0, 1, 2}: runs of three matching keys */
static bool doomed(const void *key, const void *value, const void *ctx)
{
	const struct key *k = key;
	__u64 v = *(const __u64 *)value;

	(void)ctx;
	return k->id % 7 < 3 && v == k->id * 10ULL;
}

static int filled(enum bpf_map_type type)
{
	int fd = bpf_map_create(type, "mc_test_walk", sizeof(struct key), sizeof(__u64), 4 * N, NULL);

	if (fd < 0)
		return -1;
	for (__u32 i = 0; i < N; i++) {
		struct key k = { .id = i };
		__u64 v = i * 10ULL;

		assert_int_equal(bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST), 0);
	}
	return fd;
}

static void check_left(int fd)
{
	int left = 0;

	for (__u32 i = 0; i < N; i++) {
		struct key k = { .id = i };
		__u64 v;
		bool there = bpf_map_lookup_elem(fd, &k, &v) == 0;

		assert_int_equal(there, i % 7 >= 3);
		left += there;
	}
	assert_int_equal(left, N - (N / 7 * 3 + (N % 7 < 3 ? N % 7 : 3)));
}

struct walk_case {
	enum bpf_map_type type;
	bool by_key;
};

static void walk(void **state)
{
	const struct walk_case *c = *state;
	int fd, expect, n;

	if (geteuid() != 0)
		skip();
	fd = filled(c->type);
	if (fd < 0)
		skip(); /* no BPF maps for us here */
	expect = N / 7 * 3 + (N % 7 < 3 ? N % 7 : 3);
	if (c->by_key)
		n = map_delete_if_by_key(fd, sizeof(struct key), sizeof(__u64), doomed, NULL);
	else
		n = map_delete_if(fd, sizeof(struct key), sizeof(__u64), doomed, NULL);
	assert_int_equal(n, expect);
	check_left(fd);
	/* a second walk finds nothing more to delete */
	assert_int_equal(map_delete_if(fd, sizeof(struct key), sizeof(__u64), doomed, NULL), 0);
	close(fd);
}

static void bad_fd(void **state)
{
	(void)state;
	assert_int_equal(map_delete_if(-1, sizeof(struct key), sizeof(__u64), doomed, NULL), 0);
}

int main(void)
{
	static struct walk_case hash = { BPF_MAP_TYPE_HASH, false }, hash_by_key = { BPF_MAP_TYPE_HASH, true },
				lru = { BPF_MAP_TYPE_LRU_HASH, false }, lru_by_key = { BPF_MAP_TYPE_LRU_HASH, true };
	const struct CMUnitTest tests[] = {
		{ "hash_batched", walk, NULL, NULL, &hash },
		{ "hash_by_key", walk, NULL, NULL, &hash_by_key },
		{ "lru_batched", walk, NULL, NULL, &lru },
		{ "lru_by_key", walk, NULL, NULL, &lru_by_key },
		cmocka_unit_test(bad_fd),
	};

	return cmocka_run_group_tests_name("map_delete_if", tests, NULL, NULL);
}
