/*
 * fork: one process per connection (the seed's "one fork per client", inetd's nowait).
 * The leader accepts and forks a child for each connection; the child serves it to its
 * end and exits. No pool: the leader runs its own small loop, a signalfd and the
 * listeners in one poll(), and reaps children as their SIGCHLD arrives.
 *
 * max_children caps the live children so a flood cannot fork-bomb the host: at the cap
 * the leader stops polling the listeners and clients wait in the listen backlog until a
 * child exits (back-pressure, never a refusal). A fork that fails keeps its connection
 * and is retried every 100 ms. Each child claims a scoreboard slot when one is free and
 * serves uncounted otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "conn_loop.h"
#include "mpm.h"
#include "pool.h"
#include "scoreboard.h"

#define RETRY_MS 100

struct fork_conf {
	long max_children;
};

struct leader {
	const struct mpm_env *env;
	unsigned max, children;
	int sigfd;
	int stop_pipe[2];	/* the write end closes on SIGTERM: children drain */
	bool stopping;
	bool fork_failing;	/* logged once per episode */
	bool accept_failing;
	int pending;		/* an accepted connection whose fork failed, or -1 */
	struct sockaddr_storage pending_peer;
	socklen_t pending_len;
};

static const struct mpm_option options[] = {
	MPM_INT("max_children", 256, 1, 16384, struct fork_conf, max_children),
	{0}
};

static long query(const void *conf, enum mpm_query what)
{
	const struct fork_conf *fc = conf;

	switch (what) {
	case MPM_Q_THREADED: return 0;
	case MPM_Q_ASYNC: return 0;
	case MPM_Q_MAX_SLOTS: return fc->max_children;
	}
	return -1;
}

static _Noreturn void child_main(struct leader *l, int fd, const struct sockaddr *peer,
				 socklen_t len)
{
	const struct mpm_env *env = l->env;
	struct sb_slot *slot;

	close(l->sigfd);
	close(l->stop_pipe[1]);
	/* A child must not keep a listener open after a reload dropped it. */
	for (size_t i = 0; i < env->nlisteners; i++)
		close(env->listeners[i]);
	pool_child_signals();
	slot = sb_claim(env->sb, env->generation);
	conn_serve(env->http, fd, peer, len, slot, l->stop_pipe[0]);
	sb_release(slot);
	_exit(0);
}

/* Forks the child for fd; on failure keeps fd as the pending connection. */
static void spawn(struct leader *l, int fd, const struct sockaddr_storage *peer,
		  socklen_t len)
{
	pid_t pid = fork();

	if (pid == 0)
		child_main(l, fd, (const struct sockaddr *)peer, len);
	if (pid < 0) {
		if (!l->fork_failing)
			syslog(LOG_ERR, "generation %u: fork: %m; holding the connection and "
			       "retrying every %d ms", l->env->generation, RETRY_MS);
		l->fork_failing = true;
		l->pending = fd;
		if (peer != &l->pending_peer)
			memcpy(&l->pending_peer, peer, sizeof(*peer));
		l->pending_len = len;
		return;
	}
	l->fork_failing = false;
	l->pending = -1;
	l->children++;
	close(fd);
}

static void accept_from(struct leader *l, int lfd)
{
	while (l->children < l->max && l->pending < 0) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == ECONNABORTED || errno == EINTR))
			continue;
		if (fd < 0) {
			bool out_of_fds = errno == EMFILE || errno == ENFILE;
			if (out_of_fds && !l->accept_failing)
				syslog(LOG_ERR, "generation %u: accept: %m; pausing accepts for "
				       "%d ms", l->env->generation, RETRY_MS);
			l->accept_failing = out_of_fds;
			return;
		}
		l->accept_failing = false;
		spawn(l, fd, &peer, len);
	}
}

static void reap(struct leader *l)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		sb_release_pid(l->env->sb, pid);
		conn_ctx_reaped(l->env->http, pid, status);
		if (l->children > 0)
			l->children--;
		if (WIFSIGNALED(status))
			syslog(LOG_ERR, "generation %u: child %ld killed by signal %d (%s)",
			       l->env->generation, (long)pid, WTERMSIG(status),
			       strsignal(WTERMSIG(status)));
		else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			syslog(LOG_ERR, "generation %u: child %ld exited with status %d",
			       l->env->generation, (long)pid, WEXITSTATUS(status));
	}
}

static void begin_stop(struct leader *l)
{
	if (l->stopping)
		return;
	l->stopping = true;
	close(l->stop_pipe[1]);
	l->stop_pipe[1] = -1;
	if (l->pending >= 0) {
		syslog(LOG_WARNING, "generation %u: stopping with a connection no child could "
		       "be forked for; closing it", l->env->generation);
		close(l->pending);
		l->pending = -1;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int leader_loop(struct leader *l)
{
	const struct mpm_env *env = l->env;
	struct pollfd fds[1 + env->nlisteners];
	int64_t retry_at = 0;

	while (!l->stopping || l->children > 0) {
		bool accepting = !l->stopping && !retry_at && l->children < l->max;
		int timeout = -1;
		nfds_t n = 1;
		fds[0] = (struct pollfd){ .fd = l->sigfd, .events = POLLIN };
		for (size_t i = 0; accepting && i < env->nlisteners; i++)
			fds[n++] = (struct pollfd){ .fd = env->listeners[i], .events = POLLIN };
		if (retry_at && !l->stopping) {
			int64_t left = retry_at - now_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		int rc = poll(fds, n, timeout);
		if (rc < 0 && errno != EINTR) {
			syslog(LOG_ERR, "generation %u: poll: %m", env->generation);
			begin_stop(l);
		}
		if (rc > 0 && (fds[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(l->sigfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo == SIGTERM)
					begin_stop(l);
			reap(l);
		}
		if (l->stopping)
			continue;
		if (retry_at && now_ms() >= retry_at) {
			retry_at = 0;
			if (l->pending >= 0)
				spawn(l, l->pending, &l->pending_peer, l->pending_len);
			for (size_t i = 0; i < env->nlisteners; i++)
				accept_from(l, env->listeners[i]);
		}
		for (nfds_t i = 1; rc > 0 && i < n; i++)
			if (fds[i].revents & POLLIN)
				accept_from(l, fds[i].fd);
		if (!retry_at && (l->pending >= 0 || l->accept_failing))
			retry_at = now_ms() + RETRY_MS;
	}
	return 0;
}

static int run(const struct mpm_env *env)
{
	const struct fork_conf *fc = env->mpm_conf;
	struct leader l = {
		.env = env,
		.max = (unsigned)fc->max_children,
		.pending = -1,
	};
	int rc;

	l.sigfd = pool_leader_signalfd();
	if (l.sigfd < 0 || pipe2(l.stop_pipe, O_CLOEXEC) < 0) {
		syslog(LOG_ERR, "generation %u: signalfd or pipe: %m", env->generation);
		return 1;
	}
	mpm_ready(env);
	rc = leader_loop(&l);
	close(l.sigfd);
	close(l.stop_pipe[0]);
	return rc;
}

const struct mpm_module minihttpd_mpm = {
	.abi_version = MPM_ABI_VERSION,
	.name = "fork",
	.description = "a new process for every connection, up to max_children at once",
	.options = options,
	.conf_size = sizeof(struct fork_conf),
	.query = query,
	.run = run,
};
