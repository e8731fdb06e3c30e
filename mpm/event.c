/* SPDX-License-Identifier: ISC */
/*
 * event: a fixed number of processes, each running one non-blocking epoll loop over
 * every connection it accepted (the nginx / Node.js model). An idle keep-alive
 * connection is the engine's small struct plus this file's links: no thread, no buffer.
 *
 * Accept: each process adds the shared listeners to its epoll with EPOLLEXCLUSIVE, so a
 * new connection wakes one process, not all. Listeners stay level-triggered in both
 * trigger modes: an accept burst is bounded for fairness and must not strand the rest.
 * They are removed from the epoll set (EPOLLEXCLUSIVE cannot be modified) while the
 * process is full, short of descriptors, over its share of the generation's connections
 * (EPOLLEXCLUSIVE favours the first waiter: worker_share_room(), whose room also bounds
 * each burst, so that none carries the process past its share), or stopping. With
 * TCP_DEFER_ACCEPT a connection is accepted with its request already there: one wakeup
 * per connection, not two.
 * backend = poll | select (event_backend.h) swap epoll out, to compare the three:
 * level-triggered only, and with no EPOLLEXCLUSIVE every process wakes for a connection.
 *
 * Timeouts and the run queue of connections that used their turn of WRITE_BUDGET bytes
 * are the core's (conn_queue.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "event_backend.h"
#include "http_conn.h"
#include "mpm.h"

#define MAX_EVENTS 512
#define ACCEPT_BURST 64		/* per listener wakeup, so established clients are not starved */
/*
 * File bytes per turn of a connection (nginx's sendfile_max_chunk). A turn also ends when
 * the socket is full, so on a real network the send buffer bounds it; on loopback a turn
 * of 2 MiB is one sendfile of a few hundred µs. 256 KiB turns cost a 10 MiB response 70
 * system calls (43 sendfile, 19 epoll_wait between turns) against 24 at 2 MiB, and each
 * turn ends its last segment short (TCP_NODELAY): 20% more packets to make and receive.
 */
#define WRITE_BUDGET 2097152

struct event_conf {
	long processes;
	long max_connections;
	long defer_accept;	/* seconds; 0: off */
	enum evb_kind backend;
	int edge;		/* trigger: 0 level, 1 edge */
};

enum src_type { SRC_CONN, SRC_LISTENER, SRC_STOP, SRC_FILE_CACHE };

/* What an epoll event's data.ptr points to. */
struct src {
	uint8_t type;
	int fd;
};

/*
 * The loop's part of a connection, in the engine's allocation (conn_extra). The link
 * first, as conn_queue.c needs (conn_of_extra()). 10,000 idle connections are 10,000 of
 * it: with struct conn a 136-byte request, which malloc serves from a 144-byte block,
 * where a field more would take the next size.
 */
struct evc {
	struct conn_qlink link;
	struct src src;		/* epoll's data.ptr */
	uint8_t want;		/* read or write, as last asked (level: as registered) */
};

_Static_assert(offsetof(struct evc, link) == 0, "conn_of_extra() takes the link");
_Static_assert(sizeof(struct evc) <= 40, "an idle connection's block: see struct evc");

#define EVC(k) ((struct evc *)((char *)(k) - offsetof(struct evc, link)))
#define EVC_OF_SRC(s) ((struct evc *)((char *)(s) - offsetof(struct evc, src)))

static struct conn *evc_conn(struct evc *e)
{
	return conn_of_extra(e);
}

struct loop {
	const struct mpm_env *env;
	const struct event_conf *ec;
	struct evb *ep;
	struct src stop, cache;
	struct src *lsn;
	struct worker *w;
	struct conn_queue q;
	long nconns;
	uint32_t deferral_ms;	/* how long the kernel holds a connection that sends nothing */
	int64_t fd_pause_until;
	bool accepting;		/* listeners are in the epoll set */
	bool stopping;
	bool full_logged;
};

static const char *const triggers[] = {"level", "edge", NULL};
static const char *const backends[] = {"epoll", "poll", "select", NULL};	/* evb_kind */

