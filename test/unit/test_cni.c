// SPDX-License-Identifier: Apache-2.0
/* Unit tests: environment parsing, config and prevResult parsing, version
 * handling, error codes, and the pure helpers they rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroup.h"
#include "cni.h"
#include "conf.h"
#include "endpoint.h"

/* a fake environment for mc_env_parse */
static const char *const *fake_env;

static const char *fake_getenv(const char *name)
{
	size_t n = strlen(name);

	for (const char *const *e = fake_env; e && *e; e++)
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static int env_code(const char *const *env, struct mc_env *out)
{
	struct mc_err err = { 0 };
	struct mc_env tmp;

	fake_env = env;
	mc_env_parse(out ? out : &tmp, fake_getenv, &err);
	return err.code;
}

#define ADD_ENV "CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_NETNS=/var/run/netns/x", \
		"CNI_IFNAME=eth0", "CNI_PATH=/opt/cni/bin"

static void test_env_ok(void **state)
{
	const char *env[] = { ADD_ENV, "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-0;K8S_POD_UID=1234-abcd;FOO=bar", NULL };
	struct mc_env e;

	(void)state;
	assert_int_equal(env_code(env, &e), 0);
	assert_int_equal(e.command, CNI_CMD_ADD);
	assert_string_equal(e.container_id, "abc");
	assert_string_equal(e.k8s_namespace, "ns1");
	assert_string_equal(e.k8s_pod, "web-0");
	assert_string_equal(e.k8s_pod_uid, "1234-abcd");
	assert_false(e.container_id_too_long);
}

static void test_env_required_per_command(void **state)
{
	const char *del_no_netns[] = { "CNI_COMMAND=DEL", "CNI_CONTAINERID=abc", "CNI_IFNAME=eth0", "CNI_PATH=/p", NULL };
	const char *add_no_netns[] = { "CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_IFNAME=eth0", "CNI_PATH=/p", NULL };
	const char *gc[] = { "CNI_COMMAND=GC", "CNI_PATH=/p", NULL };
	const char *gc_no_path[] = { "CNI_COMMAND=GC", NULL };
	const char *status[] = { "CNI_COMMAND=STATUS", "CNI_PATH=/p", NULL };
	const char *version[] = { "CNI_COMMAND=VERSION", NULL };
	const char *none[] = { NULL };
	const char *bogus[] = { "CNI_COMMAND=frob", NULL };

	(void)state;
	assert_int_equal(env_code(del_no_netns, NULL), 0);
	assert_int_equal(env_code(add_no_netns, NULL), CNI_ERR_INVALID_ENV);
	assert_int_equal(env_code(gc, NULL), 0);
	assert_int_equal(env_code(gc_no_path, NULL), CNI_ERR_INVALID_ENV);
	assert_int_equal(env_code(status, NULL), 0);
	assert_int_equal(env_code(version, NULL), 0);
	assert_int_equal(env_code(none, NULL), CNI_ERR_INVALID_ENV);
	assert_int_equal(env_code(bogus, NULL), CNI_ERR_INVALID_ENV);
}

static void test_env_invalid_values(void **state)
{
	const char *bad_ids[] = { "../x", ".a", "-a", "a/b", "a b", "a;b" };
	const char *bad_ifs[] = { ".", "..", "a/b", "a:b", "a b", "0123456789abcdef" };
	char cid[64], ifn[64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		const char *env[] = { "CNI_COMMAND=ADD", cid, "CNI_NETNS=/n", "CNI_IFNAME=eth0", "CNI_PATH=/p", NULL };

		snprintf(cid, sizeof(cid), "CNI_CONTAINERID=%s", bad_ids[i]);
		assert_int_equal(env_code(env, NULL), CNI_ERR_INVALID_ENV);
	}
	for (size_t i = 0; i < sizeof(bad_ifs) / sizeof(bad_ifs[0]); i++) {
		const char *env[] = { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_NETNS=/n", ifn, "CNI_PATH=/p", NULL };

		snprintf(ifn, sizeof(ifn), "CNI_IFNAME=%s", bad_ifs[i]);
		assert_int_equal(env_code(env, NULL), CNI_ERR_INVALID_ENV);
	}
	const char *rel_netns[] = { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_NETNS=rel", "CNI_IFNAME=eth0", "CNI_PATH=/p", NULL };
	const char *bad_args[] = { ADD_ENV, "CNI_ARGS=NOEQUALS", NULL };
	const char *bad_uid[] = { ADD_ENV, "CNI_ARGS=K8S_POD_UID=../..", NULL };

	assert_int_equal(env_code(rel_netns, NULL), CNI_ERR_INVALID_ENV);
	assert_int_equal(env_code(bad_args, NULL), CNI_ERR_INVALID_ENV);
	assert_int_equal(env_code(bad_uid, NULL), CNI_ERR_INVALID_ENV);
}

static void test_env_long_container_id(void **state)
{
	char cid[300] = "CNI_CONTAINERID=";
	const char *env[] = { "CNI_COMMAND=ADD", cid, "CNI_NETNS=/n", "CNI_IFNAME=eth0", "CNI_PATH=/p", NULL };
	struct mc_env e;

	(void)state;
	memset(cid + strlen(cid), 'a', 200);
	assert_int_equal(env_code(env, &e), 0);
	assert_true(e.container_id_too_long);
}

static void test_versions(void **state)
{
	(void)state;
	for (size_t i = 0; i < cni_n_supported_versions; i++)
		assert_true(cni_version_supported(cni_supported_versions[i]));
	assert_false(cni_version_supported("0.2.0"));
	assert_false(cni_version_supported("1.1"));
	assert_false(cni_version_supported(""));
	assert_true(cni_version_cmp("0.3.1", "0.4.0") < 0);
	assert_true(cni_version_cmp("1.1.0", "1.0.0") > 0);
	assert_true(cni_version_cmp("1.0.0", "1.0.0") == 0);
	assert_true(cni_version_cmp("0.10.0", "0.9.0") > 0);
	assert_true(cni_version_cmp("garbage", "0.1.0") < 0);
}

/* parse a config for a command; returns the CNI error code (0 = ok) */
static int conf_code(const char *json, enum cni_command cmd, struct mc_conf *out)
{
	struct mc_env env = { .command = cmd, .ifname = "eth0" };
	struct mc_err err = { 0 };
	struct mc_conf tmp, *c = out ? out : &tmp;
	cJSON *root = cJSON_Parse(json);

	assert_non_null(root);
	parse_conf(root, &env, c, &err);
	if (!out) {
		conf_free(c);
		cJSON_Delete(root);
	}
	return err.code;
}

#define PREV "\"prevResult\":{\"cniVersion\":\"1.0.0\",\"interfaces\":[" \
	"{\"name\":\"cni0\",\"mac\":\"aa:bb:cc:dd:ee:01\"}," \
	"{\"name\":\"veth1234\",\"mac\":\"aa:bb:cc:dd:ee:02\"}," \
	"{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:03\",\"sandbox\":\"/var/run/netns/x\"}]," \
	"\"ips\":[{\"interface\":2,\"address\":\"10.1.0.5/24\",\"gateway\":\"10.1.0.1\"}," \
	"{\"interface\":2,\"address\":\"fd00::5/64\"},{\"interface\":0,\"address\":\"10.1.0.1/24\"}]}"

static void test_conf_defaults_and_prev_result(void **state)
{
	struct mc_conf c;
	char buf[64];

	(void)state;
	assert_int_equal(conf_code("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"meshcut\"," PREV "}",
				   CNI_CMD_ADD, &c), 0);
	assert_string_equal(c.bpffs_root, MC_DEFAULT_BPFFS_ROOT);
	assert_int_equal(c.failure_policy, MC_FAIL_IGNORE);
	assert_true(c.socket_shortcut);
	assert_true(c.packet_shortcut);
	assert_int_equal(c.tc_mode, MC_TC_AUTO);
	assert_false(c.socket_redirect);
	assert_int_equal(c.splice_guard, MC_GUARD_REQUIRED);
	assert_int_equal(c.n_prev_ifaces, 3);
	assert_false(c.prev_ifaces[1].in_sandbox);
	assert_true(c.prev_ifaces[2].in_sandbox);
	/* only eth0's addresses: the bridge's own address is not the pod's */
	assert_int_equal(c.n_addrs, 2);
	assert_string_equal(mc_addr_str(&c.addrs[0], buf, sizeof(buf)), "10.1.0.5");
	assert_int_equal(c.addrs[0].prefixlen, 24);
	assert_int_equal(c.addrs[1].family, MC_AF_INET6);
	conf_free(&c);
}

static void test_conf_options(void **state)
{
	struct mc_conf c;

	(void)state;
	assert_int_equal(conf_code("{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"type\":\"meshcut\","
				   "\"bpffsRoot\":\"/sys/fs/bpf/x\",\"cgroupRoot\":\"/sys/fs/cgroup\","
				   "\"failurePolicy\":\"fail\",\"socketShortcut\":false,\"tcAttachMode\":\"legacy\","
				   "\"spliceGuard\":\"optional\",\"socketRevoke\":\"optional\","
				   "\"logLevel\":\"debug\",\"logFile\":\"/var/log/m.log\","
				   "\"runtimeConfig\":{\"cgroupPath\":\"/kubepods/pod1\"}," PREV "}",
				   CNI_CMD_ADD, &c), 0);
	assert_string_equal(c.bpffs_root, "/sys/fs/bpf/x");
	assert_int_equal(c.failure_policy, MC_FAIL_FAIL);
	assert_false(c.socket_shortcut);
	assert_int_equal(c.tc_mode, MC_TC_LEGACY);
	assert_int_equal(c.splice_guard, MC_GUARD_OPTIONAL);
	assert_int_equal(c.socket_revoke, MC_REVOKE_OPTIONAL);
	assert_int_equal(c.log_level, MC_LOG_DEBUG);
	assert_string_equal(c.rc_cgroup_path, "/kubepods/pod1");
	conf_free(&c);
}

static void test_conf_errors(void **state)
{
	static const struct {
		const char *json;
		enum cni_command cmd;
		int code;
	} cases[] = {
		{ "{\"name\":\"n\",\"type\":\"t\"}", CNI_CMD_DEL, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"2.0.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_CMD_DEL, CNI_ERR_INCOMPATIBLE_VERSION },
		{ "{\"cniVersion\":1,\"name\":\"n\",\"type\":\"t\"}", CNI_CMD_DEL, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"type\":\"t\"}", CNI_CMD_DEL, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_CMD_ADD, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_CMD_CHECK, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"bpffsRoot\":\"rel\"}", CNI_CMD_DEL, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"bpffsRoot\":\"/a/../b\"}", CNI_CMD_DEL, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"failurePolicy\":\"maybe\"}", CNI_CMD_DEL, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"packetShortcut\":1}", CNI_CMD_DEL, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"socketRevoke\":\"never\"}", CNI_CMD_DEL, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"prevResult\":{\"ips\":[{\"address\":\"1.2.3.4\"}]}}", CNI_CMD_DEL, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"0.3.1\",\"name\":\"n\",\"type\":\"t\"," PREV "}", CNI_CMD_CHECK, CNI_ERR_INCOMPATIBLE_VERSION },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"cni.dev/valid-attachments\":[]}", CNI_CMD_GC, CNI_ERR_INCOMPATIBLE_VERSION },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_CMD_GC, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\",\"cni.dev/valid-attachments\":[{\"containerID\":\"../x\",\"ifname\":\"eth0\"}]}", CNI_CMD_GC, CNI_ERR_INVALID_CONFIG },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_CMD_STATUS, CNI_ERR_INCOMPATIBLE_VERSION },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_CMD_STATUS, 0 },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_CMD_DEL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int code = conf_code(cases[i].json, cases[i].cmd, NULL);

		if (code != cases[i].code)
			fail_msg("case %zu: %s: code %d, want %d", i, cases[i].json, code, cases[i].code);
	}
}

