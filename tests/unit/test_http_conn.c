/* SPDX-License-Identifier: ISC */
/*
 * test_http_conn: the connection engine driven as an MPM drives it (conn_new, conn_run,
 * conn_expire, conn_drain...), over socket pairs, against a temporary document root and a
 * config read by config_load(). Every check reads the bytes on the client's side of the
 * wire: pipelined requests (whole, cut at every byte, fed a byte at a time) answered in
 * order, a large file through a tiny send buffer resumed after each CONN_WANT_WRITE, the
 * keep-alive limit and HTTP/1.0 vs 1.1 persistence, the timer of each state and what
 * expiry sends, draining, 100-continue, CONN_YIELD under a write budget, a
 * proxy_protocol listener's PROXY header (whole and cut at every byte, refused, expired),
 * and the same answers driven by completions (conn_set_completion) with receives and
 * sends of every size.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "../../src/http_conn.c"

/* Distinct lengths, so that a deadline tells which timer runs. */
#define HEADER_S 2
#define KEEPALIVE_S 3
#define SEND_S 4
#define MAX_KEEPALIVE 3
#define MAX_BODY 100
#define BIG_LEN (1 << 20)	/* past OUT_CAP: sent with sendfile, not inlined */
#define IO_TIMEOUT_MS 5000

static char dir[64], root[128];
static struct config *conf;
/* One worker of a generation of its own: no scoreboard, no MPM to ask, no stop pipe. */
static struct engine eng;
static struct mpm_env env = { .engine = &eng };
static struct worker *worker;

/* ---- fixtures ---- */

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		perror(path);
		exit(2);
	}
	close(fd);
}

static unsigned char big_byte(size_t i)
{
	return (unsigned char)(i * 7 % 251);
}

static void setup(void)
{
	char path[256], err[1024];
	static char big[BIG_LEN];

	snprintf(dir, sizeof(dir), "/tmp/test_http_conn.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	chmod(dir, 0755);
	snprintf(root, sizeof(root), "%s/htdocs", dir);
	if (mkdir(root, 0755) < 0) {
		perror(root);
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/a.txt", root);
	write_file(path, "aaaa\n", 5);
	snprintf(path, sizeof(path), "%s/b.txt", root);
	write_file(path, "bb\n", 3);
	snprintf(path, sizeof(path), "%s/c.txt", root);
	write_file(path, "c\n", 2);
	for (size_t i = 0; i < BIG_LEN; i++)
		big[i] = (char)big_byte(i);
	snprintf(path, sizeof(path), "%s/big.bin", root);
	write_file(path, big, BIG_LEN);

	char text[1024];
	snprintf(text, sizeof(text),
		 "listen = {\"127.0.0.1:8080\"}\n"
		 "document_root = \"%s\"\n"
		 "mpm = \"iterative\"\n"
		 "access_log = \"off\"\n"
		 "header_timeout = %d\nkeepalive_timeout = %d\nsend_timeout = %d\n"
		 "max_keepalive_requests = %d\nmax_body_size = %d\n",
		 root, HEADER_S, KEEPALIVE_S, SEND_S, MAX_KEEPALIVE, MAX_BODY);
	snprintf(path, sizeof(path), "%s/minihttpd.conf", dir);
	write_file(path, text, strlen(text));
	/* MPM_DIR is the build tree's mpm/.libs: the config loads the named module. */
	conf = config_load(path, MPM_DIR, err, sizeof(err));
	if (!conf) {
		fprintf(stderr, "config_load: %s\n", err);
		exit(2);
	}
	if (engine_init(&eng, conf, NULL, -1, NULL, -1, err, sizeof(err)) < 0) {
		fprintf(stderr, "engine_init: %s\n", err);
		exit(2);
	}
	worker = worker_begin(&env, -1);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void teardown(void)
{
	worker_end(worker);
	engine_free(&eng);
	config_free(conf);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the driver: the one place that knows how an MPM opens a connection ---- */

enum pair_kind { UNIX_PAIR, TCP_PAIR };

struct pair {
	struct conn *c;
	int cli;		/* the client's end, blocking with a receive timeout */
};

/*
 * A connection as an MPM gets it from accept(): the server's end non-blocking, handed to
 * conn_new() with a loopback peer and no scoreboard slot. sndbuf > 0 shrinks the server's
 * send buffer (and the client's receive buffer), so that large answers block.
 */
static struct pair open_pair(enum pair_kind kind, int sndbuf)
{
	struct pair p = { NULL, -1 };
	struct sockaddr_in peer = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fds[2];

	if (kind == UNIX_PAIR) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
			perror("socketpair");
			exit(2);
		}
	} else {
		struct sockaddr_in a = peer;
		socklen_t alen = sizeof(a);
		int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
		    getsockname(l, (struct sockaddr *)&a, &alen) < 0) {
			perror("listen");
			exit(2);
		}
		fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (sndbuf > 0)
			setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf));
		if (connect(fds[0], (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    (fds[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			perror("connect");
			exit(2);
		}
		close(l);
	}
	if (sndbuf > 0)
		setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	struct timeval tv = { IO_TIMEOUT_MS / 1000, 0 };
	setsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
	p.cli = fds[0];
	p.c = conn_new(worker, fds[1], (struct sockaddr *)&peer, sizeof(peer), 0);
	if (!p.c) {
		perror("conn_new");
		exit(2);
	}
	return p;
}

static void close_pair(struct pair *p)
{
	conn_free(p->c);
	if (p->cli >= 0)
		close(p->cli);
	p->c = NULL;
	p->cli = -1;
}

static void send_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n <= 0) {
			perror("client write");
			exit(2);
		}
		s += n;
		len -= (size_t)n;
	}
}

