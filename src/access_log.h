/* SPDX-License-Identifier: ISC */
/*
 * access_log: where access-log lines go, and how cheaply. A target is a file (appended
 * with O_APPEND, so lines stay whole across processes), stdout or stderr (for containers),
 * syslog (an explicit choice, at LOG_INFO, over the connection log.c opened once), or
 * off. The master opens it, as its own user, so workers never need write access to it.
 *
 * Unbuffered, a line costs one write(2). Buffered (a file and `access_log_buffer` > 0),
 * each thread appends its lines to a buffer of its own, lock-free, which is written out
 * whole lines at a time: when full, at least once a second by a thread of the process,
 * and when the worker ends (a stop, a reload's or a reopen's retirement, a normal exit).
 * A worker killed by SIGKILL loses at most what its buffer held.
 */
#ifndef MINIHTTPD_ACCESS_LOG_H
#define MINIHTTPD_ACCESS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "log_format.h"

struct conn_ctx;
struct config;

/* One target as the workers write it. */
struct access_sink {
	int fd;				/* -1: syslog (when syslog is set) or off */
	bool syslog;
	size_t buffer;			/* bytes per thread; 0: one write per line */
	const char *name;		/* the target as configured, for error messages */
	const struct log_format *format;
};

/*
 * Opens a target by its configured text: an absolute path, "stdout", "stderr", "syslog"
 * or "off". Returns the descriptor to write (a duplicate for stdout and stderr; stderr's
 * when the syslog socket is missing, said once here), -1 when there is none to write
 * (syslog, off), -2 with err set on failure. Called by the master, as its user.
 */
int access_log_open_target(const char *target, char *err, size_t errlen);

/* access_log_open_target() of the config's access_log. */
int access_log_open(const struct config *conf, char *err, size_t errlen);

/*
 * access_log_open_target() of each server block's own access_log, into its site's
 * log_fd. Called by each generation's leader in its own copy of the config, before it
 * drops privileges (so every generation, a SIGUSR1 one included, opens them anew), and
 * by `-i`.
 */
int access_log_open_sites(struct config *conf, char *err, size_t errlen);

/*
 * Fills sink for fd (from access_log_open_target()) and the config's text, format and
 * buffer size: buffered only when fd is a regular file, as a pipe keeps lines whole only
 * up to PIPE_BUF per write.
 */
void access_log_sink(struct access_sink *sink, int fd, const char *target,
		     const struct log_format *format, size_t buffer);

/* Formats one response's line and sends it to sink. */
void access_log_write(const struct access_sink *sink, const struct log_facts *facts);

/* A formatted line (newline included) to sink. */
void access_log_put(const struct access_sink *sink, const char *line, size_t len);

/* Writes out and frees the calling thread's buffers: at the end of a worker. */
void access_log_thread_end(void);

#endif
