/* SPDX-License-Identifier: ISC */
/*
 * master: generations and the reload model. A reload parses and validates the whole new
 * config, binds new addresses and starts the new generation before the old one is told
 * to finish; anything failing on the way leaves the old generation serving as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "access_log.h"
#include "clock.h"
#include "config_check.h"
#include "daemon.h"
#include "generation.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "mpm_load.h"
#include "privs.h"
#include "scoreboard.h"
#include "stderr_msg.h"

#define START_TIMEOUT_MS 15000

struct master {
	const struct master_opts *opts;
	char *conf_path;		/* absolute: the daemon runs in "/" */
	char *mpm_dir;			/* -m, absolute, or NULL */
	bool reload_failed;		/* the last reload was refused (shown in STATUS=) */
	struct config *conf;		/* the serving config */
	int access_fd;			/* its access log, -1 when not a file */
	struct listen_set ls;
	bool socket_activated;
	struct scoreboard *sb;
	struct generation *gens;
	unsigned last_id;
	int sigfd;
	int pid_fd;
	char *pid_path;
	bool stopping;
	int64_t stop_at;		/* SIGTERM came: stop then (shutdown_delay); 0: not */
	int64_t stop_deadline;
	int64_t restart_after;		/* a crashed generation is replaced no sooner */
};

/* STATUS= for `systemctl status`, after `extra` (e.g. "READY=1\n", in the same datagram). */
static void notify_status(struct master *m, const char *extra)
{
	struct sb_summary s;

	char delay[96] = "";

	sb_summarize(m->sb, &s);
	if (m->stop_at)
		snprintf(delay, sizeof(delay), "; stopping in %lld s (shutdown_delay): health "
			 "checks fail, still serving", (long long)((m->stop_at - clock_ms() + 999) /
							    1000));
	sd_notifyf(0, "%sSTATUS=mpm %s, generation %u: %llu requests, %llu connections open, "
		   "%u busy and %u idle workers%s%s%s", extra, m->conf->mpm, s.generation,
		   (unsigned long long)s.requests, (unsigned long long)s.active, s.busy, s.idle,
		   s.saturated ? ", saturated" : "",
		   m->reload_failed ? "; last reload FAILED, see the log" : "", delay);
}

static void config_release(struct master *m, struct config *conf)
{
	if (!conf || conf == m->conf)
		return;
	for (struct generation *g = m->gens; g; g = g->next)
		if (g->conf == conf)
			return;
	config_free(conf);
}

static void stop_generation(struct master *m, struct generation *g)
{
	if (g->state == GEN_STOPPING)
		return;
	g->state = GEN_STOPPING;
	g->deadline = clock_ms() + g->conf->graceful_timeout * 1000LL;
	if (g->pid > 0)
		kill(g->pid, SIGTERM);
}

/* Starts a generation of conf over m->ls; on success every older one is told to stop. */
static int start_generation(struct master *m, struct config *conf, int access_fd,
			    char *err, size_t errlen)
{
	struct generation *g = calloc(1, sizeof(*g));

	if (!g) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	g->id = ++m->last_id;
	g->conf = conf;
	g->access_fd = access_fd;
	if (generation_start(g, &m->ls, m->sb, START_TIMEOUT_MS, err, errlen) < 0) {
		free(g);
		return -1;
	}
	for (struct generation *o = m->gens; o; o = o->next)
		stop_generation(m, o);
	g->next = m->gens;
	m->gens = g;
	m->sb->totals.generation = g->id;
	return 0;
}

/* Whether any process of the generation's group is still alive. */
static bool group_alive(pid_t pgid)
{
	return kill(-pgid, 0) == 0 || errno == EPERM;
}

