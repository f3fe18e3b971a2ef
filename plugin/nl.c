// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdbool.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "nl.h"

/*
 * A few rtnetlink requests, each a fixed header and at most one flat
 * attribute, and answers read attribute by attribute: what libbpf and
 * iproute2 carry their own helpers for. Ours replaced libmnl so that the
 * node binary links statically from Debian's archives alone (see
 * docs/design-decisions.md). Everything read from the kernel is bounds
 * checked; an attribute of the wrong size is skipped, as libmnl's
 * validation did.
 */

#define NL_REQ_SIZE 512 /* a request: header, extra header, one attribute */
#define NL_RCV_SIZE 32768 /* a dump chunk (the kernel's default is 32 KiB) */

typedef void (*nl_attr_cb)(const struct nlattr *attr, void *data);

static struct nlmsghdr *nl_req_init(void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = buf;

	memset(buf, 0, NL_REQ_SIZE);
	nlh->nlmsg_len = NLMSG_HDRLEN;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

/* Room for the family header (ifinfomsg, tcmsg, ...) after nlh. */
static void *nl_req_extra(struct nlmsghdr *nlh, size_t len)
{
	void *p = (char *)nlh + nlh->nlmsg_len;

	nlh->nlmsg_len += NLMSG_ALIGN(len);
	return p;
}

static int nl_req_attr(struct nlmsghdr *nlh, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)nlh + nlh->nlmsg_len);

	if (nlh->nlmsg_len + NLA_ALIGN(NLA_HDRLEN + len) > NL_REQ_SIZE)
		return -EMSGSIZE;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	nlh->nlmsg_len += NLA_ALIGN(a->nla_len);
	return 0;
}

/* Calls cb for each well-formed attribute in [start, start + len). */
static void nl_attrs(const void *start, size_t len, nl_attr_cb cb, void *data)
{
	const char *p = start;

	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t step;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return;
		cb(a, data);
		step = NLA_ALIGN(a->nla_len);
		if (step >= len)
			return;
		p += step;
		len -= step;
	}
}

/* The attributes after a message's family header of size hdrlen. */
static void nl_msg_attrs(const struct nlmsghdr *nlh, size_t hdrlen, nl_attr_cb cb, void *data)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen);

	if (nlh->nlmsg_len > off)
		nl_attrs((const char *)nlh + off, nlh->nlmsg_len - off, cb, data);
}

static uint16_t nla_kind(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

static const void *nla_payload(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static size_t nla_payload_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static bool nla_u32(const struct nlattr *a, uint32_t *v)
{
	if (nla_payload_len(a) != sizeof(*v))
		return false;
	memcpy(v, nla_payload(a), sizeof(*v));
	return true;
}

/* A string attribute whose payload holds its NUL, copied into out[n]. */
static bool nla_str(const struct nlattr *a, char *out, size_t n)
{
	size_t len = strnlen(nla_payload(a), nla_payload_len(a));

	if (len == nla_payload_len(a) || len >= n)
		return false;
	memcpy(out, nla_payload(a), len + 1);
	return true;
}

int nl_answers(const void *buf, size_t n, uint32_t seq, uint32_t portid, nl_msg_cb cb, void *data)
{
	const struct nlmsghdr *nlh = buf;
	int len = (int)n, ret;

	for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
		if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid)
			return -EPROTO;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			return -EINTR;
		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			continue;
		case NLMSG_OVERRUN:
			return -ENOBUFS;
		case NLMSG_ERROR:
		case NLMSG_DONE: {
			/* both carry an int error first: 0 is the ACK / a clean end */
			int err;

			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(err)))
				return nlh->nlmsg_type == NLMSG_DONE ? 1 : -EBADMSG;
			memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
			return err < 0 ? err : 1;
		}
		default:
			if (cb && (ret = cb(nlh, data)) < 0)
				return ret;
		}
	}
	return len == 0 ? 0 : -EBADMSG;
}

