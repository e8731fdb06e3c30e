/* SPDX-License-Identifier: ISC */
/*
 * addr: IP addresses as the configuration writes them and as the log shows them. Parses
 * a listen address ("0.0.0.0:8080", "[::1]:80", "*:80") and an address block
 * ("10.0.0.0/8", "2001:db8::/32", "::1"), matches a peer against blocks, formats an
 * address for a log line, and gives a client the one key it is counted under.
 *
 * One rule throughout: an IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack
 * socket reports for an IPv4 client) is that IPv4 address when matching and counting.
 * Formatting does not fold it: a log line shows the peer as the socket reported it.
 */
#ifndef MINIHTTPD_ADDR_H
#define MINIHTTPD_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for any text addr_format() and addr_format_port() write, with its NUL. */
#define ADDR_TEXT_MAX 128

/* A block of addresses: the leading `prefix` bits of addr. */
struct addr_net {
	sa_family_t family;	/* AF_INET or AF_INET6 */
	uint8_t prefix;		/* 0..32 or 0..128 */
	uint8_t addr[16];	/* network byte order, the bits past prefix cleared */
};

/*
 * "host:port" with host an IPv4 address, "[IPv6]" or "*" (IPv4 any), and a port 1-65535,
 * into *ss and *len. -1 when it is none of them, with err (when not NULL) saying so
 * as `"TEXT" is not host:port (...)`, for the caller to prefix with what TEXT is.
 */
int addr_parse_hostport(const char *text, struct sockaddr_storage *ss, socklen_t *len,
			char *err, size_t errlen);

/*
 * "192.0.2.1", "10.0.0.0/8", "::1" or "2001:db8::/32" (a bare address is the block of
 * itself alone) into *net, the bits past the prefix cleared. "::ffff:a.b.c.d/n" with n
 * >= 96 is the IPv4 block a.b.c.d/(n-96). -1 when it is none of these, with err as for
 * addr_parse_hostport().
 */
int addr_parse_cidr(const char *text, struct addr_net *net, char *err, size_t errlen);

/*
 * Whether sa lies in one of nets[0..n). An IPv4-mapped peer matches IPv4 blocks; an
 * IPv4 peer never matches an IPv6 block (not even ::/0). Not IP: false.
 */
bool addr_match(const struct addr_net *nets, size_t n, const struct sockaddr *sa);

/* Whether a and b are one socket address: family, address and port (inet), or bytes. */
bool addr_equal(const struct sockaddr *a, socklen_t alen, const struct sockaddr *b,
		socklen_t blen);

/*
 * Whether binding both fails: one family, one port, and one of them the wildcard.
 * [::] is bound IPV6_V6ONLY (listen.c), so it does not cover 0.0.0.0.
 */
bool addr_overlap(const struct sockaddr *a, const struct sockaddr *b);

/*
 * The address alone ("192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1") into buf, for a
 * client in a log line; "-" when sa is not IP (a UNIX socket's peer). Returns buf.
 */
const char *addr_format(const struct sockaddr *sa, char *buf, size_t len);

/*
 * With the port: "192.0.2.1:80", "[::1]:80", or a UNIX socket's path, for a listener in
 * a log line; "(unknown address)" for another family. Returns buf.
 */
const char *addr_format_port(const struct sockaddr *sa, char *buf, size_t len);

/*
 * The client an address is counted as, in 16 bytes: IPv6 as it is, IPv4 as its mapped
 * form, so that both forms of one client are one key. false when sa is not IP.
 */
bool addr_key(const struct sockaddr *sa, uint8_t key[16]);

/*
 * Wire text: strict IP address and port literals as the PROXY protocol header and the
 * Forwarded / X-Forwarded-For fields carry them, over a byte slice (not NUL-terminated).
 * Strict, because these texts come from the network and decide which client a request
 * is accounted to: a dotted quad with a leading zero is octal to some parsers and
 * decimal to others, so it is refused rather than guessed.
 */
/* Exactly four decimal numbers 0-255, one dot between each, no leading zeros. */
bool addr_wire_v4(const char *s, size_t len, struct in_addr *out);

/* IPv6 text (RFC 4291 section 2.2, embedded dotted quad included), at most 45 bytes. */
bool addr_wire_v6(const char *s, size_t len, struct in6_addr *out);

/* A decimal port 0-65535: digits only, no sign, no leading zero but in "0" itself. */
bool addr_wire_port(const char *s, size_t len, uint16_t *out);

/* Fills *ss as an AF_INET / AF_INET6 socket address (port in host order); its length. */
socklen_t addr_sockaddr4(struct sockaddr_storage *ss, const struct in_addr *a, uint16_t port);
socklen_t addr_sockaddr6(struct sockaddr_storage *ss, const struct in6_addr *a,
			    uint16_t port);

#endif
