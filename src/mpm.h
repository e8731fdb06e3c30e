/* SPDX-License-Identifier: ISC */
/*
 * mpm.h: the contract between the core and a concurrency module (MPM), and all a module
 * uses of the core: the worker lifecycle, the accept policy and the process pool. A module
 * is a shared object in mpm_dir exporting `const struct mpm_module minihttpd_mpm`; the
 * core loads the one the config names and never names a module itself. A module that
 * drives connections itself (an event loop) adds http_conn.h.
 *
 * The master forks a leader per generation (one config) and calls run() there, after
 * dropping privileges. run() decides how connections meet workers (processes, threads, an
 * event loop) and hands its bodies to the pool, which owns the process policy: it reports
 * the generation ready, reaps children (their scoreboard slots, client-limit counts, the
 * exit line), judges saturation once a second from query(), and on SIGTERM tells every
 * worker to finish (stop_fd) and waits. A module never parses the config file, binds or
 * closes listeners, or forks another generation.
 */
#ifndef MINIHTTPD_MPM_H
#define MINIHTTPD_MPM_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "log.h"

/*
 * Raised whenever a module built against an older header would misread the core: this
 * struct, mpm_env, or the engine's layout that modules embed (http_conn.h's conn_qlink;
 * 3: it lost its back pointer and its deadline became 32 bits).
 */
#define MPM_ABI_VERSION 3
#define MPM_SYMBOL "minihttpd_mpm"

enum mpm_query {
	MPM_Q_MAX_SLOTS,	/* workers (scoreboard slots) one generation runs at most */
	MPM_Q_CONNS_PER_WORKER,	/* 0: one connection each; N: a worker is full at N */
};

/* ---- Options: a module declares them; the core parses, validates and fills its struct ---- */

enum mpm_opt_type {
	MPM_OPT_INT,	/* a `long` field: a number in [min, max], or "auto" (0) with allow_auto */
	MPM_OPT_WORD,	/* an `int` (or enum) field: the index in words of the word written */
};

/*
 * One option of the module's section. The core builds the libconfuse section from the
 * table, refuses a bad value with "FILE:LINE: name: \"value\" is not 1..64" (or "is not
 * one of a, b"), and stores each value, given or default, at offset in a zero-filled
 * struct of conf_size bytes.
 */
struct mpm_option {
	const char *name;
	enum mpm_opt_type type;
	long def;			/* INT: the value (0 for "auto"); WORD: an index in words */
	long min, max;			/* INT: the range accepted */
	bool allow_auto;		/* INT: "auto" gives 0, for check() to derive the value */
	const char *const *words;	/* WORD: NULL-terminated */
	size_t offset;			/* offsetof(struct xxx_conf, field) */
};

#define MPM_INT(name, def, min, max, type, field) \
	{ name, MPM_OPT_INT, def, min, max, false, NULL, offsetof(type, field) }
#define MPM_INT_AUTO(name, min, max, type, field) \
	{ name, MPM_OPT_INT, 0, min, max, true, NULL, offsetof(type, field) }
#define MPM_WORD(name, def, words, type, field) \
	{ name, MPM_OPT_WORD, def, 0, 0, false, words, offsetof(type, field) }

/* "auto" processes: the CPUs this process may run on (honours taskset and cpusets). */
long mpm_cpu_count(void);

/* ---- end of options ---- */

struct engine;

struct mpm_env {
	const void *mpm_conf;		/* the module's filled and checked conf struct */
	const int *listeners;		/* non-blocking, CLOEXEC; shared by every generation */
	size_t nlisteners;
	unsigned generation;
	struct engine *engine;		/* the core's, for the calls below */
};

