/* SPDX-License-Identifier: ISC */
/*
 * status: the server status page (status_path, like Apache's mod_status) and the text of
 * `minihttpd -S`. status_render() turns a scoreboard snapshot into the HTML page or the
 * machine-readable text form (?auto) and does no other I/O than writing to its FILE.
 * status_serve() is the engine's hook: for a GET or HEAD of exactly status_path it answers
 * 403 to peers outside status_allow, or the page as a file body (an unlinked memfd), since
 * the page outgrows a reply's memory buffer.
 */
#ifndef MINIHTTPD_STATUS_H
#define MINIHTTPD_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "http_parse.h"
#include "http_response.h"
#include "scoreboard.h"

enum status_form { STATUS_HTML, STATUS_TEXT };

struct status_view {
	const struct sb_snapshot *snap;
	const char *server;	/* the Server field's text */
	const char *mpm;	/* NULL when unknown */
	time_t now;
};

/* Writes the page; -1 when out reports an error. */
int status_render(FILE *out, const struct status_view *v, enum status_form form);

/*
 * The engine's hook for GET and HEAD: false when req is not for status_path (the caller
 * then serves it as usual), true when r holds the answer. slot: the caller's scoreboard
 * slot, through which the board is found.
 */
bool status_serve(const struct config *conf, struct sb_slot *slot,
		  const struct http_request *req, const struct sockaddr *peer,
		  struct http_reply *r);

/* Makes buf r's body, copied into an unlinked in-memory file (metrics.c's too); -1. */
int status_body(struct http_reply *r, const char *buf, size_t len);

#endif
