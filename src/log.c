/* SPDX-License-Identifier: ISC */
/*
 * log: the speaker prefix and the one syslog() call. The prefix is formatted once per
 * log_role() into a static buffer, so a log line costs one vsnprintf and one syslog.
 */
#include <errno.h>
#include <stdarg.h>
#include <paths.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* "generation 4294967295 leader: " fits with room to spare. */
static char prefix[48] = "master: ";

void log_open(const char *ident, int facility, bool echo_stderr)
{
	closelog();
	openlog(ident, LOG_PID | LOG_NDELAY | (echo_stderr ? LOG_PERROR : 0), facility);
}

void log_close(void)
{
	closelog();
}

void log_role(enum log_role role, unsigned generation)
{
	switch (role) {
	case LOG_MASTER:
		snprintf(prefix, sizeof(prefix), "master: ");
		break;
	case LOG_LEADER:
		snprintf(prefix, sizeof(prefix), "generation %u leader: ", generation);
		break;
	case LOG_WORKER:
		snprintf(prefix, sizeof(prefix), "generation %u worker: ", generation);
		break;
	case LOG_INETD:
		snprintf(prefix, sizeof(prefix), "inetd: ");
		break;
	}
}

void log_msg(int prio, const char *fmt, ...)
{
	int saved = errno;	/* for %m: nothing before vsnprintf may change it */
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	errno = saved;
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	syslog(prio, "%s%s", prefix, line);
	errno = saved;
}

bool log_syslog_reachable(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc, saved;

	if (fd < 0)
		return false;
	strncpy(un.sun_path, _PATH_LOG, sizeof(un.sun_path) - 1);
	rc = connect(fd, (struct sockaddr *)&un, sizeof(un));
	saved = errno;
	close(fd);
	errno = saved;
	return rc == 0;
}

void log_access(const char *line, size_t len)
{
	syslog(LOG_INFO, "%.*s", (int)len, line);
}
