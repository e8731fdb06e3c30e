/*
 * conn_loop: a connection served by one process or thread at a time. The stop pipe is
 * polled with the socket so a draining generation still finishes the request in flight.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <syslog.h>
#include <unistd.h>

#include "conn_loop.h"
#include "pool.h"

void conn_serve(const struct conn_ctx *ctx, int fd, const struct sockaddr *peer,
		socklen_t peerlen, struct sb_slot *slot, int stop_fd)
{
	struct conn *c = conn_new(ctx, fd, peer, peerlen, slot, 0);
	bool drained = false;
	enum conn_want want;

	if (!c)
		return;
	while ((want = conn_run(c)) != CONN_DONE) {
		struct pollfd pfd = { .fd = conn_fd(c),
				      .events = want == CONN_WANT_READ ? POLLIN : POLLOUT };
		int64_t left = conn_deadline(c) - conn_now();
		if (left <= 0) {
			conn_expire(c);
			break;
		}
		int rc = drained ? poll(&pfd, 1, (int)left)
				 : pool_child_wait(&pfd, 1, stop_fd, (int)left);
		if (rc < 0 && !drained) {
			drained = true;
			conn_drain(c);
			sb_set_state(slot, SB_GRACEFUL);
		}
	}
	conn_free(c);
	sb_set_state(slot, SB_IDLE);
}

bool conn_accept_note(int fd)
{
	/* From the first shortage to the next accept that succeeds: one episode, one log
	 * line (and one for its end), however many pauses it lasts. A listener stays ready
	 * meanwhile, so ENOBUFS/ENOMEM need the same pause as EMFILE/ENFILE. */
	static __thread bool exhausted;

	if (fd >= 0) {
		if (exhausted)
			syslog(LOG_NOTICE, "accept: descriptors available again");
		exhausted = false;
		return false;
	}
	if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM)
		return false;
	if (!exhausted)
		syslog(LOG_ERR, "accept: %m; pausing accepts (100 ms at a time) until "
		       "descriptors or memory are freed");
	exhausted = true;
	return true;
}

int conn_accept_any(const int *listeners, size_t n, int stop_fd,
		    struct sockaddr_storage *peer, socklen_t *peerlen)
{
	/* Where the next scan starts: a listener always ready cannot starve the others. */
	static __thread size_t next;
	struct pollfd pfd[n];

	for (;;) {
		for (size_t i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = listeners[i], .events = POLLIN };
		if (pool_child_wait(pfd, (int)n, stop_fd, -1) < 0)
			return -1;
		for (size_t k = 0; k < n; k++) {
			size_t i = (next + k) % n;
			if (!(pfd[i].revents & POLLIN))
				continue;
			next = i + 1;
			*peerlen = sizeof(*peer);
			int fd = accept4(listeners[i], (struct sockaddr *)peer, peerlen,
					 SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd >= 0) {
				conn_accept_note(fd);
				return fd;
			}
			/* Out of descriptors: back off instead of spinning on a ready listener. */
			if (conn_accept_note(fd) && pool_child_wait(NULL, 0, stop_fd, 100) < 0)
				return -1;
		}
	}
}