struct mpm_module {
	unsigned abi_version;		/* MPM_ABI_VERSION */
	const char *name;		/* as written in `mpm = "..."`; names its config section */
	const char *description;	/* one line, for -V */
	/* Options (mpm_option above); NULL when it has none, else ended by a zero entry. */
	const struct mpm_option *options;
	size_t conf_size;		/* its conf struct; 0: no configuration */
	/*
	 * Optional: cross-option checks and derived values ("auto"), on the filled struct.
	 * Runs in the master for -t and on every load or reload, before anything changes.
	 * On a problem writes one line (no FILE:LINE: the core reports it at the line that
	 * closes the section, where every option is known) and returns -1.
	 */
	int (*check)(void *conf, char *err, size_t errlen);
	/* Answers an mpm_query for this configuration; -1 for a question it does not know. */
	long (*query)(const void *mpm_conf, enum mpm_query what);
	/* The generation leader's body; returns the process exit status. */
	int (*run)(const struct mpm_env *env);
};

/*
 * A worker is a process or thread that serves; every one brackets its life with these.
 * begin claims its scoreboard slot and readies the thread's caches (buffers, date, and
 * the file cache when the engine has it on); end gives all of it back. stop_fd becomes
 * readable when the worker must finish (a pool child's, or the MPM's own pipe).
 */
struct worker;
struct worker *worker_begin(const struct mpm_env *env, int stop_fd);
void worker_end(struct worker *w);
/* An event loop also watches this descriptor (-1: none) and calls notify when readable. */
int worker_watch_fd(const struct worker *w);
void worker_notify(struct worker *w);
/* The generation stops: what the worker holds is finished, not cut ('G' on the board). */
void worker_drain(struct worker *w);
/*
 * How many more connections w may accept before it holds its share of its generation's
 * open connections (an even share, an eighth more, and WORKER_SHARE_SLACK); LONG_MAX
 * when it has none to keep (alone in its generation, or off the board). A listener
 * shared with EPOLLEXCLUSIVE wakes the first waiting process for as long as it keeps
 * up, so one process would take every connection of a burst: a loop bounds each accept
 * burst by the room, and with none it stops accepting. It then looks again every
 * WORKER_SHARE_POLL_MS (the others' accepts raise its share but wake only them: were
 * they to reach theirs meanwhile, nobody would accept while the listen queue fills);
 * every WORKER_SHARE_RECHECK_MS it takes what waits in the queue (a connection queued
 * before it stopped woke only it), at most WORKER_SHARE_SLACK past its share. It reads
 * the generation's slots, which are few and near the board's start
 * (sb_generation_load()), each time: per turn of a loop and per burst, as a reading
 * even a millisecond old could stop two processes at once.
 */
#define WORKER_SHARE_SLACK 8
#define WORKER_SHARE_RECHECK_MS 50
#define WORKER_SHARE_POLL_MS 5
long worker_share_room(struct worker *w);
/* An accept burst's size: burst, or fewer to keep w within its share (past_share more,
 * for the queue's rescue). */
long worker_share_burst(struct worker *w, long burst, long past_share);
/* Per turn of a loop: whether w holds its share (no room), so stops accepting. */
bool worker_share_held(struct worker *w, int64_t now);
/* The earliest of other and what w must wake for while it holds its share: the next
 * look (WORKER_SHARE_POLL_MS) and the queue's rescue. */
int64_t worker_share_wake(const struct worker *w, int64_t now, int64_t other);
/* Whether the queue's rescue is due (then the next is scheduled): take what waits, each
 * listener's worker_share_burst(w, burst, WORKER_SHARE_SLACK). */
bool worker_share_rescue_due(struct worker *w, int64_t now);

/* Blocking workers: serves fd (owned) to its end, draining it if stop_fd fires; peer
 * NULL: the socket's. Event loops drive conn_new(w, ...) themselves (http_conn.h). */
void worker_serve(struct worker *w, int fd, const struct sockaddr *peer, socklen_t len);

/*
 * The accept policy: accept4() non-blocking and close-on-exec, retrying interruptions
 * (peer and len may be NULL). -1: nothing to accept. -2: short of descriptors or memory
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM): stop accepting for ACCEPT_PAUSE_MS. Logged once
 * per episode (per thread) and once at its end: the first accept that succeeds
 * ACCEPT_QUIET_MS after the last shortage, so that a process at its descriptor limit,
 * where every close lets one accept through, logs two lines, not two per connection.
 */
#define ACCEPT_PAUSE_MS 100
#define ACCEPT_QUIET_MS 1000
int mpm_accept(int lfd, struct sockaddr_storage *peer, socklen_t *len);
/* The same policy for an accept the module did otherwise (io_uring): res is its result,
 * a descriptor or -errno. */
