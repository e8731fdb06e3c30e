/* SPDX-License-Identifier: ISC */
/*
 * http_response: building a response head. The engine serializes it in one pass into the
 * connection's output buffer so the head and a small body leave in one write.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http_response.h"

void reply_init(struct http_reply *r)
{
	r->status = 200;
	r->close = false;
	r->no_body = false;
	r->hdr_len = 0;
	r->fd = -1;
	r->off = 0;
	r->len = 0;
	r->body = NULL;
}

int reply_header(struct http_reply *r, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(r->hdr) - r->hdr_len;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->hdr + r->hdr_len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= room) {
		r->hdr[r->hdr_len] = '\0';
		return -1;
	}
	memcpy(r->hdr + r->hdr_len + n, "\r\n", 2);
	r->hdr_len += (size_t)n + 2;
	return 0;
}

/* Where the line at off ends (its CR), in hdr's lines that each end in CRLF. */
static size_t line_end(const struct http_reply *r, size_t off)
{
	const char *cr = memchr(r->hdr + off, '\r', r->hdr_len - off);

	return cr ? (size_t)(cr - r->hdr) : r->hdr_len;
}

static bool line_is(const struct http_reply *r, size_t off, size_t end, const char *name)
{
	size_t n = strlen(name);

	return end - off > n && r->hdr[off + n] == ':' && strncasecmp(r->hdr + off, name, n) == 0;
}

const char *reply_find_header(const struct http_reply *r, const char *name, size_t *len)
{
	for (size_t off = 0, end; off < r->hdr_len; off = end + 2) {
		end = line_end(r, off);
		if (line_is(r, off, end, name)) {
			*len = end - off;
			return r->hdr + off;
		}
	}
	return NULL;
}

int reply_remove_header(struct http_reply *r, const char *name)
{
	int found = -1;

	for (size_t off = 0, end; off < r->hdr_len;) {
		end = line_end(r, off);
		if (!line_is(r, off, end, name)) {
			off = end + 2;
			continue;
		}
		memmove(r->hdr + off, r->hdr + end + 2, r->hdr_len - end - 2);
		r->hdr_len -= end + 2 - off;
		found = 0;
	}
	return found;
}

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

bool http_status_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

void reply_error(struct http_reply *r, int status)
{
	const char *reason = http_reason(status);
	int n;

	if (r->fd >= 0) {
		/* An error replaces a body already chosen; nobody else holds this fd. */
		close(r->fd);
		r->fd = -1;
	}
	r->status = status;
	n = snprintf(r->body_buf, sizeof(r->body_buf),
		     "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
		     "<body><h1>%d %s</h1></body></html>\n", status, reason, status, reason);
	r->body = r->body_buf;
	r->off = 0;
	r->len = n;
	reply_header(r, "Content-Type: text/html; charset=utf-8");
}

size_t reply_serialize(const struct http_reply *r, const char *date, const char *server,
		       bool keep_alive, int version, char *out, size_t cap)
{
	int n;

	n = snprintf(out, cap, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: %s\r\n",
		     r->status, http_reason(r->status), date, server);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	if ((size_t)n + r->hdr_len >= cap)
		return 0;
	memcpy(out + n, r->hdr, r->hdr_len);
	n += (int)r->hdr_len;

	const char *conn = "";
	if (!keep_alive)
		conn = "Connection: close\r\n";
	else if (version == 10)
		conn = "Connection: keep-alive\r\n";

	int m;
	if (http_status_has_body(r->status))
		m = snprintf(out + n, cap - n, "Content-Length: %lld\r\n%s\r\n",
			     (long long)r->len, conn);
	else
		m = snprintf(out + n, cap - n, "%s\r\n", conn);
	if (m < 0 || (size_t)m >= cap - n)
		return 0;
	return (size_t)n + (size_t)m;
}
