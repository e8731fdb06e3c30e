/* SPDX-License-Identifier: ISC */
/*
 * host: the Host header (or an absolute-form target's authority) as the key virtual hosts
 * are looked up by. Pure: no allocation, no state, so it is unit-tested and fuzzed alone.
 */
#ifndef MINIHTTPD_HOST_H
#define MINIHTTPD_HOST_H

#include <stddef.h>
#include <sys/types.h>

/* A DNS name has at most 253 bytes without its final dot (RFC 1035 2.3.4). */
#define HOST_NAME_MAX_LEN 253

/*
 * Validates uri-host [ ":" port ] in p[0..n) and writes the lookup key into out (cap bytes,
 * HOST_NAME_MAX_LEN + 1 suffice): lower case, without the port and without one trailing
 * dot, NUL-terminated. An IP literal keeps its brackets. Returns the key's length (0 for
 * an empty field: no name), or -400 for a field to refuse: a port out of 0..65535 or not
 * digits, a space, userinfo ('@'), a path, an IPv6 address without brackets, an empty
 * label, a label over 63 bytes, a name over HOST_NAME_MAX_LEN, or any byte that no DNS
 * name or IP literal has (percent-encoding and sub-delims included: no site is named so).
 */
ssize_t host_normalize(const char *p, size_t n, char *out, size_t cap);

#endif
