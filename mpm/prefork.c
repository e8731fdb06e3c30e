/* SPDX-License-Identifier: ISC */
/*
 * prefork: a pool of single-threaded processes, each serving one connection at a time
 * (the preforked server of Stevens, UNIX Network Programming vol. 1, ch. 30; Apache's
 * prefork). The `accept` strategy decides how a
 * connection reaches a child:
 *   none    every child waits on the listeners and the kernel wakes one (EPOLLEXCLUSIVE,
 *           the wake-one of a blocking accept(), kept for several listeners);
 *   mutex   children take turns under a robust process-shared mutex; only the holder waits
 *           on the listeners, the others sleep on the lock;
 *   passfd  the leader accepts and hands each descriptor to an idle child over its channel
 *           (SCM_RIGHTS); a child writes one byte back when it is idle again.
 * The leader sizes the pool as Apache does: once a second it counts idle children and,
 * below min_spare_servers, forks 1, then 2, 4 ... up to 32 each second the shortage
 * lasts (back to 1 once there are enough); above max_spare_servers it retires one; it
 * never exceeds max_servers.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mpm.h"

#define SPAWN_RATE_MAX 32	/* Apache's MAX_SPAWN_RATE */
#define SERVERS_MAX 4096

enum accept_strategy { ACCEPT_NONE, ACCEPT_MUTEX, ACCEPT_PASSFD };

struct prefork_conf {
	enum accept_strategy accept;
	long start;
	long min_spare;
	long max_spare;
	long max_servers;
	long max_conns_per_child;	/* 0: never recycle */
};

/* The leader's state; children inherit a copy and use only conf and lock. */
struct prefork {
	const struct mpm_env *env;
	const struct prefork_conf *pc;
	pthread_mutex_t *lock;		/* ACCEPT_MUTEX: in a MAP_SHARED page */
	unsigned spawn_rate;
};

/* A child's view of itself. */
struct child {
	const struct mpm_env *env;
	const struct prefork_conf *pc;
	int stop_fd;
	struct worker *w;
	long conns;
};

static const char *const strategies[] = {"none", "mutex", "passfd", NULL};

static const struct mpm_option options[] = {
	MPM_WORD("accept", ACCEPT_NONE, strategies, struct prefork_conf, accept),
	MPM_INT("start_servers", 5, 1, SERVERS_MAX, struct prefork_conf, start),
	MPM_INT("min_spare_servers", 5, 1, SERVERS_MAX, struct prefork_conf, min_spare),
	MPM_INT("max_spare_servers", 10, 1, SERVERS_MAX, struct prefork_conf, max_spare),
	MPM_INT("max_servers", 256, 1, SERVERS_MAX, struct prefork_conf, max_servers),
	MPM_INT("max_requests_per_child", 0, 0, 1L << 30, struct prefork_conf,
		max_conns_per_child),
	{0}
};

static int check(void *conf, char *err, size_t errlen)
{
	const struct prefork_conf *pc = conf;

	if (pc->start > pc->max_servers)
		snprintf(err, errlen, "start_servers (%ld) exceeds max_servers (%ld)",
			 pc->start, pc->max_servers);
	else if (pc->max_spare < pc->min_spare)
		snprintf(err, errlen, "max_spare_servers (%ld) is below min_spare_servers (%ld)",
			 pc->max_spare, pc->min_spare);
	else
		return 0;
	return -1;
}

static long query(const void *conf, enum mpm_query what)
{
	const struct prefork_conf *pc = conf;

	switch (what) {
	case MPM_Q_MAX_SLOTS: return pc->max_servers;
	case MPM_Q_CONNS_PER_WORKER: return 0;
	}
	return -1;
}

/*
 * Whether the child must stop. A SIGTERM stays blocked (pending) outside a wait that
 * opens it, and a wait that finds a ready listener returns without taking it; this one
 * waits on nothing, so a pending SIGTERM is always taken here.
 */
static bool stopping(int stop_fd)
{
	struct pollfd none;

	return pool_child_wait(&none, 0, stop_fd, 0) < 0;
}