static void reap(struct master *m)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		sb_release_pid(m->sb, pid);
		for (struct generation *g = m->gens; g; g = g->next) {
			if (g->pid != pid)
				continue;
			g->pid = 0;
			if (g->state == GEN_SERVING && !m->stopping) {
				log_msg(LOG_ERR, "generation %u: leader %ld died (%s %d); starting a "
					"new generation", g->id, (long)pid,
					WIFSIGNALED(status) ? "signal" : "status",
					WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
				stop_generation(m, g);
				m->restart_after = clock_ms();
			}
			break;
		}
	}
}

/* Forgets generations whose every process is gone; forces those past their time. */
static void sweep(struct master *m)
{
	int64_t now = clock_ms();

	for (struct generation **pg = &m->gens; *pg;) {
		struct generation *g = *pg;
		if (g->state == GEN_STOPPING && g->pid == 0 && !group_alive(g->pgid)) {
			*pg = g->next;
			if (g->access_fd >= 0 && g->access_fd != m->access_fd)
				close(g->access_fd);
			struct config *conf = g->conf;
			free(g);
			config_release(m, conf);
			continue;
		}
		if (g->state == GEN_STOPPING && now >= g->deadline) {
			log_msg(LOG_WARNING, "generation %u: still busy after graceful_timeout "
				"(%d s); killing it", g->id, g->conf->graceful_timeout);
			kill(-g->pgid, SIGKILL);
			g->deadline = now + 1000;
		}
		pg = &g->next;
	}
	bool serving = false;
	for (struct generation *g = m->gens; g; g = g->next)
		serving |= g->state != GEN_STOPPING;
	if (!serving && !m->stopping && m->restart_after && now >= m->restart_after) {
		char err[512];
		m->restart_after = 0;
		if (start_generation(m, m->conf, m->access_fd, err, sizeof(err)) < 0) {
			log_msg(LOG_ERR, "cannot start a new generation: %s; retrying", err);
			m->restart_after = now + 1000;
		}
	}
}

static void log_problem(void *arg, const char *msg)
{
	log_msg(LOG_ERR, "%s", msg);
}

/* For `minihttpd -s`, waiting on the scoreboard: why is NULL when the request was met. */
static void publish_verdict(struct master *m, const char *why)
{
	struct sb_totals *t = &m->sb->totals;

	if (why) {
		snprintf(t->refused_why, sizeof(t->refused_why), "%s", why);
		__atomic_add_fetch(&t->refusals, 1, __ATOMIC_RELEASE);
	}
	__atomic_add_fetch(&t->verdicts, 1, __ATOMIC_RELEASE);
}

/*
 * SIGHUP: a new generation with the file as it is now. SIGUSR1: a new generation with
 * the same config, which opens the access log file anew (a rotated file is then left to
 * the old generation, which closes it when it has drained).
 */
