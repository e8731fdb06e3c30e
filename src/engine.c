/* SPDX-License-Identifier: ISC */
/*
 * engine: a generation's shared context, the policies its leader applies to every MPM
 * alike (readiness, reaping, saturation), and the lifecycle of a worker. A worker's
 * record is thread-local: a thread is at most one worker at a time, and begin cannot
 * fail for want of memory.
 */
#include <limits.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "access_log.h"
#include "clock.h"
#include "engine.h"
#include "file_cache.h"
#include "http_conn.h"
#include "log.h"

static __thread struct worker self;

static unsigned ask(const struct mpm_module *mod, const void *mpm_conf, enum mpm_query q)
{
	long v = mod && mod->query ? mod->query(mpm_conf, q) : -1;

	return v > 0 ? (unsigned)v : 0;
}

int engine_init(struct engine *e, const struct config *conf, const struct mpm_module *mod,
		int access_fd, struct scoreboard *sb, int ready_fd, char *err, size_t errlen)
{
	if (conn_ctx_init(&e->http, conf, access_fd, err, errlen) < 0)
		return -1;
	e->sb = sb;
	e->ready_fd = ready_fd;
	e->max_slots = ask(mod, conf->mpm_conf, MPM_Q_MAX_SLOTS);
	e->conns_per_worker = ask(mod, conf->mpm_conf, MPM_Q_CONNS_PER_WORKER);
	/*
	 * Where a worker serves one connection at a time, a cache per thread would hold the
	 * same files many times over and spend an inotify instance each (128 per user by
	 * default): auto keeps it to the MPMs whose workers each hold many connections.
	 */
	e->file_cache = conf->file_cache == FILE_CACHE_ON ||
			(conf->file_cache == FILE_CACHE_AUTO && e->conns_per_worker > 0);
	return 0;
}

void engine_free(struct engine *e)
{
	conn_ctx_free(&e->http);
}

void engine_ready(struct engine *e)
{
	if (e->ready_fd < 0)
		return;
	if (write(e->ready_fd, "R", 1) < 0)
		log_msg(LOG_ERR, "cannot report readiness: %m");
	close(e->ready_fd);
	e->ready_fd = -1;
}

void engine_reaped(struct engine *e, pid_t pid, int status)
{
	sb_release_pid(e->sb, pid);
	conn_ctx_reaped(&e->http, pid, status);
}

void engine_check_saturation(struct engine *e, unsigned generation)
{
	sb_check_busy(e->sb, generation, e->max_slots, e->conns_per_worker);
}

void engine_follow_root(struct engine *e)
{
	docroot_fd(&e->http.root);
}

struct worker *worker_begin(const struct mpm_env *env, int stop_fd)
{
	static bool full_logged;
	struct engine *e = env->engine;
	struct worker *w = &self;

	*w = (struct worker){ .env = env, .stop_fd = stop_fd, .watch_fd = -1 };
	w->slot = sb_claim(e->sb, env->generation);
	if (!w->slot && e->sb && !__atomic_exchange_n(&full_logged, true, __ATOMIC_RELAXED))
		log_msg(LOG_WARNING, "scoreboard full (max_workers): process %ld serves without "
			"a slot", (long)getpid());
	if (e->file_cache)
		w->watch_fd = file_cache_init();
	return w;
}

void worker_end(struct worker *w)
{
	access_log_thread_end();
	file_cache_free();
	conn_release_buffers();
	sb_release(w->slot);
	w->slot = NULL;
}

int worker_watch_fd(const struct worker *w)
{
	return w->watch_fd;
}

void worker_notify(struct worker *w)
{
	(void)w;
	file_cache_notify();
}

long worker_share_room(struct worker *w)
{
	unsigned max = w->env->engine->max_slots, workers;
	uint64_t conns, active, share, limit;

	if (!w->slot || max < 2)
		return LONG_MAX;
	sb_generation_load(sb_of(w->slot), w->env->generation, max, &conns, &workers);
	if (workers < 2)
		return LONG_MAX;
	active = __atomic_load_n(&w->slot->active, __ATOMIC_RELAXED);
	share = conns / workers;
	limit = share + share / 8 + WORKER_SHARE_SLACK;
	return active >= limit ? 0 : (long)(limit - active);
}

bool worker_share_held(struct worker *w, int64_t now)
{
	if (worker_share_room(w) > 0) {
		w->share_rescue = 0;
		return false;
	}
	if (!w->share_rescue)
		w->share_rescue = now + WORKER_SHARE_RECHECK_MS;
	return true;
}

int64_t worker_share_wake(const struct worker *w, int64_t now, int64_t other)
{
	if (!w->share_rescue)
		return other;
	if (w->share_rescue < other)
		other = w->share_rescue;
	return now + WORKER_SHARE_POLL_MS < other ? now + WORKER_SHARE_POLL_MS : other;
}

bool worker_share_rescue_due(struct worker *w, int64_t now)
{
	if (!w->share_rescue || now < w->share_rescue)
		return false;
	w->share_rescue = now + WORKER_SHARE_RECHECK_MS;
	return true;
}

long worker_share_burst(struct worker *w, long burst, long past_share)
{
	long room = worker_share_room(w);

	return room >= burst - past_share ? burst : room + past_share;
}

void worker_drain(struct worker *w)
{
	sb_set_state(w->slot, SB_GRACEFUL);
}
