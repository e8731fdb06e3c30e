/* SPDX-License-Identifier: ISC */
/*
 * control: the verdict is read from the master's scoreboard, mapped read-only like -S
 * does, so the master needs no socket and no file of its own for it. Two clients
 * signalling at once may share one reload (signals coalesce) and then one verdict.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "control.h"
#include "scoreboard.h"
#include "stderr_msg.h"

static const struct { const char *name; int signo; } actions[] = {
	{"stop", SIGTERM}, {"reload", SIGHUP}, {"reopen", SIGUSR1},
};

int control_known(const char *what)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(what, actions[i].name) == 0)
			return 1;
	return 0;
}

int control_send(pid_t pid, const char *what)
{
	const struct scoreboard *sb = NULL;
	unsigned nslots;
	uint64_t before = 0, refused = 0;
	int signo = 0;
	char err[512];

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(what, actions[i].name) == 0)
			signo = actions[i].signo;
	if (signo != SIGTERM) {
		int rc = sb_attach(pid, &sb, &nslots, err, sizeof(err));
		if ((rc == -ESRCH || rc == -ENOENT) && kill(pid, 0) == 0) {
			/* Not signalled: a reload nobody can judge would pass for a good one. */
			stderr_msg(LOG_ERR, "%s: process %ld runs, but its scoreboard cannot be seen "
				   "from here (not minihttpd, or hidden: ProtectProc=, or another user "
				   "namespace, as each command of a unit with PrivateUsers=yes has), so "
				   "its verdict cannot be read; not signalled", what, (long)pid);
			return 1;
		}
		if (rc < 0) {
			stderr_msg(LOG_ERR, "%s: %s", what, err);
			return 1;
		}
		before = __atomic_load_n(&sb->totals.verdicts, __ATOMIC_ACQUIRE);
		refused = __atomic_load_n(&sb->totals.refusals, __ATOMIC_ACQUIRE);
	}
	if (kill(pid, signo) < 0) {
		stderr_msg(LOG_ERR, "%s: cannot signal process %ld: %s", what, (long)pid,
			   strerror(errno));
		return 1;
	}
	if (!sb)
		return 0;

	int64_t end = clock_ms() + CONTROL_TIMEOUT_MS;
	struct timespec tick = { 0, 20 * 1000000L };
	while (__atomic_load_n(&sb->totals.verdicts, __ATOMIC_ACQUIRE) == before) {
		if (clock_ms() >= end || kill(pid, 0) < 0) {
			stderr_msg(LOG_ERR, "%s: no verdict from process %ld within %d s%s", what,
				   (long)pid, CONTROL_TIMEOUT_MS / 1000,
				   kill(pid, 0) < 0 ? " (it exited)" : " (stopping?)");
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	/* A refusal is counted before its verdict: one seen now belongs to this request. */
	if (__atomic_load_n(&sb->totals.refusals, __ATOMIC_ACQUIRE) != refused) {
		stderr_msg(LOG_ERR, "%s failed: %.*s", what, SB_VERDICT_MAX,
			   sb->totals.refused_why);
		return 1;
	}
	return 0;
}