static void send_str(struct pair *p, const char *s)
{
	send_all(p->cli, s, strlen(s));
}

/* What the client can read now, without waiting: appended to buf. Returns the count,
 * or -1 at end of stream (with nothing more to read). */
static ssize_t read_now(int fd, char *buf, size_t *len, size_t cap)
{
	ssize_t total = 0;

	for (;;) {
		if (*len >= cap)
			return total;
		ssize_t n = recv(fd, buf + *len, cap - *len, MSG_DONTWAIT);
		if (n > 0) {
			*len += (size_t)n;
			total += n;
			continue;
		}
		if (n == 0)
			return total ? total : -1;
		return total;
	}
}

/* Reads until the end of the stream (true) or the timeout (false), appending to buf. */
static bool read_to_eof(int fd, char *buf, size_t *len, size_t cap)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	while (poll(&pfd, 1, IO_TIMEOUT_MS) == 1)
		if (read_now(fd, buf, len, cap) < 0)
			return true;
	return false;
}

/* Whether the client sees the end of the stream within the timeout, nothing before it. */
static bool sees_eof(int fd)
{
	char b;
	struct pollfd pfd = { fd, POLLIN, 0 };

	if (poll(&pfd, 1, IO_TIMEOUT_MS) != 1)
		return false;
	return recv(fd, &b, 1, MSG_DONTWAIT) == 0;
}

/* ---- reading answers off the wire ---- */

struct answer {
	int status;
	const char *head;	/* the head's bytes, to look fields up in */
	size_t head_len;
	const char *body;
	size_t body_len;
};

static bool has_field(const struct answer *a, const char *line)
{
	return memmem(a->head, a->head_len, line, strlen(line)) != NULL;
}

/*
 * Splits the bytes into answers framed by Content-Length (none for 1xx): the number found,
 * or -1 when bytes are left that do not form a whole answer.
 */
static int split_answers(const char *buf, size_t len, struct answer *out, int max)
{
	int n = 0;

	while (len > 0) {
		const char *end = memmem(buf, len, "\r\n\r\n", 4);
		if (!end || n == max || len < 12 || memcmp(buf, "HTTP/1.1 ", 9) != 0)
			return -1;
		struct answer *a = &out[n++];
		a->status = atoi(buf + 9);
		a->head = buf;
		a->head_len = (size_t)(end - buf) + 4;
		const char *cl = memmem(buf, a->head_len, "\r\nContent-Length: ", 18);
		a->body_len = cl && a->status >= 200 ? strtoul(cl + 18, NULL, 10) : 0;
		if (a->head_len + a->body_len > len)
			return -1;
		a->body = buf + a->head_len;
		buf += a->head_len + a->body_len;
		len -= a->head_len + a->body_len;
	}
	return n;
}

/* Reads until buf holds one whole answer, or the timeout; whether it does. */
static bool read_answer(int fd, char *buf, size_t *len, size_t cap, struct answer *a)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	while (split_answers(buf, *len, a, 1) != 1) {
		if (poll(&pfd, 1, IO_TIMEOUT_MS) != 1 || read_now(fd, buf, len, cap) < 0)
			return false;
	}
	return true;
}

/* The bytes with each Date field's value blanked: two runs differ only there. */
static void blank_dates(char *buf, size_t len)
{
	char *p = buf;

	while ((p = memmem(p, len - (size_t)(p - buf), "\r\nDate: ", 8)) != NULL) {
		p += 8;
		while (p < buf + len && *p != '\r')
			*p++ = '#';
	}
}

/* ---- pipelining ---- */

#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"
#define PIPELINE GET("/a.txt") GET("/b.txt") \
	"GET /c.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"

static const char *const pipeline_bodies[] = { "aaaa\n", "bb\n", "c\n" };

