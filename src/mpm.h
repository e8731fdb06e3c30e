/*
 * mpm.h: the contract between the core and a concurrency module (MPM). A module is a
 * shared object in mpm_dir exporting `const struct mpm_module minihttpd_mpm`. The core
 * loads exactly the one the config names and never names a module itself.
 *
 * The master forks one process per generation (one config) and calls run() in it, after
 * dropping privileges: run() is that generation's leader. It decides how connections meet
 * execution contexts (children, threads, an event loop), drives the shared connection
 * engine (http_conn.h) and usually builds on the process pool (pool.h). It must:
 *   - call mpm_ready() once it can serve (the master then retires the previous generation);
 *   - on SIGTERM stop accepting, let in-flight requests finish, and return 0;
 *   - never parse the config file, bind or close listeners, or fork another generation.
 * The master kills the generation's process group if it outlives graceful_timeout.
 */
#ifndef MINIHTTPD_MPM_H
#define MINIHTTPD_MPM_H

#include <confuse.h>
#include <stddef.h>

#include "config.h"

#define MPM_ABI_VERSION 1
#define MPM_SYMBOL "minihttpd_mpm"

enum mpm_query {
	MPM_Q_THREADED,		/* 1 when one process serves several connections with threads */
	MPM_Q_ASYNC,		/* 1 when one thread serves many connections (event loop) */
	MPM_Q_MAX_SLOTS,	/* scoreboard slots one generation may use at most */
};

struct scoreboard;
struct conn_ctx;

struct mpm_env {
	const struct config *conf;
	const void *mpm_conf;		/* what configure() returned */
	const int *listeners;		/* non-blocking, CLOEXEC; shared by every generation */
	size_t nlisteners;
	unsigned generation;
	struct scoreboard *sb;
	const struct conn_ctx *http;	/* the connection engine's context, ready to use */
	int ready_fd;			/* private to mpm_ready() */
};

struct mpm_module {
	unsigned abi_version;		/* MPM_ABI_VERSION */
	const char *name;		/* as written in `mpm = "..."`; names its config section */
	const char *description;	/* one line, for -V */
	cfg_opt_t *options;		/* its section's options; NULL when it has none */
	/*
	 * Validates its section (already parsed, defaults filled) and converts it into the
	 * module's own immutable struct. Runs in the master for -t and on every load or
	 * reload, before anything changes. Reports problems with cfg_error(section, ...) and
	 * returns -1. NULL: no configuration.
	 */
	int (*configure)(cfg_t *section, void **mpm_conf);
	void (*conf_free)(void *mpm_conf);
	/* Answers an mpm_query for this configuration; -1 for a question it does not know. */
	long (*query)(const void *mpm_conf, enum mpm_query what);
	/* The generation leader's body; returns the process exit status. */
	int (*run)(const struct mpm_env *env);
};

/* Tells the master this generation serves (idempotent). */
void mpm_ready(const struct mpm_env *env);

#endif
