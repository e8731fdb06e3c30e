/*
 * prefork: a pool of single-threaded processes, each serving one connection at a time
 * (the seed's preforked server; Apache's prefork). Children accept on the shared
 * listeners themselves and the kernel picks which one wakes.
 */
#include <stdlib.h>
#include <sys/socket.h>

#include "conn_loop.h"
#include "mpm.h"
#include "pool.h"
#include "scoreboard.h"

struct prefork_conf {
	long start;
	long max_requests_per_child;
};

static int parse_start(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	return config_parse_int(cfg, opt, value, result, 1, 4096, false);
}

static int parse_max_requests(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	return config_parse_int(cfg, opt, value, result, 0, 1L << 30, false);
}

static cfg_opt_t options[] = {
	CFG_INT_CB("start_servers", 5, CFGF_NONE, parse_start),
	CFG_INT_CB("max_requests_per_child", 0, CFGF_NONE, parse_max_requests),
	CFG_END()
};

static int configure(cfg_t *sec, void **out)
{
	struct prefork_conf *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return -1;
	pc->start = cfg_getint(sec, "start_servers");
	pc->max_requests_per_child = cfg_getint(sec, "max_requests_per_child");
	*out = pc;
	return 0;
}

static long query(const void *conf, enum mpm_query what)
{
	const struct prefork_conf *pc = conf;

	switch (what) {
	case MPM_Q_THREADED: return 0;
	case MPM_Q_ASYNC: return 0;
	case MPM_Q_MAX_SLOTS: return pc->start;
	}
	return -1;
}

static int child_main(const struct mpm_env *env, int stop_fd, int chan, void *arg)
{
	const struct prefork_conf *pc = env->mpm_conf;
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
		if (pc->max_requests_per_child && slot &&
		    slot->conns >= (uint64_t)pc->max_requests_per_child)
			break;
	}
	sb_release(slot);
	return 0;
}

static int run(const struct mpm_env *env)
{
	const struct prefork_conf *pc = env->mpm_conf;
	struct pool *p = pool_create(env, child_main, NULL, false);

	if (!p)
		return 1;
	pool_set_target(p, (unsigned)pc->start);
	return pool_run(p, NULL, NULL);
}

const struct mpm_module minihttpd_mpm = {
	.abi_version = MPM_ABI_VERSION,
	.name = "prefork",
	.description = "processes serving one connection each, accepting in turn",
	.options = options,
	.configure = configure,
	.conf_free = free,
	.query = query,
	.run = run,
};
