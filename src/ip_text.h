/*
 * ip_text: strict textual IP addresses and ports, as the PROXY protocol header and the
 * Forwarded / X-Forwarded-For fields carry them. Pure functions over a byte slice (not
 * NUL-terminated), no allocation. Strict, because these texts come from the network and
 * decide which client a request is accounted to: a dotted quad with a leading zero is
 * octal to some parsers and decimal to others, so it is refused rather than guessed.
 */
#ifndef MINIHTTPD_IP_TEXT_H
#define MINIHTTPD_IP_TEXT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Exactly four decimal numbers 0-255, one dot between each, no leading zeros. */
bool ip_text_v4(const char *s, size_t len, struct in_addr *out);

/* IPv6 text (RFC 4291 section 2.2, embedded dotted quad included), at most 45 bytes. */
bool ip_text_v6(const char *s, size_t len, struct in6_addr *out);

/* A decimal port 0-65535: digits only, no sign, no leading zero but in "0" itself. */
bool ip_text_port(const char *s, size_t len, uint16_t *out);

/* Fills *ss as an AF_INET / AF_INET6 socket address (port in host order); its length. */
socklen_t ip_text_sockaddr4(struct sockaddr_storage *ss, const struct in_addr *a, uint16_t port);
socklen_t ip_text_sockaddr6(struct sockaddr_storage *ss, const struct in6_addr *a,
			    uint16_t port);

#endif
