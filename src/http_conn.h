/* SPDX-License-Identifier: ISC */
/*
 * http_conn: the connection engine every MPM drives. One connection is a state machine:
 * read the head -> parse (http_parse) -> discard any request body -> answer (http_static)
 * -> write the head and body -> next request, lingering close, or close. conn_run() does
 * non-blocking I/O until the socket would block and says which readiness it waits for.
 * Buffers are held only while a request is in progress: an idle keep-alive connection
 * is one small struct.
 *
 * What an edge-triggered or completion driver (an epoll edge, a signal per event, a
 * completed poll request) may assume, and all it may assume:
 * - CONN_WANT_READ: a read in this same conn_run() hit EAGAIN or came back short (a TCP
 *   read copies all there is), so the socket was empty after the driver last took an
 *   event for it, and any byte arriving since raises a new one.
 * - CONN_WANT_WRITE: a write in this same conn_run() hit EAGAIN, likewise.
 * - Nothing the engine learnt of the socket outlives a return: while a connection waits
 *   to write, or for its turn (CONN_YIELD), the driver may take and drop an input event
 *   (an edge that came with "writable"), so every conn_run() reads again before it asks
 *   for input. A driver may thus ignore readiness it did not ask for, as long as it
 *   runs the connection on the readiness it asked for.
 * A completion-driven caller (conn_set_completion) does the socket I/O for it instead:
 * the same state machine, with bytes received given in and what to send asked out
 * (the contract is at conn_set_completion below).
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
	CONN_T_FIRST,		/* header_timeout less conn_set_waited() until a first byte */
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
/*
 * The inverse of conn_extra(): the connection whose extra starts at extra. A loop that
 * uses conn_queue.c puts its struct conn_qlink FIRST in its extra, so that the queue
 * finds a link's connection with it instead of a pointer in every link (10,000 idle
 * connections are 10,000 of each field: see struct conn_qlink).
 */
struct conn *conn_of_extra(void *extra);

/*
 * The addresses a response is accounted to. client: the real client, what the access
 * log, status_allow and max_connections_per_client use: the PROXY header's source on a
 * proxy_protocol listener, then, for a peer in trusted_proxies, the request's
 * client_address_header walked right to left past trusted hops. peer: the socket's
 * other end (a balancer), for the log format's %{peer}a. Valid until conn_run() goes on.
 */
struct conn_addrs {
	const struct sockaddr *client, *peer;
};
struct conn_addrs conn_addrs(const struct conn *c);
int conn_fd(const struct conn *c);

/*
 * Bounds the file bytes one conn_run() sends (0, the default: until the socket would
 * block). Past it conn_run() returns CONN_YIELD without having seen EAGAIN, so that an
 * event loop serves its other connections before running c again, which it must do
 * without waiting for readiness.
 */
void conn_set_write_budget(struct conn *c, uint32_t bytes);

/*
 * Completion-driven connections (a proactor: io_uring). After conn_set_completion(c)
 * the engine performs no socket I/O of its own but for best-effort non-blocking ones
 * that need no completion (the 408 of conn_expire(), a refusal's close, shutdown,
 * close): the driver receives and sends, and tells the engine. The contract:
 * - conn_run() returning CONN_WANT_READ means "start one receive": the engine consumed
 *   every byte it was given. Its result goes in with conn_received(); the driver keeps
 *   buf valid and unchanged until conn_unread() is 0, which conn_run() may leave above
 *   0 (a pipelined request waits while a response goes out): run it again when a send
 *   completes, never receive again before it says CONN_WANT_READ. No receive is
 *   outstanding while the engine writes, so a request that arrives during a response
 *   waits in the socket, and is the next receive's: nothing for a driver to lose.
 * - conn_run() returning CONN_WANT_WRITE means "send what conn_output() says, once":
 *   memory first (buf, len), else a file range (fd, off, flen) the driver may copy in
 *   any way (splice, read and send), more: more follows (MSG_MORE, SPLICE_F_MORE).
 *   Its result goes in with conn_sent(), then conn_run() again.
 * - A connection that returned CONN_DONE or whose deadline passed (conn_expire) has
 *   closed its descriptor; the driver cancels what it has outstanding and conn_free()s
 *   it only once the last of those completed.
 */
struct conn_output {
	const void *buf;
	size_t len;		/* 0: nothing in memory, send the file range */
	int fd;			/* -1: no file range */
	off_t off;
	uint64_t flen;
	bool more;
};

void conn_set_completion(struct conn *c);
/*
 * A receive completed: n > 0 bytes at buf (empty: the socket had nothing more then),
 * 0 at end of stream, -errno on an error. Call conn_run() next.
 */
