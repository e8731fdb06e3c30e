/*
 * pool: process management for a generation leader. The leader takes its signals through
 * a signalfd so that SIGCHLD, SIGTERM and the MPM's own descriptors are one poll() loop
 * with no handler racing the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "http_conn.h"
#include "log.h"
#include "pool.h"
#include "scoreboard.h"

/* Room for a channel per child (prefork's max_servers is at most 4096) and the listeners. */
#define MAX_EXTRA_FDS (4096 + 256)

struct pool {
	const struct mpm_env *env;
	pool_child_fn fn;
	void *arg;
	bool channels;
	struct pool_child *child;
	unsigned n, cap;
	unsigned target;
	int stop_pipe[2];
	int sigfd;
	bool stopping;
	time_t window;		/* the second spawn_count counts in */
	unsigned spawn_count;
	bool throttle_logged;
};

/*
 * Set by whichever thread of a child takes SIGTERM and read by all of them: a lock-free
 * atomic (async-signal-safe, and no data race between threads), not a volatile.
 */
static int child_stop;

static void on_child_term(int sig)
{
	(void)sig;
	__atomic_store_n(&child_stop, 1, __ATOMIC_RELAXED);
}

static bool told_to_stop(void)
{
	return __atomic_load_n(&child_stop, __ATOMIC_RELAXED);
}

struct pool *pool_create(const struct mpm_env *env, pool_child_fn fn, void *arg,
			 bool with_channels)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->env = env;
	p->fn = fn;
	p->arg = arg;
	p->channels = with_channels;
	p->sigfd = -1;
	if (pipe2(p->stop_pipe, O_CLOEXEC) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

void pool_set_target(struct pool *p, unsigned n)
{
	p->target = n;
}

unsigned pool_target(const struct pool *p)
{
	return p->target;
}

unsigned pool_count(const struct pool *p)
{
	return p->n;
}

struct pool_child *pool_child_at(struct pool *p, unsigned i)
{
	return i < p->n ? &p->child[i] : NULL;
}

bool pool_stopping(const struct pool *p)
{
	return p->stopping;
}

static unsigned free_index(const struct pool *p)
{
	for (unsigned idx = 0;; idx++) {
		bool used = false;
		for (unsigned i = 0; i < p->n && !used; i++)
			used = p->child[i].index == idx;
		if (!used)
			return idx;
	}
}

void pool_child_signals(void)
{
	struct sigaction sa = { .sa_handler = on_child_term };
	sigset_t mask;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGCHLD, SIG_DFL);
	/* SIGTERM stays blocked except inside pool_child_wait(), so none is missed. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_SETMASK, &mask, NULL);
}

static void child_setup(struct pool *p, int own_chan)
{
	close(p->sigfd);
	close(p->stop_pipe[1]);
	for (unsigned i = 0; i < p->n; i++)
		if (p->child[i].chan >= 0)
			close(p->child[i].chan);
	if (own_chan >= 0)
		close(own_chan);
	log_role(LOG_WORKER, p->env->generation);
	pool_child_signals();
}

int pool_spawn(struct pool *p)
{
	time_t now = time(NULL);
	unsigned limit = p->target > 16 ? p->target : 16;
	int sv[2] = {-1, -1};
	pid_t pid;

	if (p->stopping)
		return -1;
	if (now != p->window) {
		p->window = now;
		p->spawn_count = 0;
	}
	if (p->spawn_count >= limit) {
		if (!p->throttle_logged)
			syslog(LOG_ERR, "generation %u: children exit faster than they can be "
			       "replaced; starting at most %u a second", p->env->generation, limit);
		p->throttle_logged = true;
		return -1;
	}
	if (p->n == p->cap) {
		unsigned cap = p->cap ? p->cap * 2 : 16;
		struct pool_child *c = realloc(p->child, cap * sizeof(*c));
		if (!c)
			return -1;
		p->child = c;
		p->cap = cap;
	}
	if (p->channels && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		syslog(LOG_ERR, "generation %u: socketpair: %m", p->env->generation);
		return -1;
	}
	unsigned index = free_index(p);
	pid = fork();
	if (pid < 0) {
		syslog(LOG_ERR, "generation %u: fork: %m", p->env->generation);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		child_setup(p, sv[0]);
		_exit(p->fn(p->env, p->stop_pipe[0], sv[1], p->arg));
	}
	if (sv[1] >= 0)
		close(sv[1]);
	p->spawn_count++;
	p->child[p->n++] = (struct pool_child){ .pid = pid, .index = index, .chan = sv[0] };
	return 0;
}

void pool_retire(struct pool *p, struct pool_child *c)
{
	(void)p;
	if (c->retiring)
		return;
	c->retiring = true;
	kill(c->pid, SIGTERM);
}

static void log_exit(const struct pool *p, pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		syslog(LOG_ERR, "generation %u: child %ld killed by signal %d (%s)%s",
		       p->env->generation, (long)pid, WTERMSIG(status), strsignal(WTERMSIG(status)),
		       p->stopping ? "" : "; replacing it");
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		syslog(LOG_ERR, "generation %u: child %ld exited with status %d",
		       p->env->generation, (long)pid, WEXITSTATUS(status));
}

static void reap(struct pool *p, const struct pool_hooks *h, void *arg)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		sb_release_pid(p->env->sb, pid);
		conn_ctx_reaped(p->env->http, pid, status);
		for (unsigned i = 0; i < p->n; i++) {
			if (p->child[i].pid != pid)
				continue;
			struct pool_child gone = p->child[i];
			log_exit(p, pid, status);
			if (gone.chan >= 0)
				close(gone.chan);
			gone.chan = -1;
			p->child[i] = p->child[--p->n];
			if (h && h->child_exited)
				h->child_exited(p, &gone, arg);
			break;
		}
	}
}

static void begin_stop(struct pool *p)
{
	if (p->stopping)
		return;
	p->stopping = true;
	/* Every child polls the read end: its EOF is one broadcast "finish and exit". */
	close(p->stop_pipe[1]);
	p->stop_pipe[1] = -1;
}

