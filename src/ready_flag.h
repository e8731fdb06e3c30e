/* SPDX-License-Identifier: ISC */
/*
 * ready_flag: whether a descriptor became readable, answered from memory, without a
 * system call. An io_uring poll request is armed on the descriptor; its completion lands
 * in the ring's completion queue, which the process maps.
 *
 * Why that is as fresh as a read(2) of the descriptor: the kernel queues an inotify
 * event inside the writer's system call and wakes the poll there, which hands the
 * completion to the arming thread as task work, run before that thread returns to user
 * space from its next system call or interrupt (without IORING_SETUP_DEFER_TASKRUN,
 * which is not used). A request sent after the change is read by such a system call, so
 * the completion is in the queue before the thread looks at the request.
 *
 * Per thread: the completion goes to the thread that armed the poll.
 */
#ifndef MINIHTTPD_READY_FLAG_H
#define MINIHTTPD_READY_FLAG_H

#include <stdbool.h>

struct ready_flag;

/* Arms a flag on fd; NULL (errno set) where io_uring is unavailable or refused, or the
 * build has no liburing (ENOSYS). */
struct ready_flag *ready_flag_new(int fd);

/* Whether fd became readable since the flag was last armed: a load, no system call. */
bool ready_flag_fired(const struct ready_flag *f);

/* Takes the completions and arms the flag again (one system call); -1 on failure. */
int ready_flag_rearm(struct ready_flag *f);

void ready_flag_free(struct ready_flag *f);

#endif
