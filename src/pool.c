/* SPDX-License-Identifier: ISC */
/*
 * pool: a generation leader's children, and the process policy of every MPM. The leader
 * takes its signals through a signalfd so that SIGCHLD, SIGTERM, the listeners it may
 * accept on and the MPM's own descriptors are one poll() loop with no handler racing it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "engine.h"

struct pool {
	const struct mpm_env *env;
	struct engine *eng;
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
	bool fork_failing;	/* logged once per episode */
	int pending;		/* accepted, not yet taken by the MPM (accepted() said later) */
	int64_t accept_after;	/* accepting paused until (shortage, or pending) */
	size_t next_listener;	/* where the next round of accepts starts: none starves */
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

	if (!p || pipe2(p->stop_pipe, O_CLOEXEC) < 0) {
		log_msg(LOG_ERR, "cannot create the process pool: %m");
		free(p);
		return NULL;
	}
	p->env = env;
	p->eng = env->engine;
	p->fn = fn;
	p->arg = arg;
	p->channels = with_channels;
	p->sigfd = -1;
	p->pending = -1;
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

bool pool_child_idle(const struct pool *p, const struct pool_child *c)
{
	const struct scoreboard *sb = p->eng->sb;

	for (unsigned i = 0; sb && i < sb->nslots; i++) {
		const struct sb_slot *s = &sb->slots[i];
		if (__atomic_load_n(&s->pid, __ATOMIC_ACQUIRE) == c->pid &&
		    s->generation == p->env->generation)
			return __atomic_load_n(&s->state, __ATOMIC_RELAXED) == SB_IDLE;
	}
	return true;
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

static void child_setup(struct pool *p, int own_chan, bool per_conn)
{
	close(p->sigfd);
	close(p->stop_pipe[1]);
	for (unsigned i = 0; i < p->n; i++)
		if (p->child[i].chan >= 0)
			close(p->child[i].chan);
	if (own_chan >= 0)
		close(own_chan);
	if (p->pending >= 0)
		close(p->pending);
	/* A child with its one connection must not keep a listener a reload dropped. */
	for (size_t i = 0; per_conn && i < p->env->nlisteners; i++)
		close(p->env->listeners[i]);
	log_role(LOG_WORKER, p->env->generation);
	pool_child_signals();
}

/* Forks a child running fn with chan (its channel's end or its connection). */
static int spawn(struct pool *p, int conn)
{
	int sv[2] = {-1, -1};
	pid_t pid;

	if (p->n == p->cap) {
		unsigned cap = p->cap ? p->cap * 2 : 16;
		struct pool_child *c = realloc(p->child, cap * sizeof(*c));
		if (!c)
			return -1;
		p->child = c;
		p->cap = cap;
	}
	if (p->channels && conn < 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_msg(LOG_ERR, "socketpair: %m");
		return -1;
	}
	unsigned index = free_index(p);
	pid = fork();
	if (pid < 0) {
		if (!p->fork_failing)
			log_msg(LOG_ERR, "fork: %m; retrying");
		p->fork_failing = true;
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		child_setup(p, sv[0], conn >= 0);
		_exit(p->fn(p->env, p->stop_pipe[0], conn >= 0 ? conn : sv[1], p->arg));
	}
	p->fork_failing = false;
	if (sv[1] >= 0)
		close(sv[1]);
	p->child[p->n++] = (struct pool_child){ .pid = pid, .index = index, .chan = sv[0],
						.retiring = conn >= 0 };
	return 0;
}

/* Replacing children that die at once, the rate is bounded: a crash loop is no fork bomb. */
static int pool_spawn(struct pool *p)
{
	time_t now = time(NULL);
	unsigned limit = p->target > 16 ? p->target : 16;

	if (now != p->window) {
		p->window = now;
		p->spawn_count = 0;
	}
	if (p->spawn_count >= limit) {
		if (!p->throttle_logged)
			log_msg(LOG_ERR, "children exit faster than they can be replaced; "
				"starting at most %u a second", limit);
		p->throttle_logged = true;
		return -1;
	}
	p->spawn_count++;
	return spawn(p, -1);
}

int pool_spawn_conn(struct pool *p, int fd)
{
	if (p->stopping || spawn(p, fd) < 0)
		return -1;
	close(fd);
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

/* The one reaper: slot, client-limit counts and the exit line, for every MPM. */
static void reap(struct pool *p)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		engine_reaped(p->eng, pid, status);
		for (unsigned i = 0; i < p->n; i++) {
			if (p->child[i].pid != pid)
				continue;
			if (WIFSIGNALED(status))
				log_msg(LOG_ERR, "child %ld killed by signal %d (%s)%s", (long)pid,
					WTERMSIG(status), strsignal(WTERMSIG(status)),
					p->stopping || p->child[i].retiring ? "" : "; replacing it");
			else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
				log_msg(LOG_ERR, "child %ld exited with status %d", (long)pid,
					WEXITSTATUS(status));
			if (p->child[i].chan >= 0)
				close(p->child[i].chan);
			p->child[i] = p->child[--p->n];
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
	if (p->pending >= 0) {
		log_msg(LOG_WARNING, "stopping with a connection no child could take; closing it");
		close(p->pending);
		p->pending = -1;
	}
}

static void top_up(struct pool *p)
{
	unsigned live = 0;

	for (unsigned i = 0; i < p->n; i++)
		live += !p->child[i].retiring;
	while (!p->stopping && live < p->target && pool_spawn(p) == 0)
		live++;
}

static bool may_accept(struct pool *p, const struct pool_hooks *h, void *arg)
{
	return h && h->accepted && !p->stopping && p->pending < 0 &&
	       clock_ms() >= p->accept_after && (!h->can_accept || h->can_accept(p, arg));
}

/* Hands the MPM one connection; one it cannot take yet is offered again later. */
static void offer(struct pool *p, const struct pool_hooks *h, void *arg, int fd)
{
	if (h->accepted(p, fd, arg))
		return;
	p->pending = fd;
	p->accept_after = clock_ms() + ACCEPT_PAUSE_MS;
}

/* One connection per ready listener in turn, from a rotating start, while allowed. */
static void accept_ready(struct pool *p, const struct pool_hooks *h, void *arg,
			 const struct pollfd *lfds, size_t n)
{
	bool took = true;

	while (took) {
		took = false;
		for (size_t j = 0; j < n && may_accept(p, h, arg); j++) {
			size_t k = (p->next_listener + j) % n;
			if (!(lfds[k].revents & POLLIN))
				continue;
			int fd = mpm_accept(lfds[k].fd, NULL, NULL);
			if (fd == -2) {
				p->accept_after = clock_ms() + ACCEPT_PAUSE_MS;
				return;
			}
			if (fd < 0)
				continue;
			p->next_listener = k + 1;
			offer(p, h, arg, fd);
			took = true;
		}
	}
}

static int leader_signalfd(void)
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
	const struct mpm_env *env = p->env;
	size_t nl = h && h->accepted ? env->nlisteners : 0;
	/* Room for the channels of every child the MPM may run, and the listeners. */
	int room = (int)(p->eng->max_slots > p->target ? p->eng->max_slots : p->target) + 16;
	struct pollfd *fds = calloc(1 + nl + (size_t)room, sizeof(*fds));
	int64_t next_tick;

	p->sigfd = leader_signalfd();
	if (!fds || p->sigfd < 0) {
		log_msg(LOG_ERR, "leader: %m");
		return 1;
	}
	top_up(p);
	if (p->n == 0 && p->target > 0) {
		log_msg(LOG_ERR, "no child could be started");
		return 1;
	}
	engine_ready(p->eng);
	next_tick = clock_ms() + 1000;

	while (!p->stopping || p->n > 0) {
		int n = 1, extra = 0;
		size_t lst = may_accept(p, h, arg) ? nl : 0;
		fds[0] = (struct pollfd){ .fd = p->sigfd, .events = POLLIN };
		for (size_t i = 0; i < lst; i++)
			fds[n++] = (struct pollfd){ .fd = env->listeners[i], .events = POLLIN };
		if (!p->stopping && h && h->poll_fds)
			extra = h->poll_fds(p, fds + n, room, arg);
		int64_t now = clock_ms(), until = next_tick;
		if (!p->stopping && nl && p->accept_after > now && p->accept_after < until)
			until = p->accept_after;
		int rc = poll(fds, (nfds_t)(n + extra), until > now ? (int)(until - now) : 0);
		if (rc < 0 && errno != EINTR) {
			log_msg(LOG_ERR, "poll: %m");
			begin_stop(p);
		}
		if (rc > 0 && (fds[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(p->sigfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo == SIGTERM)
					begin_stop(p);
			reap(p);
		}
		if (rc > 0 && extra > 0 && !p->stopping && h->poll_ready)
			h->poll_ready(p, fds + n, extra, arg);
		if (p->pending >= 0 && !p->stopping) {
			int fd = p->pending;
			p->pending = -1;
			offer(p, h, arg, fd);
		}
		if (rc > 0 && lst)
			accept_ready(p, h, arg, fds + 1, lst);
		if (clock_ms() >= next_tick) {
			next_tick = clock_ms() + 1000;
			if (!p->stopping && h && h->tick)
				h->tick(p, arg);
			if (!p->stopping) {
				engine_check_saturation(p->eng, env->generation);
				engine_follow_root(p->eng);
			}
		}
		top_up(p);
	}
	close(p->sigfd);
	free(fds);
	free(p->child);
	free(p);
	return 0;
}

int pool_serve(const struct mpm_env *env, pool_child_fn fn, unsigned n)
{
	struct pool *p = pool_create(env, fn, NULL, false);

	if (!p)
		return 1;
	pool_set_target(p, n);
	return pool_run(p, NULL, NULL);
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

/* Descriptors a connection-holding process needs besides its connections: files being
 * sent, logs, the loop's own (epoll, ring, pipes, eventfds). */
#define NOFILE_RESERVE 32

void pool_fit_connections(const char *mpm, long max_connections)
{
	struct rlimit rl;

	pool_fit_nofile(RLIM_INFINITY);
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max_connections + NOFILE_RESERVE)
		log_msg(LOG_WARNING, "%s: max_connections %ld is above what the open-file "
			"limit %llu allows; accepts will pause when descriptors run out",
			mpm, max_connections, (unsigned long long)rl.rlim_cur);
}

void pool_fit_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_msg(LOG_WARNING, "setrlimit(RLIMIT_NOFILE): %m");
}
