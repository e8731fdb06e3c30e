/* SPDX-License-Identifier: ISC */
/*
 * floor: the physical floor of the benchmarks' kernel path, to measure servers against.
 * One thread, one level-triggered epoll loop, every file of DIR read into memory at
 * start with its response head prebuilt. A request costs what no real server can go
 * below: a recv of its head and a send of a ready response. It parses only what it
 * must to stay correct for wrk and ab: the path of the request line, HTTP/1.0 and
 * "Connection: close" (the connection closes after the answer). No files are opened per
 * request, no dates formatted, nothing logged; a path it does not hold gets a 404.
 *
 * New connections take the path the event MPM takes, or the floor of that load would be
 * above the server's: TCP_DEFER_ACCEPT (the listener wakes once the request is there, so
 * the first recv right after accept answers it without an epoll round), and accept until
 * EAGAIN per wake-up.
 *
 *   cc -O2 -o floor floor.c && ./floor PORT DIR
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* accept4, memmem, strcasestr */
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FILES 64
#define HEAD_MAX 8192	/* a request head larger than this closes the connection */

/* A response is a head and a body, sent together by one sendmsg. */
struct resp {
	const char *head, *body;
	size_t hlen, blen;
};

/* HTTP/1.1 clients read on unless told the connection closes: two heads per file. */
struct file {
	char path[256];	/* "/1k.bin" */
	char head[2][256];	/* [0] keep-alive, [1] "Connection: close" */
	struct resp resp[2];
};

struct conn {
	int fd;
	size_t used;		/* bytes of a request head read so far */
	const struct resp *out;	/* the response being sent, or NULL */
	size_t out_off;
	bool close_after;
	char in[HEAD_MAX];
};

static struct file files[MAX_FILES];
static size_t nfiles;
static const struct resp not_found[2] = {
	{ .head = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", .hlen = 45 },
	{ .head = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	  .hlen = 64 },
};

static void load(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		perror(dir);
		exit(1);
	}
	while ((e = readdir(d)) && nfiles < MAX_FILES) {
		char p[4096];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode) || strlen(e->d_name) > 200)
			continue;
		struct file *f = &files[nfiles++];
		char *body = malloc((size_t)st.st_size + 1);
		FILE *in = fopen(p, "rb");
		if (!in || !body || fread(body, 1, (size_t)st.st_size, in) != (size_t)st.st_size) {
			perror(p);
			exit(1);
		}
		fclose(in);
		for (int k = 0; k < 2; k++) {
			int hl = snprintf(f->head[k], sizeof(f->head[k]),
					  "HTTP/1.1 200 OK\r\nServer: floor\r\n"
					  "Content-Type: application/octet-stream\r\n"
					  "Content-Length: %lld\r\n%s\r\n", (long long)st.st_size,
					  k ? "Connection: close\r\n" : "");
			f->resp[k] = (struct resp){ f->head[k], body, (size_t)hl,
						    (size_t)st.st_size };
		}
		snprintf(f->path, sizeof(f->path), "/%s", e->d_name);
	}
	closedir(d);
}

/* The response for the head in c->in[0..end), and whether the connection ends after it. */
static void answer(struct conn *c, size_t end)
{
	char *sp1 = memchr(c->in, ' ', end), *sp2 = NULL;
	int close_after;

	if (sp1)
		sp2 = memchr(sp1 + 1, ' ', end - (size_t)(sp1 + 1 - c->in));
	c->in[end - 1] = '\0';
	close_after = !sp2 || strncmp(sp2 + 1, "HTTP/1.0", 8) == 0 ||
		      strcasestr(sp2, "\nConnection: close") != NULL;
	c->close_after = close_after;
	c->out = &not_found[close_after];
	c->out_off = 0;
	for (size_t i = 0; sp2 && i < nfiles; i++)
		if ((size_t)(sp2 - sp1 - 1) == strlen(files[i].path) &&
		    memcmp(sp1 + 1, files[i].path, (size_t)(sp2 - sp1 - 1)) == 0)
			c->out = &files[i].resp[close_after];
}

/* Sends what is left; false when the connection is to be closed. */
static bool flush(int ep, struct conn *c)
{
	const struct resp *r = c->out;

	while (c->out_off < r->hlen + r->blen) {
		size_t off = c->out_off, h = off < r->hlen ? r->hlen - off : 0;
		struct iovec iov[2] = {
			{ (char *)r->head + (h ? off : 0), h },
			{ (char *)r->body + (h ? 0 : off - r->hlen), r->blen - (h ? 0 : off - r->hlen) },
		};
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
			return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0;
		}
		if (n <= 0)
			return false;
		c->out_off += (size_t)n;
	}
	c->out = NULL;
	return !c->close_after;
}

/* Reads and answers heads until the socket is empty; false when the connection ends. */
static bool serve(int ep, struct conn *c, uint32_t events)
{
	if (c->out) {
		if (!flush(ep, c))
			return false;
		if (c->out)
			return true;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
			return false;
		if (!(events & EPOLLIN))
			return true;
	}
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->used, sizeof(c->in) - c->used, 0);
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		c->used += (size_t)n;
		char *e = memmem(c->in, c->used, "\r\n\r\n", 4);
		if (!e && c->used == sizeof(c->in))
			return false;
		if (!e)
			continue;
		size_t end = (size_t)(e + 4 - c->in);
		answer(c, end);
		/* wrk and ab wait for each answer: what follows a head is the next request. */
		memmove(c->in, c->in + end, c->used - end);
		c->used -= end;
		if (!flush(ep, c) || c->out)
			return c->out != NULL;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, lfd, ep;
	struct epoll_event evs[256], lev = { .events = EPOLLIN };

	if (argc != 3) {
		fprintf(stderr, "usage: floor PORT DIR\n");
		return 2;
	}
	load(argv[2]);
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0) {
		perror("listen");
		return 1;
	}
	ep = epoll_create1(0);
	lev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				int fd;
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c));
					c->fd = fd;
					struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ||
					    !serve(ep, c, EPOLLIN)) {
						close(fd);
						free(c);
					}
				}
				continue;
			}
			if (!serve(ep, c, evs[i].events)) {
				close(c->fd);	/* also leaves the epoll set */
				free(c);
			}
		}
	}
}
