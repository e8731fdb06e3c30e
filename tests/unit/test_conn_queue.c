/* SPDX-License-Identifier: ISC */
/*
 * test_conn_queue: the timer FIFOs and the run queue of conn_queue.c, with fake
 * connections whose deadlines the table sets: order kept by appending, a changed deadline
 * moving to the tail, expiry of due heads only, the timeout to wait, yielded connections
 * running once per pass round robin, removal from anywhere, draining re-sorting, and
 * all of it across the wrap of the 32 bits of a deadline that a link keeps.
 */
#include <stddef.h>
#include <stdlib.h>

#include "tap.h"
#include "../../src/conn_queue.c"

/* What the engine would report; the queue reads nothing else of a connection. */
struct conn {
	int64_t deadline;
	enum conn_timer kind;
	bool drain_set;			/* conn_drain() moves it to drain_deadline, drain_kind */
	int64_t drain_deadline;
	enum conn_timer drain_kind;
	bool expired;
	int again;			/* turns to yield again when the run queue drives it */
	struct conn_qlink link;
};

#define NCONN 8

static struct conn conns[NCONN];
static struct conn_queue q;
static char trace[64];			/* ids, in the order callbacks saw them */

static void note(const struct conn_qlink *k)
{
	size_t n = strlen(trace);

	if (n + 1 < sizeof(trace)) {
		trace[n] = (char)('0' + (conn_of_extra((void *)k) - conns));
		trace[n + 1] = '\0';
	}
}

/* The fake's link is not first: the queue must only ever ask this for the connection. */
struct conn *conn_of_extra(void *extra)
{
	return (struct conn *)((char *)extra - offsetof(struct conn, link));
}

int64_t conn_deadline(const struct conn *c) { return c->deadline; }
enum conn_timer conn_timer_kind(const struct conn *c) { return c->kind; }
void conn_expire(struct conn *c) { c->expired = true; }

void conn_drain(struct conn *c)
{
	note(&c->link);
	if (c->drain_set) {
		c->deadline = c->drain_deadline;
		c->kind = c->drain_kind;
	}
}

static void drop(struct conn_qlink *k, void *arg)
{
	(void)arg;
	if (conn_of_extra(k)->expired)
		note(k);
	conn_queue_remove(&q, k);
}

static void drive(struct conn_qlink *k, void *arg)
{
	(void)arg;
	note(k);
	if (conn_of_extra(k)->again-- > 0)
		conn_queue_yield(&q, k);
	else
		conn_queue_retime(&q, k);
}

/* The ids of a FIFO head to tail, checked against its prev links read tail to head. */
static bool fifo_ids(const struct conn_fifo *f, char *out, size_t size)
{
	size_t n = 0;
	const struct conn_qlink *prev = NULL;

	for (const struct conn_qlink *k = f->head; k && n + 1 < size; prev = k, k = k->next) {
		if (k->prev != prev)
			return false;
		out[n++] = (char)('0' + (conn_of_extra((void *)k) - conns));
	}
	out[n] = '\0';
	return f->tail == prev;
}

enum op { STOP, RETIME, YIELD, REMOVE, SETDRAIN, DRAIN, EXPIRE, TIMEOUT, RUN, FIFO, RUNQ };

/* RETIME, SETDRAIN: conn gets deadline t, kind. YIELD: then yields again `other` times. */
struct step {
	enum op op;
	int conn;
	int64_t t;		/* a deadline; or now for EXPIRE, TIMEOUT */
	enum conn_timer kind;	/* also the FIFO that FIFO shows */
	int64_t other;		/* TIMEOUT's other deadline; YIELD's extra turns */
	const char *ids;	/* DRAIN, EXPIRE, RUN, FIFO, RUNQ: the ids seen */
	long ms;		/* TIMEOUT */
};

#define H CONN_T_HEADER
#define KA CONN_T_KEEPALIVE
#define LG CONN_T_LINGER
#define NONE INT64_MAX
#define DAYS24 CONN_TIMEOUT_MAX_MS	/* the longest timeout: the wait is capped at a day */
#define WRAP (0xFFFFFF00LL + (3LL << 32))

