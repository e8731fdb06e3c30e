/* SPDX-License-Identifier: ISC */
/*
 * proxy_proto: the header a balancer prepends to a connection to tell the server who the
 * client is: HAProxy's PROXY protocol, version 1 (one text line) and version 2 (binary),
 * as its specification (doc/proxy-protocol.txt in HAProxy) defines them for a receiver.
 * Pure logic over the connection's first bytes: no I/O, no allocation, no state kept
 * between calls, so it can be unit-tested and fuzzed directly.
 *
 * proxy_parse() returns 0 while the header is incomplete, its length in bytes once it is
 * complete and valid (the bytes after it start the HTTP request), or -PROXY_ERR_x. Each
 * answer depends only on the bytes given, and an answer other than 0 never changes when
 * more bytes arrive: a caller may call it again on the grown buffer after every read.
 * A malformed header is refused at the first byte that makes it so; a v1 line is decoded
 * only once its CRLF is there, as the specification asks.
 */
#ifndef MINIHTTPD_PROXY_PROTO_H
#define MINIHTTPD_PROXY_PROTO_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* A v1 line, CRLF included, is at most this long. */
#define PROXY_V1_MAX 107
/*
 * The longest v2 header accepted: the 16 fixed bytes and up to 1024 of addresses and TLVs
 * (a UNIX address block is 216; HAProxy's TLVs, SSL ones included, stay well below). The
 * caller's buffer must hold this many bytes, or a valid header could never complete.
 */
#define PROXY_V2_MAX (16 + 1024)
/* The most bytes proxy_parse() may need to see. */
#define PROXY_HEADER_MAX PROXY_V2_MAX

enum proxy_command {
	PROXY_CMD_LOCAL,	/* v2 LOCAL: the balancer's own connection (a health check) */
	PROXY_CMD_PROXY,	/* relayed on behalf of a client (v1 is always this) */
};

enum proxy_error {
	PROXY_ERR_SIGNATURE = 1,	/* neither "PROXY " nor the v2 signature */
	PROXY_ERR_V1_CRLF,		/* no CRLF within 107 bytes, or a bare CR or LF */
	PROXY_ERR_V1_FAMILY,		/* not TCP4, TCP6 or UNKNOWN */
	PROXY_ERR_V1_FIELDS,		/* not "SRC DST SPORT DPORT", single spaces */
	PROXY_ERR_V1_ADDRESS,		/* an address that is no IPv4 or IPv6 text */
	PROXY_ERR_V1_PORT,		/* a port that is not 0-65535 in plain decimal */
	PROXY_ERR_V1_MISMATCH,		/* an address of the other family than announced */
	PROXY_ERR_V2_VERSION,		/* the version nibble is not 2 */
	PROXY_ERR_V2_COMMAND,		/* neither LOCAL nor PROXY */
	PROXY_ERR_V2_FAMILY,		/* an address family or transport not in the spec */
	PROXY_ERR_V2_TOO_LONG,		/* longer than PROXY_V2_MAX */
	PROXY_ERR_V2_LENGTH,		/* the length is shorter than the family's addresses */
	PROXY_ERR_V2_TLV,		/* a TLV runs past the header's end */
};

struct proxy_header {
	int version;			/* 1 or 2 */
	enum proxy_command command;
	/*
	 * The client (src) and the address it connected to (dst), ports included. Both
	 * lengths are 0 when the header carries no address the server uses: v2 LOCAL, v1
	 * UNKNOWN, v2 UNSPEC, and v2 UDP or UNIX (the specification lets a receiver treat
	 * those as UNSPEC). The connection's real endpoints then stay its addresses.
	 */
	struct sockaddr_storage src, dst;
	socklen_t src_len, dst_len;
};

/* Parses the header at the start of buf[0..len): 0 (need more), > 0 (length), -error. */
ssize_t proxy_parse(const void *buf, size_t len, struct proxy_header *h);

/* A short text for logs naming a proxy_parse() error (its negated return value). */
const char *proxy_error_text(int err);

#endif
