/* SPDX-License-Identifier: ISC */
/*
 * daemon: detaching from the terminal. The launcher waits on a pipe so that an init
 * script or `systemctl start` (Type=forking) sees success only when the port really
 * accepts, and sees the real error otherwise.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "stderr_msg.h"

static void launcher_wait(int fd, pid_t middle)
{
	char msg[1024];
	size_t used = 0;
	ssize_t n;
	sigset_t none;

	/* The master blocked its signals for its signalfd; the launcher is a plain process. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	while (used < sizeof(msg) - 1 &&
	       ((n = read(fd, msg + used, sizeof(msg) - 1 - used)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			used += (size_t)n;
	msg[used] = '\0';
	/* The middle process exits at once; reaping it leaves no zombie to a lazy init. */
	waitpid(middle, NULL, 0);
	if (used > 0 && msg[0] == 'R')
		_exit(0);
	if (used > 1 && msg[0] == 'E')
		stderr_msg(LOG_ERR, "%s", msg + 1);
	else
		stderr_msg(LOG_ERR, "the daemon exited during startup (see syslog)");
	_exit(1);
}

int daemon_detach(void)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		launcher_wait(p[0], pid);
	}
	close(p[0]);
	if (setsid() < 0)
		_exit(1);
	/* The second fork makes sure the daemon can never reacquire a controlling terminal. */
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	umask(022);
	if (chdir("/") < 0)
		_exit(1);
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	return p[1];
}

static void report(int fd, char kind, const char *msg)
{
	char buf[1024];
	int n;

	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%c%s", kind, msg);
	if (n > 0 && write(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1) < 0)
		n = -1;
	close(fd);
}

void daemon_report_ready(int fd)
{
	report(fd, 'R', "");
}

void daemon_report_error(int fd, const char *msg)
{
	report(fd, 'E', msg);
}

int pidfile_create(const char *path, char *err, size_t errlen)
{
	char buf[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(err, errlen, "pid file %s: already locked by a running minihttpd%s%s",
			 path, buf[0] ? " with pid " : "", buf);
		close(fd);
		return -1;
	}
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void pidfile_remove(const char *path, int fd)
{
	if (fd < 0)
		return;
	unlink(path);
	close(fd);
}
