/*
 * access_log: formatting is done into a stack buffer and written with one write(2), so
 * concurrent writers never interleave within a line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "http_conn.h"

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

/* Quotes are escaped so a hostile User-Agent cannot forge fields of the line. */
static size_t put_escaped(char *out, size_t cap, const struct http_str *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (!s->p) {
		if (cap > 1)
			out[o++] = '-';
		return o;
	}
	for (size_t i = 0; i < s->len && o + 4 < cap; i++) {
		unsigned char ch = (unsigned char)s->p[i];
		if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		} else {
			out[o++] = (char)ch;
		}
	}
	return o;
}

void access_log_write(const struct conn_ctx *ctx, const struct sockaddr *peer,
		      const struct http_request *req, int status, uint64_t bytes)
{
	static __thread int reported;
	char line[2048], addr[INET6_ADDRSTRLEN] = "-";
	size_t o;

	if (ctx->access_fd < 0 && !ctx->access_syslog)
		return;
	if (peer->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, addr, sizeof(addr));
	else if (peer->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, addr,
			  sizeof(addr));
	o = (size_t)snprintf(line, sizeof(line), "%s - - [%s] \"", addr, clf_time());
	if (req) {
		o += put_escaped(line + o, sizeof(line) - o - 256, &req->method_name);
		line[o++] = ' ';
		o += put_escaped(line + o, sizeof(line) - o - 256, &req->target);
		o += (size_t)snprintf(line + o, sizeof(line) - o, " HTTP/1.%d", req->version % 10);
	} else {
		line[o++] = '-';
	}
	o += (size_t)snprintf(line + o, sizeof(line) - o, "\" %d %llu", status,
			      (unsigned long long)bytes);
	if (ctx->conf->access_log_format == LOG_FORMAT_COMBINED) {
		static const struct http_str none = {NULL, 0};
		memcpy(line + o, " \"", 2);
		o += 2;
		o += put_escaped(line + o, sizeof(line) - o - 8, req ? &req->referer : &none);
		memcpy(line + o, "\" \"", 3);
		o += 3;
		o += put_escaped(line + o, sizeof(line) - o - 4, req ? &req->user_agent : &none);
		line[o++] = '"';
	}
	if (ctx->access_syslog) {
		syslog(LOG_INFO, "%.*s", (int)o, line);
		return;
	}
	line[o++] = '\n';
	if (write(ctx->access_fd, line, o) < 0 && !reported) {
		reported = 1;
		syslog(LOG_ERR, "access log %s: %m (further errors not reported)",
		       ctx->conf->access_log);
	}
}
