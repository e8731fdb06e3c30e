/* SPDX-License-Identifier: ISC */
/*
 * conn_queue: the timers and the run queue of a loop over many connections, shared by
 * every MPM that drives the engine itself, whether readiness (epoll, poll, select) or
 * completion (io_uring) wakes it. Nothing here does I/O or reads a clock: the loop
 * passes "now", so the order is unit-tested with fake deadlines.
 *
 * Timeouts: each conn_timer kind has a fixed length, so appending to one FIFO per kind
 * keeps it sorted by deadline; only the heads are looked at, whatever the count. An idle
 * keep-alive connection costs its links and nothing else.
 *
 * A large response is sent in turns (conn_set_write_budget()): a connection that used
 * its turn (CONN_YIELD) waits in a run queue, served round robin after the events of
 * each pass, so one fast reader cannot hold the loop, and less data sits in socket
 * buffers. It has no timer meanwhile: it runs again within the pass.
 */
#include <stddef.h>

#include "http_conn.h"

/*
 * a is due by b: deadlines are kept as their low 32 bits, so the difference decides, as
 * for serial numbers (RFC 1982); right while both lie within 2^31 ms of each other,
 * which CONN_TIMEOUT_MAX_MS keeps (http_conn.h).
 */
static bool due_by(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

void conn_qlink_init(struct conn_qlink *k)
{
	*k = (struct conn_qlink){ .kind = CONN_T_COUNT };
}

static void fifo_unlink(struct conn_fifo *f, struct conn_qlink *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		f->head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		f->tail = k->prev;
}

static void fifo_append(struct conn_fifo *f, struct conn_qlink *k)
{
	k->next = NULL;
	k->prev = f->tail;
	if (f->tail)
		f->tail->next = k;
	else
		f->head = k;
	f->tail = k;
}

void conn_queue_remove(struct conn_queue *q, struct conn_qlink *k)
{
	if (k->yielded) {
		fifo_unlink(&q->runq, k);
		k->yielded = false;
		q->nrunq--;
	} else if (k->kind != CONN_T_COUNT) {
		fifo_unlink(&q->timers[k->kind], k);
		k->kind = CONN_T_COUNT;
	}
}

void conn_queue_yield(struct conn_queue *q, struct conn_qlink *k)
{
	conn_queue_remove(q, k);
	k->yielded = true;
	fifo_append(&q->runq, k);
	q->nrunq++;
}

/*
 * A changed deadline moves to its FIFO's tail, which keeps the FIFO sorted. A yielded
 * link's kind is CONN_T_COUNT, so it is always linked again.
 */
void conn_queue_retime(struct conn_queue *q, struct conn_qlink *k)
{
	/* The link is first in its connection's extra (http_conn.h). */
	struct conn *c = conn_of_extra(k);
	uint32_t d = (uint32_t)conn_deadline(c);
	enum conn_timer kind = conn_timer_kind(c);

	if (d == k->deadline && kind == k->kind)
		return;
	conn_queue_remove(q, k);
	k->deadline = d;
	k->kind = (uint8_t)kind;
	fifo_append(&q->timers[kind], k);
}

void conn_queue_run(struct conn_queue *q, void (*drive)(struct conn_qlink *k, void *arg),
		    void *arg)
{
	for (long n = q->nrunq; n > 0 && q->runq.head; n--)
		drive(q->runq.head, arg);
}

void conn_queue_expire(struct conn_queue *q, int64_t now,
		       void (*drop)(struct conn_qlink *k, void *arg), void *arg)
{
	for (int kind = 0; kind < CONN_T_COUNT; kind++) {
		struct conn_qlink *k;
		while ((k = q->timers[kind].head) && due_by(k->deadline, (uint32_t)now)) {
			conn_expire(conn_of_extra(k));
			drop(k, arg);
		}
	}
}

/* Merge sort by deadline of a list linked by next; prev links are rebuilt later. */
static struct conn_qlink *sort_chain(struct conn_qlink *a, size_t n)
{
	if (n < 2)
		return a;
	struct conn_qlink *b = a, *head = NULL, **tail = &head;
	for (size_t i = 1; i < n / 2; i++)
		b = b->next;
	struct conn_qlink *second = b->next;
	b->next = NULL;
	a = sort_chain(a, n / 2);
	b = sort_chain(second, n - n / 2);
	while (a && b) {
		struct conn_qlink **min = due_by(a->deadline, b->deadline) ? &a : &b;
		*tail = *min;
		tail = &(*min)->next;
		*min = (*min)->next;
	}
	*tail = a ? a : b;
	return head;
}

/*
 * Draining shortens idle keep-alive deadlines, which breaks the FIFOs' order once:
 * every connection is drained, then each FIFO is rebuilt sorted. After that every new
 * deadline is again "now + a fixed length", so appending keeps them sorted.
 */
void conn_queue_drain(struct conn_queue *q)
{
	struct conn_qlink *chain[CONN_T_COUNT] = {0};
	size_t count[CONN_T_COUNT] = {0};

	for (int kind = 0; kind < CONN_T_COUNT; kind++) {
		struct conn_qlink *k = q->timers[kind].head;
		while (k) {
			struct conn_qlink *next = k->next;
			struct conn *c = conn_of_extra(k);
			conn_drain(c);
			k->deadline = (uint32_t)conn_deadline(c);
			k->kind = (uint8_t)conn_timer_kind(c);
			k->next = chain[k->kind];
			chain[k->kind] = k;
			count[k->kind]++;
			k = next;
		}
		q->timers[kind] = (struct conn_fifo){0};
	}
	for (struct conn_qlink *k = q->runq.head; k; k = k->next)
		conn_drain(conn_of_extra(k));
	for (int kind = 0; kind < CONN_T_COUNT; kind++) {
		struct conn_qlink *prev = NULL, *k = sort_chain(chain[kind], count[kind]);
		q->timers[kind].head = k;
		for (; k; prev = k, k = k->next)
			k->prev = prev;
		q->timers[kind].tail = prev;
	}
}

int conn_queue_timeout(const struct conn_queue *q, int64_t now, int64_t other)
{
	int64_t first = other;

	if (q->runq.head)
		return 0;
	for (int kind = 0; kind < CONN_T_COUNT; kind++) {
		const struct conn_qlink *k = q->timers[kind].head;
		/* The full deadline again, from its distance to now (see due_by()). */
		int64_t d = k ? now + (int32_t)(k->deadline - (uint32_t)now) : INT64_MAX;
		if (d < first)
			first = d;
	}
	if (first == INT64_MAX)
		return -1;
	if (first <= now)
		return 0;
	/* The coarse clock lags a tick: waking early would only spin until it catches up. */
	return first - now > 86400000 ? 86400000 : (int)(first - now) + 1;
}
