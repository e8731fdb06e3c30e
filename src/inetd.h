/* SPDX-License-Identifier: ISC */
/*
 * inetd: `minihttpd -i`, the lecture's last server model (Stevens, UNIX Network
 * Programming vol. 1, ch. 30): a superserver (inetd with `nowait`, or a systemd socket
 * with Accept=yes) accepts, forks and execs minihttpd for every connection, with the
 * connected socket as standard input, output and error. The process serves that one
 * connection with the shared engine, keep-alive included, and exits: no master, no
 * generation, no pid file, no scoreboard.
 */
#ifndef MINIHTTPD_INETD_H
#define MINIHTTPD_INETD_H

/*
 * Called first thing in main(), for every mode: when stderr (or stdout) is the same
 * open socket as stdin, it is a client's connection, and whatever an error path or
 * getopt() would print there would reach the client. Such a descriptor becomes
 * /dev/null. A normal start (stdin /dev/null or a terminal) is left alone.
 */
void inetd_guard_stdio(void);

/*
 * `-i`: loads conf_path (mpm_dir overriding the config's, as -m does), serves the
 * connection on fd 0 and returns the exit status: 0 once it ends, 1 when the
 * configuration is bad, fd 0 is not a connected stream socket, or setting up fails.
 * Errors go to syslog (the config's ident and facility once it is read) and to stderr,
 * which inetd_guard_stdio() made safe.
 */
int inetd_main(const char *conf_path, const char *mpm_dir);

#endif