static void reload(struct master *m, bool reopen_only)
{
	const char *what = reopen_only ? "reopening the access log failed" : "reload failed";
	char err[1024] = "";
	const char *why = NULL;		/* the verdict: NULL when the new config serves */
	struct config *conf = m->conf;
	struct listen_set next = {0};
	int access_fd;

	/* stdout, stderr and syslog's fallback to stderr have nothing to reopen either. */
	if (reopen_only && m->conf->access_log[0] != '/') {
		log_msg(LOG_NOTICE, "SIGUSR1: access_log is not a file; nothing to reopen");
		publish_verdict(m, NULL);
		return;
	}
	if (!reopen_only) {
		sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%lld\nSTATUS=reloading",
			   (long long)clock_us());
		log_msg(LOG_NOTICE, "reloading configuration %s", m->conf_path);
		conf = config_load(m->conf_path, m->mpm_dir, err, sizeof(err));
		if (!conf) {
			log_msg(LOG_ERR, "%s: %s; still serving the previous configuration",
				what, err);
			goto fail;
		}
		int problems = config_check_apart(conf, false, log_problem, NULL, err,
						  sizeof(err));
		if (problems > 0) {
			log_msg(LOG_ERR, "%s: %d problem%s with %s (above); still serving the "
				"previous configuration", what, problems, problems == 1 ? "" : "s",
				conf->file);
			goto fail;
		}
		if (conf->max_workers != m->conf->max_workers ||
		    strcmp(conf->pid_file, m->conf->pid_file) != 0)
			log_msg(LOG_WARNING, "max_workers and pid_file changes apply at the next "
				"restart, not on reload");
	}
	if (m->socket_activated) {
		next = m->ls;
	} else if (listen_prepare(&m->ls, conf, &next, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s: %s; still serving the previous configuration", what, err);
		goto fail;
	}
	access_fd = access_log_open(conf, err, sizeof(err));
	if (access_fd == -2) {
		log_msg(LOG_ERR, "%s: %s; still serving the previous configuration", what, err);
		goto fail_listen;
	}
	struct listen_set cur = m->ls;
	m->ls = next;
	if (start_generation(m, conf, access_fd, err, sizeof(err)) < 0) {
		m->ls = cur;
		if (access_fd >= 0)
			close(access_fd);
		log_msg(LOG_ERR, "%s: %s; still serving the previous configuration", what, err);
		goto fail_listen;
	}
	if (!m->socket_activated)
		listen_commit(&cur, &next);
	struct config *old = m->conf;
	int old_fd = m->access_fd;
	m->conf = conf;
	m->access_fd = access_fd;
	if (old_fd >= 0 && old_fd != access_fd) {
		bool used = false;
		for (struct generation *g = m->gens; g; g = g->next)
			used |= g->access_fd == old_fd;
		if (!used)
			close(old_fd);
	}
	if (old != conf)
		config_release(m, old);
	m->sb->totals.reloads++;
	if (reopen_only) {
		log_msg(LOG_NOTICE, "access log %s reopened: generation %u", conf->access_log,
			m->last_id);
	} else {
		m->reload_failed = false;
		log_open(conf->syslog_ident, conf->syslog_facility, m->opts->foreground);
		log_msg(LOG_NOTICE, "reloaded: generation %u, mpm %s", m->last_id, conf->mpm);
	}
	goto done;
fail_listen:
	if (!m->socket_activated)
		listen_abort(&m->ls, &next);
fail:
	if (conf != m->conf)
		config_free(conf);
	m->reload_failed |= !reopen_only;
	why = err[0] ? err : "see the log";
done:
	/* systemd 252 holds `systemctl reload` until this READY=1, success or not. */
	notify_status(m, reopen_only ? "" : "READY=1\n");
	/* After READY=1: `minihttpd -s reload` (ExecReload=) ends once it has the verdict. */
	publish_verdict(m, why);
}

/* The graceful stop: generations drain, the listeners refuse new clients. */
static void stop_now(struct master *m, const char *why)
{
	log_msg(LOG_NOTICE, "%s: stopping gracefully (at most %d s)", why,
		m->conf->graceful_timeout);
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: draining, no new connections");
	m->stopping = true;
	m->stop_at = 0;
	for (struct generation *g = m->gens; g; g = g->next)
		stop_generation(m, g);
	/*
	 * New clients are refused from now on rather than queued for nobody. Sockets from
	 * systemd belong to the .socket unit, which keeps them for the next start.
	 */
	if (!m->socket_activated)
		for (size_t i = 0; i < m->ls.n; i++)
			shutdown(m->ls.l[i].fd, SHUT_RDWR);
}

/*
 * SIGTERM, SIGINT, SIGQUIT. With shutdown_delay, the server first goes on serving while
 * health_path answers 503 (the scoreboard's stopping flag), so that a balancer takes it
 * out of its pool before connections are refused; then it stops as without. A second
 * signal, in the delay or in the drain, kills every generation at once.
 */
