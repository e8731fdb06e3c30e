/* SPDX-License-Identifier: ISC */
/*
 * listen: binding and matching listening sockets by address. Sockets are non-blocking so
 * that a child woken for a connection another child already took gets EAGAIN instead of
 * sleeping in accept() while other listeners have clients.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "addr.h"
#include "listen.h"

static int bind_one(const struct listen_addr *la, int backlog, char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(la->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, errlen, "listen %s: socket: %s", la->text, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::] and 0.0.0.0 on one port are two configured addresses, not one dual socket. */
	if (la->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&la->ss, la->len) < 0) {
		int e = errno;
		snprintf(err, errlen, "listen %s: bind: %s%s", la->text, strerror(e),
			 e == EACCES ? " (a port below 1024 needs root or CAP_NET_BIND_SERVICE)" : "");
		close(fd);
		return -1;
	}
	if (listen(fd, backlog) < 0) {
		snprintf(err, errlen, "listen %s: listen: %s", la->text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int listen_adopt_systemd(struct listen_set *set, char *err, size_t errlen)
{
	int n = sd_listen_fds(1);

	set->l = NULL;
	set->n = 0;
	if (n <= 0)
		return n;
	set->l = calloc((size_t)n, sizeof(*set->l));
	if (!set->l)
		return -1;
	for (int i = 0; i < n; i++) {
		struct listener *l = &set->l[set->n];
		int fd = SD_LISTEN_FDS_START + i;
		char text[ADDR_TEXT_MAX];
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			snprintf(err, errlen, "socket activation: fd %d is not a listening stream "
				 "socket", fd);
			return -1;
		}
		l->len = sizeof(l->ss);
		if (getsockname(fd, (struct sockaddr *)&l->ss, &l->len) < 0) {
			snprintf(err, errlen, "socket activation: fd %d: %s", fd, strerror(errno));
			return -1;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		l->fd = fd;
		l->text = strdup(addr_format_port((const struct sockaddr *)&l->ss, text,
						  sizeof(text)));
		set->n++;
	}
	return n;
}

int listen_prepare(const struct listen_set *cur, const struct config *conf,
		   struct listen_set *next, char *err, size_t errlen)
{
	next->n = 0;
	next->l = calloc(conf->nlisten, sizeof(*next->l));
	if (!next->l) {
		snprintf(err, errlen, "listen: out of memory");
		return -1;
	}
	for (size_t i = 0; i < conf->nlisten; i++) {
		const struct listen_addr *la = &conf->listen[i];
		struct listener *l = &next->l[next->n];
		int fd = -1;

		for (size_t j = 0; j < cur->n; j++)
			if (addr_equal((const struct sockaddr *)&cur->l[j].ss, cur->l[j].len,
				       (const struct sockaddr *)&la->ss, la->len)) {
				fd = cur->l[j].fd;
				/* A changed listen_backlog applies to a kept socket too. */
				listen(fd, conf->listen_backlog);
				break;
			}
		if (fd < 0)
			fd = bind_one(la, conf->listen_backlog, err, errlen);
		if (fd < 0) {
			listen_abort(cur, next);
			return -1;
		}
		l->ss = la->ss;
		l->len = la->len;
		l->fd = fd;
		l->text = strdup(la->text);
		next->n++;
	}
	return 0;
}

static int in_set(const struct listen_set *set, int fd)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->l[i].fd == fd)
			return 1;
	return 0;
}

void listen_commit(struct listen_set *cur, const struct listen_set *next)
{
	for (size_t i = 0; i < cur->n; i++)
		if (!in_set(next, cur->l[i].fd)) {
			/*
			 * The draining generation still holds a copy of the socket; shutdown()
			 * stops the listening itself (Linux), so the address refuses connections
			 * now instead of queueing them where nobody will accept them.
			 */
			shutdown(cur->l[i].fd, SHUT_RDWR);
			close(cur->l[i].fd);
		}
	for (size_t i = 0; i < cur->n; i++)
		free(cur->l[i].text);
	free(cur->l);
	cur->l = NULL;
	cur->n = 0;
}

void listen_abort(const struct listen_set *cur, struct listen_set *next)
{
	for (size_t i = 0; i < next->n; i++) {
		if (!in_set(cur, next->l[i].fd))
			close(next->l[i].fd);
		free(next->l[i].text);
	}
	free(next->l);
	next->l = NULL;
	next->n = 0;
}

void listen_free(struct listen_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		close(set->l[i].fd);
		free(set->l[i].text);
	}
	free(set->l);
	set->l = NULL;
	set->n = 0;
}