static void test_conf_gc_attachments(void **state)
{
	struct mc_conf c;

	(void)state;
	assert_int_equal(conf_code("{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\","
				   "\"cni.dev/attachments\":[{\"containerID\":\"a1\",\"ifname\":\"eth0\"},"
				   "{\"containerID\":\"b2\",\"ifname\":\"net1\"}]}", CNI_CMD_GC, &c), 0);
	assert_true(c.has_attachments);
	assert_int_equal(c.n_attachments, 2);
	assert_string_equal(c.attachments[1].container_id, "b2");
	assert_string_equal(c.attachments[1].ifname, "net1");
	conf_free(&c);
}

static void test_cidr_and_mac(void **state)
{
	struct mc_addr a;
	unsigned char mac[6];

	(void)state;
	assert_int_equal(mc_parse_cidr("10.0.0.1/32", &a), 0);
	assert_int_equal(a.family, MC_AF_INET);
	assert_int_equal(mc_parse_cidr("::ffff:10.0.0.1/128", &a), 0);
	assert_int_equal(a.family, MC_AF_INET6);
	assert_true(mc_parse_cidr("10.0.0.1", &a) < 0);
	assert_true(mc_parse_cidr("10.0.0.1/33", &a) < 0);
	assert_true(mc_parse_cidr("10.0.0.1/", &a) < 0);
	assert_true(mc_parse_cidr("fd00::1/129", &a) < 0);
	assert_true(mc_parse_cidr("x/8", &a) < 0);
	assert_int_equal(mc_parse_mac("0a:1b:2c:3d:4e:5f", mac), 0);
	assert_int_equal(mac[5], 0x5f);
	assert_true(mc_parse_mac("0a:1b:2c:3d:4e", mac) < 0);
	assert_true(mc_parse_mac("0a:1b:2c:3d:4e:5f:00", mac) < 0);
}

