/* SPDX-License-Identifier: ISC */
/*
 * base64: strictness keeps the credentials a client sends to exactly one byte string,
 * so nothing downstream (logs, comparisons) sees two spellings of one password.
 */
#include <stdbool.h>

#include "base64.h"

static int value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

ssize_t base64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t o = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		const unsigned char *g = (const unsigned char *)in + i;
		bool last = i + 4 == len;
		int pad = last && g[3] == '=' ? (g[2] == '=' ? 2 : 1) : 0;
		int v[4];

		for (int k = 0; k < 4 - pad; k++)
			if ((v[k] = value(g[k])) < 0)
				return -1;
		if (pad == 2 && (v[1] & 0x0f))
			return -1;
		if (pad == 1 && (v[2] & 0x03))
			return -1;
		if ((size_t)(3 - pad) > cap - o)
			return -1;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
	}
	return (ssize_t)o;
}
