/* SPDX-License-Identifier: ISC */
/*
 * http_parse: the request-head parser and the chunked-body decoder. See http_parse.h for
 * the contract. The head is located first with memchr (cheap, and resumable through
 * struct http_scan), then parsed once in full, so a head trickling in byte by byte costs
 * linear time. Where the RFCs leave a choice, the strict answer is taken when leniency
 * could let this server and an intermediary frame a message differently.
 */
#include <string.h>

#include "http_parse.h"

/* RFC 9112 2.2 asks to ignore "at least one" empty line before the request line. */
#define MAX_LEADING_EMPTY_LINES 4
/* Bounds a chunk-size line (with its extensions) and each trailer line. */
#define CHUNK_LINE_MAX 4096

enum {
	C_TCHAR = 1,	/* token character, RFC 9110 5.6.2 */
	C_VCHAR = 2,	/* visible ASCII: the bytes allowed in a request-target */
	C_FVAL = 4,	/* field-value byte: HTAB, SP, VCHAR, obs-text */
	C_HOST = 8,	/* reg-name byte besides pct-encoded: unreserved / sub-delims */
	C_HEX = 16,
};

static const unsigned char ctab[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	4, 15, 6, 7, 15, 7, 15, 15, 14, 14, 15, 15, 14, 15, 15, 6,
	31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 6, 14, 6, 14, 6, 6,
	6, 31, 31, 31, 31, 31, 31, 15, 15, 15, 15, 15, 15, 15, 15, 15,
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 6, 6, 6, 7, 15,
	7, 31, 31, 31, 31, 31, 31, 15, 15, 15, 15, 15, 15, 15, 15, 15,
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 6, 7, 6, 15, 0,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};

#define IS(c, cls) (ctab[(unsigned char)(c)] & (cls))
#define IS_WS(c) ((c) == ' ' || (c) == '\t')

/* ASCII-only case folding: field names and codings are ASCII, and locales must not matter. */
static bool ieq(const char *p, size_t n, const char *lower, size_t lower_len)
{
	if (n != lower_len)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (unsigned char)lower[i])
			return false;
	}
	return true;
}
#define IEQ(p, n, lit) ieq((p), (n), lit, sizeof(lit) - 1)

static unsigned hexval(unsigned char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Next non-empty element of a comma-separated list (RFC 9110 5.6.1), OWS trimmed. */
static bool list_next(const char **pos, const char *end, struct http_str *elem)
{
	const char *p = *pos;

	for (;;) {
		while (p < end && (IS_WS(*p) || *p == ','))
			p++;
		if (p == end) {
			*pos = p;
			return false;
		}
		const char *s = p, *e;

		while (p < end && *p != ',')
			p++;
		for (e = p; IS_WS(e[-1]); e--)
			;
		*pos = p;
		*elem = (struct http_str){ s, (size_t)(e - s) };
		return true;
	}
}

/* n > 0: list_next() yields no empty element. */
static bool is_token(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!IS(p[i], C_TCHAR))
			return false;
	return true;
}

/*
 * uri-host [ ":" port ] (RFC 3986 3.2.2, RFC 9110 7.2). An empty host is refused: an
 * "http" URI must have one (RFC 9110 4.2.1), so an empty Host names nothing we serve.
 * IP-literals are checked only for their alphabet; the address itself is never used.
 */
static bool valid_host(const char *p, size_t n, bool need_port)
{
	size_t i = 0;

	if (n > 0 && p[0] == '[') {
		bool colon = false;

		for (i = 1; i < n && p[i] != ']'; i++) {
			if (p[i] == ':')
				colon = true;
			else if (!IS(p[i], C_HEX) && p[i] != '.')
				return false;
		}
		if (i == n || !colon)
			return false;
		i++;
	} else {
		while (i < n && p[i] != ':') {
			if (p[i] == '%') {
				if (n - i < 3 || !IS(p[i + 1], C_HEX) || !IS(p[i + 2], C_HEX))
					return false;
				i += 3;
			} else if (IS(p[i], C_HOST)) {
				i++;
			} else {
				return false;
			}
		}
		if (i == 0)
			return false;
	}
	if (i == n)
		return !need_port;
	if (p[i] != ':')
		return false;
	size_t digits = n - ++i;
	unsigned port = 0;

	if (digits == 0)
		return !need_port;
	if (digits > 5)
		return false;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		port = port * 10 + (unsigned)(p[i] - '0');
	}
	return port <= 65535;
}

