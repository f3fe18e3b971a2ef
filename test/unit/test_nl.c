// SPDX-License-Identifier: Apache-2.0
/* Unit tests: reading rtnetlink answers. What the kernel sends is parsed
 * with bounds checks; a malformed attribute is skipped, a malformed message
 * or an error answer ends the request with an error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "nl.h"

#define SEQ 7
#define PORT 4242

/* A message buffer the tests build answers in. */
struct msgbuf {
	char b[1024] __attribute__((aligned(4)));
	struct nlmsghdr *cur;
	size_t len;
};

static struct nlmsghdr *msg_start(struct msgbuf *m, uint16_t type, size_t hdrlen)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(m->b + m->len);

	memset(nlh, 0, NLMSG_SPACE(hdrlen));
	nlh->nlmsg_len = NLMSG_LENGTH(hdrlen);
	nlh->nlmsg_type = type;
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PORT;
	m->cur = nlh;
	return nlh;
}

static void msg_end(struct msgbuf *m)
{
	m->len += NLMSG_ALIGN(m->cur->nlmsg_len);
}

/* Appends an attribute; nla_len may claim more or less than len. */
static struct nlattr *attr_raw(struct msgbuf *m, uint16_t type, uint16_t nla_len, const void *p,
			       size_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)m->cur + NLMSG_ALIGN(m->cur->nlmsg_len));

	a->nla_type = type;
	a->nla_len = nla_len;
	memcpy((char *)a + NLA_HDRLEN, p, len);
	m->cur->nlmsg_len = NLMSG_ALIGN(m->cur->nlmsg_len) + NLA_ALIGN(NLA_HDRLEN + len);
	return a;
}

static struct nlattr *attr(struct msgbuf *m, uint16_t type, const void *p, size_t len)
{
	return attr_raw(m, type, (uint16_t)(NLA_HDRLEN + len), p, len);
}

static struct nlmsghdr *newlink(struct msgbuf *m, int ifindex)
{
	struct nlmsghdr *nlh = msg_start(m, RTM_NEWLINK, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifm = NLMSG_DATA(nlh);

	ifm->ifi_index = ifindex;
	return nlh;
}

static void test_link_well_formed(void **state)
{
	struct msgbuf m = { 0 };
	struct mc_link l = { 0 };
	unsigned char mac[6] = { 2, 0, 0, 0, 0, 9 };
	uint32_t peer = 12, nsid = 3, master = 5;
	char nested[64] __attribute__((aligned(4)));
	struct nlattr *kind = (struct nlattr *)nested;

	(void)state;
	newlink(&m, 11);
	attr(&m, IFLA_IFNAME, "veth1234", 9);
	attr(&m, IFLA_ADDRESS, mac, sizeof(mac));
	attr(&m, IFLA_LINK, &peer, 4);
	attr(&m, IFLA_LINK_NETNSID, &nsid, 4);
	attr(&m, IFLA_MASTER, &master, 4);
	kind->nla_type = IFLA_INFO_KIND;
	kind->nla_len = NLA_HDRLEN + 5;
	memcpy(nested + NLA_HDRLEN, "veth", 5);
	attr(&m, IFLA_LINKINFO | NLA_F_NESTED, nested, NLA_ALIGN(kind->nla_len));
	msg_end(&m);

	assert_int_equal(nl_link_parse(m.cur, &l), 0);
	assert_int_equal(l.ifindex, 11);
	assert_string_equal(l.name, "veth1234");
	assert_string_equal(l.kind, "veth");
	assert_true(l.has_mac);
	assert_memory_equal(l.mac, mac, 6);
	assert_true(l.has_link);
	assert_int_equal(l.link, 12);
	assert_true(l.has_link_netnsid);
	assert_int_equal(l.link_netnsid, 3);
	assert_int_equal(l.master, 5);
}

/* Wrong sizes and strings without their NUL are skipped, not read. */
static void test_link_bad_attrs_skipped(void **state)
{
	struct msgbuf m = { 0 };
	struct mc_link l = { 0 };
	uint64_t wide = 12;
	char long_name[MC_IFNAMSIZ + 4];

	(void)state;
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	newlink(&m, 11);
	attr(&m, IFLA_IFNAME, "eth0", 4); /* no NUL */
	attr(&m, IFLA_LINK, &wide, sizeof(wide)); /* 8 bytes for a u32 */
	attr(&m, IFLA_ADDRESS, "\1\2\3", 3); /* not a MAC */
	attr(&m, IFLA_IFNAME, long_name, sizeof(long_name)); /* longer than a name */
	msg_end(&m);

	assert_int_equal(nl_link_parse(m.cur, &l), 0);
	assert_int_equal(l.ifindex, 11);
	assert_string_equal(l.name, "");
	assert_false(l.has_link);
	assert_false(l.has_mac);
}

/* An attribute claiming more than the message holds ends the walk. */
static void test_link_overlong_attr(void **state)
{
	struct msgbuf m = { 0 };
	struct mc_link l = { 0 };
	uint32_t peer = 12;

	(void)state;
	newlink(&m, 11);
	attr(&m, IFLA_IFNAME, "veth0", 6);
	attr_raw(&m, IFLA_LINK, 200, &peer, 4);
	msg_end(&m);
	/* a second attribute would lie beyond the message: never reached */
	assert_int_equal(nl_link_parse(m.cur, &l), 0);
	assert_string_equal(l.name, "veth0");
	assert_false(l.has_link);

	memset(&m, 0, sizeof(m));
	memset(&l, 0, sizeof(l));
	newlink(&m, 11);
	attr_raw(&m, IFLA_IFNAME, 2, "x", 1); /* shorter than its own header */
	attr(&m, IFLA_LINK, &peer, 4);
	msg_end(&m);
	assert_int_equal(nl_link_parse(m.cur, &l), 0);
	assert_string_equal(l.name, "");
	assert_false(l.has_link);

	/* nla_len 0 must not stall the walk (the test would hang) */
	memset(&m, 0, sizeof(m));
	memset(&l, 0, sizeof(l));
	newlink(&m, 11);
	attr_raw(&m, IFLA_IFNAME, 0, "y", 1);
	msg_end(&m);
	assert_int_equal(nl_link_parse(m.cur, &l), 0);
	assert_string_equal(l.name, "");
}

static void test_link_short_header(void **state)
{
	struct msgbuf m = { 0 };
	struct mc_link l = { 0 };

	(void)state;
	msg_start(&m, RTM_NEWLINK, 4); /* half an ifinfomsg */
	msg_end(&m);
	assert_int_equal(nl_link_parse(m.cur, &l), -EBADMSG);
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(int *)data)++;
	return 0;
}

