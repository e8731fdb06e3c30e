/* SPDX-License-Identifier: ISC */
/*
 * daemon: the classic SysV daemon start (daemon(7)): double fork with setsid between,
 * umask, chdir("/"), standard streams on /dev/null, and a pipe back to the launching
 * process, which exits 0 only once the daemon reports it serves, or prints the daemon's
 * startup error and exits 1. Also the locked pid file.
 */
#ifndef MINIHTTPD_DAEMON_H
#define MINIHTTPD_DAEMON_H

/* Returns in the daemon with the report fd (-1 on failure); the launcher never returns. */
int daemon_detach(void);

/* Tells the launcher the daemon serves, or why it could not start; closes fd. */
void daemon_report_ready(int fd);
void daemon_report_error(int fd, const char *msg);

/*
 * Creates and locks the pid file, writing our pid. Returns its fd (kept open to hold the
 * lock) or -1 with err set ("already running as pid N" when another holds it).
 */
int pidfile_create(const char *path, char *err, size_t errlen);
void pidfile_remove(const char *path, int fd);

#endif