static enum http_method method_of(const char *m, size_t n)
{
	switch (n) {
	case 3:
		if (memcmp(m, "GET", 3) == 0)
			return HTTP_GET;
		if (memcmp(m, "PUT", 3) == 0)
			return HTTP_PUT;
		break;
	case 4:
		if (memcmp(m, "HEAD", 4) == 0)
			return HTTP_HEAD;
		if (memcmp(m, "POST", 4) == 0)
			return HTTP_POST;
		break;
	case 5:
		if (memcmp(m, "PATCH", 5) == 0)
			return HTTP_PATCH;
		if (memcmp(m, "TRACE", 5) == 0)
			return HTTP_TRACE;
		break;
	case 6:
		if (memcmp(m, "DELETE", 6) == 0)
			return HTTP_DELETE;
		break;
	case 7:
		if (memcmp(m, "OPTIONS", 7) == 0)
			return HTTP_OPTIONS;
		if (memcmp(m, "CONNECT", 7) == 0)
			return HTTP_CONNECT;
		break;
	}
	return HTTP_UNKNOWN;
}

static void split_path_query(struct http_request *req, const char *t, size_t n)
{
	const char *q = memchr(t, '?', n);

	if (!q) {
		req->path = (struct http_str){ t, n };
		return;
	}
	req->path = (struct http_str){ t, (size_t)(q - t) };
	req->query = (struct http_str){ q + 1, n - (size_t)(q - t) - 1 };
}

/* RFC 9112 3.2: which form the target may take depends on the method. */
static int parse_target(struct http_request *req)
{
	const char *t = req->target.p;
	size_t n = req->target.len, s, a;

	if (req->method == HTTP_CONNECT) {
		if (!valid_host(t, n, true))
			return -400;
		req->host = req->target;
		return 0;
	}
	if (t[0] == '/') {
		split_path_query(req, t, n);
		return 0;
	}
	if (n == 1 && t[0] == '*') {
		if (req->method != HTTP_OPTIONS)
			return -400;
		req->path = req->target;
		return 0;
	}
	if (n > 7 && IEQ(t, 7, "http://"))
		s = 7;
	else if (n > 8 && IEQ(t, 8, "https://"))
		s = 8;
	else
		return -400;
	for (a = s; a < n && t[a] != '/' && t[a] != '?'; a++)
		;
	/* valid_host() also refuses userinfo ('@'), as RFC 9110 4.2.4 advises. */
	if (!valid_host(t + s, a - s, false))
		return -400;
	req->host = (struct http_str){ t + s, a - s };
	split_path_query(req, t + a, n - a);
	/* An empty path means "/" (RFC 9112 3.2.1); the scheme's "//" lends the byte. */
	if (a == n || t[a] != '/')
		req->path = (struct http_str){ t + s - 1, 1 };
	return 0;
}

static int parse_request_line(const char *p, size_t n, struct http_request *req)
{
	size_t i = 0, t;

	while (i < n && IS(p[i], C_TCHAR))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return -400;
	req->method_name = (struct http_str){ p, i };
	req->method = method_of(p, i);
	t = ++i;
	while (i < n && IS(p[i], C_VCHAR))
		i++;
	if (i == t || i == n || p[i] != ' ')
		return -400;
	req->target = (struct http_str){ p + t, i - t };
	p += i + 1;
	n -= i + 1;
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
	    p[7] < '0' || p[7] > '9')
		return -400;
	/* RFC 9110 2.5: a later minor version of 1.x is handled as the highest we implement. */
	if (p[5] != '1')
		return -505;
	req->version = p[7] == '0' ? 10 : 11;
	return parse_target(req);
}

