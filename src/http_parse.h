/* SPDX-License-Identifier: ISC */
/*
 * http_parse: the HTTP/1.1 request-head parser (RFC 9112 sections 2-5, RFC 9110 fields).
 * Pure logic over a byte buffer: no I/O, no allocation, no global state, so it can be
 * unit-tested and fuzzed directly. Zero-copy: every pointer in a parsed request points
 * into the caller's buffer, which must stay unchanged while the request is used.
 * http_parse_head() returns 0 while the head is incomplete, the head's length in bytes
 * once it is complete and valid, or -STATUS (-400, -414, -431, -501, -505) for a request
 * that must be refused with that status. A request line is refused with 400 as soon as a
 * byte arrives that no request line can have there (a TLS ClientHello fails at its first
 * byte), not only once the whole head is in.
 */
#ifndef MINIHTTPD_HTTP_PARSE_H
#define MINIHTTPD_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum http_method {
	HTTP_UNKNOWN = 0,	/* a valid token that is no method we know: 501 */
	HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE,
	HTTP_CONNECT, HTTP_OPTIONS, HTTP_TRACE, HTTP_PATCH,
};

struct http_field {
	const char *name;
	size_t name_len;
	const char *value;	/* leading and trailing whitespace removed */
	size_t value_len;
};

struct http_limits {
	size_t max_request_line;	/* longer: 414 */
	size_t max_head;		/* whole head longer than this: 431 */
	unsigned max_fields;		/* more header fields: 431 */
};

/* A slice of the buffer; {NULL, 0} when the field was absent. */
struct http_str {
	const char *p;
	size_t len;
};

struct http_request {
	enum http_method method;
	struct http_str method_name;
	struct http_str target;		/* request-target as sent (origin-form, absolute-form, '*') */
	struct http_str path;		/* target's path part, still percent-encoded */
	struct http_str query;		/* after '?', without it; {NULL,0} when none */
	int version;			/* 10 or 11 */

	struct http_field *fields;	/* caller's array of max_fields entries */
	unsigned nfields;

	/* Fields the server acts on, digested once by the parser. */
	struct http_str host;
	int64_t content_length;		/* -1 when absent */
	bool chunked;			/* Transfer-Encoding ends in chunked */
	bool keep_alive;		/* from version and Connection */
	bool expect_continue;		/* Expect: 100-continue */
	struct http_str if_match, if_none_match, if_modified_since, if_unmodified_since;
	struct http_str range, if_range;
	struct http_str referer, user_agent;

	size_t head_len;		/* bytes of the head, final CRLF included */
	/* Set by the engine, not the parser: the virtual host serving it (site.h), whose
	 * name is the access log's %v. NULL until chosen. */
	const struct site *site;
};

/*
 * Incremental state: lets a caller feed a growing buffer without rescanning bytes already
 * seen. Zero it (HTTP_SCAN_INIT) before the first call for each request.
 */
struct http_scan {
	size_t scanned;		/* where the search for the head's end resumes */
	size_t line_checked;	/* request-line bytes before this offset passed their check */
	unsigned line_state;	/* where in the request line's grammar that check stands */
};
#define HTTP_SCAN_INIT ((struct http_scan){0})

/*
 * Parses the head in buf[0..len). req->fields must point to lim->max_fields entries.
 * Returns 0 (need more bytes), > 0 (head length; req filled) or -STATUS.
 */
ssize_t http_parse_head(const char *buf, size_t len, const struct http_limits *lim,
			struct http_scan *scan, struct http_request *req);

/*
 * The chunked transfer coding (RFC 9112 section 7.1), decoded only to be discarded: the
 * server serves static files and reads a request body only to stay in sync.
 */
struct http_chunked {
	int state;
	uint64_t remaining;	/* bytes left in the current chunk */
	unsigned line_len;	/* length of the chunk-size / trailer line so far */
};
#define HTTP_CHUNKED_INIT ((struct http_chunked){0})

/*
 * Consumes up to len bytes of a chunked body. Returns the number of bytes consumed
 * (all of them unless the body ended inside buf), and sets *done once the last chunk and
 * the trailer section are complete; -400 for a malformed body.
 */
ssize_t http_chunked_consume(struct http_chunked *st, const char *buf, size_t len, bool *done);

/* The method's token as a string, for logs; "UNKNOWN" for HTTP_UNKNOWN. */
const char *http_method_name(enum http_method m);

#endif
