/* SPDX-License-Identifier: ISC */
/*
 * sigio: signal-driven I/O (Kerrisk, The Linux Programming Interface, ch. 63). Every
 * socket is O_ASYNC | O_NONBLOCK with a realtime signal set by F_SETSIG, so the kernel
 * queues one signal per readiness event carrying the descriptor in si_fd and the poll
 * bits in si_band. No handler runs: the signals stay blocked and the
 * loop takes them with sigtimedwait(), then drives the connection engine for that fd.
 * Notification is edge-triggered, which the engine's "run until EAGAIN" contract suits.
 *
 * The listeners are shared by every process of the generation (and by other
 * generations), and a file's owner is one per open file, so they are owned by the
 * generation's process group: every process of it is signalled, the leader ignores the
 * signal, and the children race to accept. Connections (and the file cache's inotify
 * descriptor) are owned by the thread that made them. The stop pipe is owned by the
 * group too, so its EOF wakes every child.
 *
 * When the realtime queue is full (RLIMIT_SIGPENDING) the kernel sends a plain SIGIO
 * instead and the event is lost: the loop then discards the queued signals and polls every
 * descriptor once, as Kerrisk prescribes. Once a second it tries the listeners even
 * without a signal. Timeouts are the core's FIFOs (conn_queue.c), waited for to the
 * millisecond: a scan once a second closed a silent connection up to a second after
 * its header_timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_conn.h"
#include "mpm.h"

#define TICK_MS 1000
#define OVERFLOW_LOG_MS 60000

struct sigio_conf {
	long processes;
	long max_connections;
};

/* What the loop keeps in each connection (conn_extra): the link first (conn_of_extra()). */
struct entry {
	struct conn_qlink link;
	int fd;				/* conn_fd() is -1 once the engine closed it */
	enum conn_want want;
};

_Static_assert(offsetof(struct entry, link) == 0, "conn_of_extra() takes the link");

struct loop {
	const struct mpm_env *env;
	unsigned max;
	int sig;			/* the realtime signal */
	int stop_fd;
	struct worker *w;
	struct conn **by_fd;
	int cap, top;			/* by_fd's size; highest fd used + 1 */
	unsigned nconns;
	struct conn_queue q;
	bool stopping;
	bool accept_again;		/* below max_connections again: accept without a signal */
	int64_t accept_retry;		/* short of descriptors: accepting paused until; 0 */
	bool lost;			/* events were lost and resync() could not poll */
	struct pollfd *pfd;		/* for the fallback poll */
	size_t npfd;
	uint64_t overflows, overflows_logged;
	int64_t overflow_logged_at;
};

static const struct mpm_option options[] = {
	MPM_INT("processes", 1, 1, 64, struct sigio_conf, processes),
	MPM_INT("max_connections", 1024, 1, 1 << 20, struct sigio_conf, max_connections),
	{0}
};

static long query(const void *conf, enum mpm_query what)
{
	const struct sigio_conf *sc = conf;

	switch (what) {
	case MPM_Q_MAX_SLOTS: return sc->processes;
	case MPM_Q_CONNS_PER_WORKER: return sc->max_connections;
	}
	return -1;
}

static int io_signal(void)
{
	return SIGRTMIN + 1;
}

/*
 * Signal-driven I/O on fd, owned by (type, id). fresh: a socket just accepted, whose
 * flags are known (O_NONBLOCK). Otherwise O_ASYNC is turned off first: the kernel records
 * the descriptor number it reports in si_fd only when the flag is turned on, and a shared
 * file may carry it from another generation, whose number may differ.
 */
static int make_async(int fd, int type, pid_t id, bool fresh)
{
	struct f_owner_ex owner = { .type = type, .pid = id };
	int flags = fresh ? O_NONBLOCK : fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETOWN_EX, &owner) < 0 ||
	    fcntl(fd, F_SETSIG, io_signal()) < 0)
		return -1;
	if (!fresh && fcntl(fd, F_SETFL, flags & ~O_ASYNC) < 0)
		return -1;
	return fcntl(fd, F_SETFL, flags | O_ASYNC);
}

static int own_listeners(const struct mpm_env *env)
{
	for (size_t i = 0; i < env->nlisteners; i++)
		if (make_async(env->listeners[i], F_OWNER_PGRP, getpgrp(), false) < 0) {
			log_msg(LOG_ERR, "signal-driven I/O on a listener: %m");
			return -1;
		}
	return 0;
}

static bool is_listener(const struct loop *l, int fd)
{
	for (size_t i = 0; i < l->env->nlisteners; i++)
		if (l->env->listeners[i] == fd)
			return true;
	return false;
}

static void forget(struct loop *l, struct conn *c)
{
	struct entry *e = conn_extra(c);

	l->by_fd[e->fd] = NULL;
	conn_queue_remove(&l->q, &e->link);
	conn_free(c);
	if (l->nconns-- == l->max)
		l->accept_again = true;
}