/* What the field lines said about framing and the connection, judged once all are read. */
struct field_state {
	bool host_seen, cl_seen, te_seen;
	bool te_chunked_last, te_unknown;
	bool expect_bad, conn_close, conn_keep_alive;
};

/*
 * Content-Length: 1*DIGIT, or a list of identical values (RFC 9110 8.6). Repeated fields
 * must agree too: disagreeing lengths are the classic request-smuggling vector.
 */
static int on_content_length(struct field_state *st, struct http_request *req,
			     const char *v, size_t n)
{
	const char *p = v, *end = v + n;
	int64_t val = -1;

	for (;;) {
		int64_t x = 0;
		const char *d = p;

		while (p < end && *p >= '0' && *p <= '9') {
			int digit = *p++ - '0';

			if (x > (INT64_MAX - digit) / 10)
				return -400;
			x = x * 10 + digit;
		}
		if (p == d || (val >= 0 && x != val))
			return -400;
		val = x;
		while (p < end && IS_WS(*p))
			p++;
		if (p == end)
			break;
		if (*p++ != ',')
			return -400;
		while (p < end && IS_WS(*p))
			p++;
	}
	if (st->cl_seen && val != req->content_length)
		return -400;
	st->cl_seen = true;
	req->content_length = val;
	return 0;
}

/*
 * Transfer-Encoding (RFC 9112 6.1): chunked must be final and applied once. Codings we
 * could not undo are 501 (RFC 9112 6.1), judged after the 400 checks. Parameters on a
 * coding are refused: none is registered, and odd syntax here is a smuggling probe.
 */
static int on_transfer_encoding(struct field_state *st, const struct http_request *req,
				const char *v, size_t n)
{
	const char *p = v;
	struct http_str e;

	if (req->version == 10)
		return -400;	/* RFC 9112 6.1: a 1.0 message with it is faulty framing */
	st->te_seen = true;
	while (list_next(&p, v + n, &e)) {
		if (st->te_chunked_last || !is_token(e.p, e.len))
			return -400;
		if (IEQ(e.p, e.len, "chunked"))
			st->te_chunked_last = true;
		else if (!IEQ(e.p, e.len, "gzip") && !IEQ(e.p, e.len, "x-gzip") &&
			 !IEQ(e.p, e.len, "deflate") && !IEQ(e.p, e.len, "compress") &&
			 !IEQ(e.p, e.len, "x-compress"))
			st->te_unknown = true;
	}
	return 0;
}

static void on_expect(struct field_state *st, struct http_request *req, const char *v, size_t n)
{
	const char *p = v;
	struct http_str e;

	while (list_next(&p, v + n, &e)) {
		/* RFC 9110 10.1.1: a 1.0 client cannot expect 100-continue; ignore it then. */
		if (IEQ(e.p, e.len, "100-continue"))
			req->expect_continue = req->version == 11;
		else
			st->expect_bad = true;
	}
}

static void on_connection(struct field_state *st, const char *v, size_t n)
{
	const char *p = v;
	struct http_str e;

	while (list_next(&p, v + n, &e)) {
		if (IEQ(e.p, e.len, "close"))
			st->conn_close = true;
		else if (IEQ(e.p, e.len, "keep-alive"))
			st->conn_keep_alive = true;
	}
}

/*
 * The digested fields that are not lists keep their first instance. If-Match and
 * If-None-Match are lists, but merging repeated instances would need a copy; keeping
 * the first only ever makes a precondition fail safe (412, or a 200 instead of a 304).
 */
static void keep_first(struct http_str *dst, const struct http_field *f)
{
	if (!dst->p)
		*dst = (struct http_str){ f->value, f->value_len };
}

