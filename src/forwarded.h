/* SPDX-License-Identifier: ISC */
/*
 * forwarded: the real client's address from the fields a proxy adds to a request,
 * `Forwarded` (RFC 7239) or `X-Forwarded-For`, walked right to left past the proxies the
 * server trusts (the rule of Apache's mod_remoteip):
 *
 * - a peer that is not a trusted proxy is the client: the fields are its own words and
 *   are ignored;
 * - otherwise each entry, from the right (the one the peer added) to the left, is the
 *   hop before: the first that is not trusted is the client; when all are trusted, the
 *   left-most is;
 * - an entry that names no address (garbage, "unknown", an obfuscated "_name", a
 *   Forwarded element without for=) stops the walk: the client is the last good address
 *   seen, which is a trusted proxy (or the peer).
 *
 * Which of the two fields is read is the operator's choice, never the request's: a proxy
 * appends to one of them, and a client may send the other forged, so reading whichever
 * is present would let a client choose its own address.
 *
 * Pure functions: no I/O, no allocation.
 */
#ifndef MINIHTTPD_FORWARDED_H
#define MINIHTTPD_FORWARDED_H

#include <stdbool.h>
#include <sys/socket.h>

#include "http_parse.h"

enum forwarded_field {
	FORWARDED_XFF,		/* X-Forwarded-For: 192.0.2.1, 2001:db8::1 */
	FORWARDED_RFC7239,	/* Forwarded: for=192.0.2.1, for="[2001:db8::1]:4711" */
};

enum forwarded_result {
	FORWARDED_PEER,		/* the peer is not trusted: it is the client */
	FORWARDED_NONE,		/* a trusted peer, but no entry: the peer */
	FORWARDED_CLIENT,	/* the right-most entry that is not trusted */
	FORWARDED_LEFTMOST,	/* every entry is trusted: the left-most */
	FORWARDED_STOPPED,	/* an entry naming no address stopped the walk */
};

/* Whether addr is a proxy whose forwarding fields are believed. */
typedef bool (*forwarded_trusted_fn)(const struct sockaddr *addr, void *arg);

/*
 * The client's address for a request from peer: *out is the peer's or an entry's
 * address (an entry's port when it gives one, else 0), *outlen its length. The request's
 * fields named by which are read in order, as one list (RFC 9110 section 5.3). Returns
 * how the address was chosen.
 */
enum forwarded_result forwarded_client(enum forwarded_field which,
				       const struct http_field *fields, unsigned nfields,
				       const struct sockaddr *peer, socklen_t peerlen,
				       forwarded_trusted_fn trusted, void *arg,
				       struct sockaddr_storage *out, socklen_t *outlen);

/* The field's name, for logs and configuration. */
const char *forwarded_field_name(enum forwarded_field which);

#endif
