/* SPDX-License-Identifier: ISC */
/*
 * generation: the leader's start. Everything the master holds that a leader must not
 * (signalfd, pid file lock, launcher pipe, other generations' pipes) is closed by range,
 * keeping only the listeners, the report pipe and the access log.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "engine.h"
#include "access_log.h"
#include "generation.h"
#include "log.h"
#include "mpm_load.h"
#include "privs.h"

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void close_all_but(int *keep, size_t n)
{
	int from = 3;

	qsort(keep, n, sizeof(*keep), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < from)
			continue;
		if (keep[i] > from)
			close_range((unsigned)from, (unsigned)keep[i] - 1, 0);
		from = keep[i] + 1;
	}
	close_range((unsigned)from, ~0U, 0);
}

static void reset_signals(void)
{
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGPIPE)
			signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The master reports the failure too, naming the generation: its log line says whose. */
static void leader_fail(int fd, unsigned id, const char *what, const char *err)
{
	char buf[600];
	int n = snprintf(buf, sizeof(buf), "Egeneration %u: %s%s", id, what, err);

	log_msg(LOG_ERR, "%s%s", what, err);
	if (n > 0 && write(fd, buf, (size_t)n) < 0)
		_exit(1);
	_exit(1);
}

static void leader_main(struct generation *g, const struct listen_set *ls,
			struct scoreboard *sb, int report_fd)
{
	const struct config *conf = g->conf;
	int fds[ls->n];
	int keep[ls->n + 2];
	size_t nkeep = 0;
	struct engine eng;
	char err[512];

	setpgid(0, 0);
	reset_signals();
	/* Only the master speaks to systemd; NotifyAccess=main would refuse the others. */
	unsetenv("NOTIFY_SOCKET");
	for (size_t i = 0; i < ls->n; i++)
		keep[nkeep++] = fds[i] = ls->l[i].fd;
	keep[nkeep++] = report_fd;
	if (g->access_fd >= 0)
		keep[nkeep++] = g->access_fd;
	log_close();
	close_all_but(keep, nkeep);
	/* stderr is the master's: /dev/null for a daemon, the terminal (or log) with -F. */
	log_open(conf->syslog_ident, conf->syslog_facility, true);
	log_role(LOG_LEADER, g->id);

	/* The per-site logs: this process's copy of the config holds their descriptors. */
	if (access_log_open_sites(g->conf, err, sizeof(err)) < 0)
		leader_fail(report_fd, g->id, "", err);
	if (privs_drop(conf, err, sizeof(err)) < 0)
		leader_fail(report_fd, g->id, "dropping privileges: ", err);
	if (engine_init(&eng, conf, conf->mpm_handle->mod, g->access_fd, sb, report_fd, err,
			sizeof(err)) < 0)
		leader_fail(report_fd, g->id, "", err);
	struct mpm_env env = {
		.mpm_conf = conf->mpm_conf,
		.listeners = fds,
		.nlisteners = ls->n,
		.generation = g->id,
		.engine = &eng,
	};
	int rc = conf->mpm_handle->mod->run(&env);
	engine_free(&eng);
	_exit(rc);
}

int generation_start(struct generation *g, const struct listen_set *ls,
		     struct scoreboard *sb, int timeout_ms, char *err, size_t errlen)
{
	int p[2];
	char msg[600];
	size_t used = 0;
	int64_t end = clock_ms() + timeout_ms;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	g->pid = fork();
	if (g->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (g->pid == 0) {
		close(p[0]);
		leader_main(g, ls, sb, p[1]);
	}
	close(p[1]);
	/* Both sides set the group, so the master can signal it before the leader runs. */
	setpgid(g->pid, g->pid);
	g->pgid = g->pid;
	g->started = clock_ms();

	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		int64_t left = end - clock_ms();
		if (left <= 0) {
			snprintf(err, errlen, "generation %u did not get ready within %d ms",
				 g->id, timeout_ms);
			break;
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		ssize_t n = read(p[0], msg + used, sizeof(msg) - 1 - used);
		if (n > 0) {
			used += (size_t)n;
			if (msg[0] == 'R') {
				close(p[0]);
				g->state = GEN_SERVING;
				return 0;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		msg[used] = '\0';
		snprintf(err, errlen, "%s", used > 1 && msg[0] == 'E' ? msg + 1 :
			 "the generation's leader exited during startup");
		break;
	}
	close(p[0]);
	kill(-g->pgid, SIGKILL);
	waitpid(g->pid, NULL, 0);
	g->pid = 0;
	return -1;
}