static void begin_stop(struct master *m, int signo)
{
	if (m->stopping || m->stop_at) {
		log_msg(LOG_WARNING, "second SIG%s: stopping now", sigabbrev_np(signo));
		if (!m->stopping)
			stop_now(m, "shutdown_delay cut short");
		for (struct generation *g = m->gens; g; g = g->next)
			kill(-g->pgid, SIGKILL);
		return;
	}
	__atomic_store_n(&m->sb->totals.stopping, 1, __ATOMIC_RELAXED);
	if (m->conf->shutdown_delay > 0) {
		log_msg(LOG_NOTICE, "SIG%s: health_path answers 503; still serving for %d s "
			"(shutdown_delay), then stopping", sigabbrev_np(signo),
			m->conf->shutdown_delay);
		m->stop_at = clock_ms() + m->conf->shutdown_delay * 1000LL;
		notify_status(m, "STOPPING=1\n");
		return;
	}
	char why[16];
	snprintf(why, sizeof(why), "SIG%s", sigabbrev_np(signo));
	stop_now(m, why);
}

/*
 * A reload or reopen asked while stopping is not done; its verdict says so at once, so
 * that `minihttpd -s reload` fails with the reason instead of waiting for none.
 */
static void refuse_while_stopping(struct master *m, int signo)
{
	log_msg(LOG_NOTICE, "SIG%s ignored: the server is stopping", sigabbrev_np(signo));
	publish_verdict(m, m->stop_at ? "the server is stopping (shutdown_delay)" :
			"the server is stopping");
}

static void master_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGUSR1);
	sigaddset(mask, SIGCHLD);
	sigaddset(mask, SIGQUIT);
}

/*
 * Blocked from the very start, so a SIGHUP sent as soon as the port accepts (before the
 * signalfd exists) waits for the loop instead of killing the master by default action.
 */
static void block_signals(void)
{
	sigset_t mask;

	signal(SIGPIPE, SIG_IGN);
	master_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
}

static int setup_signals(struct master *m)
{
	sigset_t mask;

	master_signals(&mask);
	m->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return m->sigfd;
}

/*
 * Logs a startup error and keeps it for the launcher, which is told only once the pid
 * file and the listeners are gone: when it exits 1, nothing of the daemon is left.
 */
static void fail_start(char *failure, size_t len, const char *msg)
{
	log_msg(LOG_ERR, "%s", msg);
	snprintf(failure, len, "%s", msg);
}

static int serve(struct master *m)
{
	while (!m->stopping || m->gens) {
		struct pollfd pfd = { .fd = m->sigfd, .events = POLLIN };
		int64_t wait = m->stop_at ? m->stop_at - clock_ms() : 1000;
		int rc = poll(&pfd, 1, wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait);

		if (rc < 0 && errno != EINTR) {
			log_msg(LOG_ERR, "poll: %m");
			return 1;
		}
		if (rc > 0) {
			struct signalfd_siginfo si;
			while (read(m->sigfd, &si, sizeof(si)) == sizeof(si)) {
				switch (si.ssi_signo) {
				case SIGHUP:
				case SIGUSR1:
					if (!m->stopping && !m->stop_at)
						reload(m, si.ssi_signo == SIGUSR1);
					else
						refuse_while_stopping(m, (int)si.ssi_signo);
					break;
				case SIGTERM:
				case SIGINT:
				case SIGQUIT:
					begin_stop(m, (int)si.ssi_signo);
					break;
				default:
					break;
				}
			}
		}
		if (m->stop_at && clock_ms() >= m->stop_at)
			stop_now(m, "shutdown_delay over");
		reap(m);
		sweep(m);
		if (rc == 0 && !m->stopping)
			notify_status(m, "");
	}
	return 0;
}

