/*
 * pool: a generation leader's pool of worker processes, for MPMs to build on. It forks
 * children that run the MPM's child body, replaces those that die (logging crashes, and
 * slowing down when children die faster than they start), runs the MPM's policy once a
 * second, and on SIGTERM tells every child to finish (by closing the write end of a pipe
 * they all hold) and waits for them. Children claim their own scoreboard slots.
 */
#ifndef MINIHTTPD_POOL_H
#define MINIHTTPD_POOL_H

#include <poll.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "mpm.h"

struct pool;

struct pool_child {
	pid_t pid;
	unsigned index;		/* stable position: 0 .. size-1 while alive */
	int chan;		/* leader's end of the child's channel, -1 without channels */
	bool retiring;
	bool busy;		/* free for the MPM's bookkeeping (e.g. fd passing) */
};

/*
 * The child body: env is the generation's, stop_fd becomes readable when the generation
 * stops (also when the leader dies), chan is the child's end of its channel (or -1).
 * Returns the child's exit status.
 */
typedef int (*pool_child_fn)(const struct mpm_env *env, int stop_fd, int chan, void *arg);

struct pool_hooks {
	/* Called about once a second; may spawn or retire children. */
	void (*tick)(struct pool *p, void *arg);
	/* Extra descriptors for the leader to watch; returns how many it wrote (<= max). */
	int (*poll_fds)(struct pool *p, struct pollfd *fds, int max, void *arg);
	/* Called with those descriptors after poll() returned. */
	void (*poll_ready)(struct pool *p, struct pollfd *fds, int n, void *arg);
	/* Called when a child has exited (pid and the slot are already free). */
	void (*child_exited)(struct pool *p, struct pool_child *c, void *arg);
};

/* with_channels: give each child a UNIX stream socketpair to the leader. */
struct pool *pool_create(const struct mpm_env *env, pool_child_fn fn, void *arg,
			 bool with_channels);

/* The number of children the pool keeps alive, replacing those that exit. */
void pool_set_target(struct pool *p, unsigned n);
unsigned pool_target(const struct pool *p);

/* Forks one child now (within the rate limit); -1 when it could not. */
int pool_spawn(struct pool *p);

/* Asks one child to finish its connection and exit (it is not replaced). */
void pool_retire(struct pool *p, struct pool_child *c);

/* Children alive (retiring ones included) and their records, valid until the next poll. */
unsigned pool_count(const struct pool *p);
struct pool_child *pool_child_at(struct pool *p, unsigned i);

bool pool_stopping(const struct pool *p);

/*
 * For leaders that run their own loop instead of pool_run(): blocks the signals a leader
 * handles (CHLD, TERM; INT, HUP and USR1 are the master's business) and returns a
 * signalfd for them, or -1.
 */
int pool_leader_signalfd(void);

/*
 * The leader's loop: starts `target` children, reports the generation ready, and runs
 * until SIGTERM and every child has exited. Returns the leader's exit status.
 */
int pool_run(struct pool *p, const struct pool_hooks *hooks, void *arg);

/*
 * In a child: block until one of fds is readable, the stop pipe closes, or SIGTERM
 * arrives (only SIGTERM is unblocked while waiting, so none is lost between the check
 * and the wait). Returns poll's count, 0 on timeout, -1 when the child must stop.
 */
int pool_child_wait(struct pollfd *fds, int n, int stop_fd, int timeout_ms);

/*
 * Raises the soft open-file limit to want (RLIM_INFINITY: to the hard limit), never above
 * the hard limit and never down: MPMs holding many connections call it at start.
 */
void pool_fit_nofile(rlim_t want);

/* In a child: whether it was told to stop (SIGTERM or the stop pipe). */
bool pool_child_stopping(int stop_fd);

/*
 * In a process an MPM forked itself (not through the pool): the signal set-up of a pool
 * child, so that pool_child_wait(), pool_child_stopping() and conn_serve() work there too.
 */
void pool_child_signals(void);

#endif
