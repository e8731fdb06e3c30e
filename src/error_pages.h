/* SPDX-License-Identifier: ISC */
/*
 * error_pages: the `error_page` option, "STATUS... URI" entries naming a page under the
 * document root to send, with the original status, in place of the built-in page for a
 * 4xx or 5xx answer. The entry parser is pure, for -t's line-exact errors and for tests.
 */
#ifndef MINIHTTPD_ERROR_PAGES_H
#define MINIHTTPD_ERROR_PAGES_H

#include <stddef.h>

#define ERROR_PAGE_MIN 400
#define ERROR_PAGE_MAX 599

struct error_pages {
	char *uri[ERROR_PAGE_MAX - ERROR_PAGE_MIN + 1];	/* by status; NULL: built-in */
};

/*
 * Parses one entry: one or more statuses (400-599) separated by blanks, then a URI path
 * starting with '/' and without blanks, '?' or '#'. Sets the bit status - 400 of statuses
 * (an array of 200 bits) for each, and *uri and *uri_len. -1 with a message in err.
 */
int error_page_parse(const char *entry, unsigned char statuses[25], const char **uri,
		     size_t *uri_len, char *err, size_t errlen);

/* Adds an entry (a later entry for the same status wins); -1 with err. */
int error_pages_add(struct error_pages *ep, const char *entry, char *err, size_t errlen);

/* The page for status, or NULL. */
const char *error_pages_find(const struct error_pages *ep, int status);

void error_pages_free(struct error_pages *ep);

#endif