static int digest_field(struct field_state *st, struct http_request *req,
			const struct http_field *f)
{
	const char *nm = f->name, *v = f->value;
	size_t n = f->value_len;

	switch (f->name_len) {
	case 4:
		if (IEQ(nm, 4, "host")) {
			/* RFC 9112 3.2: repeated or invalid Host is a 400; an absolute-form
			 * target's authority takes precedence over the field. */
			if (st->host_seen || !valid_host(v, n, false))
				return -400;
			st->host_seen = true;
			if (!req->host.p)
				req->host = (struct http_str){ v, n };
		}
		break;
	case 5:
		if (IEQ(nm, 5, "range"))
			keep_first(&req->range, f);
		break;
	case 6:
		if (IEQ(nm, 6, "expect"))
			on_expect(st, req, v, n);
		break;
	case 7:
		if (IEQ(nm, 7, "referer"))
			keep_first(&req->referer, f);
		break;
	case 8:
		if (IEQ(nm, 8, "if-match"))
			keep_first(&req->if_match, f);
		else if (IEQ(nm, 8, "if-range"))
			keep_first(&req->if_range, f);
		break;
	case 10:
		if (IEQ(nm, 10, "connection"))
			on_connection(st, v, n);
		else if (IEQ(nm, 10, "user-agent"))
			keep_first(&req->user_agent, f);
		break;
	case 13:
		if (IEQ(nm, 13, "if-none-match"))
			keep_first(&req->if_none_match, f);
		break;
	case 14:
		if (IEQ(nm, 14, "content-length"))
			return on_content_length(st, req, v, n);
		break;
	case 17:
		if (IEQ(nm, 17, "transfer-encoding"))
			return on_transfer_encoding(st, req, v, n);
		if (IEQ(nm, 17, "if-modified-since"))
			keep_first(&req->if_modified_since, f);
		break;
	case 19:
		if (IEQ(nm, 19, "if-unmodified-since"))
			keep_first(&req->if_unmodified_since, f);
		break;
	}
	return 0;
}

/*
 * field-name ":" OWS field-value OWS, then CRLF or LF. Returns the next line, or NULL.
 * The loops need no bounds: the head is known to end in LF, which stops every one.
 */
static const char *parse_field_line(const char *p, struct http_field *f)
{
	const char *s = p, *e;

	/* A leading SP/HTAB is obs-fold, or whitespace after the start-line: both refused
	 * (RFC 9112 5.2 and 2.2), as is whitespace before the colon (RFC 9112 5.1). */
	while (IS(*p, C_TCHAR))
		p++;
	if (p == s || *p != ':')
		return NULL;
	f->name = s;
	f->name_len = (size_t)(p - s);
	s = ++p;
	/* Unrolled for long values; && stops at the first byte not in the class. */
	while (IS(p[0], C_FVAL) && IS(p[1], C_FVAL) && IS(p[2], C_FVAL) && IS(p[3], C_FVAL))
		p += 4;
	while (IS(*p, C_FVAL))
		p++;
	e = p;
	if (*p == '\r')
		p++;
	if (*p != '\n')
		return NULL;	/* a CTL, or a CR not ending the line */
	while (s < e && IS_WS(*s))
		s++;
	while (e > s && IS_WS(e[-1]))
		e--;
	f->value = s;
	f->value_len = (size_t)(e - s);
	return p + 1;
}

static int parse_fields(const char *p, const struct http_limits *lim, struct http_request *req,
			struct field_state *st)
{
	/* find_head_end() made the first empty line the head's last. */
	while (*p != '\n' && (*p != '\r' || p[1] != '\n')) {
		if (req->nfields == lim->max_fields)
			return -431;
		struct http_field *f = &req->fields[req->nfields++];
		int r;

		p = parse_field_line(p, f);
		if (!p)
			return -400;
		r = digest_field(st, req, f);
		if (r)
			return r;
	}
	return 0;
}

