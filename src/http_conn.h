/*
 * http_conn: the connection engine every MPM drives. One connection is a state machine:
 * read the head -> parse (http_parse) -> discard any request body -> answer (http_static)
 * -> write the head and body -> next request, lingering close, or close. conn_run() does
 * non-blocking I/O until the socket would block and says which readiness it waits for;
 * it only returns CONN_WANT_READ after a read hit EAGAIN or came back short (a TCP read
 * copies all there is, so the socket was empty and any later byte is a new edge) and
 * CONN_WANT_WRITE after a write hit EAGAIN, so edge-triggered callers are correct.
 * Buffers are held only while a
 * request is in progress: an idle keep-alive connection is one small struct.
 */
#ifndef MINIHTTPD_HTTP_CONN_H
#define MINIHTTPD_HTTP_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "clock.h"	/* deadlines are clock_coarse_ms() readings */

struct config;
struct conn_ctx;	/* per generation, shared read-only by its workers (conn_ctx.h) */
struct worker;		/* the worker serving (mpm.h) */

/*
 * Opens the document root and MIME table as the current (already unprivileged) user, and
 * makes the per-client connection table: call it before forking the processes that serve.
 */
int conn_ctx_init(struct conn_ctx *ctx, const struct config *conf, int access_fd,
		  char *err, size_t errlen);
void conn_ctx_free(struct conn_ctx *ctx);
/*
 * Every reaper of a process that served ctx's connections calls it with waitpid()'s status:
 * one that did not exit cleanly may have died holding connections, which count no more.
 */
void conn_ctx_reaped(const struct conn_ctx *ctx, pid_t pid, int status);

enum conn_want {
	CONN_DONE = 0,		/* closed: conn_free() it */
	CONN_WANT_READ = 1,
	CONN_WANT_WRITE = 2,
	CONN_YIELD = 3,		/* only after conn_set_write_budget(): see there */
};

/* Which timeout runs; each has a fixed length, so a FIFO per kind stays sorted. */
enum conn_timer {
	CONN_T_HEADER,		/* header_timeout for the whole head (and a body) */
	CONN_T_KEEPALIVE,	/* keepalive_timeout while idle */
	CONN_T_SEND,		/* send_timeout without progress */
	CONN_T_LINGER,		/* lingering close */
	CONN_T_COUNT
};

struct conn;

/*
 * Takes ownership of fd (non-blocking) for worker w, which counts it until conn_free()
 * (its last one closing shows the worker idle again). peer NULL: the socket's. extra:
 * bytes the driver wants for itself in the same allocation (conn_extra()).
 */
struct conn *conn_new(struct worker *w, int fd, const struct sockaddr *peer,
		      socklen_t peerlen, size_t extra);
enum conn_want conn_run(struct conn *c);
void *conn_extra(struct conn *c);
int conn_fd(const struct conn *c);

/*
 * Bounds the file bytes one conn_run() sends (0, the default: until the socket would
 * block). Past it conn_run() returns CONN_YIELD without having seen EAGAIN, so that an
 * event loop serves its other connections before running c again, which it must do
 * without waiting for readiness.
 */
void conn_set_write_budget(struct conn *c, uint32_t bytes);

int64_t conn_deadline(const struct conn *c);
enum conn_timer conn_timer_kind(const struct conn *c);

/* The deadline passed: answers 408 where a request was half read, and closes. */
void conn_expire(struct conn *c);

/*
 * The generation stops: the request in progress is answered with "Connection: close",
 * an idle connection gets a short grace for a request already on its way, then closes.
 */
void conn_drain(struct conn *c);

/* Closes the socket (if still open), logs nothing, frees everything. */
void conn_free(struct conn *c);

/* Frees the calling thread's cache of idle buffers (worker_end() does). */
void conn_release_buffers(void);

#endif
