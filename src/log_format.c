/* SPDX-License-Identifier: ISC */
/*
 * log_format: compile and format. Every field read from the request is escaped, so a
 * hostile User-Agent can neither forge fields nor break a line: in the text formats as
 * Apache does (\xhh for quotes, backslashes, control and non-ASCII bytes), in JSON as RFC
 * 8259 requires, and a byte that does not belong to valid UTF-8 as \u00hh (the code
 * point Latin-1 gives it), so every line is valid UTF-8 and loses nothing.
 *
 * Each field has its own budget, so that one huge field (a long method token, say) cannot
 * crowd the others out of the line; a field cut short ends in "...".
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "log_format.h"

enum kind {
	K_LIT, K_CLIENT, K_PEER, K_DASH, K_USER, K_TIME, K_REQUEST, K_METHOD, K_PATH,
	K_QUERY, K_PROTO, K_STATUS, K_BYTES_CLF, K_BYTES, K_USEC, K_SEC, K_SITE, K_REFERER,
	K_AGENT, K_HOST, K_CONN, K_KEEPALIVE, K_JSON,
};

static const struct { char c; enum kind k; } plain[] = {
	{'h', K_CLIENT}, {'a', K_CLIENT}, {'l', K_DASH}, {'u', K_USER}, {'t', K_TIME},
	{'r', K_REQUEST}, {'m', K_METHOD}, {'U', K_PATH}, {'q', K_QUERY}, {'H', K_PROTO},
	{'s', K_STATUS}, {'b', K_BYTES_CLF}, {'B', K_BYTES}, {'D', K_USEC}, {'T', K_SEC},
	{'v', K_SITE}, {'k', K_KEEPALIVE},
};

static const struct { const char *arg; char c; enum kind k; } braced[] = {
	{"peer", 'a', K_PEER}, {"c", 'a', K_PEER}, {"referer", 'i', K_REFERER},
	{"user-agent", 'i', K_AGENT}, {"host", 'i', K_HOST}, {"c", 'L', K_CONN},
};

#define COMMON "%h %l %u %t \"%r\" %>s %b"

static int add(struct log_format *f, enum kind k, char *err, size_t errlen)
{
	if (f->nops == LOG_FORMAT_MAX_OPS) {
		snprintf(err, errlen, "more than %d directives and texts", LOG_FORMAT_MAX_OPS);
		return -1;
	}
	f->op[f->nops++] = (struct log_op){ .kind = (uint16_t)k };
	return 0;
}

static int add_lit(struct log_format *f, size_t *used, const char *s, size_t n, char *err,
		   size_t errlen)
{
	struct log_op *last = f->nops ? &f->op[f->nops - 1] : NULL;

	if (*used + n > sizeof(f->lit)) {
		snprintf(err, errlen, "longer than %d bytes of text", LOG_FORMAT_MAX_TEXT);
		return -1;
	}
	memcpy(f->lit + *used, s, n);
	if (last && last->kind == K_LIT && last->off + last->len == *used) {
		last->len = (uint16_t)(last->len + n);
	} else {
		if (add(f, K_LIT, err, errlen) < 0)
			return -1;
		f->op[f->nops - 1].off = (uint32_t)*used;
		f->op[f->nops - 1].len = (uint16_t)n;
	}
	*used += n;
	return 0;
}

/* The directive at spec[i] ('%' already seen at i - 1); returns the index after it. */
static long directive(struct log_format *f, const char *spec, size_t i, char *err,
		      size_t errlen)
{
	size_t start = i - 1, arg = 0, arglen = 0;
	bool gt = false;

	if (spec[i] == '{') {
		arg = ++i;
		while (spec[i] && spec[i] != '}')
			i++;
		if (!spec[i]) {
			snprintf(err, errlen, "unterminated %%{ at column %zu", start + 1);
			return -1;
		}
		arglen = i++ - arg;
	} else if (spec[i] == '>' && spec[i + 1]) {
		gt = true;	/* Apache's final status; the only one here */
		i++;
	}
	for (size_t k = 0; !arglen && k < sizeof(plain) / sizeof(plain[0]); k++)
		if (spec[i] && spec[i] == plain[k].c && (!gt || spec[i] == 's'))
			return add(f, plain[k].k, err, errlen) < 0 ? -1 : (long)i + 1;
	for (size_t k = 0; arglen && k < sizeof(braced) / sizeof(braced[0]); k++)
		if (spec[i] == braced[k].c && strlen(braced[k].arg) == arglen &&
		    strncasecmp(spec + arg, braced[k].arg, arglen) == 0)
			return add(f, braced[k].k, err, errlen) < 0 ? -1 : (long)i + 1;
	snprintf(err, errlen, "unknown directive %.*s at column %zu",
		 (int)(i - start + (spec[i] != '\0')), spec + start, start + 1);
	return -1;
}