/* Skips the empty lines tolerated before the request line; 0: they may not be over yet. */
static int skip_empty_lines(const char *buf, size_t len, size_t *start)
{
	size_t p = 0;

	for (int k = 0; k <= MAX_LEADING_EMPTY_LINES; k++) {
		size_t eol;

		if (p < len && buf[p] == '\n')
			eol = 1;
		else if (p < len && buf[p] == '\r' && (p + 1 == len || buf[p + 1] == '\n'))
			eol = 2;
		else
			break;
		if (p + eol > len)
			return 0;
		if (k == MAX_LEADING_EMPTY_LINES)
			return -400;
		p += eol;
	}
	*start = p;
	return p < len;
}

/*
 * 414 as soon as the request line has outgrown the limit, before its end arrives. Once
 * scan->scanned has passed the furthest place its LF may be, an earlier call has seen it.
 * Bytes past max_head + 1 are not looked at: a byte-by-byte feed would have stopped there
 * with 431, and the answer must not depend on how the head was read.
 */
static int check_request_line(const char *buf, size_t len, size_t start,
			      const struct http_limits *lim, const struct http_scan *scan)
{
	size_t max = lim->max_request_line, avail, win, n;
	const char *lf;

	if (len > lim->max_head)
		len = lim->max_head + 1;
	if (len <= start)
		return 0;
	avail = len - start;
	if (avail <= max || (scan->scanned > start && scan->scanned - start - 1 > max))
		return 0;
	win = avail - max >= 2 ? max + 2 : avail;
	lf = memchr(buf + start, '\n', win);
	if (!lf)	/* avail == max + 1 and a CR last may yet be followed by its LF */
		return win == max + 1 && buf[start + max] == '\r' ? 0 : -414;
	n = (size_t)(lf - (buf + start));
	if (buf[start + n - 1] == '\r')
		n--;
	return n > max ? -414 : 0;
}

/*
 * The request line's grammar, one byte at a time (RFC 9112 3): method SP request-target SP
 * HTTP-version, then CRLF or LF. It accepts exactly what parse_request_line() accepts, so
 * it only changes when a refusal comes: at the first byte that cannot belong to a request
 * line, so that a client speaking another protocol (TLS opens with 0x16) hears 400 at
 * once instead of waiting out header_timeout.
 */
enum {
	RL_METHOD,		/* first byte of the method */
	RL_METHOD_MORE,
	RL_TARGET,		/* first byte of the request-target */
	RL_TARGET_MORE,
	RL_VERSION,		/* RL_VERSION + i: byte i of "HTTP/d.d" */
	RL_EOL = RL_VERSION + 8,
	RL_LF,
	RL_DONE,
};

static bool request_line_byte(unsigned *state, unsigned char c)
{
	static const char version[] = "HTTP/#.#";	/* '#': a digit */

	switch (*state) {
	case RL_METHOD:
	case RL_METHOD_MORE:
		if (IS(c, C_TCHAR))
			*state = RL_METHOD_MORE;
		else if (c == ' ' && *state == RL_METHOD_MORE)
			*state = RL_TARGET;
		else
			return false;
		return true;
	case RL_TARGET:
	case RL_TARGET_MORE:
		if (IS(c, C_VCHAR))
			*state = RL_TARGET_MORE;
		else if (c == ' ' && *state == RL_TARGET_MORE)
			*state = RL_VERSION;
		else
			return false;
		return true;
	case RL_EOL:
		if (c != '\r' && c != '\n')
			return false;
		*state = c == '\r' ? RL_LF : RL_DONE;
		return true;
	case RL_LF:
		*state = RL_DONE;
		return c == '\n';
	}
	char want = version[*state - RL_VERSION];

	if (want == '#' ? c < '0' || c > '9' : c != (unsigned char)want)
		return false;
	++*state;
	return true;
}

/*
 * Runs the request line's new bytes through request_line_byte(). Only the bytes a
 * byte-by-byte feed would see before check_request_line() or find_head_end() refused the
 * head are looked at, so that the answer does not depend on how the head was read.
 */
