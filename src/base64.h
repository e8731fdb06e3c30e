/* SPDX-License-Identifier: ISC */
/*
 * base64: a strict decoder of the base64 alphabet (RFC 4648 section 4), for the
 * credentials of HTTP Basic authentication (RFC 7617). Pure, no allocation.
 */
#ifndef MINIHTTPD_BASE64_H
#define MINIHTTPD_BASE64_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Decodes in[0..len) into out (cap bytes). Padding is required, the length must be a
 * multiple of 4, and nothing but the alphabet is allowed (no blanks, no line breaks);
 * the unused bits of the last group must be 0, so each input has one encoding. Returns
 * the decoded length, or -1.
 */
ssize_t base64_decode(const char *in, size_t len, unsigned char *out, size_t cap);

#endif