int log_format_compile(struct log_format *f, const char *spec, char *err, size_t errlen)
{
	size_t used = 0;

	*f = (struct log_format){0};
	if (strcmp(spec, "json") == 0)
		return add(f, K_JSON, err, errlen);
	if (strcmp(spec, "common") == 0)
		spec = COMMON;
	else if (strcmp(spec, "combined") == 0)
		spec = COMMON " \"%{Referer}i\" \"%{User-Agent}i\"";
	if (!*spec) {
		snprintf(err, errlen, "empty format");
		return -1;
	}
	for (size_t i = 0; spec[i];) {
		if (spec[i] != '%' || spec[i + 1] == '%') {
			if (add_lit(f, &used, spec + i, 1, err, errlen) < 0)
				return -1;
			i += spec[i] == '%' ? 2 : 1;
			continue;
		}
		long next = directive(f, spec, i + 1, err, errlen);
		if (next < 0)
			return -1;
		i = (size_t)next;
	}
	return 0;
}

/* ---- formatting ---- */

#define MAX_METHOD 64
#define MAX_TARGET 2048
#define MAX_REFERER 512
#define MAX_AGENT 1024
#define MAX_NAME 256

struct line {
	char *p;
	size_t len, cap;	/* cap leaves room for the newline */
};

static void put(struct line *l, const char *s, size_t n)
{
	if (n > l->cap - l->len)
		n = l->cap - l->len;
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void put_u64(struct line *l, uint64_t v)
{
	char num[24];

	put(l, num, (size_t)snprintf(num, sizeof(num), "%llu", (unsigned long long)v));
}

/* The length of the valid UTF-8 sequence at s (RFC 3629), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0xc2 || c > 0xf4 || n < len)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * s escaped into at most max bytes of l; json picks the JSON rules. Each unit (a byte, an
 * escape, a UTF-8 sequence) goes out whole or not at all, so a cut field stays valid.
 */
static void put_escaped(struct line *l, const char *s, size_t n, size_t max, bool json)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	char unit[8];

	if (max > l->cap - l->len)
		max = l->cap - l->len;
	if (max < 3)
		return;
	max += l->len;
	for (size_t i = 0; i < n;) {
		size_t w = 1, adv = 1;
		unsigned char ch = u[i];

		unit[0] = (char)ch;
		if (!json && (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f)) {
			memcpy(unit, (char[]){'\\', 'x', hex[ch >> 4], hex[ch & 15]}, 4);
			w = 4;
		} else if (json && (ch == '"' || ch == '\\')) {
			memcpy(unit, (char[]){'\\', (char)ch}, 2);
			w = 2;
		} else if (json && (ch == '\n' || ch == '\r' || ch == '\t')) {
			memcpy(unit, (char[]){'\\', ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't'}, 2);
			w = 2;
		} else if (json && ch >= 0x80 && (adv = utf8_len(u + i, n - i)) > 0) {
			memcpy(unit, s + i, adv);
			w = adv;
		} else if (json && (ch < 0x20 || ch >= 0x7f)) {
			memcpy(unit, (char[]){'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]}, 6);
			w = 6;
			adv = 1;
		}
		if (l->len + w > max - 3 && (i + adv < n || l->len + w > max)) {
			put(l, "...", 3);
			return;
		}
		put(l, unit, w);
		i += adv;
	}
}

/* A request field in the text formats: "-" when absent. */
static void put_field(struct line *l, const struct http_str *s, size_t max)
{
	if (s->p)
		put_escaped(l, s->p, s->len, max, false);
	else
		put(l, "-", 1);
}

/* A JSON member: "name":"escaped" or "name":null. */
static void put_json_str(struct line *l, const char *name, const char *s, size_t n,
			 size_t max)
{
	put(l, ",\"", 2);
	puts_(l, name);
	if (!s) {
		put(l, "\":null", 6);
		return;
	}
	put(l, "\":\"", 3);
	put_escaped(l, s, n, max, true);
	put(l, "\"", 1);
}

/* A connection id: "pid-n". */
static void put_conn(struct line *l, uint64_t id)
{
	put_u64(l, id >> 32);
	put(l, "-", 1);
	put_u64(l, id & 0xffffffffu);
}

static void put_json_num(struct line *l, const char *name, uint64_t v)
{
	put(l, ",\"", 2);
	puts_(l, name);
	put(l, "\":", 2);
	put_u64(l, v);
}

/* The time in CLF's brackets or ISO 8601, formatted once a second per thread. */
static const char *stamp(time_t t, bool iso)
{
	static __thread time_t when[2] = {-1, -1};
	static __thread char text[2][40];
	struct tm tm;

	if (when[iso] != t) {
		when[iso] = t;
		localtime_r(&t, &tm);
		if (!iso) {
			strftime(text[0], sizeof(text[0]), "[%d/%b/%Y:%H:%M:%S %z]", &tm);
		} else {
			/* RFC 3339 wants the offset as +hh:mm. */
			size_t n = strftime(text[1], sizeof(text[1]), "%Y-%m-%dT%H:%M:%S%z", &tm);
			memmove(text[1] + n - 1, text[1] + n - 2, 3);
			text[1][n - 2] = ':';
		}
	}
	return text[iso];
}

static const char *proto(const struct http_request *r)
{
	return r->version == 10 ? "HTTP/1.0" : "HTTP/1.1";
}

static void put_addr(struct line *l, const struct sockaddr *sa)
{
	char text[ADDR_TEXT_MAX];

	puts_(l, addr_format(sa, text, sizeof(text)));
}

static void put_json(struct line *l, const struct log_facts *x)
{
	static const struct http_str none = {NULL, 0};
	const struct http_request *r = x->req;
	const struct http_str *referer = r ? &r->referer : &none, *agent = r ? &r->user_agent : &none,
			      *host = r ? &r->host : &none;
	char addr[ADDR_TEXT_MAX];

	put(l, "{\"time\":\"", 9);
	puts_(l, stamp(x->time, true));
	put(l, "\"", 1);
	addr_format(x->client, addr, sizeof(addr));
	put_json_str(l, "client", addr, strlen(addr), MAX_NAME);
	addr_format(x->peer ? x->peer : x->client, addr, sizeof(addr));
	put_json_str(l, "peer", addr, strlen(addr), MAX_NAME);
	put_json_str(l, "method", r ? r->method_name.p : NULL, r ? r->method_name.len : 0,
		     MAX_METHOD);
	put_json_str(l, "target", r ? r->target.p : NULL, r ? r->target.len : 0, MAX_TARGET);
	put_json_str(l, "protocol", r ? proto(r) : NULL, r ? 8 : 0, MAX_NAME);
	put_json_num(l, "status", (uint64_t)x->status);
	put_json_num(l, "bytes", x->bytes);
	put_json_num(l, "duration_us", x->duration_us);
	put_json_str(l, "referer", referer->p, referer->len, MAX_REFERER);
	put_json_str(l, "user_agent", agent->p, agent->len, MAX_AGENT);
	put_json_str(l, "host", host->p, host->len, MAX_NAME);
	put_json_str(l, "site", x->site, x->site_len, MAX_NAME);
	put(l, ",\"connection\":\"", 15);
	put_conn(l, x->conn_id);
	put(l, "\"", 1);
	put_json_num(l, "keepalive", x->keepalive);
	put(l, "}", 1);
}

size_t log_format_line(const struct log_format *f, const struct log_facts *x, char *out)
{
	static const struct http_str none = {NULL, 0};
	struct line l = { .p = out, .cap = LOG_LINE_MAX - 1 };
	const struct http_request *r = x->req;

	for (unsigned i = 0; i < f->nops; i++) {
		const struct log_op *op = &f->op[i];

		switch ((enum kind)op->kind) {
		case K_LIT: put(&l, f->lit + op->off, op->len); break;
		case K_CLIENT: put_addr(&l, x->client); break;
		case K_PEER: put_addr(&l, x->peer ? x->peer : x->client); break;
		case K_DASH: put(&l, "-", 1); break;
		case K_USER:
			if (x->user)
				put_escaped(&l, x->user, strlen(x->user), MAX_NAME, false);
			else
				put(&l, "-", 1);
			break;
		case K_TIME: puts_(&l, stamp(x->time, false)); break;
		case K_REQUEST:
			if (!r) {
				put(&l, "-", 1);
				break;
			}
			put_field(&l, &r->method_name, MAX_METHOD);
			put(&l, " ", 1);
			put_field(&l, &r->target, MAX_TARGET);
			put(&l, " ", 1);
			puts_(&l, proto(r));
			break;
		case K_METHOD: put_field(&l, r ? &r->method_name : &none, MAX_METHOD); break;
		case K_PATH: put_field(&l, r ? &r->path : &none, MAX_TARGET); break;
		case K_QUERY:
			if (r && r->query.p) {
				put(&l, "?", 1);
				put_field(&l, &r->query, MAX_TARGET);
			}
			break;
		case K_PROTO: puts_(&l, r ? proto(r) : "-"); break;
		case K_STATUS: put_u64(&l, (uint64_t)x->status); break;
		case K_BYTES_CLF:
			if (x->bytes)
				put_u64(&l, x->bytes);
			else
				put(&l, "-", 1);
			break;
		case K_BYTES: put_u64(&l, x->bytes); break;
		case K_USEC: put_u64(&l, x->duration_us); break;
		case K_SEC: put_u64(&l, x->duration_us / 1000000); break;
		case K_SITE:
			if (x->site)
				put_escaped(&l, x->site, x->site_len, MAX_NAME, false);
			else
				put_field(&l, r ? &r->host : &none, MAX_NAME);
			break;
		case K_REFERER: put_field(&l, r ? &r->referer : &none, MAX_REFERER); break;
		case K_AGENT: put_field(&l, r ? &r->user_agent : &none, MAX_AGENT); break;
		case K_HOST: put_field(&l, r ? &r->host : &none, MAX_NAME); break;
		case K_CONN: put_conn(&l, x->conn_id); break;
		case K_KEEPALIVE: put_u64(&l, x->keepalive); break;
		case K_JSON: put_json(&l, x); break;
		}
	}
	out[l.len++] = '\n';
	return l.len;
}