static int check_request_syntax(const char *buf, size_t len, size_t start,
				const struct http_limits *lim, struct http_scan *scan)
{
	size_t end = len, pos = scan->line_checked > start ? scan->line_checked : start;

	if (end > lim->max_head + 1)
		end = lim->max_head + 1;
	if (end > start + lim->max_request_line + 1)
		end = start + lim->max_request_line + 1;
	for (; pos < end && scan->line_state != RL_DONE; pos++)
		if (!request_line_byte(&scan->line_state, (unsigned char)buf[pos]))
			return -400;
	scan->line_checked = pos;
	return 0;
}

/*
 * Looks for the empty line that ends the head, from where the last call stopped. Each LF
 * is examined once, against the bytes before it, which were there when it was found.
 */
static ssize_t find_head_end(const char *buf, size_t len, size_t start, size_t max_head,
			     struct http_scan *scan)
{
	size_t lim = len < max_head ? len : max_head;
	size_t pos = scan->scanned > start ? scan->scanned : start;

	while (pos < lim) {
		const char *lf = memchr(buf + pos, '\n', lim - pos);

		if (!lf)
			break;
		/* i > start, as buf[start] begins a non-empty line; looking back stops at start
		 * so that a skipped empty line cannot pair with the request line's first LF. */
		size_t i = (size_t)(lf - buf);

		if (buf[i - 1] == '\n' || (buf[i - 1] == '\r' && i - 1 > start && buf[i - 2] == '\n'))
			return (ssize_t)(i + 1);
		pos = i + 1;
	}
	if (pos < lim)
		pos = lim;
	scan->scanned = pos;
	return len > max_head ? -431 : 0;
}

ssize_t http_parse_head(const char *buf, size_t len, const struct http_limits *lim,
			struct http_scan *scan, struct http_request *req)
{
	size_t start, head_len;
	const char *lf;
	ssize_t r;
	int rc;
	struct field_state st = { 0 };
	struct http_field *fields = req->fields;

	rc = skip_empty_lines(buf, len, &start);
	if (rc <= 0)
		return rc;
	rc = check_request_syntax(buf, len, start, lim, scan);
	if (rc == 0)
		rc = check_request_line(buf, len, start, lim, scan);
	if (rc)
		return rc;
	r = find_head_end(buf, len, start, lim->max_head, scan);
	if (r <= 0)
		return r;
	head_len = (size_t)r;

	*req = (struct http_request){ .fields = fields, .content_length = -1 };
	lf = memchr(buf + start, '\n', head_len - start);
	rc = parse_request_line(buf + start, (size_t)(lf - (buf + start)) - (lf[-1] == '\r'), req);
	if (rc == 0)
		rc = parse_fields(lf + 1, lim, req, &st);
	if (rc)
		return rc;
	if (req->version == 11 && !st.host_seen)
		return -400;
	if (st.te_seen) {
		/* RFC 9112 6.1 lets Transfer-Encoding override Content-Length; we refuse
		 * instead, since a message carrying both is most likely a smuggling attempt. */
		if (st.cl_seen || !st.te_chunked_last)
			return -400;
		if (st.te_unknown)
			return -501;
		req->chunked = true;
	}
	if (st.expect_bad)
		return -417;
	req->keep_alive = !st.conn_close && (req->version == 11 || st.conn_keep_alive);
	req->head_len = head_len;
	return r;
}

enum {
	CK_SIZE,	/* first hex digit of chunk-size */
	CK_SIZE_MORE,	/* more hex digits, or what ends them */
	CK_EXT_WS,	/* BWS before a chunk-ext's ';' */
	CK_EXT,		/* inside chunk-ext, skipped */
	CK_SIZE_LF,
	CK_DATA,
	CK_DATA_CR,
	CK_DATA_LF,
	CK_TRAILER_START,	/* a trailer field line, or the final CRLF */
	CK_TRAILER_NAME,
	CK_TRAILER,		/* the field value */
	CK_TRAILER_LF,
	CK_END_LF,
	CK_DONE,
};

/*
 * One framing byte. Line ends must be CRLF here: leniency about bare LF or CR inside chunk
 * framing is what chunk-based smuggling plays on, and real clients always send CRLF.
 */
