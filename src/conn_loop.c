/* SPDX-License-Identifier: ISC */
/*
 * conn_loop: how workers meet connections. The one accept policy every MPM uses, and
 * the blocking workers' loop: one connection, one execution context, poll() on its
 * socket (and the stop pipe, so a draining generation still finishes the request in
 * flight) until the connection ends or a deadline passes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "engine.h"
#include "episode.h"
#include "http_conn.h"

int mpm_accepted(int res)
{
	/* One episode from the first shortage until accepts have gone ACCEPT_QUIET_MS
	 * without one: a line at its start and one at its end, however many pauses and
	 * flaps it lasts (episode.h). A listener stays ready meanwhile, so ENOBUFS/ENOMEM
	 * need the same pause as EMFILE/ENFILE. Episodes are per thread: each accepting
	 * thread sees its own. */
	static __thread struct episode shortage;

	if (res >= 0) {
		if (shortage.on && episode_absent(&shortage, clock_coarse_ms(), ACCEPT_QUIET_MS))
			log_msg(LOG_NOTICE, "accept: descriptors available again (short for %lld ms, "
				"%lu accepts failed)", (long long)(shortage.last_ms - shortage.since_ms),
				shortage.seen);
		return res;
	}
	if (res != -EMFILE && res != -ENFILE && res != -ENOBUFS && res != -ENOMEM)
		return -1;
	if (episode_seen(&shortage, clock_coarse_ms())) {
		errno = -res;
		log_msg(LOG_ERR, "accept: %m; pausing accepts (%d ms at a time) until "
			"descriptors or memory are freed", ACCEPT_PAUSE_MS);
	}
	return -2;
}

int mpm_accept(int lfd, struct sockaddr_storage *peer, socklen_t *len)
{
	int fd;

	do {
		if (len)
			*len = sizeof(*peer);
		fd = accept4(lfd, (struct sockaddr *)peer, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	} while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
	return mpm_accepted(fd >= 0 ? fd : -errno);
}

void worker_serve(struct worker *w, int fd, const struct sockaddr *peer, socklen_t len)
{
	struct conn *c = conn_new(w, fd, peer, len, 0);
	bool drained = false;
	enum conn_want want;

	if (!c)
		return;
	while ((want = conn_run(c)) != CONN_DONE) {
		struct pollfd pfd[2] = {
			{ .fd = conn_fd(c), .events = want == CONN_WANT_READ ? POLLIN : POLLOUT },
			{ .fd = w->watch_fd, .events = POLLIN },
		};
		int64_t left = conn_deadline(c) - clock_coarse_ms();
		if (left <= 0) {
			conn_expire(c);
			break;
		}
		int n = w->watch_fd >= 0 ? 2 : 1;
		int rc = drained ? poll(pfd, (nfds_t)n, (int)left)
				 : pool_child_wait(pfd, n, w->stop_fd, (int)left);
		if (rc < 0 && !drained) {
			drained = true;
			worker_drain(w);
			conn_drain(c);
		}
		if (rc > 0 && pfd[1].revents)
			worker_notify(w);
	}
	conn_free(c);
}

int mpm_accept_wait(const struct mpm_env *env, int stop_fd, struct sockaddr_storage *peer,
		    socklen_t *len)
{
	/* Where the next scan starts: a listener always ready cannot starve the others. */
	static __thread size_t next;
	size_t n = env->nlisteners;
	struct pollfd pfd[n];

	for (;;) {
		for (size_t i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = env->listeners[i], .events = POLLIN };
		if (pool_child_wait(pfd, (int)n, stop_fd, -1) < 0)
			return -1;
		for (size_t k = 0; k < n; k++) {
			size_t i = (next + k) % n;
			if (!(pfd[i].revents & POLLIN))
				continue;
			next = i + 1;
			int fd = mpm_accept(env->listeners[i], peer, len);
			if (fd >= 0)
				return fd;
			/* Out of descriptors: back off instead of spinning on a ready listener. */
			if (fd == -2 && pool_child_wait(NULL, 0, stop_fd, ACCEPT_PAUSE_MS) < 0)
				return -1;
		}
	}
}

/*
 * TCP_DEFER_ACCEPT drops the handshake's bare ACK and resends the SYN-ACK on its
 * retransmission timer (1 s, doubling, at most 120 s) until secs are covered; the ACK of
 * that last one hands the connection over. So a connection accepted before it sent
 * anything has been connected this long, which its header_timeout counts. (Only those
 * that queued before the first generation set the option, at start, were not held:
 * they may be closed that much early.)
 */
uint32_t mpm_deferral_ms(long secs)
{
	long timeout = 1, period = 1;

	if (secs <= 0)
		return 0;
	for (int retrans = 1; secs > period && retrans < 255; retrans++) {
		timeout = timeout * 2 > 120 ? 120 : timeout * 2;
		period += timeout;
	}
	return (uint32_t)period * 1000;
}

void mpm_defer_accepts(const struct mpm_env *env, const char *mpm, long secs)
{
	int v = (int)secs;

	for (size_t i = 0; i < env->nlisteners; i++)
		if (setsockopt(env->listeners[i], IPPROTO_TCP, TCP_DEFER_ACCEPT, &v, sizeof(v)) < 0)
			log_msg(LOG_WARNING, "%s: TCP_DEFER_ACCEPT on listener %d: %m", mpm,
				env->listeners[i]);
}
