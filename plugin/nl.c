// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "nl.h"

/* One request, answers to cb until NLMSG_DONE or the ACK. */
static int nl_talk(struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	char buf[32768]; /* a dump chunk (MNL_SOCKET_DUMP_SIZE in newer libmnl) */
	struct mnl_socket *nl;
	unsigned int seq, portid;
	int ret;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	seq = (unsigned int)time(NULL);
	req->nlmsg_seq = seq;
	req->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, n, seq, portid, cb, data);
		if (ret < 0) {
			ret = -errno;
			goto out;
		}
		if (ret == MNL_CB_STOP) {
			ret = 0;
			goto out;
		}
	}
out:
	mnl_socket_close(nl);
	return ret;
}

static int linkinfo_attr_cb(const struct nlattr *attr, void *data)
{
	struct mc_link *l = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
	    mnl_attr_validate(attr, MNL_TYPE_STRING) == 0) {
		strncpy(l->kind, mnl_attr_get_str(attr), sizeof(l->kind) - 1);
		l->kind[sizeof(l->kind) - 1] = '\0';
	}
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct mc_link *l = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_STRING) == 0) {
			strncpy(l->name, mnl_attr_get_str(attr), sizeof(l->name) - 1);
			l->name[sizeof(l->name) - 1] = '\0';
		}
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == 6) {
			memcpy(l->mac, mnl_attr_get_payload(attr), 6);
			l->has_mac = true;
		}
		break;
	case IFLA_LINK:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
			l->link = (int)mnl_attr_get_u32(attr);
			l->has_link = true;
		}
		break;
	case IFLA_LINK_NETNSID:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
			l->link_netnsid = (int)mnl_attr_get_u32(attr);
			l->has_link_netnsid = true;
		}
		break;
	case IFLA_MASTER:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			l->master = (int)mnl_attr_get_u32(attr);
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(attr, linkinfo_attr_cb, l);
		break;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct mc_link *l = data;
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	l->ifindex = ifm->ifi_index;
	return mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, l);
}

int nl_link_get(int ifindex, const char *name, struct mc_link *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	int ret;

	memset(out, 0, sizeof(*out));
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex > 0 ? ifindex : 0;
	if (ifindex <= 0) {
		if (!name || strlen(name) >= MC_IFNAMSIZ)
			return -EINVAL;
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	}
	ret = nl_talk(nlh, link_cb, out);
	if (ret == -ENODEV || (ret == 0 && out->ifindex == 0))
		return -ENODEV;
	return ret;
}

static int nsid_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == NETNSA_NSID &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		*(int *)data = (int)mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int nsid_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWNSID)
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, sizeof(struct rtgenmsg), nsid_attr_cb, data);
}

int nl_nsid_of(int nsfd, int *nsid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtgenmsg *g;

	*nsid = -1;
	nlh->nlmsg_type = RTM_GETNSID;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NETNSA_FD, (uint32_t)nsfd);
	return nl_talk(nlh, nsid_cb, nsid);
}

struct filter_count {
	uint16_t skip_prio;
	int count;
};

static int filter_count_cb(const struct nlmsghdr *nlh, void *data)
{
	struct filter_count *fc = data;
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);

	/* tcm_info: priority in the upper 16 bits, protocol in the lower */
	if (nlh->nlmsg_type == RTM_NEWTFILTER &&
	    (!fc->skip_prio || (tcm->tcm_info >> 16) != fc->skip_prio))
		fc->count++;
	return MNL_CB_OK;
}

int nl_count_foreign_filters(int ifindex, uint32_t parent, uint16_t skip_prio, int *count)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct filter_count fc = { .skip_prio = skip_prio };
	struct tcmsg *tcm;
	int ret;

	nlh->nlmsg_type = RTM_GETTFILTER;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
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

static int qdisc_attr_cb(const struct nlattr *attr, void *data)
{
	struct qdisc_kind *q = data;

	if (mnl_attr_get_type(attr) == TCA_KIND && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(q->kind, q->n, "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
	struct qdisc_kind *q = data;
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWQDISC || tcm->tcm_ifindex != q->ifindex ||
	    tcm->tcm_parent != TC_H_ROOT)
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, sizeof(*tcm), qdisc_attr_cb, q);
}

int nl_root_qdisc(int ifindex, char *kind, size_t n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct qdisc_kind q = { .ifindex = ifindex, .kind = kind, .n = n };
	struct tcmsg *tcm;

	kind[0] = '\0';
	nlh->nlmsg_type = RTM_GETQDISC;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	return nl_talk(nlh, qdisc_cb, &q);
}

int nl_del_clsact(int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tcm;

	nlh->nlmsg_type = RTM_DELQDISC;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
	tcm->tcm_parent = TC_H_CLSACT;
	mnl_attr_put_strz(nlh, TCA_KIND, "clsact");
	return nl_talk(nlh, NULL, NULL);
}