/*
 * Feeds input in pieces (cuts: offsets where a piece ends, ascending), running the engine
 * after each piece as an MPM does on readiness; returns everything the client read, and
 * the engine's last answer.
 */
static size_t drive_cuts(const char *in, size_t len, const size_t *cuts, size_t ncuts, char *out,
			 size_t cap, enum conn_want *last)
{
	struct pair p = open_pair(UNIX_PAIR, 0);
	size_t got = 0, from = 0;

	*last = CONN_WANT_READ;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;
		if (to > from)
			send_all(p.cli, in + from, to - from);
		from = to;
		*last = conn_run(p.c);
		read_now(p.cli, out, &got, cap);
		if (*last == CONN_DONE)
			break;
	}
	/* The last answer said close: the stream must end there. */
	read_now(p.cli, out, &got, cap);
	close_pair(&p);
	return got;
}

static bool pipeline_answered(const char *out, size_t len, const char *what)
{
	struct answer a[4];
	int n = split_answers(out, len, a, 4);
	bool good = n == 3;

	for (int i = 0; good && i < 3; i++)
		good = a[i].status == 200 && a[i].body_len == strlen(pipeline_bodies[i]) &&
		       memcmp(a[i].body, pipeline_bodies[i], a[i].body_len) == 0 &&
		       has_field(&a[i], "Connection: close") == (i == 2);
	if (!good)
		printf("#   %s: %d answers in %zu bytes: %.*s\n", what, n, len,
		       (int)(len < 300 ? len : 300), out);
	return good;
}

static void test_pipelining(void)
{
	static const char in[] = PIPELINE;
	size_t len = sizeof(in) - 1;
	char whole[4096], out[4096];
	enum conn_want last;

	size_t wlen = drive_cuts(in, len, NULL, 0, whole, sizeof(whole), &last);
	ok(pipeline_answered(whole, wlen, "whole"),
	   "pipelining: three requests in one write answered in order, the last with close");
	is_int(last, CONN_DONE, "pipelining: the engine is done after the close");
	blank_dates(whole, wlen);

	/* Cut in two at every byte: the same bytes come back. */
	size_t bad = 0;
	for (size_t k = 1; k < len; k++) {
		size_t olen = drive_cuts(in, len, &k, 1, out, sizeof(out), &last);
		blank_dates(out, olen);
		if (olen != wlen || memcmp(out, whole, wlen) != 0 || last != CONN_DONE) {
			if (!bad)
				printf("#   first difference with a cut at %zu: %zu bytes, rc %d\n", k,
				       olen, last);
			bad++;
		}
	}
	is_int(bad, 0, "pipelining: cut at each of %zu bytes, the same answers", len - 1);

	/* A byte at a time, the engine running after each. */
	size_t cuts[sizeof(in)];
	for (size_t k = 0; k < len - 1; k++)
		cuts[k] = k + 1;
	size_t olen = drive_cuts(in, len, cuts, len - 1, out, sizeof(out), &last);
	blank_dates(out, olen);
	ok(olen == wlen && memcmp(out, whole, wlen) == 0 && last == CONN_DONE,
	   "pipelining: fed a byte at a time, the same answers");
}

/* ---- partial writes ---- */