int mpm_accepted(int res);
/*
 * How long TCP_DEFER_ACCEPT with secs held a connection that sent nothing before
 * accept() got it (0: off): for conn_set_waited(), so header_timeout counts that time.
 */
uint32_t mpm_deferral_ms(long secs);
/*
 * TCP_DEFER_ACCEPT of secs on every listener (0: off), from a generation's leader: a
 * connection reaches accept() only once its request has arrived (or after about secs
 * without one), one wakeup per connection instead of two. It is the listening sockets'
 * setting, so it is applied once per generation; mpm names the MPM in a warning.
 */
void mpm_defer_accepts(const struct mpm_env *env, const char *mpm, long secs);
/* Waits on every listener and accepts one connection; -1 when stop_fd or SIGTERM came. */
int mpm_accept_wait(const struct mpm_env *env, int stop_fd, struct sockaddr_storage *peer,
		    socklen_t *len);

/* --- The pool: the leader's children --------------------------------------------- */

struct pool;

struct pool_child {
	pid_t pid;
	unsigned index;		/* stable position: 0 .. size-1 while alive */
	int chan;		/* leader's end of the child's channel, -1 without channels */
	bool retiring;		/* asked to finish, or forked for one connection: not replaced */
	bool busy, gone;	/* free for the MPM's bookkeeping (e.g. fd passing) */
};

/* A child's body; chan: its channel's end, or the connection it was forked for. */
typedef int (*pool_child_fn)(const struct mpm_env *env, int stop_fd, int chan, void *arg);

struct pool_hooks {
	void (*tick)(struct pool *p, void *arg);	/* about once a second */
	/* The leader accepts while can_accept(); accepted() owns fd, false: offer it later. */
	bool (*can_accept)(struct pool *p, void *arg);
	bool (*accepted)(struct pool *p, int fd, void *arg);
	/* More descriptors for the leader to watch (<= max), and their readiness. */
	int (*poll_fds)(struct pool *p, struct pollfd *fds, int max, void *arg);
	void (*poll_ready)(struct pool *p, struct pollfd *fds, int n, void *arg);
};

/* The whole leader of most MPMs: n children running fn, replaced when they die. */
int pool_serve(const struct mpm_env *env, pool_child_fn fn, unsigned n);

/* with_channels: a UNIX stream socketpair between the leader and each child. */
struct pool *pool_create(const struct mpm_env *env, pool_child_fn fn, void *arg,
			 bool with_channels);
/* Runs the leader until SIGTERM and every child has exited; frees p. */
int pool_run(struct pool *p, const struct pool_hooks *hooks, void *arg);
/* The number of children the pool keeps alive. */
void pool_set_target(struct pool *p, unsigned n);
unsigned pool_target(const struct pool *p);
/* Forks a child for connection fd and closes the leader's copy; -1 (fd kept) when not. */
int pool_spawn_conn(struct pool *p, int fd);
void pool_retire(struct pool *p, struct pool_child *c);
/* Children alive (retiring ones included), valid until the next poll. */
unsigned pool_count(const struct pool *p);
struct pool_child *pool_child_at(struct pool *p, unsigned i);
/* Whether c waits for a connection, by its scoreboard slot (also while it starts). */
bool pool_child_idle(const struct pool *p, const struct pool_child *c);

/*
 * In a child: blocks until one of fds is readable, stop_fd fires or SIGTERM arrives
 * (unblocked only while waiting, so none is lost). Returns poll's count, 0 on timeout,
 * -1 when the child must stop.
 */
int pool_child_wait(struct pollfd *fds, int n, int stop_fd, int timeout_ms);
bool pool_child_stopping(int stop_fd);

/* Raises the soft open-file limit towards want (never above the hard one, never down). */
void pool_fit_nofile(rlim_t want);
/*
 * For an MPM whose process holds up to max_connections at once: the soft limit up to the
 * hard one, and a warning naming mpm when even that cannot hold them all.
 */
void pool_fit_connections(const char *mpm, long max_connections);

#endif