static void test_slice_expansion(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(cgroup_expand_slice("kubepods-besteffort-pod12_ab.slice", out, sizeof(out)), 0);
	assert_string_equal(out, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12_ab.slice");
	assert_int_equal(cgroup_expand_slice("kubepods.slice", out, sizeof(out)), 0);
	assert_string_equal(out, "/kubepods.slice");
	assert_true(cgroup_expand_slice("/kubepods/pod1", out, sizeof(out)) < 0);
	assert_true(cgroup_expand_slice("pod1", out, sizeof(out)) < 0);
}

static void test_name_encoding(void **state)
{
	const char *names[] = { "abc", "a.b", "a_b", "a_d", "a._u.", "eth0.100" };
	char enc[64], dec[64];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(ep_name_encode(names[i], enc, sizeof(enc)), 0);
		assert_null(strchr(enc, '.'));
		assert_int_equal(ep_name_decode(enc, dec, sizeof(dec)), 0);
		assert_string_equal(dec, names[i]);
	}
	/* distinct names stay distinct */
	assert_int_equal(ep_name_encode("a_d", enc, sizeof(enc)), 0);
	assert_int_equal(ep_name_encode("a.", dec, sizeof(dec)), 0);
	assert_string_not_equal(enc, dec);
	assert_true(ep_name_decode("a_x", dec, sizeof(dec)) < 0);
	assert_true(ep_name_encode("....", enc, 8) < 0);
}

static void test_fail_first_error_wins(void **state)
{
	struct mc_err err = { 0 };

	(void)state;
	assert_int_equal(mc_fail(&err, CNI_ERR_INVALID_ENV, "first", "d%d", 1), -1);
	assert_int_equal(mc_fail(&err, CNI_ERR_IO, "second", NULL), -1);
	assert_int_equal(err.code, CNI_ERR_INVALID_ENV);
	assert_string_equal(err.msg, "first");
	assert_string_equal(err.details, "d1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_ok),
		cmocka_unit_test(test_env_required_per_command),
		cmocka_unit_test(test_env_invalid_values),
		cmocka_unit_test(test_env_long_container_id),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_conf_defaults_and_prev_result),
		cmocka_unit_test(test_conf_options),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_conf_gc_attachments),
		cmocka_unit_test(test_cidr_and_mac),
		cmocka_unit_test(test_slice_expansion),
		cmocka_unit_test(test_name_encoding),
		cmocka_unit_test(test_fail_first_error_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