static const struct mpm_option options[] = {
	MPM_INT_AUTO("processes", 1, 4096, struct event_conf, processes),
	MPM_INT("max_connections", 10000, 1, 1000000, struct event_conf, max_connections),
	MPM_WORD("trigger", 0, triggers, struct event_conf, edge),
	MPM_INT("defer_accept", 1, 0, 3600, struct event_conf, defer_accept),
	MPM_WORD("backend", EVB_EPOLL, backends, struct event_conf, backend),
	{0}
};

static int check(void *conf, char *err, size_t errlen)
{
	struct event_conf *ec = conf;

	if (ec->processes == 0)
		ec->processes = mpm_cpu_count();
	if (ec->edge && ec->backend != EVB_EPOLL) {
		/* poll() and select() have no edge-triggered mode. */
		snprintf(err, errlen, "trigger = \"edge\" needs backend = \"epoll\" (not \"%s\")",
			 backends[ec->backend]);
		return -1;
	}
	return 0;
}

static long query(const void *conf, enum mpm_query what)
{
	const struct event_conf *ec = conf;

	switch (what) {
	case MPM_Q_MAX_SLOTS: return ec->processes;
	case MPM_Q_CONNS_PER_WORKER: return ec->max_connections;
	}
	return -1;
}

static void set_accepting(struct loop *l, bool on)
{
	if (l->accepting == on)
		return;
	for (size_t i = 0; i < l->env->nlisteners; i++) {
		int fd = l->lsn[i].fd;
		if ((on ? evb_add(l->ep, fd, EPOLLIN | EPOLLEXCLUSIVE, &l->lsn[i])
			: evb_del(l->ep, fd)) < 0)
			log_msg(LOG_ERR, "event: %s listener %d: %m", on ? "adding" : "removing", fd);
	}
	l->accepting = on;
}

/*
 * Accept is paused, never refused, while full or short of descriptors. A process that
 * hovers at its limit would log at every close: an episode ends only below 90%.
 */
static void update_accepting(struct loop *l, int64_t now)
{
	long max = l->ec->max_connections;
	bool full = l->nconns >= max;

	if (full && !l->full_logged)
		log_msg(LOG_WARNING, "event: process %ld reached max_connections (%ld); "
			"accepting again when one closes", (long)getpid(), max);
	if (full)
		l->full_logged = true;
	else if (l->nconns < max - (max + 9) / 10)
		l->full_logged = false;
	if (l->fd_pause_until && now >= l->fd_pause_until)
		l->fd_pause_until = 0;
	bool held = worker_share_held(l->w, now);
	set_accepting(l, !l->stopping && !full && !l->fd_pause_until && !held);
}

static void drop(struct loop *l, struct evc *e)
{
	conn_queue_remove(&l->q, &e->link);
	evb_closing(l->ep, e->src.fd);	/* the engine may have closed it already */
	conn_free(evc_conn(e));
	l->nconns--;
}

static void drop_link(struct conn_qlink *k, void *l)
{
	drop(l, EVC(k));
}

/* Runs the engine until the socket would block, then waits for what it asked. */
static void drive(struct loop *l, struct evc *e)
{
	enum conn_want w = conn_run(evc_conn(e));
	enum conn_want dir = w == CONN_WANT_READ ? CONN_WANT_READ : CONN_WANT_WRITE;

	if (w == CONN_DONE) {
		drop(l, e);
		return;
	}
	if (!l->ec->edge && dir != e->want) {
		if (evb_mod(l->ep, conn_fd(evc_conn(e)),
			    dir == CONN_WANT_READ ? EPOLLIN : EPOLLOUT, &e->src) < 0) {
			log_msg(LOG_ERR, "event: changing the events of %d: %m",
				conn_fd(evc_conn(e)));
			drop(l, e);
			return;
		}
	}
	e->want = (uint8_t)dir;
	if (w == CONN_YIELD)
		conn_queue_yield(&l->q, &e->link);
	else
		conn_queue_retime(&l->q, &e->link);
}

static void drive_link(struct conn_qlink *k, void *l)
{
	drive(l, EVC(k));
}