static void top_up(struct pool *p)
{
	unsigned live = 0;

	for (unsigned i = 0; i < p->n; i++)
		live += !p->child[i].retiring;
	while (!p->stopping && live < p->target && pool_spawn(p) == 0)
		live++;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pool_leader_signalfd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

int pool_run(struct pool *p, const struct pool_hooks *h, void *arg)
{
	struct pollfd fds[1 + MAX_EXTRA_FDS];
	int64_t next_tick;

	p->sigfd = pool_leader_signalfd();
	if (p->sigfd < 0) {
		syslog(LOG_ERR, "generation %u: signalfd: %m", p->env->generation);
		return 1;
	}
	top_up(p);
	if (p->n == 0) {
		syslog(LOG_ERR, "generation %u: no child could be started", p->env->generation);
		return 1;
	}
	mpm_ready(p->env);
	next_tick = now_ms() + 1000;

	while (!p->stopping || p->n > 0) {
		int n = 1, extra = 0;
		fds[0] = (struct pollfd){ .fd = p->sigfd, .events = POLLIN };
		if (!p->stopping && h && h->poll_fds)
			extra = h->poll_fds(p, fds + 1, MAX_EXTRA_FDS, arg);
		n += extra;
		int64_t wait = next_tick - now_ms();
		int rc = poll(fds, (nfds_t)n, wait > 0 ? (int)wait : 0);
		if (rc < 0 && errno != EINTR) {
			syslog(LOG_ERR, "generation %u: poll: %m", p->env->generation);
			begin_stop(p);
		}
		if (rc > 0 && (fds[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(p->sigfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo == SIGTERM)
					begin_stop(p);
			reap(p, h, arg);
		}
		if (rc > 0 && extra > 0 && !p->stopping && h->poll_ready)
			h->poll_ready(p, fds + 1, extra, arg);
		if (now_ms() >= next_tick) {
			next_tick = now_ms() + 1000;
			if (!p->stopping && h && h->tick)
				h->tick(p, arg);
		}
		top_up(p);
	}
	close(p->sigfd);
	free(p->child);
	free(p);
	return 0;
}

int pool_child_wait(struct pollfd *fds, int n, int stop_fd, int timeout_ms)
{
	struct pollfd all[n + 1];
	struct timespec ts, *tsp = NULL;
	sigset_t open_mask;
	int rc;

	if (told_to_stop())
		return -1;
	if (n > 0)
		memcpy(all, fds, (size_t)n * sizeof(*fds));
	all[n] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	sigemptyset(&open_mask);
	rc = ppoll(all, (nfds_t)n + 1, tsp, &open_mask);
	if (rc < 0)
		return errno == EINTR && !told_to_stop() ? 0 : -1;
	if (told_to_stop() || all[n].revents)
		return -1;
	if (n > 0)
		memcpy(fds, all, (size_t)n * sizeof(*fds));
	return rc;
}

bool pool_child_stopping(int stop_fd)
{
	struct pollfd pfd = { .fd = stop_fd, .events = POLLIN };

	return told_to_stop() || (stop_fd >= 0 && poll(&pfd, 1, 0) > 0);
}

void pool_fit_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		syslog(LOG_WARNING, "setrlimit(RLIMIT_NOFILE): %m");
}
