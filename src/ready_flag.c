/* SPDX-License-Identifier: ISC */
/*
 * ready_flag: a two-entry io_uring, set up and driven with the raw system calls (one
 * request type is not worth a library dependency). The poll is one-shot: after it fires
 * the owner drains the descriptor, then rearms, and a descriptor still or again readable
 * completes the new poll at once, so no readiness between the two is lost.
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ready_flag.h"

struct ready_flag {
	int ring_fd;
	int fd;
	void *sq_map, *cq_map;
	size_t sq_len, cq_len, sqes_len;
	struct io_uring_sqe *sqes;
	unsigned *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail;
};

static int submit_poll(struct ready_flag *f)
{
	unsigned tail = *f->sq_tail, i = tail & *f->sq_mask;
	struct io_uring_sqe *sqe = &f->sqes[i];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_POLL_ADD;
	sqe->fd = f->fd;
	sqe->poll32_events = POLLIN;
	f->sq_array[i] = i;
	__atomic_store_n(f->sq_tail, tail + 1, __ATOMIC_RELEASE);
	for (;;) {
		long n = syscall(SYS_io_uring_enter, f->ring_fd, 1, 0, 0, NULL, 0);

		if (n == 1)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

struct ready_flag *ready_flag_new(int fd)
{
	struct io_uring_params p = {0};
	struct ready_flag *f = calloc(1, sizeof(*f));
	int saved;

	if (!f)
		return NULL;
	f->fd = fd;
	f->ring_fd = (int)syscall(SYS_io_uring_setup, 2, &p);
	if (f->ring_fd < 0) {
		free(f);
		return NULL;
	}
	f->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	f->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		f->sq_len = f->cq_len = f->sq_len > f->cq_len ? f->sq_len : f->cq_len;
	f->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	f->sq_map = mmap(NULL, f->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			 f->ring_fd, IORING_OFF_SQ_RING);
	f->cq_map = p.features & IORING_FEAT_SINGLE_MMAP ? f->sq_map :
		mmap(NULL, f->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		     f->ring_fd, IORING_OFF_CQ_RING);
	f->sqes = mmap(NULL, f->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       f->ring_fd, IORING_OFF_SQES);
	if (f->sq_map == MAP_FAILED || f->cq_map == MAP_FAILED || f->sqes == MAP_FAILED)
		goto fail;
	f->sq_tail = (unsigned *)((char *)f->sq_map + p.sq_off.tail);
	f->sq_mask = (unsigned *)((char *)f->sq_map + p.sq_off.ring_mask);
	f->sq_array = (unsigned *)((char *)f->sq_map + p.sq_off.array);
	f->cq_head = (unsigned *)((char *)f->cq_map + p.cq_off.head);
	f->cq_tail = (unsigned *)((char *)f->cq_map + p.cq_off.tail);
	if (submit_poll(f) == 0)
		return f;
fail:
	saved = errno;
	ready_flag_free(f);
	errno = saved;
	return NULL;
}

bool ready_flag_fired(const struct ready_flag *f)
{
	return __atomic_load_n(f->cq_tail, __ATOMIC_ACQUIRE) != *f->cq_head;
}

int ready_flag_rearm(struct ready_flag *f)
{
	__atomic_store_n(f->cq_head, __atomic_load_n(f->cq_tail, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	return submit_poll(f);
}

void ready_flag_free(struct ready_flag *f)
{
	if (!f)
		return;
	if (f->sqes && f->sqes != MAP_FAILED)
		munmap(f->sqes, f->sqes_len);
	if (f->cq_map && f->cq_map != MAP_FAILED && f->cq_map != f->sq_map)
		munmap(f->cq_map, f->cq_len);
	if (f->sq_map && f->sq_map != MAP_FAILED)
		munmap(f->sq_map, f->sq_len);
	close(f->ring_fd);
	free(f);
}
