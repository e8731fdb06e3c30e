/* SPDX-License-Identifier: ISC */
/*
 * metrics: the server's numbers for Prometheus (metrics_path), in the text exposition
 * format 0.0.4. The counters are the scoreboard's (per slot, folded into its totals when a
 * worker leaves), so they outlive workers, generations and reloads, whatever the MPM.
 * metrics_record() is the engine's one call per response; metrics_render() is a pure
 * function of a summary; metrics_serve() is the engine's hook, guarded by status_allow
 * like the status page. A scrape reads every slot once: its cost follows max_workers,
 * never the connections open.
 */
#ifndef MINIHTTPD_METRICS_H
#define MINIHTTPD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "http_parse.h"
#include "http_response.h"
#include "scoreboard.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Counts one response on slot (NULL: not counted): method HTTP_UNKNOWN also for a
 * response to no parsed request, bytes sent (head included), us from the request's first
 * byte to its last byte handed to the kernel.
 */
void metrics_record(struct sb_slot *slot, enum http_method method, int status,
		    uint64_t bytes, uint64_t us);

struct metrics_view {
	const struct sb_summary *sum;
	unsigned nslots;	/* the scoreboard's size */
	const char *version;
	const char *mpm;	/* NULL when unknown */
};

/*
 * Writes the exposition into buf (at most cap bytes, always terminated when cap > 0);
 * returns the length the whole text needs, as snprintf does.
 */
size_t metrics_render(char *buf, size_t cap, const struct metrics_view *v);

/*
 * The engine's hook for GET and HEAD: false when req is not for metrics_path, true when
 * r holds the answer (403 to a peer outside status_allow).
 */
bool metrics_serve(const struct config *conf, struct sb_slot *slot,
		   const struct http_request *req, const struct sockaddr *peer,
		   struct http_reply *r);

#endif
