/* SPDX-License-Identifier: ISC */
/*
 * master: the process that owns the config, the listeners, the pid file and the
 * generations, and never serves a request. Signals (through a signalfd): HUP reloads,
 * TERM and INT stop gracefully (a second one stops at once), USR1 reopens the access
 * log, CHLD reaps. It tells systemd what it does with sd_notify.
 */
#ifndef MINIHTTPD_MASTER_H
#define MINIHTTPD_MASTER_H

#include <stdbool.h>

#include "config.h"

struct master_opts {
	const char *conf_path;
	const char *mpm_dir;	/* -m: overrides mpm_dir, or NULL */
	bool foreground;
};

/* Takes ownership of conf. Returns the process exit status. */
int master_run(const struct master_opts *opts, struct config *conf);

#endif