static void add_conn(struct loop *l, int fd, const struct sockaddr *peer, socklen_t len)
{
	struct conn *c = conn_new(l->w, fd, peer, len, sizeof(struct evc));
	struct evc *e;
	enum conn_want w;

	if (!c)
		return;
	e = conn_extra(c);
	*e = (struct evc){ .src = { SRC_CONN, fd } };
	conn_qlink_init(&e->link);
	conn_set_write_budget(c, WRITE_BUDGET);
	conn_set_waited(c, l->deferral_ms);
	l->nconns++;
	/* The request usually came with the handshake: read it now, not after a wait. */
	w = conn_run(c);
	if (w == CONN_DONE) {
		drop(l, e);
		return;
	}
	enum conn_want dir = w == CONN_WANT_READ ? CONN_WANT_READ : CONN_WANT_WRITE;
	uint32_t events = l->ec->edge ? EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET
				      : (dir == CONN_WANT_READ ? EPOLLIN : EPOLLOUT);
	if (evb_add(l->ep, fd, events, &e->src) < 0) {
		if (errno != ERANGE)	/* select's limit: the backend logged it once */
			log_msg(LOG_ERR, "event: adding connection %d: %m", fd);
		drop(l, e);
		return;
	}
	e->want = (uint8_t)dir;
	if (w == CONN_YIELD)
		conn_queue_yield(&l->q, &e->link);
	else
		conn_queue_retime(&l->q, &e->link);
}

/* Accepts up to limit connections from lfd, or until it has none. */
static void accept_burst(struct loop *l, int lfd, long limit, int64_t now)
{
	for (long i = 0; i < limit && l->nconns < l->ec->max_connections; i++) {
		struct sockaddr_storage peer;
		socklen_t len;
		int fd = mpm_accept(lfd, &peer, &len);

		/* Level-triggered listeners would spin while short: stand back for a moment. */
		if (fd == -2)
			l->fd_pause_until = now + ACCEPT_PAUSE_MS;
		if (fd < 0)
			break;
		add_conn(l, fd, (struct sockaddr *)&peer, len);
	}
}

static void begin_stop(struct loop *l, int64_t now)
{
	if (l->stopping)
		return;
	l->stopping = true;
	worker_drain(l->w);
	evb_del(l->ep, l->stop.fd);
	update_accepting(l, now);
	/*
	 * An exclusive wakeup may have chosen this process for a connection still queued;
	 * no other process was woken for it, so it is taken (and served, then closed) here.
	 */
	for (size_t i = 0; i < l->env->nlisteners; i++)
		accept_burst(l, l->lsn[i].fd, l->ec->max_connections, now);
	conn_queue_drain(&l->q);
}

static int watch(struct evb *ep, int fd, struct src *s)
{
	return evb_add(ep, fd, EPOLLIN, s);
}

static void dispatch(struct loop *l, struct epoll_event *evs, int n, int64_t now)
{
	/* File changes are applied before any request of this batch is answered. */
	for (int i = 0; i < n; i++)
		if (((struct src *)evs[i].data.ptr)->type == SRC_FILE_CACHE)
			worker_notify(l->w);
	for (int i = 0; i < n; i++) {
		struct src *s = evs[i].data.ptr;
		switch (s->type) {
		case SRC_CONN:
			/*
			 * Edge-triggered sockets report "writable" on their own (at registration,
			 * as ACKs free space): nothing for a connection waiting for a request. Any
			 * EPOLLIN is always passed on: the engine may have skipped a read on the
			 * promise that a later byte brings a new edge.
			 */
			if (evs[i].events == EPOLLOUT && EVC_OF_SRC(s)->want == CONN_WANT_READ)
				break;
			/* Level-triggered readiness does not go away: the run queue has its turn. */
			if (!l->ec->edge && EVC_OF_SRC(s)->link.yielded)
				break;
			drive(l, EVC_OF_SRC(s));
			break;
		case SRC_LISTENER:
			if (l->accepting)
				accept_burst(l, s->fd, worker_share_burst(l->w, ACCEPT_BURST, 0), now);
			break;
		case SRC_STOP:
			begin_stop(l, now);
			break;
		case SRC_FILE_CACHE:
			break;
		}
	}
}

