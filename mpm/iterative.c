/* SPDX-License-Identifier: ISC */
/*
 * iterative: one process serving one connection at a time (the iterative server that
 * opens Stevens, UNIX Network Programming vol. 1, ch. 30, the base case of its
 * comparison). The leader keeps exactly one child through the pool, so a crash is
 * replaced; the child accepts, serves the connection to its end, then accepts the next.
 * Every other client waits in the listen backlog meanwhile, so one slow or idle
 * keep-alive client delays all others, bounded only by the timeouts.
 */
#include "mpm.h"

static long query(const void *conf, enum mpm_query what)
{
	(void)conf;
	switch (what) {
	case MPM_Q_MAX_SLOTS: return 1;
	case MPM_Q_CONNS_PER_WORKER: return 0;
	}
	return -1;
}

static int child_main(const struct mpm_env *env, int stop_fd, int chan, void *arg)
{
	struct worker *w = worker_begin(env, stop_fd);
	struct sockaddr_storage peer;
	socklen_t len;
	int fd;

	(void)chan;
	(void)arg;
	while ((fd = mpm_accept_wait(env, stop_fd, &peer, &len)) >= 0)
		worker_serve(w, fd, (struct sockaddr *)&peer, len);
	worker_end(w);
	return 0;
}

static int run(const struct mpm_env *env)
{
	return pool_serve(env, child_main, 1);
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
