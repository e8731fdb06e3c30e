/*
 * iterative: one process serving one connection at a time (the seed's iterative server,
 * the base case of its first table). The leader keeps exactly one child through the pool,
 * so a crash is replaced; the child accepts, serves the connection to its end, then
 * accepts the next. Every other client waits in the listen backlog meanwhile, so one slow
 * or idle keep-alive client delays all others, bounded only by the timeouts.
 */
#include <sys/socket.h>

#include "conn_loop.h"
#include "mpm.h"
#include "pool.h"
#include "scoreboard.h"

static long query(const void *conf, enum mpm_query what)
{
	(void)conf;
	switch (what) {
	case MPM_Q_THREADED: return 0;
	case MPM_Q_ASYNC: return 0;
	case MPM_Q_MAX_SLOTS: return 1;
	}
	return -1;
}

static int child_main(const struct mpm_env *env, int stop_fd, int chan, void *arg)
{
	struct sb_slot *slot = sb_claim(env->sb, env->generation);

	(void)chan;
	(void)arg;
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t len;
		int fd = conn_accept_any(env->listeners, env->nlisteners, stop_fd, &peer, &len);
		if (fd < 0)
			break;
		conn_serve(env->http, fd, (struct sockaddr *)&peer, len, slot, stop_fd);
		if (pool_child_stopping(stop_fd))
			break;
	}
	sb_release(slot);
	return 0;
}

static int run(const struct mpm_env *env)
{
	struct pool *p = pool_create(env, child_main, NULL, false);

	if (!p)
		return 1;
	pool_set_target(p, 1);
	return pool_run(p, NULL, NULL);
}

const struct mpm_module minihttpd_mpm = {
	.abi_version = MPM_ABI_VERSION,
	.name = "iterative",
	.description = "one process serving one connection at a time (a teaching baseline)",
	.options = NULL,
	.conf_size = 0,
	.query = query,
	.run = run,
};