/*
 * A loop over its share has left the listeners, but a connection queued before it did
 * woke only this process: balance may delay a connection WORKER_SHARE_RECHECK_MS, never
 * strand it. What waits in the queue then is taken here, up to WORKER_SHARE_SLACK past
 * the share (as when some process is not keeping up: then this one helps, a little, so
 * that it cannot take most of a burst this way).
 */
static void take_waiting(struct loop *l, int64_t now)
{
	if (l->stopping || l->fd_pause_until || !worker_share_rescue_due(l->w, now))
		return;
	for (size_t i = 0; i < l->env->nlisteners; i++)
		accept_burst(l, l->lsn[i].fd,
			     worker_share_burst(l->w, ACCEPT_BURST, WORKER_SHARE_SLACK), now);
}

static int serve(struct loop *l, int stop_fd)
{
	struct epoll_event evs[MAX_EVENTS];
	sigset_t open_mask;
	int cache_fd = worker_watch_fd(l->w);

	sigemptyset(&open_mask);
	l->stop = (struct src){ SRC_STOP, stop_fd };
	l->cache = (struct src){ SRC_FILE_CACHE, cache_fd };
	if (watch(l->ep, stop_fd, &l->stop) < 0 ||
	    (cache_fd >= 0 && watch(l->ep, cache_fd, &l->cache) < 0)) {
		log_msg(LOG_ERR, "event: watching the stop pipe or file cache: %m");
		return 1;
	}
	update_accepting(l, clock_coarse_ms());
	while (!l->stopping || l->nconns > 0) {
		int64_t now = clock_coarse_ms();
		conn_queue_expire(&l->q, now, drop_link, l);
		update_accepting(l, now);
		if (l->stopping && l->nconns == 0)
			break;
		/* SIGTERM (this process retired) is unblocked only while waiting. */
		int64_t other = l->fd_pause_until ? l->fd_pause_until : INT64_MAX;
		other = worker_share_wake(l->w, now, other);
		int n = evb_wait(l->ep, evs, MAX_EVENTS, conn_queue_timeout(&l->q, now, other),
				 &open_mask);
		now = clock_coarse_ms();
		if (n < 0) {
			if (errno != EINTR) {
				log_msg(LOG_ERR, "event: waiting for events: %m");
				return 1;
			}
			if (pool_child_stopping(stop_fd))
				begin_stop(l, now);
			continue;
		}
		dispatch(l, evs, n, now);
		take_waiting(l, now);
		/* One more turn for each connection that was waiting for one. */
		conn_queue_run(&l->q, drive_link, l);
	}
	return 0;
}

static int child_main(const struct mpm_env *env, int stop_fd, int chan, void *arg)
{
	struct src lsn[env->nlisteners ? env->nlisteners : 1];
	struct loop l = {
		.env = env,
		.ec = env->mpm_conf,
		.lsn = lsn,
		.w = worker_begin(env, stop_fd),
		.deferral_ms = mpm_deferral_ms(((const struct event_conf *)env->mpm_conf)->
						  defer_accept),
	};
	int rc;

	(void)chan;
	(void)arg;
	for (size_t i = 0; i < env->nlisteners; i++)
		lsn[i] = (struct src){ SRC_LISTENER, env->listeners[i] };
	l.ep = evb_open(l.ec->backend);
	if (!l.ep) {
		log_msg(LOG_ERR, "event: creating the event backend: %m");
		worker_end(l.w);
		return 1;
	}
	rc = serve(&l, stop_fd);
	evb_close(l.ep);
	worker_end(l.w);
	return rc;
}

static int run(const struct mpm_env *env)
{
	const struct event_conf *ec = env->mpm_conf;

	/* Every connection is a descriptor. */
	pool_fit_connections("event", ec->max_connections);
	mpm_defer_accepts(env, "event", ec->defer_accept);
	return pool_serve(env, child_main, (unsigned)ec->processes);
}

const struct mpm_module minihttpd_mpm = {
	.abi_version = MPM_ABI_VERSION,
	.name = "event",
	.description = "processes each running one epoll loop over many connections",
	.options = options,
	.conf_size = sizeof(struct event_conf),
	.check = check,
	.query = query,
	.run = run,
};
