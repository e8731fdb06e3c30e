/* SPDX-License-Identifier: ISC */
/* Readiness backends for the event MPM: see event_backend.h. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "event_backend.h"
#include "log.h"

struct evb_ops {
	int (*add)(struct evb *b, int fd, uint32_t events, void *ptr);
	int (*mod)(struct evb *b, int fd, uint32_t events, void *ptr);
	int (*del)(struct evb *b, int fd);
	int (*wait)(struct evb *b, struct epoll_event *ready, int max, int timeout_ms,
		    const sigset_t *sigmask);
	bool close_removes;	/* a closed descriptor leaves the set by itself */
};

struct evb {
	const struct evb_ops *ops;
	int ep;			/* epoll */
	struct pollfd *pfd;	/* poll: the set, compact */
	void **ptr;		/* poll: parallel to pfd; select: indexed by fd */
	int *index;		/* poll: fd -> position in pfd, -1: absent */
	int npfd, cap, nindex;
	int start;		/* poll / select: where the next scan begins, for fairness */
	fd_set rd, wr;		/* select */
	int maxfd;
};

static struct timespec *to_timespec(int ms, struct timespec *ts)
{
	if (ms < 0)
		return NULL;
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
	return ts;
}

static int ep_add(struct evb *b, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(b->ep, EPOLL_CTL_ADD, fd, &ev);
}

static int ep_mod(struct evb *b, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(b->ep, EPOLL_CTL_MOD, fd, &ev);
}

static int ep_del(struct evb *b, int fd)
{
	return epoll_ctl(b->ep, EPOLL_CTL_DEL, fd, NULL);
}

static int ep_wait(struct evb *b, struct epoll_event *ready, int max, int timeout_ms,
		   const sigset_t *sigmask)
{
	return epoll_pwait(b->ep, ready, max, timeout_ms, sigmask);
}

static short to_poll(uint32_t events)
{
	return (short)((events & EPOLLIN ? POLLIN : 0) | (events & EPOLLOUT ? POLLOUT : 0));
}

static int pl_add(struct evb *b, int fd, uint32_t events, void *ptr)
{
	if (fd >= b->nindex) {
		int n = fd + 1 > 2 * b->nindex ? fd + 1 : 2 * b->nindex;
		int *ix = realloc(b->index, (size_t)n * sizeof(*ix));
		if (!ix)
			return -1;
		for (int i = b->nindex; i < n; i++)
			ix[i] = -1;
		b->index = ix;
		b->nindex = n;
	}
	if (b->index[fd] >= 0) {
		errno = EEXIST;
		return -1;
	}
	if (b->npfd == b->cap) {
		int n = b->cap ? 2 * b->cap : 64;
		struct pollfd *p = realloc(b->pfd, (size_t)n * sizeof(*p));
		if (!p)
			return -1;
		b->pfd = p;
		void **q = realloc(b->ptr, (size_t)n * sizeof(*q));
		if (!q)
			return -1;
		b->ptr = q;
		b->cap = n;
	}
	b->pfd[b->npfd] = (struct pollfd){ .fd = fd, .events = to_poll(events) };
	b->ptr[b->npfd] = ptr;
	b->index[fd] = b->npfd++;
	return 0;
}

static int pl_mod(struct evb *b, int fd, uint32_t events, void *ptr)
{
	if (fd < 0 || fd >= b->nindex || b->index[fd] < 0) {
		errno = ENOENT;
		return -1;
	}
	b->pfd[b->index[fd]].events = to_poll(events);
	b->ptr[b->index[fd]] = ptr;
	return 0;
}

/* The last entry fills the hole: the set stays compact for ppoll. */
static int pl_del(struct evb *b, int fd)
{
	if (fd < 0 || fd >= b->nindex || b->index[fd] < 0) {
		errno = ENOENT;
		return -1;
	}
	int i = b->index[fd], last = --b->npfd;
	b->pfd[i] = b->pfd[last];
	b->ptr[i] = b->ptr[last];
	b->index[b->pfd[i].fd] = i;
	b->index[fd] = -1;
	return 0;
}

static int pl_wait(struct evb *b, struct epoll_event *ready, int max, int timeout_ms,
		   const sigset_t *sigmask)
{
	struct timespec ts;
	int n = ppoll(b->pfd, (nfds_t)b->npfd, to_timespec(timeout_ms, &ts), sigmask), got = 0;

	if (n <= 0 || b->npfd == 0)
		return n;
	/* More ready than max: the scan resumes where it stopped, so none is starved. */
	int start = b->start < b->npfd ? b->start : 0;
	for (int k = 0; k < b->npfd && got < max && n > 0; k++) {
		int i = (start + k) % b->npfd;
		short r = b->pfd[i].revents;
		if (!r)
			continue;
		n--;
		ready[got].events = (r & POLLIN ? EPOLLIN : 0) | (r & POLLOUT ? EPOLLOUT : 0) |
				    (r & (POLLERR | POLLNVAL) ? EPOLLERR : 0) |
				    (r & POLLHUP ? EPOLLHUP : 0);
		ready[got++].data.ptr = b->ptr[i];
		b->start = i + 1;
	}
	return got;
}