/* Serves one connection; false when the child should exit afterwards. */
static bool serve(struct child *ch, int fd, const struct sockaddr_storage *peer,
		  socklen_t len)
{
	worker_serve(ch->w, fd, (const struct sockaddr *)peer, len);
	ch->conns++;
	return !(ch->pc->max_conns_per_child && ch->conns >= ch->pc->max_conns_per_child);
}

/*
 * "none". With maxevents 1 a child consumes at most the one wake-up the kernel gave it,
 * and always accepts for it, so no connection waits behind a child that was woken for it
 * and went away. On stop, the wake-up that came with the stop event is honoured too.
 */
static int accept_exclusive(struct child *ch)
{
	const struct mpm_env *env = ch->env;
	const uint32_t stop_tag = (uint32_t)env->nlisteners;
	struct sockaddr_storage peer;
	socklen_t len;
	sigset_t open_mask;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0) {
		log_msg(LOG_ERR, "epoll_create1: %m");
		return 1;
	}
	for (uint32_t i = 0; i <= stop_tag; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };
		if (i < stop_tag)
			e.events |= EPOLLEXCLUSIVE;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, i < stop_tag ? env->listeners[i] : ch->stop_fd,
			      &e) < 0) {
			log_msg(LOG_ERR, "epoll_ctl: %m");
			close(ep);
			return 1;
		}
	}
	sigemptyset(&open_mask);
	while (!stopping(ch->stop_fd)) {
		struct epoll_event e;
		int n = epoll_pwait(ep, &e, 1, -1, &open_mask);
		if (n < 0 && errno != EINTR) {
			log_msg(LOG_ERR, "epoll_pwait: %m");
			break;
		}
		if (n <= 0)
			continue;
		if (e.data.u32 == stop_tag)
			break;
		int fd = mpm_accept(env->listeners[e.data.u32], &peer, &len);
		if (fd == -2)
			pool_child_wait(NULL, 0, ch->stop_fd, ACCEPT_PAUSE_MS);
		else if (fd >= 0 && !serve(ch, fd, &peer, len))
			break;
	}
	for (size_t i = 0; i < env->nlisteners && pool_child_stopping(ch->stop_fd); i++) {
		int fd = mpm_accept(env->listeners[i], &peer, &len);
		if (fd >= 0)
			serve(ch, fd, &peer, len);
	}
	close(ep);
	return 0;
}

/*
 * "mutex": a waiter cannot be woken by a signal, so it waits a second at a time and
 * looks for a stop in between; a whole generation stopping passes the lock down the line
 * at once, as each holder leaves. The deadline is on CLOCK_REALTIME (POSIX timedlock,
 * which ThreadSanitizer understands, unlike clocklock): a clock step only delays a
 * waiter's retirement, never the hand-over of the lock.
 */
static int lock_accept(struct child *ch, pthread_mutex_t *m)
{
	for (;;) {
		struct timespec until;
		int rc;

		if (stopping(ch->stop_fd))
			return -1;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		rc = pthread_mutex_timedlock(m, &until);
		if (rc == ETIMEDOUT)
			continue;
		if (rc == EOWNERDEAD) {
			log_msg(LOG_WARNING, "a child died holding the accept lock; recovered it");
			rc = pthread_mutex_consistent(m);
		}
		if (rc != 0) {
			log_msg(LOG_ERR, "accept lock: %s", strerror(rc));
			return -1;
		}
		return 0;
	}
}

static int accept_locked(struct child *ch, pthread_mutex_t *m)
{
	const struct mpm_env *env = ch->env;

	while (lock_accept(ch, m) == 0) {
		struct sockaddr_storage peer;
		socklen_t len;
		int fd = mpm_accept_wait(env, ch->stop_fd, &peer, &len);

		pthread_mutex_unlock(m);
		if (fd < 0 || !serve(ch, fd, &peer, len))
			break;
	}
	return 0;
}

