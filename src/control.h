/* SPDX-License-Identifier: ISC */
/*
 * control: `minihttpd -s stop|reload|reopen`, like nginx's -s, for the master whose pid
 * the pid file holds. stop sends SIGTERM and returns. reload (SIGHUP) and reopen
 * (SIGUSR1) wait, bounded, for the master's verdict on the scoreboard: 0 once the new
 * generation serves, 1 with the master's reason when it refused, for any reason. So
 * ExecReload= fails when the configuration was not put into service.
 */
#ifndef MINIHTTPD_CONTROL_H
#define MINIHTTPD_CONTROL_H

#include <sys/types.h>

#define CONTROL_TIMEOUT_MS 60000	/* a reload waits START_TIMEOUT_MS (15 s) at most */

/* Whether what is one of stop, reload, reopen. */
int control_known(const char *what);

/* Returns the exit status: 0 done, 1 refused or no verdict in time. */
int control_send(pid_t pid, const char *what);

#endif