/* One request, answers to cb until the end of the dump or the ACK. */
static int nl_talk(struct nlmsghdr *req, nl_msg_cb cb, void *data)
{
	char buf[NL_RCV_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t salen = sizeof(sa);
	uint32_t portid;
	int fd, ret;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* nl_pid 0: the kernel picks our port id */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
		ret = -errno;
		goto out;
	}
	portid = sa.nl_pid;
	req->nlmsg_seq = (uint32_t)time(NULL);
	req->nlmsg_flags |= NLM_F_ACK;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK; /* to the kernel: nl_pid 0 */
	if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	ret = 0;
	do {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = { .msg_name = &sa, .msg_namelen = sizeof(sa),
				      .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(fd, &msg, 0);

		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			ret = -EMSGSIZE;
			goto out;
		}
		if (sa.nl_pid != 0) /* not from the kernel */
			continue;
		ret = nl_answers(buf, (size_t)n, req->nlmsg_seq, portid, cb, data);
	} while (ret == 0);
	if (ret > 0)
		ret = 0;
out:
	close(fd);
	return ret;
}

/* The family header of an answer, NULL if the message is too short. */
static const void *nl_msg_header(const struct nlmsghdr *nlh, size_t len)
{
	return nlh->nlmsg_len >= NLMSG_LENGTH(len) ? NLMSG_DATA(nlh) : NULL;
}

static void linkinfo_attr_cb(const struct nlattr *attr, void *data)
{
	struct mc_link *l = data;

	if (nla_kind(attr) == IFLA_INFO_KIND)
		nla_str(attr, l->kind, sizeof(l->kind));
}

static void link_attr_cb(const struct nlattr *attr, void *data)
{
	struct mc_link *l = data;
	uint32_t v;

	switch (nla_kind(attr)) {
	case IFLA_IFNAME:
		nla_str(attr, l->name, sizeof(l->name));
		break;
	case IFLA_ADDRESS:
		if (nla_payload_len(attr) == sizeof(l->mac)) {
			memcpy(l->mac, nla_payload(attr), sizeof(l->mac));
			l->has_mac = true;
		}
		break;
	case IFLA_LINK:
		if (nla_u32(attr, &v)) {
			l->link = (int)v;
			l->has_link = true;
		}
		break;
	case IFLA_LINK_NETNSID:
		if (nla_u32(attr, &v)) {
			l->link_netnsid = (int)v;
			l->has_link_netnsid = true;
		}
		break;
	case IFLA_MASTER:
		if (nla_u32(attr, &v))
			l->master = (int)v;
		break;
	case IFLA_LINKINFO:
		nl_attrs(nla_payload(attr), nla_payload_len(attr), linkinfo_attr_cb, l);
		break;
	}
}

int nl_link_parse(const struct nlmsghdr *nlh, struct mc_link *out)
{
	const struct ifinfomsg *ifm = nl_msg_header(nlh, sizeof(*ifm));

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (!ifm)
		return -EBADMSG;
	out->ifindex = ifm->ifi_index;
	nl_msg_attrs(nlh, sizeof(*ifm), link_attr_cb, out);
	return 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	return nl_link_parse(nlh, data);
}

int nl_link_get(int ifindex, const char *name, struct mc_link *out)
{
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nlh = nl_req_init(buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifm;
	int ret;

	memset(out, 0, sizeof(*out));
	ifm = nl_req_extra(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex > 0 ? ifindex : 0;
	if (ifindex <= 0) {
		if (!name || strlen(name) >= MC_IFNAMSIZ)
			return -EINVAL;
		ret = nl_req_attr(nlh, IFLA_IFNAME, name, strlen(name) + 1);
		if (ret)
			return ret;
	}
	ret = nl_talk(nlh, link_cb, out);
	if (ret == -ENODEV || (ret == 0 && out->ifindex == 0))
		return -ENODEV;
	return ret;
}

static void nsid_attr_cb(const struct nlattr *attr, void *data)
{
	uint32_t v;

	if (nla_kind(attr) == NETNSA_NSID && nla_u32(attr, &v))
		*(int *)data = (int)v;
}

static int nsid_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWNSID)
		return 0;
	if (!nl_msg_header(nlh, sizeof(struct rtgenmsg)))
		return -EBADMSG;
	nl_msg_attrs(nlh, sizeof(struct rtgenmsg), nsid_attr_cb, data);
	return 0;
}

