/* SPDX-License-Identifier: ISC */
/*
 * log_format: the access log's line formats. `access_log_format` (a name or a string of
 * Apache-like % directives) is compiled once, when the configuration is read, into a
 * list of operations; a line is then a pure function of that list and the facts of one
 * response (struct log_facts), with no parsing per request. Both are unit-tested
 * (tests/unit/test_log_format.c).
 *
 * Directives: %% %h %a %{peer}a %{c}a %l %u %t %r %m %U %q %H %s %>s %b %B %D %T %v
 * %{Referer}i %{User-Agent}i %{Host}i %{c}L %k; names: "combined", "common", "json".
 */
#ifndef MINIHTTPD_LOG_FORMAT_H
#define MINIHTTPD_LOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "http_parse.h"

/* The longest line the formatter writes, its newline included: fields are cut to fit. */
#define LOG_LINE_MAX 8192

#define LOG_FORMAT_MAX_OPS 64
#define LOG_FORMAT_MAX_TEXT 512

struct log_op {
	uint16_t kind;
	uint16_t len;		/* literal text: its length in lit[] */
	uint32_t off;		/* literal text: where it starts */
};

struct log_format {
	unsigned nops;
	struct log_op op[LOG_FORMAT_MAX_OPS];
	char lit[LOG_FORMAT_MAX_TEXT];
};

/*
 * What the log says about one response. The engine fills it; other layers add to it:
 * client is the real client once the PROXY protocol or a trusted Forwarded header gave
 * one, peer the socket's; site the name of the virtual host that answered.
 */
struct log_facts {
	const struct sockaddr *client;	/* %h %a, json "client": never NULL */
	const struct sockaddr *peer;	/* %{peer}a, json "peer": NULL means the client */
	const struct http_request *req;	/* NULL when no request head could be parsed */
	const char *site;		/* %v, json "site": NULL: the Host field, else "-" */
	size_t site_len;
	const char *user;		/* %u: the authenticated user; NULL: "-" */
	time_t time;			/* %t: when the response ended, wall clock seconds */
	int status;
	uint64_t bytes;			/* body bytes sent (%b %B) */
	uint64_t duration_us;		/* %D: from the request's first byte to its end */
	uint64_t conn_id;		/* %{c}L: pid << 32 | the process's count, as "pid-n" */
	uint32_t keepalive;		/* %k: requests served before this one on the connection */
};

/*
 * Compiles spec (a name or a format string) into f. -1 with err naming the problem
 * ("unknown directive %Z at column 7") when it is not a valid format.
 */
int log_format_compile(struct log_format *f, const char *spec, char *err, size_t errlen);

/* Writes one line, its newline included, into out (LOG_LINE_MAX bytes); returns its length. */
size_t log_format_line(const struct log_format *f, const struct log_facts *x, char *out);

#endif
