/* SPDX-License-Identifier: ISC */
/*
 * ready_flag: a two-entry io_uring (liburing) whose one request is a one-shot poll. After
 * it fires the owner drains the descriptor, then rearms, and a descriptor still or again
 * readable completes the new poll at once, so no readiness between the two is lost.
 * Built without liburing there is no flag (ENOSYS), and file_cache reads the descriptor.
 */
#include <errno.h>
#include <stdlib.h>

#include "ready_flag.h"

#ifdef HAVE_LIBURING
#include <liburing.h>
#include <poll.h>

struct ready_flag {
	struct io_uring ring;
	int fd;
};

static int submit_poll(struct ready_flag *f)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&f->ring);
	int rc;

	if (!sqe) {
		errno = EBUSY;
		return -1;
	}
	io_uring_prep_poll_add(sqe, f->fd, POLLIN);
	while ((rc = io_uring_submit(&f->ring)) == -EINTR)
		;
	if (rc == 1)
		return 0;
	errno = rc < 0 ? -rc : EIO;
	return -1;
}

struct ready_flag *ready_flag_new(int fd)
{
	struct ready_flag *f = calloc(1, sizeof(*f));
	int rc, saved;

	if (!f)
		return NULL;
	f->fd = fd;
	rc = io_uring_queue_init(2, &f->ring, 0);
	if (rc < 0) {
		free(f);
		errno = -rc;
		return NULL;
	}
	if (submit_poll(f) == 0)
		return f;
	saved = errno;
	io_uring_queue_exit(&f->ring);
	free(f);
	errno = saved;
	return NULL;
}

bool ready_flag_fired(const struct ready_flag *f)
{
	return io_uring_cq_ready(&f->ring) != 0;
}

int ready_flag_rearm(struct ready_flag *f)
{
	io_uring_cq_advance(&f->ring, io_uring_cq_ready(&f->ring));
	return submit_poll(f);
}

void ready_flag_free(struct ready_flag *f)
{
	if (!f)
		return;
	io_uring_queue_exit(&f->ring);
	free(f);
}

#else

struct ready_flag *ready_flag_new(int fd)
{
	(void)fd;
	errno = ENOSYS;
	return NULL;
}

/* Never reached: without a flag, file_cache reads the descriptor. */
bool ready_flag_fired(const struct ready_flag *f)
{
	(void)f;
	return true;
}

int ready_flag_rearm(struct ready_flag *f)
{
	(void)f;
	errno = ENOSYS;
	return -1;
}

void ready_flag_free(struct ready_flag *f)
{
	(void)f;
}

#endif
