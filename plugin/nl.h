/* SPDX-License-Identifier: Apache-2.0 */
/* Netlink (rtnetlink through libmnl): links, netns ids, tc filters. A
 * netlink socket talks to the netns it was created in, so every call opens
 * its own socket in the caller's current netns. */
#ifndef MC_NL_H
#define MC_NL_H

#include <stdbool.h>
#include <stdint.h>

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