static void drive(struct loop *l, struct conn *c)
{
	struct entry *e = conn_extra(c);

	e->want = conn_run(c);
	if (e->want == CONN_DONE)
		forget(l, c);
	else
		conn_queue_retime(&l->q, &e->link);
}

static void forget_link(struct conn_qlink *k, void *l)
{
	forget(l, conn_of_extra(k));
}

static bool track(struct loop *l, int fd, struct conn *c)
{
	if (fd >= l->cap) {
		int cap = l->cap ? l->cap : 1024;
		while (cap <= fd)
			cap *= 2;
		struct conn **by_fd = realloc(l->by_fd, (size_t)cap * sizeof(*by_fd));
		if (!by_fd)
			return false;
		memset(by_fd + l->cap, 0, (size_t)(cap - l->cap) * sizeof(*by_fd));
		l->by_fd = by_fd;
		l->cap = cap;
	}
	l->by_fd[fd] = c;
	if (fd >= l->top)
		l->top = fd + 1;
	l->nconns++;
	return true;
}

static void accept_from(struct loop *l, int lfd)
{
	while (!l->stopping && !l->accept_retry && l->nconns < l->max) {
		struct sockaddr_storage peer;
		socklen_t len;
		int fd = mpm_accept(lfd, &peer, &len);
		if (fd == -2)
			l->accept_retry = clock_coarse_ms() + ACCEPT_PAUSE_MS;
		if (fd < 0)
			return;
		if (make_async(fd, F_OWNER_TID, gettid(), true) < 0) {
			log_msg(LOG_ERR, "signal-driven I/O on a connection: %m");
			close(fd);
			continue;
		}
		struct conn *c = conn_new(l->w, fd, (struct sockaddr *)&peer, len,
					  sizeof(struct entry));
		if (!c)
			continue;
		if (!track(l, fd, c)) {
			conn_free(c);
			continue;
		}
		struct entry *e = conn_extra(c);
		e->fd = fd;
		conn_qlink_init(&e->link);
		/* Bytes that came before O_ASYNC was set raised no signal: run now. */
		drive(l, c);
	}
}

static void accept_all(struct loop *l)
{
	l->accept_again = false;
	for (size_t i = 0; i < l->env->nlisteners; i++)
		accept_from(l, l->env->listeners[i]);
}

static void begin_stop(struct loop *l)
{
	if (l->stopping)
		return;
	l->stopping = true;
	worker_drain(l->w);
	conn_queue_drain(&l->q);
}

/* One readiness event: band is si_band, the poll bits of what happened. */
static void dispatch(struct loop *l, int fd, long band)
{
	if (fd == l->stop_fd) {
		if (pool_child_stopping(l->stop_fd))
			begin_stop(l);
		return;
	}
	if (fd >= 0 && fd == worker_watch_fd(l->w)) {
		worker_notify(l->w);
		return;
	}
	if (is_listener(l, fd)) {
		accept_from(l, fd);
		return;
	}
	if (fd < 0 || fd >= l->top || !l->by_fd[fd])
		return;		/* a stale signal for a connection closed since */
	struct conn *c = l->by_fd[fd];
	struct entry *e = conn_extra(c);
	long wanted = (e->want == CONN_WANT_WRITE ? POLLOUT : POLLIN | POLLRDHUP) |
		      POLLERR | POLLHUP;
	if (band & wanted)
		drive(l, c);
}

/* The queue overflowed and events were lost: forget the queue, look at everything. */
static void resync(struct loop *l)
{
	size_t need = l->env->nlisteners + 2 + l->nconns, n = 0;
	struct timespec zero = { 0, 0 };
	sigset_t rt;

	sigemptyset(&rt);
	sigaddset(&rt, l->sig);
	while (sigtimedwait(&rt, NULL, &zero) > 0)
		;
	l->lost = true;
	if (need > l->npfd) {
		struct pollfd *p = realloc(l->pfd, need * sizeof(*p));
		if (!p)
			return;
		l->pfd = p;
		l->npfd = need;
	}
	l->pfd[n++] = (struct pollfd){ .fd = l->stop_fd, .events = POLLIN };
	l->pfd[n++] = (struct pollfd){ .fd = worker_watch_fd(l->w), .events = POLLIN };
	for (size_t i = 0; i < l->env->nlisteners; i++)
		l->pfd[n++] = (struct pollfd){ .fd = l->env->listeners[i], .events = POLLIN };
	for (int fd = 0; fd < l->top; fd++) {
		if (!l->by_fd[fd])
			continue;
		struct entry *e = conn_extra(l->by_fd[fd]);
		l->pfd[n++] = (struct pollfd){ .fd = fd, .events = e->want == CONN_WANT_WRITE ?
					       POLLOUT : POLLIN | POLLRDHUP };
	}
	if (poll(l->pfd, (nfds_t)n, 0) < 0)
		return;
	l->lost = false;
	for (size_t i = 0; i < n; i++)
		if (l->pfd[i].revents)
			dispatch(l, l->pfd[i].fd, l->pfd[i].revents);
}

