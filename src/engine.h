/* SPDX-License-Identifier: ISC */
/*
 * engine: what a generation's leader builds once, before its first fork, and every
 * worker shares: the connection engine's context, the scoreboard, the MPM's answers to
 * query() and the engine's own decisions (the file cache). MPMs hold it as an opaque
 * pointer in mpm_env; the worker lifecycle of mpm.h is implemented over it.
 */
#ifndef MINIHTTPD_ENGINE_H
#define MINIHTTPD_ENGINE_H

#include <stdbool.h>

#include "conn_ctx.h"
#include "mpm.h"
#include "scoreboard.h"

struct engine {
	struct conn_ctx http;
	struct scoreboard *sb;		/* NULL in unit tests */
	unsigned max_slots;		/* MPM_Q_MAX_SLOTS: workers at most */
	unsigned conns_per_worker;	/* MPM_Q_CONNS_PER_WORKER: 0 one each, N many */
	bool file_cache;		/* the per-thread file cache is on */
	int ready_fd;			/* to the master: "R" once serving; -1 once said */
};

struct worker {
	const struct mpm_env *env;
	struct sb_slot *slot;		/* NULL when the board is full */
	int stop_fd;
	int watch_fd;			/* the file cache's inotify descriptor, -1 */
	int64_t share_rescue;		/* holding its share: when to take what waits; 0 not */
};

/*
 * Opens what the generation serves (as the unprivileged user) and asks the module its
 * sizes (mod NULL: one connection per worker, no bound). -1 with err on failure.
 */
int engine_init(struct engine *e, const struct config *conf, const struct mpm_module *mod,
		int access_fd, struct scoreboard *sb, int ready_fd, char *err, size_t errlen);
void engine_free(struct engine *e);

/* Tells the master this generation serves (idempotent). */
void engine_ready(struct engine *e);

/* A child of the generation exited (waitpid's status): what it held is given back. */
void engine_reaped(struct engine *e, pid_t pid, int status);

/* Once a second, in the leader: saturation judged alike for every MPM. */
void engine_check_saturation(struct engine *e, unsigned generation);

/*
 * Once a second, in the leader: the document root followed as the workers follow it
 * (docroot.h), so that a child forked later starts from the current directory, and a
 * path dangling when it starts leaves it the last good one, not the generation's first.
 */
void engine_follow_root(struct engine *e);

/*
 * In a process that serves outside any pool (minihttpd -i): a pool child's signal
 * set-up, so that SIGTERM drains the connection there as in a pool's child.
 */
void pool_child_signals(void);

#endif
