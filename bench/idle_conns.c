/* SPDX-License-Identifier: ISC */
/*
 * idle_conns: opens N keep-alive connections to 127.0.0.1:PORT, sends one request on
 * each and reads its whole response, then holds them all open, idle, until its standard
 * input closes. Prints "ready N" once all are answered, or "failed ..." and exits 1.
 * Used by compare.sh to measure what idle keep-alive connections cost a server.
 *
 *   cc -O2 -o idle_conns idle_conns.c && ./idle_conns PORT N /path < control_fifo
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Reads one response with a Content-Length body; -1 on error, EOF or a bad status. */
static int read_response(int fd)
{
	char buf[16384];
	size_t used = 0;
	char *end = NULL;

	while (!end) {
		ssize_t n = read(fd, buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			return -1;
		used += (size_t)n;
		buf[used] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end && used == sizeof(buf) - 1)
			return -1;
	}
	if (strncmp(buf, "HTTP/1.1 200", 12) != 0 && strncmp(buf, "HTTP/1.0 200", 12) != 0)
		return -1;
	long long len = -1;
	for (char *p = buf; p && p < end; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL)
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			len = atoll(p + 15);
	if (len < 0)
		return -1;
	long long left = len - (long long)(used - (size_t)(end + 4 - buf));
	while (left > 0) {
		ssize_t n = read(fd, buf, sizeof(buf) < (size_t)left ? sizeof(buf) : (size_t)left);
		if (n <= 0)
			return -1;
		left -= n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 10 };
	struct rlimit rl;
	char req[512];
	char junk[64];
	long n;
	int *fds;

	if (argc != 4 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: %s PORT N PATH\n", argv[0]);
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", argv[3]);
	fds = calloc((size_t)n, sizeof(*fds));
	if (!fds)
		return 1;
	for (long i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 ||
		    setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
		    connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
		    write(fds[i], req, strlen(req)) != (ssize_t)strlen(req) ||
		    read_response(fds[i]) < 0) {
			printf("failed at connection %ld: %s\n", i + 1, strerror(errno));
			return 1;
		}
	}
	printf("ready %ld\n", n);
	fflush(stdout);
	while (read(0, junk, sizeof(junk)) > 0)
		;
	return 0;
}
