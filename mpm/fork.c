/* SPDX-License-Identifier: ISC */
/*
 * fork: one process per connection (Stevens, UNIX Network Programming vol. 1, ch. 30:
 * "one fork per client"; inetd's nowait). The leader accepts and forks a child for each
 * connection through the pool; the child serves it to its end and exits.
 *
 * max_children caps the live children so a flood cannot fork-bomb the host: at the cap
 * the leader stops accepting and clients wait in the listen backlog until a child exits
 * (back-pressure, never a refusal). A fork that fails keeps its connection and is
 * retried every 100 ms (the pool's pause).
 */
#include "mpm.h"

struct fork_conf {
	long max_children;
};

static const struct mpm_option options[] = {
	MPM_INT("max_children", 256, 1, 16384, struct fork_conf, max_children),
	{0}
};

static long query(const void *conf, enum mpm_query what)
{
	const struct fork_conf *fc = conf;

	switch (what) {
	case MPM_Q_MAX_SLOTS: return fc->max_children;
	case MPM_Q_CONNS_PER_WORKER: return 0;
	}
	return -1;
}

static int serve_one(const struct mpm_env *env, int stop_fd, int fd, void *arg)
{
	struct worker *w = worker_begin(env, stop_fd);

	(void)arg;
	worker_serve(w, fd, NULL, 0);
	worker_end(w);
	return 0;
}

static bool below_max(struct pool *p, void *arg)
{
	const struct fork_conf *fc = arg;

	return pool_count(p) < (unsigned)fc->max_children;
}

static bool spawn(struct pool *p, int fd, void *arg)
{
	(void)arg;
	return pool_spawn_conn(p, fd) == 0;
}

static int run(const struct mpm_env *env)
{
	static const struct pool_hooks hooks = { .can_accept = below_max, .accepted = spawn };
	struct pool *p = pool_create(env, serve_one, NULL, false);

	return p ? pool_run(p, &hooks, (void *)env->mpm_conf) : 1;
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
