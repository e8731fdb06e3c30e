/* SPDX-License-Identifier: ISC */
/*
 * host: one pass over the field; the key is built as it is checked, so a byte is looked
 * at once. The rules are stricter than RFC 3986's reg-name on purpose: the key is compared
 * with configured names and substituted into redirects ($HOST), so only what a DNS name
 * or an IP literal can hold gets through.
 */
#include <stdbool.h>

#include "host.h"

static bool name_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* ":" port, or nothing: p[i..n) */
static bool valid_port(const char *p, size_t i, size_t n)
{
	unsigned port = 0;

	if (i == n)
		return true;
	if (p[i++] != ':' || n - i > 5)
		return false;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		port = port * 10 + (unsigned)(p[i] - '0');
	}
	return port <= 65535;
}

ssize_t host_normalize(const char *p, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0, label = 0;

	if (cap < HOST_NAME_MAX_LEN + 2)
		return -400;
	if (n == 0) {
		out[0] = '\0';
		return 0;
	}
	if (p[0] == '[') {
		bool colon = false;

		out[o++] = '[';
		for (i = 1; i < n && p[i] != ']'; i++) {
			char c = lower(p[i]);
			if (c == ':')
				colon = true;
			else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '.'))
				return -400;
			if (o + 2 > HOST_NAME_MAX_LEN)
				return -400;
			out[o++] = c;
		}
		if (i == n || !colon)
			return -400;
		out[o++] = ']';
		i++;
	} else {
		for (; i < n && p[i] != ':'; i++) {
			char c = lower(p[i]);
			if (c == '.') {
				if (label == 0)
					return -400;	/* an empty label */
				label = 0;
				/* One final dot is the root's: "a." and "a.:80" are "a". */
				if (i + 1 == n || p[i + 1] == ':')
					continue;
			} else if (name_byte(c)) {
				if (++label > 63)
					return -400;
			} else {
				return -400;
			}
			if (o >= HOST_NAME_MAX_LEN)
				return -400;
			out[o++] = c;
		}
		if (o == 0)
			return -400;
	}
	if (!valid_port(p, i, n))
		return -400;
	out[o] = '\0';
	return (ssize_t)o;
}