static pthread_mutex_t *lock_create(void)
{
	pthread_mutexattr_t attr;
	pthread_mutex_t *m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int rc;

	if (m == MAP_FAILED) {
		log_msg(LOG_ERR, "accept lock: mmap: %m");
		return NULL;
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	rc = pthread_mutex_init(m, &attr);
	pthread_mutexattr_destroy(&attr);
	if (rc != 0) {
		log_msg(LOG_ERR, "accept lock: %s", strerror(rc));
		munmap(m, sizeof(*m));
		return NULL;
	}
	return m;
}

static void lock_destroy(pthread_mutex_t *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(m);
	munmap(m, sizeof(*m));
}

/* passfd: one byte carries the descriptor; a byte without one is ignored. */
static int send_conn(int chan, int fd)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct iovec iov = { .iov_base = "c", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	memset(&u, 0, sizeof(u));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	return sendmsg(chan, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 ? 0 : -1;
}

/* A descriptor, -1 when there is none yet, -2 when the leader has gone. */
static int recv_conn(int chan)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(chan, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	struct cmsghdr *cm;
	int fd;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : -2;
	if (n == 0)
		return -2;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

/*
 * "passfd", the child's side. A descriptor already handed over is served even when the
 * generation stops at the same moment; the "idle" byte is written only when the child
 * will take another one, so the leader never hands one to a child on its way out.
 */
static int accept_passed(struct child *ch, int chan)
{
	for (size_t i = 0; i < ch->env->nlisteners; i++)
		close(ch->env->listeners[i]);
	for (;;) {
		struct pollfd pfd = { .fd = chan, .events = POLLIN };
		bool stop = stopping(ch->stop_fd), more = true;

		if (!stop) {
			int rc = pool_child_wait(&pfd, 1, ch->stop_fd, -1);
			if (rc == 0)
				continue;
			stop = rc < 0;
		}
		int fd = recv_conn(chan);
		if (fd == -2)
			break;
		if (fd >= 0)
			more = serve(ch, fd, NULL, 0);
		if (stop || !more)
			break;
		if (fd >= 0 && send(chan, "i", 1, MSG_NOSIGNAL) != 1)
			break;
	}
	return 0;
}

static int child_main(const struct mpm_env *env, int stop_fd, int chan, void *arg)
{
	const struct prefork *pf = arg;
	struct child ch = { .env = env, .pc = pf->pc, .stop_fd = stop_fd,
			    .w = worker_begin(env, stop_fd) };
	int rc = 0;

	switch (pf->pc->accept) {
	case ACCEPT_NONE: rc = accept_exclusive(&ch); break;
	case ACCEPT_MUTEX: rc = accept_locked(&ch, pf->lock); break;
	case ACCEPT_PASSFD: rc = accept_passed(&ch, chan); break;
	}
	worker_end(ch.w);
	return rc;
}

/* Its child is exiting: neither hand it work nor poll its channel until it is reaped. */
static void set_chan_gone(struct pool_child *c)
{
	c->busy = c->gone = true;
}

static struct pool_child *idle_child(struct pool *p)
{
	for (unsigned i = pool_count(p); i-- > 0;) {
		struct pool_child *c = pool_child_at(p, i);
		if (!c->busy && !c->retiring && c->chan >= 0 && !c->gone)
			return c;
	}
	return NULL;
}

/* The pool accepts for passfd while a child is idle: clients wait in the backlog. */
static bool can_pass(struct pool *p, void *arg)
{
	(void)arg;
	return idle_child(p) != NULL;
}

/* Hands fd to an idle child; false (the pool offers it again) when every handover failed. */
static bool pass(struct pool *p, int fd, void *arg)
{
	struct pool_child *c;

	(void)arg;
	while ((c = idle_child(p))) {
		c->busy = true;
		if (send_conn(c->chan, fd) == 0) {
			close(fd);
			return true;
		}
		set_chan_gone(c);
	}
	return false;
}

static int passfd_poll_fds(struct pool *p, struct pollfd *fds, int max, void *arg)
{
	int n = 0;

	(void)arg;
	for (unsigned i = 0; i < pool_count(p) && n < max; i++) {
		struct pool_child *c = pool_child_at(p, i);
		if (c->chan >= 0 && !c->gone)
			fds[n++] = (struct pollfd){ .fd = c->chan, .events = POLLIN };
	}
	return n;
}

static struct pool_child *child_by_chan(struct pool *p, int fd, unsigned hint)
{
	struct pool_child *c = pool_child_at(p, hint);

	if (c && c->chan == fd)
		return c;
	for (unsigned i = 0; i < pool_count(p); i++)
		if ((c = pool_child_at(p, i))->chan == fd)
			return c;
	return NULL;
}

/* A byte from a child: it is idle again; EOF: it is on its way out. */
static void passfd_poll_ready(struct pool *p, struct pollfd *fds, int n, void *arg)
{
	(void)arg;
	for (int k = 0; k < n; k++) {
		struct pool_child *c;
		char buf[16];
		if (!fds[k].revents || !(c = child_by_chan(p, fds[k].fd, (unsigned)k)))
			continue;
		ssize_t r = recv(c->chan, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0)
			c->busy = false;
		else if (r == 0 || (errno != EAGAIN && errno != EINTR))
			set_chan_gone(c);
	}
}

static bool is_idle(struct pool *p, const struct prefork *pf, const struct pool_child *c)
{
	if (pf->pc->accept == ACCEPT_PASSFD)
		return !c->busy && !c->gone;
	return pool_child_idle(p, c);
}

/*
 * Apache's idle server maintenance (perform_idle_server_maintenance), once a second.
 * Short of idle children it forks spawn_rate of them whatever the shortage, as Apache
 * does: children busy at once under a burst leave the shortage at min_spare_servers
 * every second, and forking only that many would grow the pool linearly.
 */
static void tick(struct pool *p, void *arg)
{
	struct prefork *pf = arg;
	const struct prefork_conf *pc = pf->pc;
	struct pool_child *spare = NULL;
	unsigned total = 0, idle = 0;

	for (unsigned i = 0; i < pool_count(p); i++) {
		struct pool_child *c = pool_child_at(p, i);
		if (c->retiring)
			continue;
		total++;
		if (is_idle(p, pf, c)) {
			idle++;
			spare = c;
		}
	}
	if (idle > (unsigned)pc->max_spare && spare) {
		pool_set_target(p, total - 1);
		pool_retire(p, spare);
		pf->spawn_rate = 1;
	} else if (idle < (unsigned)pc->min_spare) {
		if (total >= (unsigned)pc->max_servers) {
			pf->spawn_rate = 1;
			return;
		}
		unsigned n = pf->spawn_rate;
		if (n > (unsigned)pc->max_servers - total)
			n = (unsigned)pc->max_servers - total;
		if (total + n > pool_target(p))
			pool_set_target(p, total + n);
		if (pf->spawn_rate < SPAWN_RATE_MAX)
			pf->spawn_rate *= 2;
	} else {
		pf->spawn_rate = 1;
	}
}

static int run(const struct mpm_env *env)
{
	static const struct pool_hooks sizing = { .tick = tick };
	static const struct pool_hooks passing = {
		.tick = tick,
		.can_accept = can_pass,
		.accepted = pass,
		.poll_fds = passfd_poll_fds,
		.poll_ready = passfd_poll_ready,
	};
	const struct prefork_conf *pc = env->mpm_conf;
	struct prefork pf = { .env = env, .pc = pc, .spawn_rate = 1 };
	bool passfd = pc->accept == ACCEPT_PASSFD;
	struct pool *p;
	int rc = 1;

	if (pc->accept == ACCEPT_MUTEX && !(pf.lock = lock_create()))
		return 1;
	p = pool_create(env, child_main, &pf, passfd);
	if (p) {
		pool_set_target(p, (unsigned)pc->start);
		rc = pool_run(p, passfd ? &passing : &sizing, &pf);
	}
	lock_destroy(pf.lock);
	return rc;
}

const struct mpm_module minihttpd_mpm = {
	.abi_version = MPM_ABI_VERSION,
	.name = "prefork",
	.description = "processes serving one connection each; accept: none, mutex or passfd",
	.options = options,
	.conf_size = sizeof(struct prefork_conf),
	.check = check,
	.query = query,
	.run = run,
};