int nl_nsid_of(int nsfd, int *nsid)
{
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nlh = nl_req_init(buf, RTM_GETNSID, 0);
	struct rtgenmsg *g;
	uint32_t fd = (uint32_t)nsfd;
	int ret;

	*nsid = -1;
	g = nl_req_extra(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	ret = nl_req_attr(nlh, NETNSA_FD, &fd, sizeof(fd));
	return ret ? ret : nl_talk(nlh, nsid_cb, nsid);
}

struct filter_count {
	uint16_t skip_prio;
	int count;
};

static int filter_count_cb(const struct nlmsghdr *nlh, void *data)
{
	struct filter_count *fc = data;
	const struct tcmsg *tcm = nl_msg_header(nlh, sizeof(*tcm));

	if (nlh->nlmsg_type != RTM_NEWTFILTER)
		return 0;
	if (!tcm)
		return -EBADMSG;
	/* tcm_info: priority in the upper 16 bits, protocol in the lower */
	if (!fc->skip_prio || (tcm->tcm_info >> 16) != fc->skip_prio)
		fc->count++;
	return 0;
}

int nl_count_foreign_filters(int ifindex, uint32_t parent, uint16_t skip_prio, int *count)
{
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nlh = nl_req_init(buf, RTM_GETTFILTER, NLM_F_DUMP);
	struct filter_count fc = { .skip_prio = skip_prio };
	struct tcmsg *tcm;
	int ret;

	tcm = nl_req_extra(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	ret = nl_talk(nlh, filter_count_cb, &fc);
	/* no ingress/clsact qdisc at all: no filters either */
	if (ret == -EINVAL || ret == -ENOENT)
		ret = 0;
	*count = fc.count;
	return ret;
}

int nl_count_filters(int ifindex, uint32_t parent, int *count)
{
	return nl_count_foreign_filters(ifindex, parent, 0, count);
}

struct qdisc_kind {
	int ifindex;
	char *kind;
	size_t n;
};

static void qdisc_attr_cb(const struct nlattr *attr, void *data)
{
	struct qdisc_kind *q = data;

	if (nla_kind(attr) == TCA_KIND)
		nla_str(attr, q->kind, q->n);
}

static int qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
	struct qdisc_kind *q = data;
	const struct tcmsg *tcm = nl_msg_header(nlh, sizeof(*tcm));

	if (nlh->nlmsg_type != RTM_NEWQDISC)
		return 0;
	if (!tcm)
		return -EBADMSG;
	if (tcm->tcm_ifindex == q->ifindex && tcm->tcm_parent == TC_H_ROOT)
		nl_msg_attrs(nlh, sizeof(*tcm), qdisc_attr_cb, q);
	return 0;
}

int nl_root_qdisc(int ifindex, char *kind, size_t n)
{
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nlh = nl_req_init(buf, RTM_GETQDISC, NLM_F_DUMP);
	struct qdisc_kind q = { .ifindex = ifindex, .kind = kind, .n = n };
	struct tcmsg *tcm;

	kind[0] = '\0';
	tcm = nl_req_extra(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	return nl_talk(nlh, qdisc_cb, &q);
}

int nl_del_clsact(int ifindex)
{
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nlh = nl_req_init(buf, RTM_DELQDISC, 0);
	struct tcmsg *tcm;
	int ret;

	tcm = nl_req_extra(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
	tcm->tcm_parent = TC_H_CLSACT;
	ret = nl_req_attr(nlh, TCA_KIND, "clsact", sizeof("clsact"));
	return ret ? ret : nl_talk(nlh, NULL, NULL);
}