static const struct {
	const char *name;
	struct step steps[24];
} cases[] = {
	{ "appending keeps each FIFO sorted; only due heads expire", {
		{ RETIME, .conn = 1, .t = 100, .kind = H }, { RETIME, .conn = 2, .t = 150, .kind = H }, { RETIME, .conn = 3, .t = 120, .kind = KA },
		{ FIFO, .kind = H, .ids = "12" }, { FIFO, .kind = KA, .ids = "3" },
		{ TIMEOUT, .t = 50, .other = NONE, .ms = 51 },
		{ EXPIRE, .t = 120, .ids = "13" },
		{ FIFO, .kind = H, .ids = "2" }, { FIFO, .kind = KA, .ids = "" },
		{ TIMEOUT, .t = 120, .other = NONE, .ms = 31 },
		{ TIMEOUT, .t = 120, .other = 130, .ms = 11 },
		{ EXPIRE, .t = 149, .ids = "" } } },
	{ "an unchanged deadline stays; a changed one moves to the tail or another FIFO", {
		{ RETIME, .conn = 1, .t = 100, .kind = H }, { RETIME, .conn = 2, .t = 110, .kind = H }, { RETIME, .conn = 1, .t = 100, .kind = H },
		{ FIFO, .kind = H, .ids = "12" },
		{ RETIME, .conn = 1, .t = 200, .kind = H }, { FIFO, .kind = H, .ids = "21" },
		{ RETIME, .conn = 1, .t = 200, .kind = KA }, { FIFO, .kind = H, .ids = "2" },
		{ FIFO, .kind = KA, .ids = "1" } } },
	{ "a yielded connection has no timer and runs once per pass, round robin", {
		{ RETIME, .conn = 1, .t = 100, .kind = H }, { RETIME, .conn = 2, .t = 100, .kind = H },
		{ YIELD, .conn = 1, .other = 1 }, { YIELD, .conn = 2 },
		{ FIFO, .kind = H, .ids = "" }, { RUNQ, .ids = "12" },
		{ TIMEOUT, .t = 0, .other = NONE, .ms = 0 },
		{ RUN, .ids = "12" }, { RUNQ, .ids = "1" }, { FIFO, .kind = H, .ids = "2" },
		{ RUN, .ids = "1" }, { RUNQ, .ids = "" }, { FIFO, .kind = H, .ids = "21" },
		{ RUN, .ids = "" }, { TIMEOUT, .t = 0, .other = NONE, .ms = 101 } } },
	{ "removal from a FIFO's middle, head and tail, the run queue, or nothing", {
		{ RETIME, .conn = 1, .t = 10, .kind = H }, { RETIME, .conn = 2, .t = 20, .kind = H }, { RETIME, .conn = 3, .t = 30, .kind = H },
		{ REMOVE, .conn = 2 }, { FIFO, .kind = H, .ids = "13" },
		{ REMOVE, .conn = 1 }, { FIFO, .kind = H, .ids = "3" },
		{ YIELD, .conn = 4 }, { YIELD, .conn = 5 }, { REMOVE, .conn = 4 }, { RUNQ, .ids = "5" },
		{ REMOVE, .conn = 5 }, { RUNQ, .ids = "" },
		{ REMOVE, .conn = 3 }, { FIFO, .kind = H, .ids = "" }, { REMOVE, .conn = 3 },
		{ TIMEOUT, .t = 0, .other = NONE, .ms = -1 },
		{ TIMEOUT, .t = 0, .other = 5, .ms = 6 } } },
	{ "draining drains everything, then each FIFO is sorted again", {
		{ RETIME, .conn = 1, .t = 1000, .kind = KA }, { RETIME, .conn = 2, .t = 2000, .kind = KA }, { RETIME, .conn = 3, .t = 3000, .kind = KA },
		{ RETIME, .conn = 4, .t = 500, .kind = H }, { YIELD, .conn = 5 },
		{ SETDRAIN, .conn = 1, .t = 300, .kind = KA }, { SETDRAIN, .conn = 3, .t = 50, .kind = KA }, { SETDRAIN, .conn = 4, .t = 40, .kind = LG },
		{ DRAIN, .ids = "41235" },
		{ FIFO, .kind = KA, .ids = "312" }, { FIFO, .kind = LG, .ids = "4" },
		{ FIFO, .kind = H, .ids = "" }, { RUNQ, .ids = "5" },
		{ EXPIRE, .t = 100, .ids = "34" } } },
	{ "draining reverses seven deadlines: the merge sort puts them back in order", {
		{ RETIME, .conn = 1, .t = 100, .kind = KA }, { RETIME, .conn = 2, .t = 200, .kind = KA }, { RETIME, .conn = 3, .t = 300, .kind = KA },
		{ RETIME, .conn = 4, .t = 400, .kind = KA }, { RETIME, .conn = 5, .t = 500, .kind = KA }, { RETIME, .conn = 6, .t = 600, .kind = KA },
		{ RETIME, .conn = 7, .t = 700, .kind = KA },
		{ SETDRAIN, .conn = 1, .t = 70, .kind = KA }, { SETDRAIN, .conn = 2, .t = 60, .kind = KA }, { SETDRAIN, .conn = 3, .t = 50, .kind = KA },
		{ SETDRAIN, .conn = 4, .t = 40, .kind = KA }, { SETDRAIN, .conn = 5, .t = 30, .kind = KA }, { SETDRAIN, .conn = 6, .t = 20, .kind = KA },
		{ SETDRAIN, .conn = 7, .t = 10, .kind = KA },
		{ DRAIN, .ids = "1234567" }, { FIFO, .kind = KA, .ids = "7654321" },
		{ EXPIRE, .t = 45, .ids = "7654" }, { FIFO, .kind = KA, .ids = "321" } } },
	{ "the wait rounds up a coarse tick and is capped at a day", {
		{ RETIME, .conn = 1, .t = DAYS24, .kind = H },
		{ TIMEOUT, .t = 0, .other = NONE, .ms = 86400000 },
		{ TIMEOUT, .t = DAYS24, .other = NONE, .ms = 0 },
		{ TIMEOUT, .t = DAYS24 - 10, .other = NONE, .ms = 11 } } },
	/*
	 * A link keeps a deadline's low 32 bits: here "now" is 256 ms before they wrap
	 * (the fourth time), and a plain compare of them would take the deadlines past the
	 * wrap for the earliest and the ones before it for never due.
	 */
	{ "deadlines on both sides of the 32-bit wrap keep their order", {
		{ RETIME, .conn = 1, .t = WRAP + 0x80, .kind = KA }, { RETIME, .conn = 2, .t = WRAP + 0x200, .kind = KA },
		{ RETIME, .conn = 3, .t = WRAP + DAYS24, .kind = H },
		{ TIMEOUT, .t = WRAP, .other = NONE, .ms = 0x81 },
		{ TIMEOUT, .t = WRAP, .other = WRAP + 0x10, .ms = 0x11 },
		{ EXPIRE, .t = WRAP + 0x7f, .ids = "" },
		{ SETDRAIN, .conn = 1, .t = WRAP + 0x300, .kind = KA }, { SETDRAIN, .conn = 2, .t = WRAP + 0x50, .kind = KA },
		{ DRAIN, .ids = "312" }, { FIFO, .kind = KA, .ids = "21" },
		{ EXPIRE, .t = WRAP + 0x100, .ids = "2" }, { FIFO, .kind = KA, .ids = "1" },
		{ TIMEOUT, .t = WRAP + 0x100, .other = NONE, .ms = 0x201 },
		{ EXPIRE, .t = WRAP + 0x2ff, .ids = "" }, { EXPIRE, .t = WRAP + 0x300, .ids = "1" },
		{ TIMEOUT, .t = WRAP + 0x300, .other = NONE, .ms = 86400000 },
		{ EXPIRE, .t = WRAP + DAYS24 - 1, .ids = "" }, { EXPIRE, .t = WRAP + DAYS24, .ids = "3" } } },
};

