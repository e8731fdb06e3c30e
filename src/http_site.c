/* SPDX-License-Identifier: ISC */
/*
 * http_site: the per-site and per-location layer of a GET or HEAD (http_site.h).
 *
 * The location is matched on the path as static_path_clean() leaves it, the same path
 * static_serve() then opens, so what a location says (a redirect, a password later) can
 * not be walked around with "%2e%2e/" or "//". A redirect's $PATH comes from that clean
 * path too and is percent-encoded again: it holds no "..", so a substitution cannot climb
 * above the target's own prefix.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http_date.h"
#include "http_site.h"
#include "location.h"

const struct site *http_site_of(const struct site_set *set, const struct http_request *req,
				char *key, size_t cap)
{
	ssize_t n = 0;

	key[0] = '\0';
	if (req->host.p && (n = host_normalize(req->host.p, req->host.len, key, cap)) < 0)
		return NULL;
	return site_lookup(set, key, (size_t)n);
}

static bool keep_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("-._~/!$&'()*+,;=:@", c);
}

ssize_t http_site_redirect_url(const char *tmpl, const char *rest, const struct http_str *query,
			       const char *host, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const char *p = tmpl; *p;) {
		const char *v = NULL;
		size_t vlen = 0;
		bool encode = false;

		if (strncmp(p, "$PATH", 5) == 0) {
			v = rest;
			vlen = strlen(rest);
			encode = true;
			p += 5;
		} else if (strncmp(p, "$QUERY", 6) == 0) {
			v = query->p ? query->p : "";
			vlen = query->len;
			p += 6;
		} else if (strncmp(p, "$HOST", 5) == 0) {
			v = host;
			vlen = strlen(host);
			p += 5;
		} else {
			v = p++;
			vlen = 1;
		}
		for (size_t i = 0; i < vlen; i++) {
			unsigned char c = (unsigned char)v[i];
			if (encode && (!keep_byte(c) || c == '\0')) {
				if (o + 3 >= cap)
					return -1;
				out[o++] = '%';
				out[o++] = hex[c >> 4];
				out[o++] = hex[c & 15];
			} else {
				if (o + 1 >= cap)
					return -1;
				out[o++] = (char)c;
			}
		}
	}
	out[o] = '\0';
	return (ssize_t)o;
}

static void redirect(const struct site_opts *o, const struct location *loc, const char *path,
		     const char *host, const struct http_request *req, struct http_reply *reply)
{
	char url[1024];
	/* $PATH: what follows the pattern's literal beginning, or the whole path. */
	size_t lit = loc ? strcspn(loc->pattern, "*?[") : 0;
	const char *rest = path + (strlen(path) >= lit ? lit : strlen(path));

	rest += strspn(rest, "/");
	if (http_site_redirect_url(o->redirect, rest, &req->query, host, url, sizeof(url)) < 0) {
		reply_error(reply, 500);
		return;
	}
	reply_error(reply, o->redirect_status);
	if (reply_header(reply, "Location: %s", url) < 0)
		reply_error(reply, 500);
}

static void add_headers(const struct site_opts *o, struct http_reply *reply)
{
	int s = reply->status;

	if (s >= 400)
		return;
	for (size_t i = 0; i < o->nheaders; i++)
		reply_header(reply, "%s", o->headers[i]);
	if (o->expires >= 0 && (s == 200 || s == 203 || s == 206 || s == 304)) {
		char date[HTTP_DATE_LEN + 1];
		http_date_format(time(NULL) + o->expires, date);
		reply_header(reply, "Cache-Control: max-age=%ld", o->expires);
		reply_header(reply, "Expires: %s", date);
	}
}

void http_site_locate(const struct site *s, const struct http_request *req,
		      struct http_site_target *t)
{
	bool dir;
	ssize_t n = static_path_clean(req->path.p, req->path.len, t->path + 1, PATH_MAX, &dir);

	t->loc = NULL;
	t->len = 0;
	t->path[0] = '\0';
	t->error = n < 0 ? (int)-n : 0;
	if (n < 0)
		return;
	t->path[0] = '/';
	t->len = (size_t)n + 1;
	if (dir && n > 0)
		t->path[t->len++] = '/';
	t->path[t->len] = '\0';
	t->loc = site_location(s, t->path, t->len);
}

void http_site_serve(const struct static_ctx *st, const struct site *s, const char *host,
		     const struct http_site_target *t, const struct http_request *req,
		     struct http_reply *reply)
{
	if (t->error) {
		reply_error(reply, t->error);
		return;
	}
	const struct site_opts *o = http_site_opts(s, t);
	if (o->redirect_status) {
		redirect(o, t->loc, t->path, host[0] ? host : s->name, req, reply);
		add_headers(o, reply);
		return;
	}
	struct static_ctx here = *st;
	here.index = o->index;
	here.nindex = o->nindex;
	here.directory_listing = o->directory_listing;
	static_serve(&here, o->content, req, reply);
	if (reply->status == 404 && o->fallback) {
		struct http_request fb = *req;
		fb.path = (struct http_str){ o->fallback, strlen(o->fallback) };
		fb.range = fb.if_range = (struct http_str){ NULL, 0 };
		reply_init(reply);
		static_serve(&here, o->content, &fb, reply);
	}
	add_headers(o, reply);
}