static int chunked_byte(struct http_chunked *st, unsigned char c)
{
	if (st->state != CK_DATA_CR && st->state != CK_DATA_LF && ++st->line_len > CHUNK_LINE_MAX)
		return -400;
	switch (st->state) {
	case CK_SIZE:
		if (!IS(c, C_HEX))
			return -400;
		st->remaining = hexval(c);
		st->state = CK_SIZE_MORE;
		return 0;
	case CK_SIZE_MORE:
		if (IS(c, C_HEX)) {
			if (st->remaining > UINT64_MAX >> 4)
				return -400;
			st->remaining = st->remaining << 4 | hexval(c);
		} else if (c == ';') {
			st->state = CK_EXT;
		} else if (IS_WS(c)) {
			st->state = CK_EXT_WS;
		} else if (c == '\r') {
			st->state = CK_SIZE_LF;
		} else {
			return -400;
		}
		return 0;
	case CK_EXT_WS:
		if (c == ';')
			st->state = CK_EXT;
		else if (!IS_WS(c))
			return -400;
		return 0;
	case CK_EXT:
	case CK_TRAILER:
		if (c == '\r')
			st->state = st->state == CK_EXT ? CK_SIZE_LF : CK_TRAILER_LF;
		else if (!IS(c, C_FVAL))
			return -400;
		return 0;
	case CK_SIZE_LF:
		if (c != '\n')
			return -400;
		st->state = st->remaining ? CK_DATA : CK_TRAILER_START;
		st->line_len = 0;
		return 0;
	case CK_DATA_CR:
		if (c != '\r')
			return -400;
		st->state = CK_DATA_LF;
		return 0;
	case CK_DATA_LF:
		if (c != '\n')
			return -400;
		st->state = CK_SIZE;
		st->line_len = 0;
		return 0;
	case CK_TRAILER_START:
		if (c == '\r')
			st->state = CK_END_LF;
		else if (IS(c, C_TCHAR))
			st->state = CK_TRAILER_NAME;
		else
			return -400;
		return 0;
	case CK_TRAILER_NAME:
		/* A field line needs its colon, as in the head (parse_field_line()): without
		 * it, a request line after a truncated body would be swallowed as a trailer. */
		if (c == ':')
			st->state = CK_TRAILER;
		else if (!IS(c, C_TCHAR))
			return -400;
		return 0;
	case CK_TRAILER_LF:
		if (c != '\n')
			return -400;
		st->state = CK_TRAILER_START;
		st->line_len = 0;
		return 0;
	case CK_END_LF:
		if (c != '\n')
			return -400;
		st->state = CK_DONE;
		return 0;
	}
	return -400;	/* CK_DATA and CK_DONE never get here; a corrupt state does */
}

ssize_t http_chunked_consume(struct http_chunked *st, const char *buf, size_t len, bool *done)
{
	size_t i = 0;

	while (i < len && st->state != CK_DONE) {
		if (st->state == CK_DATA) {
			size_t n = len - i;

			if (n > st->remaining)
				n = (size_t)st->remaining;
			i += n;
			st->remaining -= n;
			if (st->remaining == 0)
				st->state = CK_DATA_CR;
		} else if (chunked_byte(st, (unsigned char)buf[i++]) < 0) {
			return -400;
		}
	}
	*done = st->state == CK_DONE;
	return (ssize_t)i;
}

const char *http_method_name(enum http_method m)
{
	static const char *const names[] = {
		[HTTP_UNKNOWN] = "UNKNOWN", [HTTP_GET] = "GET", [HTTP_HEAD] = "HEAD",
		[HTTP_POST] = "POST", [HTTP_PUT] = "PUT", [HTTP_DELETE] = "DELETE",
		[HTTP_CONNECT] = "CONNECT", [HTTP_OPTIONS] = "OPTIONS", [HTTP_TRACE] = "TRACE",
		[HTTP_PATCH] = "PATCH",
	};

	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "UNKNOWN";
}
