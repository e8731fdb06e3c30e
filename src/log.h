/* SPDX-License-Identifier: ISC */
/*
 * log: the one way minihttpd's processes write to syslog (LOG_DAEMON unless the config
 * says otherwise). Every line says who speaks, so a journal of a reload with three
 * generations alive reads unambiguously:
 *
 *   master: reloaded: generation 3, mpm event
 *   generation 3 leader: child 4242 killed by signal 9 (Killed); replacing it
 *   generation 3 worker: event: process 4243 reached max_connections (10000)
 *
 * The speaker is set once per process (log_role) right after the fork that made it: a
 * process has one role, and its threads share it. Priorities are syslog's. With -F the
 * lines are echoed to stderr as well (syslog's LOG_PERROR), so a foreground run shows
 * what the journal would.
 *
 * Nothing else calls syslog(): that way the prefix, the echo and a later change of
 * target (a file, the journal's native protocol) are decided here, once.
 */
#ifndef MINIHTTPD_LOG_H
#define MINIHTTPD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>	/* LOG_ERR ... LOG_DEBUG, the priorities log_msg() takes */

enum log_role {
	LOG_MASTER,		/* the master, and the command-line tools before it exists */
	LOG_LEADER,		/* a generation's leader (the MPM's run()) */
	LOG_WORKER,		/* a process (and its threads) that serves connections */
	LOG_INETD,		/* minihttpd -i: one connection, no master, no generation */
};

/*
 * (Re)opens the syslog connection. Called by the master at start and after each reload
 * (ident and facility come from the config), and by a generation's leader after it
 * closed every inherited descriptor.
 */
void log_open(const char *ident, int facility, bool echo_stderr);

/*
 * Closes the syslog connection, before a new process closes descriptors by range: its
 * socket is then not closed behind syslog's back, to be mistaken later for another file.
 */
void log_close(void);

/* Who the calling process is, from now on: every later line starts with it. */
void log_role(enum log_role role, unsigned generation);

/* One line at priority prio; printf's format, with %m for the errno at the call. */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Whether the syslog socket takes a connection now (errno says why not). glibc retries
 * socket+connect for every message while it does not, so a caller choosing syslog for
 * a line per request asks first.
 */
bool log_syslog_reachable(void);

/* An access-log line to syslog (access_log = "syslog"): no speaker, LOG_INFO. */
void log_access(const char *line, size_t len);

#endif
