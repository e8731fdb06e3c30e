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

#include <stdbool.h>
#include <stddef.h>

#define MPM_ABI_VERSION 2
#define MPM_SYMBOL "minihttpd_mpm"

enum mpm_query {
	MPM_Q_THREADED,		/* 1 when one process serves several connections with threads */
	MPM_Q_ASYNC,		/* 1 when one thread serves many connections (event loop) */
	MPM_Q_MAX_SLOTS,	/* scoreboard slots one generation may use at most */
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

struct scoreboard;
struct conn_ctx;
struct config;

struct mpm_env {
	const struct config *conf;
	const void *mpm_conf;		/* the module's filled and checked conf struct */
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

/* Tells the master this generation serves (idempotent). */
void mpm_ready(const struct mpm_env *env);

#endif
