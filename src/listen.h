/* SPDX-License-Identifier: ISC */
/*
 * listen: the master's listening sockets. They are bound once and kept across reloads
 * for every address that stays configured, so no client is ever refused by a reload;
 * addresses new to a config are bound before anything else changes, and dropped ones
 * stop listening only once the new generation serves. Sockets passed by systemd (socket
 * activation) are adopted instead of bound, and kept whatever the config says.
 */
#ifndef MINIHTTPD_LISTEN_H
#define MINIHTTPD_LISTEN_H

#include <stddef.h>

#include "config.h"

struct listener {
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;
	char *text;
	int keep;		/* mark for listen_sync */
};

struct listen_set {
	struct listener *l;
	size_t n;
};

/* Adopts the sockets systemd passed (call before forking: it checks $LISTEN_PID). */
int listen_adopt_systemd(struct listen_set *set, char *err, size_t errlen);

/*
 * Makes `next` hold a socket for every address of conf, reusing those of `cur` and
 * binding the others. On error nothing changes and err names the address and problem.
 */
int listen_prepare(const struct listen_set *cur, const struct config *conf,
		   struct listen_set *next, char *err, size_t errlen);

/* Shuts down and closes the sockets of cur that next does not use, then frees cur. */
void listen_commit(struct listen_set *cur, const struct listen_set *next);

/* Closes the sockets that prepare bound and cur does not own; frees next. */
void listen_abort(const struct listen_set *cur, struct listen_set *next);

void listen_free(struct listen_set *set);

#endif