static void overflowed(struct loop *l)
{
	int64_t now = clock_coarse_ms();

	l->overflows++;
	if (!l->overflow_logged_at || now - l->overflow_logged_at >= OVERFLOW_LOG_MS) {
		log_msg(LOG_WARNING, "realtime signal queue overflow (SIGIO instead of "
			"SIGRTMIN+1, %llu time(s) since the last report): polling all %u "
			"connections; raise RLIMIT_SIGPENDING if this recurs",
			(unsigned long long)(l->overflows - l->overflows_logged), l->nconns);
		l->overflows_logged = l->overflows;
		l->overflow_logged_at = now;
	}
	resync(l);
}

/*
 * Takes the listeners back when the process group owning them is gone (a newer
 * generation that failed after taking them); a live newer one keeps them.
 */
static void check_owner(struct loop *l)
{
	struct f_owner_ex owner;

	if (l->env->nlisteners == 0 || fcntl(l->env->listeners[0], F_GETOWN_EX, &owner) < 0)
		return;
	if (owner.type == F_OWNER_PGRP && owner.pid == getpgrp())
		return;
	if (owner.type == F_OWNER_PGRP && owner.pid > 0 &&
	    !(kill(-owner.pid, 0) < 0 && errno == ESRCH))
		return;
	log_msg(LOG_NOTICE, "taking back the listeners' signals");
	own_listeners(l->env);
}

static void tick(struct loop *l)
{
	if (l->lost)
		resync(l);
	if (pool_child_stopping(l->stop_fd))
		begin_stop(l);
	if (!l->stopping) {
		check_owner(l);
		accept_all(l);
	}
}

static int child_main(const struct mpm_env *env, int stop_fd, int chan, void *arg)
{
	const struct sigio_conf *sc = env->mpm_conf;
	struct loop l = {
		.env = env,
		.max = (unsigned)sc->max_connections,
		.sig = io_signal(),
		.stop_fd = stop_fd,
	};
	sigset_t wait_set;
	int64_t next_tick;

	(void)chan;
	(void)arg;
	sigemptyset(&wait_set);
	sigaddset(&wait_set, l.sig);
	sigaddset(&wait_set, SIGIO);
	sigprocmask(SIG_BLOCK, &wait_set, NULL);
	/* Inherited as ignored from the leader; blocked now, so set back to queue. */
	signal(l.sig, SIG_DFL);
	signal(SIGIO, SIG_DFL);
	sigaddset(&wait_set, SIGTERM);
	if (make_async(stop_fd, F_OWNER_PGRP, getpgrp(), false) < 0) {
		log_msg(LOG_ERR, "signal-driven I/O on the stop pipe: %m");
		return 1;
	}
	pool_fit_nofile((rlim_t)sc->max_connections * 2 + 64);
	l.w = worker_begin(env, stop_fd);
	if (worker_watch_fd(l.w) >= 0 &&
	    make_async(worker_watch_fd(l.w), F_OWNER_TID, gettid(), false) < 0) {
		log_msg(LOG_ERR, "signal-driven I/O on the file cache: %m");
		worker_end(l.w);
		return 1;
	}
	/* Whatever happened before the signals were set up raised none. */
	resync(&l);
	next_tick = clock_coarse_ms() + TICK_MS;

	while (!l.stopping || l.nconns > 0) {
		int64_t now = clock_coarse_ms(), until = next_tick;
		if (l.accept_retry && l.accept_retry < until)
			until = l.accept_retry;
		int left = conn_queue_timeout(&l.q, now, until);
		struct timespec ts = { left / 1000, (long)(left % 1000) * 1000000 };
		siginfo_t si;
		int sig = sigtimedwait(&wait_set, &si, &ts);
		if (sig == l.sig)
			dispatch(&l, si.si_fd, si.si_band);
		else if (sig == SIGIO)
			overflowed(&l);
		else if (sig == SIGTERM)
			begin_stop(&l);
		now = clock_coarse_ms();
		conn_queue_expire(&l.q, now, forget_link, &l);
		if (l.accept_retry && now >= l.accept_retry) {
			l.accept_retry = 0;
			l.accept_again = true;
		}
		if (l.accept_again && !l.stopping)
			accept_all(&l);
		if (now >= next_tick) {
			tick(&l);
			next_tick = now + TICK_MS;
		}
	}
	worker_end(l.w);
	free(l.by_fd);
	free(l.pfd);
	return 0;
}

static int run(const struct mpm_env *env)
{
	const struct sigio_conf *sc = env->mpm_conf;

	/* The leader is in the group that owns the listeners: their signals are not for it. */
	signal(io_signal(), SIG_IGN);
	signal(SIGIO, SIG_IGN);
	if (own_listeners(env) < 0)
		return 1;
	return pool_serve(env, child_main, (unsigned)sc->processes);
}

const struct mpm_module minihttpd_mpm = {
	.abi_version = MPM_ABI_VERSION,
	.name = "sigio",
	.description = "signal-driven I/O: O_ASYNC sockets, a realtime signal per event",
	.options = options,
	.conf_size = sizeof(struct sigio_conf),
	.query = query,
	.run = run,
};