void conn_received(struct conn *c, const void *buf, ssize_t n, bool empty);
size_t conn_unread(const struct conn *c);
/* What to send now; false when the engine has nothing to send. */
bool conn_output(struct conn *c, struct conn_output *out);
/*
 * A send of what conn_output() said completed: n > 0 bytes went out, 0 the file range
 * ended early (the file shrank), -errno an error (both close). Call conn_run() next.
 */
void conn_sent(struct conn *c, ssize_t n);

/*
 * c was connected ms before it was accepted, and sent nothing meanwhile if it has sent
 * nothing yet (TCP_DEFER_ACCEPT hands over such a connection only when its deferral
 * ends): header_timeout counts them until its first byte. Call it before the first
 * conn_run(), with the same ms for every connection of a loop, so that the FIFO of
 * CONN_T_FIRST stays sorted.
 */
void conn_set_waited(struct conn *c, uint32_t ms);

int64_t conn_deadline(const struct conn *c);
enum conn_timer conn_timer_kind(const struct conn *c);

/* The deadline passed: answers 408 where a request was half read, and closes. */
void conn_expire(struct conn *c);

/*
 * The generation stops: the request in progress is answered with "Connection: close",
 * a connection idle between requests gets a short grace for a request already on its
 * way, then closes. A fresh connection keeps its header timeout: it was accepted before
 * the stop, and its first request is on its way by definition.
 */
void conn_drain(struct conn *c);

/*
 * conn_queue.c: the timers and the run queue of a loop that drives many connections,
 * whether readiness or completion wakes it. The loop embeds a struct conn_qlink at the
 * start of each connection's extra (conn_of_extra() finds the connection from it; set
 * by conn_qlink_init()) and keeps one struct conn_queue, zeroed. A link is on at most
 * one list: the FIFO of its timer kind, or the run queue. The fields are the queue's; a
 * loop only reads yielded (on the run queue).
 *
 * The link is 24 bytes so that an idle connection (struct conn and a loop's part of 40
 * bytes) is a request of at most 136 bytes, which malloc serves from a 144-byte block
 * (with a pointer back to the connection and a 64-bit deadline it was 152, a 160-byte
 * block: 10,000 idle connections paid 160 KB for them). The deadline is the low 32 bits of
 * the engine's millisecond deadline, compared as serial numbers ((int32_t)(a - b)), which
 * is right while every deadline queued lies within 2^31 ms (24.8 days) of now: the engine
 * caps every timeout below that (CONN_TIMEOUT_MAX_MS).
 */
#define CONN_TIMEOUT_MAX_MS (24 * 86400 * 1000LL)

struct conn_qlink {
	struct conn_qlink *prev, *next;
	uint32_t deadline;	/* conn_deadline()'s low 32 bits */
	uint8_t kind;		/* the timer FIFO it is linked in; CONN_T_COUNT: none */
	bool yielded;		/* in the run queue instead of a FIFO */
};

_Static_assert(sizeof(struct conn_qlink) <= 24, "a link is every idle connection's");

struct conn_fifo {
	struct conn_qlink *head, *tail;
};

struct conn_queue {
	struct conn_fifo timers[CONN_T_COUNT];
	struct conn_fifo runq;	/* connections that yielded, to run again this pass */
	long nrunq;
};

void conn_qlink_init(struct conn_qlink *k);
/* After conn_run() said it waits: k's deadline and kind are taken again from the engine. */
void conn_queue_retime(struct conn_queue *q, struct conn_qlink *k);
/* After conn_run() said CONN_YIELD: k runs again in conn_queue_run(), with no timer. */
void conn_queue_yield(struct conn_queue *q, struct conn_qlink *k);
/* Off whatever list k is on: before conn_free(). */
void conn_queue_remove(struct conn_queue *q, struct conn_qlink *k);
/*
 * conn_expire() for every connection whose deadline is <= now, then drop(k, arg), which
 * must conn_queue_remove() k (and free it).
 */
void conn_queue_expire(struct conn_queue *q, int64_t now,
		       void (*drop)(struct conn_qlink *k, void *arg), void *arg);
/* conn_drain() for every connection queued (the generation stops). */
void conn_queue_drain(struct conn_queue *q);
/*
 * Milliseconds to wait for the earliest deadline, or for other (INT64_MAX: none): 0
 * while the run queue is not empty, -1 when there is nothing to wait for.
 */
int conn_queue_timeout(const struct conn_queue *q, int64_t now, int64_t other);
/*
 * One more turn for each connection that was in the run queue when it is called:
 * drive(k, arg) must take k off the run queue (conn_queue_retime, _yield or _remove).
 */
void conn_queue_run(struct conn_queue *q, void (*drive)(struct conn_qlink *k, void *arg),
		    void *arg);

/* Closes the socket (if still open), logs nothing, frees everything. */
void conn_free(struct conn *c);

/* Frees the calling thread's cache of idle buffers (worker_end() does). */
void conn_release_buffers(void);

#endif
