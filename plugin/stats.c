// SPDX-License-Identifier: Apache-2.0
#include "stats.h"

#define F(g, j, m, h, field) { g, j, m, h, offsetof(struct mc_stats, field) }

const struct mc_stat_field mc_stat_fields[] = {
	F("packet", "seenPackets", "packet_seen_packets_total",
	  "Packets the pod sent that the tc program saw.", tc_pkts_seen),
	F("packet", "seenBytes", "packet_seen_bytes_total",
	  "Bytes the pod sent that the tc program saw.", tc_bytes_seen),
	F("packet", "redirectedPackets", "packet_redirected_packets_total",
	  "Packets delivered straight into another local pod.", tc_pkts_redirected),
	F("packet", "redirectedBytes", "packet_redirected_bytes_total",
	  "Bytes delivered straight into another local pod.", tc_bytes_redirected),
	F("packet", "passedPackets", "packet_passed_packets_total",
	  "Packets left to the host's normal path.", tc_pkts_passed),
	F("packet", "passedBytes", "packet_passed_bytes_total",
	  "Bytes left to the host's normal path.", tc_bytes_passed),
	F("packet", "policyPassedPackets", "packet_policy_passed_packets_total",
	  "Packets for a local pod left to the normal path because the host had not accepted their flow.",
	  tc_pkts_policy),
	F("packet", "policyPassedBytes", "packet_policy_passed_bytes_total",
	  "Bytes for a local pod left to the normal path because the host had not accepted their flow.",
	  tc_bytes_policy),
	F("socket", "activeEstablished", "socket_active_established_total",
	  "TCP connections the pod opened.", sock_active_estab),
	F("socket", "passiveEstablished", "socket_passive_established_total",
	  "TCP connections the pod accepted.", sock_passive_estab),
	F("socket", "redirectedMessages", "socket_redirected_messages_total",
	  "Messages the pod's sockets handed straight to a local peer socket.", msg_redirected),
	F("socket", "redirectedBytes", "socket_redirected_bytes_total",
	  "Bytes the pod's sockets handed straight to a local peer socket.", msg_bytes_redirected),
	F("socket", "passedMessages", "socket_passed_messages_total",
	  "Messages of tracked sockets sent through TCP.", msg_passed),
	F("socket", "passedBytes", "socket_passed_bytes_total",
	  "Bytes of tracked sockets sent through TCP.", msg_bytes_passed),
	F("socket", "collisions", "socket_collisions_total",
	  "Connection ids seen twice (both ends stay on TCP).", sock_collisions),
	F("socket", "paired", "socket_paired_total",
	  "Connections whose two ends were paired.", sock_paired),
	F("socket", "backToTcp", "socket_back_to_tcp_total",
	  "Directions that went back to TCP after redirecting.", sock_back_to_tcp),
	F("socket", "left", "socket_left_total",
	  "Sockets that left the sockhash before closing.", sock_left),
	F("socket", "blocking", "socket_blocking_total",
	  "Directions kept on TCP because an end reads in blocking mode.", sock_blocking),
	F("socket", "spliceRefused", "socket_splice_refused_total",
	  "splice(2)/sendfile(2) reads refused while redirected data could be waiting.",
	  sock_splice_refused),
	F("socket", "policyOff", "socket_policy_off_total",
	  "Directions taken back to TCP because an endpoint policy turned their connection off.",
	  sock_policy_off),
	F("socket", "ctRevoked", "socket_ct_revoked_total",
	  "Directions taken back to TCP because the host deleted their connection's conntrack entry.",
	  sock_ct_revoked),
};

const size_t mc_stat_fields_n = MC_ARRAY_SIZE(mc_stat_fields);

/* every counter of struct mc_stats has its row */
_Static_assert(MC_ARRAY_SIZE(mc_stat_fields) ==
		       sizeof(struct mc_stats) / sizeof(__u64),
	       "a counter of mc_stats has no name");