/* Relative to the directory we were started in, which the daemon leaves for "/". */
static char *absolute_path(const char *path)
{
	char cwd[4096], *out;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

int master_run(const struct master_opts *opts, struct config *conf)
{
	struct master m = { .opts = opts, .conf = conf, .access_fd = -1, .pid_fd = -1 };
	char err[1024], failure[1024] = "";
	int report_fd = -1;
	int rc = 1;

	block_signals();
	m.conf_path = absolute_path(opts->conf_path);
	m.mpm_dir = opts->mpm_dir ? absolute_path(opts->mpm_dir) : NULL;
	if (!m.conf_path || (opts->mpm_dir && !m.mpm_dir)) {
		stderr_msg(LOG_ERR, "%s: %s", opts->conf_path, strerror(errno));
		goto out;
	}
	if (listen_adopt_systemd(&m.ls, err, sizeof(err)) < 0) {
		stderr_msg(LOG_ERR, "%s", err);
		goto out;
	}
	m.socket_activated = m.ls.n > 0;
	if (m.socket_activated) {
		log_msg(LOG_NOTICE, "socket activation: serving the %zu socket%s systemd passed "
			"(the listen option is not used)", m.ls.n, m.ls.n == 1 ? "" : "s");
	} else {
		struct listen_set none = {0};
		if (listen_prepare(&none, conf, &m.ls, err, sizeof(err)) < 0) {
			stderr_msg(LOG_ERR, "%s", err);
			log_msg(LOG_ERR, "%s", err);
			goto out;
		}
	}
	if (!opts->foreground && (report_fd = daemon_detach()) < 0) {
		stderr_msg(LOG_ERR, "cannot detach: %s", strerror(errno));
		goto out;
	}
	/* Before the first file is opened, so that the start meets what reloads will meet. */
	if (privs_limit_master(err, sizeof(err)) < 0) {
		fail_start(failure, sizeof(failure), err);
		goto out;
	}
	if (conf->pid_file[0]) {
		m.pid_fd = pidfile_create(conf->pid_file, err, sizeof(err));
		if (m.pid_fd < 0) {
			fail_start(failure, sizeof(failure), err);
			goto out;
		}
		m.pid_path = strdup(conf->pid_file);
	}
	/* Orphans of a crashed leader are reaped here, not by init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	m.sb = sb_create(conf->max_workers);
	m.access_fd = access_log_open(conf, err, sizeof(err));
	if (m.access_fd == -2) {
		fail_start(failure, sizeof(failure), err);
		goto out;
	}
	if (!m.sb || setup_signals(&m) < 0) {
		snprintf(err, sizeof(err), "cannot set up the master: %s", strerror(errno));
		fail_start(failure, sizeof(failure), err);
		goto out;
	}
	if (start_generation(&m, conf, m.access_fd, err, sizeof(err)) < 0) {
		fail_start(failure, sizeof(failure), err);
		goto out;
	}
	log_msg(LOG_NOTICE, "started: pid %ld, mpm %s, %zu listener%s%s", (long)getpid(),
		conf->mpm, m.ls.n, m.ls.n == 1 ? "" : "s",
		m.socket_activated ? " from systemd" : "");
	for (size_t i = 0; i < m.ls.n; i++)
		log_msg(LOG_INFO, "listening on %s", m.ls.l[i].text);
	if (report_fd >= 0)
		daemon_report_ready(report_fd);
	report_fd = -1;
	/*
	 * Detached (Type=forking), the launcher's exit is the readiness systemd waits for,
	 * and it learns our pid from the pid file only after that exit: a notification sent
	 * now would be refused with a warning, so the first STATUS= waits for the next tick.
	 */
	if (opts->foreground)
		notify_status(&m, "READY=1\n");
	rc = serve(&m);
	log_msg(LOG_NOTICE, "stopped");
out:
	pidfile_remove(m.pid_path, m.pid_fd);
	free(m.pid_path);
	free(m.conf_path);
	free(m.mpm_dir);
	listen_free(&m.ls);
	if (m.access_fd >= 0)
		close(m.access_fd);
	config_free(m.conf);
	if (report_fd >= 0)
		daemon_report_error(report_fd, failure[0] ? failure : "cannot start");
	return rc;
}
