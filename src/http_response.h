/* SPDX-License-Identifier: ISC */
/*
 * http_response: a response under construction. Handlers set the status, add their header
 * lines and name the body (a file range or a small memory buffer); the connection engine
 * then serializes the head once, adding the fields every response carries (Date, Server,
 * Content-Length, Connection). No I/O here.
 */
#ifndef MINIHTTPD_HTTP_RESPONSE_H
#define MINIHTTPD_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define REPLY_HDR_MAX 1536
#define REPLY_BODY_MAX 640

struct http_reply {
	int status;
	bool close;		/* the server closes the connection after this response */
	bool no_body;		/* HEAD, or a status that has no content: head only */
	size_t hdr_len;
	char hdr[REPLY_HDR_MAX];	/* handler's header lines, each ending in CRLF */

	int fd;			/* body from this file (owned: the engine closes it), or -1 */
	off_t off;		/* first byte of the file to send */
	off_t len;		/* Content-Length, whatever the body's source */

	const char *body;	/* memory body when fd == -1 (len bytes) */
	char body_buf[REPLY_BODY_MAX];
};

void reply_init(struct http_reply *r);

/* Appends one header line (printf format, no CRLF); -1 when it does not fit. */
int reply_header(struct http_reply *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The whole line of the first header field named name (case-insensitive), without its
 * CRLF, and its length; NULL when there is none.
 */
const char *reply_find_header(const struct http_reply *r, const char *name, size_t *len);

/* Removes every line of the field named name; -1 when there was none. */
int reply_remove_header(struct http_reply *r, const char *name);

/* Sets an error status with a short HTML body naming it. Keeps headers already added. */
void reply_error(struct http_reply *r, int status);

/* "Not Found" for 404; "Unknown" for a status we never send. */
const char *http_reason(int status);

/* Whether a response with this status carries Content-Length and a body (not 1xx/204/304). */
bool http_status_has_body(int status);

/*
 * Writes the response head: status line, Date (date is the current IMF-fixdate), Server,
 * the handler's lines, Content-Length and Connection. Returns its length, or 0 when cap
 * is too small.
 */
size_t reply_serialize(const struct http_reply *r, const char *date, const char *server,
		       bool keep_alive, int version, char *out, size_t cap);

#endif