static void error_msg(struct msgbuf *m, uint16_t type, int err)
{
	struct nlmsghdr *nlh = msg_start(m, type, sizeof(struct nlmsgerr));

	((struct nlmsgerr *)NLMSG_DATA(nlh))->error = err;
	msg_end(m);
}

static void test_answers(void **state)
{
	struct msgbuf m = { 0 };
	int n = 0;

	(void)state;
	/* a dump in two datagrams: more to come, then the end */
	newlink(&m, 1);
	msg_end(&m);
	newlink(&m, 2);
	msg_end(&m);
	assert_int_equal(nl_answers(m.b, m.len, SEQ, PORT, count_cb, &n), 0);
	assert_int_equal(n, 2);
	memset(&m, 0, sizeof(m));
	error_msg(&m, NLMSG_DONE, 0);
	assert_int_equal(nl_answers(m.b, m.len, SEQ, PORT, count_cb, &n), 1);
	assert_int_equal(n, 2);

	/* an ACK ends a request; an error answer is returned as -errno */
	memset(&m, 0, sizeof(m));
	error_msg(&m, NLMSG_ERROR, 0);
	assert_int_equal(nl_answers(m.b, m.len, SEQ, PORT, NULL, NULL), 1);
	memset(&m, 0, sizeof(m));
	error_msg(&m, NLMSG_ERROR, -ENODEV);
	assert_int_equal(nl_answers(m.b, m.len, SEQ, PORT, NULL, NULL), -ENODEV);
	memset(&m, 0, sizeof(m));
	error_msg(&m, NLMSG_DONE, -EINVAL); /* a dump that failed */
	assert_int_equal(nl_answers(m.b, m.len, SEQ, PORT, NULL, NULL), -EINVAL);

	/* not ours: another request's sequence or another socket */
	memset(&m, 0, sizeof(m));
	error_msg(&m, NLMSG_ERROR, 0);
	assert_int_equal(nl_answers(m.b, m.len, SEQ + 1, PORT, NULL, NULL), -EPROTO);
	assert_int_equal(nl_answers(m.b, m.len, SEQ, PORT + 1, NULL, NULL), -EPROTO);

	/* an interrupted dump is not a complete one */
	memset(&m, 0, sizeof(m));
	newlink(&m, 1)->nlmsg_flags |= NLM_F_DUMP_INTR;
	msg_end(&m);
	assert_int_equal(nl_answers(m.b, m.len, SEQ, PORT, count_cb, &n), -EINTR);
}

static void test_answers_malformed(void **state)
{
	struct msgbuf m = { 0 };
	int n = 0;

	(void)state;
	/* an error message too short for its error code */
	msg_start(&m, NLMSG_ERROR, 0);
	msg_end(&m);
	assert_int_equal(nl_answers(m.b, m.len, SEQ, PORT, NULL, NULL), -EBADMSG);

	/* a message claiming more than the datagram holds */
	memset(&m, 0, sizeof(m));
	newlink(&m, 1);
	msg_end(&m);
	m.cur->nlmsg_len = 900;
	assert_int_equal(nl_answers(m.b, m.len, SEQ, PORT, count_cb, &n), -EBADMSG);
	assert_int_equal(n, 0);

	/* trailing bytes shorter than a header */
	memset(&m, 0, sizeof(m));
	newlink(&m, 1);
	msg_end(&m);
	assert_int_equal(nl_answers(m.b, m.len + 4, SEQ, PORT, count_cb, &n), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_well_formed),
		cmocka_unit_test(test_link_bad_attrs_skipped),
		cmocka_unit_test(test_link_overlong_attr),
		cmocka_unit_test(test_link_short_header),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_answers_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