static int sl_add(struct evb *b, int fd, uint32_t events, void *ptr)
{
	static bool logged;

	if (fd >= FD_SETSIZE) {
		if (!logged)
			log_msg(LOG_ERR, "event: select backend: descriptor %d is above FD_SETSIZE "
				"(%d); use backend = poll or epoll", fd, FD_SETSIZE);
		logged = true;
		errno = ERANGE;
		return -1;
	}
	FD_CLR(fd, &b->rd);
	FD_CLR(fd, &b->wr);
	if (events & EPOLLIN)
		FD_SET(fd, &b->rd);
	if (events & EPOLLOUT)
		FD_SET(fd, &b->wr);
	b->ptr[fd] = ptr;
	if (fd > b->maxfd)
		b->maxfd = fd;
	return 0;
}

static int sl_del(struct evb *b, int fd)
{
	if (fd < 0 || fd >= FD_SETSIZE) {
		errno = ENOENT;
		return -1;
	}
	FD_CLR(fd, &b->rd);
	FD_CLR(fd, &b->wr);
	b->ptr[fd] = NULL;
	while (b->maxfd >= 0 && !b->ptr[b->maxfd])
		b->maxfd--;
	return 0;
}

static int sl_wait(struct evb *b, struct epoll_event *ready, int max, int timeout_ms,
		   const sigset_t *sigmask)
{
	struct timespec ts;
	fd_set rd = b->rd, wr = b->wr;
	int nfds = b->maxfd + 1, got = 0;
	int n = pselect(nfds, &rd, &wr, NULL, to_timespec(timeout_ms, &ts), sigmask);

	if (n <= 0 || nfds == 0)
		return n;
	int start = b->start < nfds ? b->start : 0;
	for (int k = 0; k < nfds && got < max; k++) {
		int fd = (start + k) % nfds;
		uint32_t ev = (FD_ISSET(fd, &rd) ? EPOLLIN : 0) | (FD_ISSET(fd, &wr) ? EPOLLOUT : 0);
		if (!ev)
			continue;
		ready[got].events = ev;
		ready[got++].data.ptr = b->ptr[fd];
		b->start = fd + 1;
	}
	return got;
}

static const struct evb_ops epoll_ops = { ep_add, ep_mod, ep_del, ep_wait, true };
static const struct evb_ops poll_ops = { pl_add, pl_mod, pl_del, pl_wait, false };
static const struct evb_ops select_ops = { sl_add, sl_add, sl_del, sl_wait, false };

struct evb *evb_open(enum evb_kind kind)
{
	struct evb *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->ep = -1;
	b->maxfd = -1;
	FD_ZERO(&b->rd);
	FD_ZERO(&b->wr);
	switch (kind) {
	case EVB_EPOLL:
		b->ops = &epoll_ops;
		b->ep = epoll_create1(EPOLL_CLOEXEC);
		if (b->ep < 0)
			goto fail;
		break;
	case EVB_POLL:
		b->ops = &poll_ops;
		break;
	case EVB_SELECT:
		b->ops = &select_ops;
		b->ptr = calloc(FD_SETSIZE, sizeof(*b->ptr));
		if (!b->ptr)
			goto fail;
		break;
	}
	return b;
fail:
	free(b);
	return NULL;
}

int evb_add(struct evb *b, int fd, uint32_t events, void *ptr)
{
	return b->ops->add(b, fd, events, ptr);
}

int evb_mod(struct evb *b, int fd, uint32_t events, void *ptr)
{
	return b->ops->mod(b, fd, events, ptr);
}

int evb_del(struct evb *b, int fd)
{
	return b->ops->del(b, fd);
}

/* Unregistered descriptors (refused, or done before being added) are ignored. */
void evb_closing(struct evb *b, int fd)
{
	if (!b->ops->close_removes)
		b->ops->del(b, fd);
}

int evb_wait(struct evb *b, struct epoll_event *ready, int max, int timeout_ms,
	     const sigset_t *sigmask)
{
	return b->ops->wait(b, ready, max, timeout_ms, sigmask);
}

void evb_close(struct evb *b)
{
	if (b->ep >= 0)
		close(b->ep);
	free(b->pfd);
	free(b->ptr);
	free(b->index);
	free(b);
}
