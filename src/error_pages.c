/* SPDX-License-Identifier: ISC */
/*
 * error_pages: a table by status, so that finding a page costs one index. The URI is
 * served by http_static as a plain GET of that path (static_error_page()), which never
 * looks for an error page of its own: a page that fails leaves the built-in one.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_pages.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

int error_page_parse(const char *entry, unsigned char statuses[25], const char **uri,
		     size_t *uri_len, char *err, size_t errlen)
{
	const char *p = entry;
	unsigned n = 0;

	memset(statuses, 0, 25);
	for (;;) {
		while (blank(*p))
			p++;
		if (*p < '0' || *p > '9')
			break;
		unsigned v = 0, digits = 0;
		const char *start = p;
		while (*p >= '0' && *p <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (*p && !blank(*p)) {
			snprintf(err, errlen, "\"%s\": \"%.*s\" is not a status", entry,
				 (int)strcspn(start, " \t"), start);
			return -1;
		}
		if (digits != 3 || v < ERROR_PAGE_MIN || v > ERROR_PAGE_MAX) {
			snprintf(err, errlen, "\"%s\": status %.*s is not in 400-599", entry,
				 (int)(p - start), start);
			return -1;
		}
		statuses[(v - ERROR_PAGE_MIN) / 8] |= (unsigned char)(1u << (v - ERROR_PAGE_MIN) % 8);
		n++;
	}
	if (n == 0 || !*p) {
		snprintf(err, errlen, "\"%s\": expected \"STATUS... /PATH\", e.g. "
			 "\"404 /errors/404.html\"", entry);
		return -1;
	}
	size_t len = strcspn(p, " \t"), end = len;
	while (blank(p[end]))
		end++;
	bool valid = *p == '/' && p[end] == '\0';
	for (size_t i = 0; i < len && valid; i++)
		valid = (unsigned char)p[i] > ' ' && p[i] != 0x7f && p[i] != '?' && p[i] != '#';
	if (!valid) {
		snprintf(err, errlen, "\"%s\": the page must be one path starting with \"/\", "
			 "without blanks, '?' or '#', after the statuses", entry);
		return -1;
	}
	*uri = p;
	*uri_len = len;
	return 0;
}

int error_pages_add(struct error_pages *ep, const char *entry, char *err, size_t errlen)
{
	unsigned char statuses[25];
	const char *uri;
	size_t len;

	if (error_page_parse(entry, statuses, &uri, &len, err, errlen) < 0)
		return -1;
	for (unsigned i = 0; i <= ERROR_PAGE_MAX - ERROR_PAGE_MIN; i++) {
		if (!(statuses[i / 8] >> i % 8 & 1))
			continue;
		char *copy = strndup(uri, len);
		if (!copy) {
			snprintf(err, errlen, "error_page: out of memory");
			return -1;
		}
		free(ep->uri[i]);
		ep->uri[i] = copy;
	}
	return 0;
}

const char *error_pages_find(const struct error_pages *ep, int status)
{
	if (!ep || status < ERROR_PAGE_MIN || status > ERROR_PAGE_MAX)
		return NULL;
	return ep->uri[status - ERROR_PAGE_MIN];
}

void error_pages_free(struct error_pages *ep)
{
	if (!ep)
		return;
	for (unsigned i = 0; i <= ERROR_PAGE_MAX - ERROR_PAGE_MIN; i++)
		free(ep->uri[i]);
	free(ep);
}
