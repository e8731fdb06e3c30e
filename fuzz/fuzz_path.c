/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for static_path_clean, the gate between a request path and the
 * document root. Beyond memory safety (ASan/UBSan) it checks what the opener relies on:
 * a result never starts with '/', has no empty, "." or ".." segment, no control byte, '\'
 * or NUL; cleaning it again (percent-encoded, as a client would send it) changes nothing;
 * and a smaller output buffer either fails or gives the same answer. Any break abort()s.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_static.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
	if (!cond)
		abort();
}

static void check_clean(const char *out, ssize_t n)
{
	check(strlen(out) == (size_t)n);
	check(n == 0 || (out[0] != '/' && out[n - 1] != '/'));
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		check(c >= 0x20 && c != 0x7f && c != '\\');
	}
	for (const char *seg = out; n > 0;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);
		check(len > 0);
		check(!(len == 1 && seg[0] == '.') && !(len == 2 && seg[0] == '.' && seg[1] == '.'));
		if (!end)
			break;
		seg = end + 1;
	}
}

/* "/" + out percent-encoded (all but unreserved bytes and '/'), "/" at the end if dir. */
static size_t encode(const char *out, bool dir, char *enc)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t e = 0;

	enc[e++] = '/';
	for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
			enc[e++] = (char)*p;
		} else {
			enc[e++] = '%';
			enc[e++] = hex[*p >> 4];
			enc[e++] = hex[*p & 15];
		}
	}
	if (dir && e > 1)
		enc[e++] = '/';
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[PATH_MAX], again[PATH_MAX], small[PATH_MAX], enc[3 * PATH_MAX + 2];
	bool dir, dir2, dir3;

	if (size > PATH_MAX)
		return 0;
	ssize_t n = static_path_clean((const char *)data, size, out, sizeof(out), &dir);
	check(n == -400 || (n >= 0 && n < (ssize_t)sizeof(out)));

	/* A cap taken from the data, so the limit checks are reached with short inputs. */
	size_t cap = size ? data[size - 1] % 64 + 1 : 1;
	ssize_t m = static_path_clean((const char *)data, size, small, cap, &dir3);
	check(m == -400 || (m >= 0 && (size_t)m < cap));
	if (m >= 0)
		check(n == m && dir == dir3 && memcmp(out, small, (size_t)m + 1) == 0);
	if (n < 0)
		return 0;
	check_clean(out, n);

	size_t e = encode(out, dir, enc);
	ssize_t n2 = static_path_clean(enc, e, again, sizeof(again), &dir2);
	check(n2 == n && dir2 == dir && strcmp(again, out) == 0);
	return 0;
}
