/*
 * access_log: formatting is done into a stack buffer and written with one write(2), so
 * concurrent writers never interleave within a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "addr.h"
#include "conn_ctx.h"
#include "log.h"

int access_log_open_sites(struct config *conf, char *err, size_t errlen)
{
	for (size_t i = 1; i < conf->sites.n; i++) {
		struct site *s = &conf->sites.sites[i];
		if (!s->access_log || s->access_log[0] != '/')
			continue;
		s->log_fd = open(s->access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (s->log_fd < 0) {
			snprintf(err, errlen, "server \"%s\": access_log %s: %s", s->name,
				 s->access_log, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int access_log_open(const struct config *conf, char *err, size_t errlen)
{
	if (conf->access_log[0] != '/')
		return -1;
	int fd = open(conf->access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, errlen, "access_log %s: %s", conf->access_log, strerror(errno));
		return -2;
	}
	return fd;
}

static __thread time_t stamp_time;
static __thread char stamp[32];

static const char *clf_time(void)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now != stamp_time) {
		stamp_time = now;
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%d/%b/%Y:%H:%M:%S %z", &tm);
	}
	return stamp;
}

/*
 * Each field has its own budget, so that one huge field (a long method token, say) cannot
 * crowd the others out of the line; a field cut short ends in "...".
 */
#define MAX_METHOD 64
#define MAX_TARGET 2048
#define MAX_REFERER 512
#define MAX_AGENT 1024

struct line {
	char p[256 + MAX_METHOD + MAX_TARGET + MAX_REFERER + MAX_AGENT];
	size_t len;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (n > sizeof(l->p) - l->len)
		n = sizeof(l->p) - l->len;
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

/* Quotes and backslashes are escaped so a hostile User-Agent cannot forge fields. */
static void put_escaped(struct line *l, const struct http_str *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	char *out = l->p + l->len;

	if (!s->p) {
		put(l, "-", 1);
		return;
	}
	for (size_t i = 0; i < s->len; i++) {
		unsigned char ch = (unsigned char)s->p[i];
		bool esc = ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f;

		if (o + (esc ? 4 : 1) > max - 3) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (esc) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		} else {
			out[o++] = (char)ch;
		}
	}
	l->len += o;
}

void access_log_write(const struct conn_ctx *ctx, const struct sockaddr *peer,
		      const struct http_request *req, int status, uint64_t bytes)
{
	/* Per process: its threads share one file, so one of them saying it is enough. */
	static bool reported;
	static const struct http_str none = {NULL, 0};
	struct line l;
	char addr[ADDR_TEXT_MAX], num[64];

	/* A server block with its own access_log writes there instead. */
	const struct site *site = req ? req->site : NULL;
	int fd = site && site->access_log ? site->log_fd : ctx->access_fd;
	bool to_syslog = !(site && site->access_log) && ctx->access_syslog;

	if (fd < 0 && !to_syslog)
		return;
	l.len = (size_t)snprintf(l.p, sizeof(l.p), "%s - - [%s] \"",
				 addr_format(peer, addr, sizeof(addr)), clf_time());
	if (req) {
		put_escaped(&l, &req->method_name, MAX_METHOD);
		put(&l, " ", 1);
		put_escaped(&l, &req->target, MAX_TARGET);
		put(&l, req->version == 10 ? " HTTP/1.0" : " HTTP/1.1", 9);
	} else {
		put(&l, "-", 1);
	}
	/* %b of Common Log Format: body bytes, "-" for none. */
	if (bytes)
		snprintf(num, sizeof(num), "\" %d %llu", status, (unsigned long long)bytes);
	else
		snprintf(num, sizeof(num), "\" %d -", status);
	put(&l, num, strlen(num));
	if (ctx->conf->access_log_format == LOG_FORMAT_COMBINED) {
		put(&l, " \"", 2);
		put_escaped(&l, req ? &req->referer : &none, MAX_REFERER);
		put(&l, "\" \"", 3);
		put_escaped(&l, req ? &req->user_agent : &none, MAX_AGENT);
		put(&l, "\"", 1);
	}
	if (to_syslog) {
		log_access(l.p, l.len);
		return;
	}
	put(&l, "\n", 1);
	if (write(fd, l.p, l.len) < 0 &&
	    !__atomic_exchange_n(&reported, true, __ATOMIC_RELAXED)) {
		log_msg(LOG_ERR, "access log %s: %m (further errors not reported)",
			fd == ctx->access_fd ? ctx->conf->access_log : site->access_log);
	}
}