static void run_case(const char *name, const struct step *steps)
{
	memset(conns, 0, sizeof(conns));
	memset(&q, 0, sizeof(q));
	for (int i = 0; i < NCONN; i++)
		conn_qlink_init(&conns[i].link);
	for (int i = 0; steps[i].op != STOP; i++) {
		const struct step *s = &steps[i];
		struct conn *c = &conns[s->conn];
		char ids[64];

		trace[0] = '\0';
		switch (s->op) {
		case STOP:
			break;
		case RETIME:
			c->deadline = s->t;
			c->kind = s->kind;
			conn_queue_retime(&q, &c->link);
			break;
		case YIELD:
			c->again = (int)s->other;
			conn_queue_yield(&q, &c->link);
			break;
		case REMOVE:
			conn_queue_remove(&q, &c->link);
			break;
		case SETDRAIN:
			c->drain_set = true;
			c->drain_deadline = s->t;
			c->drain_kind = s->kind;
			break;
		case DRAIN:
			conn_queue_drain(&q);
			is_str(trace, s->ids, "%s: step %d drains", name, i);
			break;
		case EXPIRE:
			conn_queue_expire(&q, s->t, drop, NULL);
			is_str(trace, s->ids, "%s: step %d expires at %lld", name, i,
			       (long long)s->t);
			break;
		case TIMEOUT:
			is_int(conn_queue_timeout(&q, s->t, s->other), s->ms,
			       "%s: step %d waits at %lld", name, i, (long long)s->t);
			break;
		case RUN:
			conn_queue_run(&q, drive, NULL);
			is_str(trace, s->ids, "%s: step %d runs", name, i);
			break;
		case FIFO:
			ok(fifo_ids(&q.timers[s->kind], ids, sizeof(ids)),
			   "%s: step %d FIFO %d is linked both ways", name, i, (int)s->kind);
			is_str(ids, s->ids, "%s: step %d FIFO %d", name, i, (int)s->kind);
			break;
		case RUNQ: {
			long n = (long)strlen(s->ids);
			ok(fifo_ids(&q.runq, ids, sizeof(ids)),
			   "%s: step %d run queue is linked both ways", name, i);
			is_str(ids, s->ids, "%s: step %d run queue", name, i);
			is_int(q.nrunq, n, "%s: step %d run queue count", name, i);
			break;
		}
		}
	}
}

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(cases[i].name, cases[i].steps);
	return done_testing();
}
