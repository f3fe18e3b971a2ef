/* SPDX-License-Identifier: Apache-2.0 */
/* Netlink (rtnetlink, our own small helpers): links, netns ids, tc filters. A
 * netlink socket talks to the netns it was created in, so every call opens
 * its own socket in the caller's current netns. */
#ifndef MC_NL_H
#define MC_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include "mc_common.h"

struct mc_link {
	int ifindex;
	char name[MC_IFNAMSIZ];
	char kind[16]; /* IFLA_INFO_KIND, "" if none */
	unsigned char mac[6];
	bool has_mac;
	int link; /* IFLA_LINK: peer ifindex for veth */
	bool has_link;
	int link_netnsid; /* IFLA_LINK_NETNSID: peer's netns as seen here */
	bool has_link_netnsid;
	int master; /* IFLA_MASTER: the bridge a port belongs to, 0 if none */
};

typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *data);
/* Walks one datagram of answers to request (seq, portid): cb for each
 * message, 1 once the answer is complete (ACK or end of dump), 0 if more is
 * to come, negative errno for an error answer or a malformed one. */
int nl_answers(const void *buf, size_t n, uint32_t seq, uint32_t portid, nl_msg_cb cb, void *data);
/* Fills out from one RTM_NEWLINK answer (other types are left alone);
 * malformed attributes are skipped. -EBADMSG if the header is cut short. */
int nl_link_parse(const struct nlmsghdr *nlh, struct mc_link *out);
/* Look a link up by index (ifindex > 0) or by name. -ENODEV if absent. */
int nl_link_get(int ifindex, const char *name, struct mc_link *out);
/* The id this netns uses for the netns behind nsfd (-1: none assigned). */
int nl_nsid_of(int nsfd, int *nsid);
/* Count tc filters on ifindex under parent (e.g. clsact ingress). */
int nl_count_filters(int ifindex, uint32_t parent, int *count);
/* Same, leaving out filters at priority skip_prio (our own); 0 skips none. */
int nl_count_foreign_filters(int ifindex, uint32_t parent, uint16_t skip_prio, int *count);
/* Kind of the root qdisc of ifindex ("noqueue" for a fresh veth). */
int nl_root_qdisc(int ifindex, char *kind, size_t n);
/* Delete the clsact qdisc on ifindex. */
int nl_del_clsact(int ifindex);

#endif
