/* SPDX-License-Identifier: ISC */
/*
 * http_site: what a request's virtual host and location add around static_serve(): the
 * site chosen by Host (or the absolute-form target's authority), the location chosen by
 * the cleaned path, and that location's redirect, index, directory_listing, fallback,
 * headers and expires. No I/O but what static_serve() does.
 */
#ifndef MINIHTTPD_HTTP_SITE_H
#define MINIHTTPD_HTTP_SITE_H

#include <limits.h>

#include "host.h"
#include "http_parse.h"
#include "http_response.h"
#include "http_static.h"
#include "site.h"

/*
 * The site for req, with its Host key written to key (HOST_NAME_MAX_LEN + 2 bytes); NULL
 * when the Host must be refused with 400 (host_normalize()).
 */
const struct site *http_site_of(const struct site_set *set, const struct http_request *req,
				char *key, size_t cap);

/* Where a request lands in its site: http_site_locate() finds it once per request. */
struct http_site_target {
	int error;			/* a status when the path cannot be served, else 0 */
	const struct location *loc;	/* NULL: the site's own options */
	size_t len;
	char path[PATH_MAX + 2];	/* the clean path, NUL-terminated */
};

/* req's clean path and its location in site s. */
void http_site_locate(const struct site *s, const struct http_request *req,
		      struct http_site_target *t);

/* The options t is served with: its location's, or its site's. */
static inline const struct site_opts *http_site_opts(const struct site *s,
						     const struct http_site_target *t)
{
	return t->loc ? &t->loc->opts : &s->opts;
}

/* Serves a GET or HEAD of req at t on site s, whose root and MIME setup are st. */
void http_site_serve(const struct static_ctx *st, const struct site *s, const char *host,
		     const struct http_site_target *t, const struct http_request *req,
		     struct http_reply *reply);

/*
 * A redirect's URL: tmpl with $PATH (the cleaned path after the location's literal
 * beginning, percent-encoded), $QUERY (as sent) and $HOST (key) substituted. Returns its
 * length, or -1 when it does not fit in cap.
 */
ssize_t http_site_redirect_url(const char *tmpl, const char *rest, const struct http_str *query,
			       const char *host, char *out, size_t cap);

#endif