static void test_partial_writes(void)
{
	struct pair p = open_pair(TCP_PAIR, 4096);
	static char buf[BIG_LEN + 4096];
	size_t got = 0;
	unsigned want_write = 0, send_timer = 0, turns = 0;
	enum conn_want rc;

	send_str(&p, GET("/big.bin"));
	rc = conn_run(p.c);
	/* A slow reader: a little at a time, the engine resumed after each. */
	while (rc == CONN_WANT_WRITE && turns++ < 100000) {
		want_write++;
		send_timer += conn_timer_kind(p.c) == CONN_T_SEND;
		struct pollfd pfd = { p.cli, POLLIN, 0 };
		if (poll(&pfd, 1, IO_TIMEOUT_MS) != 1)
			break;
		ssize_t n = recv(p.cli, buf + got, got + 2048 <= sizeof(buf) ? 2048 :
				 sizeof(buf) - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		rc = conn_run(p.c);
	}
	is_int(rc, CONN_WANT_READ, "partial writes: the answer finished, the engine waits to read");
	ok(want_write > 10, "partial writes: CONN_WANT_WRITE then resumed, %u times", want_write);
	is_int(send_timer, want_write, "partial writes: send_timeout runs while blocked");
	struct answer a;
	bool whole = read_answer(p.cli, buf, &got, sizeof(buf), &a) && a.status == 200 &&
		     a.body_len == BIG_LEN;
	size_t wrong = 0;
	for (size_t i = 0; whole && i < BIG_LEN; i++)
		wrong += (unsigned char)a.body[i] != big_byte(i);
	ok(whole && wrong == 0, "partial writes: all %d bytes arrive, in order (%zu received)",
	   BIG_LEN, got);
	is_int(conn_timer_kind(p.c), CONN_T_KEEPALIVE, "partial writes: then keepalive_timeout");
	close_pair(&p);
}

/* ---- persistence: HTTP/1.0 and 1.1, max_keepalive_requests ---- */

struct persist_case {
	const char *name;
	const char *in;
	const char *conn_field;	/* the Connection field wanted, NULL: none */
	enum conn_want rc;
};

static const struct persist_case persist_cases[] = {
	{ "1.1 persists by default", "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", NULL,
	  CONN_WANT_READ },
	{ "1.1 with close", "GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
	  "Connection: close", CONN_DONE },
	{ "1.0 closes by default", "GET /a.txt HTTP/1.0\r\n\r\n", "Connection: close", CONN_DONE },
	{ "1.0 with keep-alive", "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	  "Connection: keep-alive", CONN_WANT_READ },
	{ "1.0 keep-alive, any case", "GET /a.txt HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	  "Connection: keep-alive", CONN_WANT_READ },
};

static void test_persistence(void)
{
	for (size_t i = 0; i < sizeof(persist_cases) / sizeof(persist_cases[0]); i++) {
		const struct persist_case *t = &persist_cases[i];
		struct pair p = open_pair(UNIX_PAIR, 0);
		char out[4096];
		size_t got = 0;
		struct answer a;

		send_str(&p, t->in);
		enum conn_want rc = conn_run(p.c);
		read_now(p.cli, out, &got, sizeof(out));
		bool one = split_answers(out, got, &a, 1) == 1 && a.status == 200 &&
			   a.body_len == 5 && memcmp(a.body, "aaaa\n", 5) == 0;
		ok(one, "%s: one whole answer", t->name);
		ok(one && (t->conn_field ? has_field(&a, t->conn_field)
					 : !has_field(&a, "Connection:")),
		   "%s: %s", t->name, t->conn_field ? t->conn_field : "no Connection field");
		is_int(rc, t->rc, "%s: the engine's answer", t->name);
		if (rc == CONN_DONE)
			ok(sees_eof(p.cli), "%s: the stream ends", t->name);
		close_pair(&p);
	}

	/* max_keepalive_requests: the last one allowed says close, then the stream ends. */
	struct pair p = open_pair(UNIX_PAIR, 0);
	char out[8192];
	size_t got = 0;
	struct answer a[MAX_KEEPALIVE + 1];
	enum conn_want rc = CONN_WANT_READ;
	for (int i = 0; i < MAX_KEEPALIVE && rc == CONN_WANT_READ; i++) {
		send_str(&p, GET("/b.txt"));
		rc = conn_run(p.c);
		read_now(p.cli, out, &got, sizeof(out));
	}
	int n = split_answers(out, got, a, MAX_KEEPALIVE + 1);
	is_int(n, MAX_KEEPALIVE, "keep-alive limit: %d requests, %d answers", MAX_KEEPALIVE,
	       MAX_KEEPALIVE);
	bool closes = n == MAX_KEEPALIVE;
	for (int i = 0; closes && i < n; i++)
		closes = a[i].status == 200 &&
			 has_field(&a[i], "Connection: close") == (i == MAX_KEEPALIVE - 1);
	ok(closes, "keep-alive limit: only the last answer carries Connection: close");
	/* It asked for more: the engine lingers, half-closed, for the client's end. */
	is_int(rc, CONN_WANT_READ, "keep-alive limit: lingering after the last answer");
	is_int(conn_timer_kind(p.c), CONN_T_LINGER, "keep-alive limit: the linger timer runs");
	ok(sees_eof(p.cli), "keep-alive limit: the client sees the end of the stream");
	shutdown(p.cli, SHUT_WR);
	is_int(conn_run(p.c), CONN_DONE, "keep-alive limit: CONN_DONE once the client closes");
	close_pair(&p);
}

/* ---- timers and expiry ---- */

/* The deadline is kind's length from now (the coarse clock ticks in a few ms). */
static bool deadline_is(const struct conn *c, enum conn_timer kind, int64_t ms)
{
	int64_t left = conn_deadline(c) - clock_coarse_ms();

	/* A deadline is never early: it adds the coarse clock's tick. */
	if (conn_timer_kind(c) == kind && left <= ms + CLOCK_COARSE_TICK_MS && left > ms - 100)
		return true;
	printf("#   timer %d, %lld ms left; want timer %d, %lld ms\n", conn_timer_kind(c),
	       (long long)left, kind, (long long)ms);
	return false;
}

static void test_timers(void)
{
	struct pair p = open_pair(UNIX_PAIR, 0);
	char out[4096];
	size_t got = 0;

	ok(deadline_is(p.c, CONN_T_FIRST, HEADER_S * 1000), "timer: a new connection: header");
	conn_set_waited(p.c, 1500);
	ok(deadline_is(p.c, CONN_T_FIRST, HEADER_S * 1000 - 1500),
	   "timer: a connection held 1.5 s by the kernel: header_timeout less that");
	is_int(conn_run(p.c), CONN_WANT_READ, "timer: nothing to read yet");
	ok(deadline_is(p.c, CONN_T_FIRST, HEADER_S * 1000 - 1500),
	   "timer: ... still so, until its first byte");
	send_str(&p, GET("/a.txt"));
	is_int(conn_run(p.c), CONN_WANT_READ, "timer: answered, waiting");
	ok(deadline_is(p.c, CONN_T_KEEPALIVE, KEEPALIVE_S * 1000), "timer: idle: keepalive");
	send_str(&p, "GET /a.txt HTTP/1.1\r\n");
	is_int(conn_run(p.c), CONN_WANT_READ, "timer: half a head read");
	ok(deadline_is(p.c, CONN_T_HEADER, HEADER_S * 1000), "timer: half a head: header");
	read_now(p.cli, out, &got, sizeof(out));
	got = 0;
	read_now(p.cli, out, &got, sizeof(out));
	is_int(got, 0, "timer: nothing answered to half a head");
	conn_expire(p.c);
	ok(read_to_eof(p.cli, out, &got, sizeof(out)), "expire on a half-read head: closes");
	struct answer a;
	ok(split_answers(out, got, &a, 1) == 1 && a.status == 408 &&
	   has_field(&a, "Connection: close") && has_field(&a, "\r\nDate: "),
	   "expire on a half-read head: 408 with Date and Connection: close (%zu bytes)", got);
	is_int(conn_fd(p.c), -1, "expire: the engine closed its socket");
	is_int(conn_run(p.c), CONN_DONE, "expire: conn_run says done");
	close_pair(&p);

	/* An idle connection expires silently. */
	p = open_pair(UNIX_PAIR, 0);
	send_str(&p, GET("/a.txt"));
	conn_run(p.c);
	got = 0;
	read_now(p.cli, out, &got, sizeof(out));
	conn_expire(p.c);
	size_t before = got;
	ok(read_to_eof(p.cli, out, &got, sizeof(out)), "expire when idle: the stream ends");
	is_int(got - before, 0, "expire when idle: nothing is sent");
	close_pair(&p);

	/* A new connection that never sent a byte: no 408 either. */
	p = open_pair(UNIX_PAIR, 0);
	conn_expire(p.c);
	got = 0;
	ok(read_to_eof(p.cli, out, &got, sizeof(out)), "expire before any byte: the stream ends");
	is_int(got, 0, "expire before any byte: nothing is sent");
	close_pair(&p);
}

/* ---- draining ---- */

static void test_drain(void)
{
	struct pair p = open_pair(UNIX_PAIR, 0);
	char out[4096];
	size_t got = 0;
	struct answer a;

	/* Fresh: no request yet, but one is on its way: the header timeout stands. */
	struct pair fresh = open_pair(UNIX_PAIR, 0);
	conn_run(fresh.c);
	conn_drain(fresh.c);
	ok(deadline_is(fresh.c, CONN_T_FIRST, HEADER_S * 1000),
	   "drain of a fresh connection: header_timeout (%d s) stands", HEADER_S);
	send_str(&fresh, GET("/a.txt"));
	conn_run(fresh.c);
	read_now(fresh.cli, out, &got, sizeof(out) - 1);
	out[got] = '\0';
	ok(strstr(out, "200 OK") && strstr(out, "Connection: close"),
	   "drain of a fresh connection: its request is answered with Connection: close");
	close_pair(&fresh);
	got = 0;

	/* Idle: the keep-alive wait shrinks to the grace, then expiry closes it. */
	send_str(&p, GET("/a.txt"));
	conn_run(p.c);
	read_now(p.cli, out, &got, sizeof(out));
	conn_drain(p.c);
	ok(DRAIN_GRACE_MS < KEEPALIVE_S * 1000 && deadline_is(p.c, CONN_T_KEEPALIVE, DRAIN_GRACE_MS),
	   "drain when idle: keepalive_timeout (%d s) shortened to the %d ms grace", KEEPALIVE_S,
	   DRAIN_GRACE_MS);
	conn_expire(p.c);
	got = 0;
	ok(read_to_eof(p.cli, out, &got, sizeof(out)), "drain when idle: closed after the grace");
	is_int(got, 0, "drain when idle: nothing sent");
	close_pair(&p);

	/* A request arriving within the grace is answered, with close. */
	p = open_pair(UNIX_PAIR, 0);
	send_str(&p, GET("/a.txt"));
	conn_run(p.c);
	got = 0;
	read_now(p.cli, out, &got, sizeof(out));
	conn_drain(p.c);
	send_str(&p, GET("/b.txt"));
	conn_run(p.c);
	got = 0;
	read_now(p.cli, out, &got, sizeof(out));
	ok(split_answers(out, got, &a, 1) == 1 && a.status == 200 && a.body_len == 3 &&
	   has_field(&a, "Connection: close"),
	   "drain: a request within the grace is answered with Connection: close");
	ok(sees_eof(p.cli), "drain: ... and the stream ends");
	close_pair(&p);

	/* In flight: half a head when the drain comes; the answer says close. */
	p = open_pair(UNIX_PAIR, 0);
	send_str(&p, "GET /c.txt HTTP/1.1\r\nHost: t\r\n");
	conn_run(p.c);
	conn_drain(p.c);
	ok(deadline_is(p.c, CONN_T_HEADER, HEADER_S * 1000),
	   "drain in flight: the request keeps header_timeout");
	send_str(&p, "\r\n");
	conn_run(p.c);
	got = 0;
	read_now(p.cli, out, &got, sizeof(out));
	ok(split_answers(out, got, &a, 1) == 1 && a.status == 200 && a.body_len == 2 &&
	   memcmp(a.body, "c\n", 2) == 0 && has_field(&a, "Connection: close"),
	   "drain in flight: the request is answered with Connection: close");
	ok(sees_eof(p.cli), "drain in flight: ... and the stream ends");
	close_pair(&p);
}

/* ---- 100-continue ---- */

#define CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

static void test_continue(void)
{
	struct pair p = open_pair(UNIX_PAIR, 0);
	char out[4096];
	size_t got = 0;
	struct answer a[3];

	send_str(&p, "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
		     "Expect: 100-continue\r\n\r\n");
	is_int(conn_run(p.c), CONN_WANT_READ, "100-continue: the engine waits for the body");
	read_now(p.cli, out, &got, sizeof(out));
	ok(got == strlen(CONTINUE) && memcmp(out, CONTINUE, got) == 0,
	   "100-continue: exactly the interim answer first (%zu bytes)", got);
	send_str(&p, "hello" GET("/b.txt"));
	conn_run(p.c);
	got = 0;
	read_now(p.cli, out, &got, sizeof(out));
	int n = split_answers(out, got, a, 3);
	ok(n == 2 && a[0].status == 405 && has_field(&a[0], "Allow: GET, HEAD, OPTIONS") &&
	   a[1].status == 200 && a[1].body_len == 3,
	   "100-continue: the final answer after the body, then the next request's");
	close_pair(&p);

	/* The body came with the head: no interim answer is due. */
	p = open_pair(UNIX_PAIR, 0);
	send_str(&p, "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
		     "Expect: 100-continue\r\n\r\nhello");
	conn_run(p.c);
	got = 0;
	read_now(p.cli, out, &got, sizeof(out));
	ok(split_answers(out, got, a, 3) == 1 && a[0].status == 405,
	   "100-continue with the body already sent: only the final answer");
	close_pair(&p);

	/* A body over max_body_size: refused at once, no 100, and the connection closes. */
	p = open_pair(UNIX_PAIR, 0);
	send_str(&p, "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n"
		     "Expect: 100-continue\r\n\r\n");
	conn_run(p.c);
	got = 0;
	read_now(p.cli, out, &got, sizeof(out));
	ok(split_answers(out, got, a, 3) == 1 && a[0].status == 413 &&
	   has_field(&a[0], "Connection: close"),
	   "100-continue over max_body_size: 413 and close, without the interim answer");
	ok(sees_eof(p.cli), "100-continue over max_body_size: the stream ends");
	close_pair(&p);

	/* A chunked body that grows past max_body_size is refused when it does. */
	p = open_pair(UNIX_PAIR, 0);
	send_str(&p, "POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
		     "Expect: 100-continue\r\n\r\n");
	conn_run(p.c);
	got = 0;
	read_now(p.cli, out, &got, sizeof(out));
	ok(got == strlen(CONTINUE) && memcmp(out, CONTINUE, got) == 0,
	   "100-continue, chunked: the interim answer");
	char chunk[256];
	snprintf(chunk, sizeof(chunk), "%x\r\n%0*d\r\n", MAX_BODY + 1, MAX_BODY + 1, 0);
	send_str(&p, chunk);
	conn_run(p.c);
	got = 0;
	read_now(p.cli, out, &got, sizeof(out));
	ok(split_answers(out, got, a, 3) == 1 && a[0].status == 413 &&
	   has_field(&a[0], "Connection: close"),
	   "100-continue, chunked past max_body_size: 413 and close");
	close_pair(&p);
}

/* ---- CONN_YIELD ---- */

static void test_yield(void)
{
	/* Well under a socket pair's buffer: only the budget can end a turn. */
	const uint32_t budget = 32768;
	struct pair p = open_pair(UNIX_PAIR, 0);
	static char buf[BIG_LEN + 4096];
	size_t got = 0, most = 0;
	unsigned yields = 0, blocked = 0, turns = 0;
	enum conn_want rc;

	conn_set_write_budget(p.c, budget);
	send_str(&p, GET("/big.bin"));
	/* The head goes out with the first turn's file bytes. */
	do {
		size_t before = got;
		rc = conn_run(p.c);
		yields += rc == CONN_YIELD;
		blocked += rc == CONN_WANT_WRITE;
		/* Read everything this turn sent, so that no turn can block. */
		struct pollfd pfd = { p.cli, POLLIN, 0 };
		while (poll(&pfd, 1, 0) == 1 && read_now(p.cli, buf, &got, sizeof(buf)) > 0)
			;
		if (turns > 0 && got - before > most)
			most = got - before;
	} while ((rc == CONN_YIELD || rc == CONN_WANT_WRITE) && ++turns < 1000);
	struct answer a;
	bool whole = split_answers(buf, got, &a, 1) == 1 && a.status == 200 &&
		     a.body_len == BIG_LEN;
	size_t wrong = 0;
	for (size_t i = 0; whole && i < BIG_LEN; i++)
		wrong += (unsigned char)a.body[i] != big_byte(i);
	ok(whole && wrong == 0, "yield: every byte arrives, in order");
	is_int(rc, CONN_WANT_READ, "yield: then the engine waits to read");
	is_int(blocked, 0, "yield: the socket never blocked");
	is_int(yields, (BIG_LEN + budget - 1) / budget - 1,
	       "yield: CONN_YIELD after each %u-byte turn but the last", budget);
	ok(most <= budget, "yield: no later turn sent more than the budget (%zu)", most);
	close_pair(&p);
}

/* ---- completion-driven (a proactor): the same answers through conn_received/_sent ---- */

struct completion_run {
	size_t got;		/* bytes the client read */
	enum conn_want last;
	bool contract;		/* CONN_WANT_READ only with everything consumed */
	bool file_range;	/* conn_output() gave a file range */
};

/*
 * Emulates a completion driver: each receive brings at most piece bytes of in (marked
 * empty when it ends the input), each send moves at most chunk bytes of what
 * conn_output() says, its memory or its file range (read here and written: a driver may
 * copy it any way), then conn_sent().
 */
static struct completion_run drive_completion(const char *in, size_t len, size_t piece,
					      size_t chunk, char *out, size_t cap)
{
	struct pair p = open_pair(UNIX_PAIR, 0);
	struct completion_run r = { .contract = true };
	static char file_buf[65536];
	size_t from = 0;

	conn_set_completion(p.c);
	r.last = conn_run(p.c);
	for (unsigned turns = 0; r.last != CONN_DONE && turns < 1000000; turns++) {
		if (r.last == CONN_WANT_READ) {
			r.contract &= conn_unread(p.c) == 0;
			if (from == len)
				break;	/* the client has nothing more to say */
			size_t n = len - from < piece ? len - from : piece;
			conn_received(p.c, in + from, (ssize_t)n, from + n == len);
			from += n;
		} else {
			struct conn_output o;
			ssize_t n;
			if (!conn_output(p.c, &o)) {
				r.contract = false;
				break;
			}
			if (o.len) {
				n = send(conn_fd(p.c), o.buf, o.len < chunk ? o.len : chunk, 0);
			} else {
				size_t want = o.flen < chunk ? (size_t)o.flen : chunk;
				r.file_range = true;
				if (want > sizeof(file_buf))
					want = sizeof(file_buf);
				n = pread(o.fd, file_buf, want, o.off);
				if (n > 0)
					n = send(conn_fd(p.c), file_buf, (size_t)n, 0);
			}
			conn_sent(p.c, n < 0 ? -errno : n);
			read_now(p.cli, out, &r.got, cap);
		}
		r.last = conn_run(p.c);
	}
	read_now(p.cli, out, &r.got, cap);
	close_pair(&p);
	return r;
}

static void test_completion(void)
{
	static const char in[] = PIPELINE;
	size_t len = sizeof(in) - 1;
	static const size_t chunks[] = { 1, 7, 4096 };
	char whole[4096], out[4096];
	enum conn_want last;
	size_t wlen = drive_cuts(in, len, NULL, 0, whole, sizeof(whole), &last);
	size_t bad = 0, broken = 0;

	blank_dates(whole, wlen);
	for (size_t piece = 1; piece <= len; piece++)
		for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
			struct completion_run r = drive_completion(in, len, piece, chunks[i], out,
								   sizeof(out));
			blank_dates(out, r.got);
			if (r.got != wlen || memcmp(out, whole, wlen) != 0 || r.last != CONN_DONE) {
				if (!bad)
					printf("#   first difference: receives of %zu, sends of %zu: "
					       "%zu bytes, rc %d\n", piece, chunks[i], r.got, r.last);
				bad++;
			}
			broken += !r.contract;
		}
	is_int(bad, 0, "completion: receives of every size 1..%zu, sends of 1, 7, 4096 bytes: "
	       "the readiness-driven answers", len);
	is_int(broken, 0, "completion: CONN_WANT_READ only once every byte given was consumed");

	/* A large file comes out as a file range, resumed after each partial send. */
	static const char big[] = "GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	static char buf[BIG_LEN + 4096];
	struct completion_run r = drive_completion(big, sizeof(big) - 1, 4096, 65536, buf,
						   sizeof(buf));
	struct answer a;
	size_t wrong = 0;
	bool good = split_answers(buf, r.got, &a, 1) == 1 && a.status == 200 &&
		    a.body_len == BIG_LEN;
	for (size_t i = 0; good && i < BIG_LEN; i++)
		wrong += (unsigned char)a.body[i] != big_byte(i);
	ok(good && wrong == 0 && r.file_range && r.last == CONN_DONE,
	   "completion: a large file sent from conn_output()'s file range, whole");
}

/* ---- PROXY protocol ---- */

/* A v2 PROXY header from 192.0.2.7:4711, then the pipeline. */
static size_t proxied_pipeline(char *buf, size_t cap)
{
	static const unsigned char v2[] = {
		'\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n', 0x21, 0x11, 0, 12,
		192, 0, 2, 7, 127, 0, 0, 1, 0x12, 0x67, 0, 80,
	};
	static const char in[] = PIPELINE;

	memcpy(buf, v2, sizeof(v2));
	snprintf(buf + sizeof(v2), cap - sizeof(v2), "%s", in);
	return sizeof(v2) + sizeof(in) - 1;
}

static void test_proxy(void)
{
	char in[512], out[4096], addr[ADDR_TEXT_MAX];
	size_t len = proxied_pipeline(in, sizeof(in)), got;
	bool all = true;
	enum conn_want last;

	/* Every listener takes the header: no getsockname() needed on a socket pair. */
	conf->nproxy_listen = conf->nlisten;
	got = drive_cuts(in, len, NULL, 0, out, sizeof(out), &last);
	ok(pipeline_answered(out, got, "proxied"), "PROXY v2, then three requests: answered");
	for (size_t cut = 1; cut < 28 + 8 && all; cut++) {
		got = drive_cuts(in, len, &cut, 1, out, sizeof(out), &last);
		all = pipeline_answered(out, got, "proxied, cut");
		if (!all)
			printf("#   cut at %zu\n", cut);
	}
	ok(all, "PROXY v2 cut at each byte of the header and the request's start: the same");

	struct pair p = open_pair(UNIX_PAIR, 0);
	send_all(p.cli, in, 20);
	is_int(conn_run(p.c), CONN_WANT_READ, "half a header: the engine waits");
	is_int(conn_timer_kind(p.c), CONN_T_HEADER, "  under header_timeout");
	send_all(p.cli, in + 20, len - 20);
	conn_run(p.c);
	is_str(addr_format(conn_addrs(p.c).client, addr, sizeof(addr)), "192.0.2.7",
	       "conn_addrs: the client is the header's source");
	is_str(addr_format(conn_addrs(p.c).peer, addr, sizeof(addr)), "127.0.0.1",
	       "conn_addrs: the peer is the socket's");
	close_pair(&p);

	p = open_pair(UNIX_PAIR, 0);
	send_str(&p, GET("/a.txt"));
	is_int(conn_run(p.c), CONN_DONE, "no header: closed at once");
	ok(sees_eof(p.cli), "  nothing answered");
	close_pair(&p);

	p = open_pair(UNIX_PAIR, 0);
	send_all(p.cli, in, 10);
	conn_run(p.c);
	conn_expire(p.c);
	ok(sees_eof(p.cli), "a header slower than header_timeout: closed, no 408");
	close_pair(&p);
	conf->nproxy_listen = 0;
}

int main(void)
{
	setup();
	test_pipelining();
	test_partial_writes();
	test_persistence();
	test_timers();
	test_drain();
	test_continue();
	test_yield();
	test_completion();
	test_proxy();
	teardown();
	return done_testing();
}
