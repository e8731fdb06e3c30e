/* SPDX-License-Identifier: ISC */
/*
 * http_date: the IMF-fixdate of RFC 9110 section 5.6.7, formatted for Date and
 * Last-Modified, and parsed (with the two obsolete forms) for conditional requests.
 */
#ifndef MINIHTTPD_HTTP_DATE_H
#define MINIHTTPD_HTTP_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define HTTP_DATE_LEN 29	/* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* Writes the 29 characters and a NUL into out. */
void http_date_format(time_t t, char out[HTTP_DATE_LEN + 1]);

/* IMF-fixdate, RFC 850 or asctime form; false for anything else (the field is then ignored). */
bool http_date_parse(const char *s, size_t len, time_t *out);

#endif
