/* SPDX-License-Identifier: ISC */
/*
 * generation: one config's set of worker processes, led by one process the master forks.
 * The leader puts itself in a process group of its own (so the master can end the whole
 * generation at once), keeps only the descriptors it needs, drops privileges, prepares
 * the connection engine and runs the MPM. It reports on a pipe: ready, or why not.
 */
#ifndef MINIHTTPD_GENERATION_H
#define MINIHTTPD_GENERATION_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "listen.h"
#include "scoreboard.h"

enum gen_state { GEN_STARTING, GEN_SERVING, GEN_STOPPING };

struct generation {
	struct generation *next;
	unsigned id;
	pid_t pid;		/* the leader; 0 once reaped */
	pid_t pgid;		/* the whole generation */
	struct config *conf;
	int access_fd;
	enum gen_state state;
	int64_t deadline;	/* when stopping: the end of its graceful time */
	int64_t started;
};

/*
 * Forks the leader of g (g->id, g->conf, g->access_fd set) over the listeners ls and
 * waits, at most timeout_ms, for it to serve. Returns 0 with g->pid set, or -1 with err
 * holding the leader's own error (the leader is then gone).
 */
int generation_start(struct generation *g, const struct listen_set *ls,
		     struct scoreboard *sb, int timeout_ms, char *err, size_t errlen);

#endif
