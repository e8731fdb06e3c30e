/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for http_parse: the request-head parser and the chunked decoder. Every table
 * entry is also fed byte by byte and split at every point, since the server sees heads
 * arrive in arbitrary pieces and the answer must not depend on how they were cut.
 */
#include <stdlib.h>

#include "../../src/http_parse.c"
#include "tap.h"

#define MAXF 16
#define NONE "<none>"	/* the slice is {NULL, 0} */

static const struct http_limits lim_default = { 256, 1024, MAXF };

/* NUL-terminated copy of a slice, from a small ring so several fit in one assertion. */
static const char *S(struct http_str s)
{
	static char ring[8][1100];
	static unsigned k;
	char *b = ring[k++ % 8];

	if (!s.p)
		return NONE;
	if (s.len >= sizeof(ring[0]))
		return "<too long>";
	memcpy(b, s.p, s.len);
	b[s.len] = '\0';
	return b;
}

static ssize_t parse_lim(const char *in, size_t len, const struct http_limits *lim,
			 struct http_request *req)
{
	struct http_scan scan = HTTP_SCAN_INIT;

	return http_parse_head(in, len, lim, &scan, req);
}

static bool same_str(struct http_str a, struct http_str b)
{
	return a.p == b.p && a.len == b.len;
}

/* Both parses ran on the same buffer, so equal results have identical pointers. */
static bool same_req(const struct http_request *a, const struct http_request *b)
{
	if (a->method != b->method || a->version != b->version || a->nfields != b->nfields ||
	    a->content_length != b->content_length || a->chunked != b->chunked ||
	    a->keep_alive != b->keep_alive || a->expect_continue != b->expect_continue ||
	    a->head_len != b->head_len)
		return false;
	if (!same_str(a->method_name, b->method_name) || !same_str(a->target, b->target) ||
	    !same_str(a->path, b->path) || !same_str(a->query, b->query) ||
	    !same_str(a->host, b->host) || !same_str(a->if_match, b->if_match) ||
	    !same_str(a->if_none_match, b->if_none_match) ||
	    !same_str(a->if_modified_since, b->if_modified_since) ||
	    !same_str(a->if_unmodified_since, b->if_unmodified_since) ||
	    !same_str(a->range, b->range) || !same_str(a->if_range, b->if_range) ||
	    !same_str(a->referer, b->referer) || !same_str(a->user_agent, b->user_agent))
		return false;
	for (unsigned i = 0; i < a->nfields; i++)
		if (a->fields[i].name != b->fields[i].name ||
		    a->fields[i].name_len != b->fields[i].name_len ||
		    a->fields[i].value != b->fields[i].value ||
		    a->fields[i].value_len != b->fields[i].value_len)
			return false;
	return true;
}

/* Feeds prefixes of growing length through one scan state: the first non-zero answer. */
static ssize_t parse_bytewise(const char *in, size_t len, const struct http_limits *lim,
			      struct http_request *req)
{
	struct http_scan scan = HTTP_SCAN_INIT;
	ssize_t r = 0;

	for (size_t k = 1; k <= len && r == 0; k++)
		r = http_parse_head(in, k, lim, &scan, req);
	return r;
}

/* Each two-piece cut of the input answers like the whole (and fills req alike). */
static bool splits_agree(const char *in, size_t len, const struct http_limits *lim)
{
	struct http_field fw[MAXF], fs[MAXF];
	struct http_request whole = { .fields = fw }, split = { .fields = fs };
	ssize_t want = parse_lim(in, len, lim, &whole);

	for (size_t k = 0; k <= len; k++) {
		struct http_scan scan = HTTP_SCAN_INIT;
		ssize_t r = http_parse_head(in, k, lim, &scan, &split);

		if (r == 0)
			r = http_parse_head(in, len, lim, &scan, &split);
		if (r != want || (r > 0 && !same_req(&whole, &split))) {
			printf("#   split at %zu: got %zd, want %zd\n", k, r, want);
			return false;
		}
	}
	return true;
}

#define RL "GET / HTTP/1.1\r\n"
#define H "Host: example.com\r\n"
#define LEN (-1)	/* the expected answer is the input's length */

struct status_case {
	const char *name;
	const char *in;
	size_t len;	/* from sizeof: some inputs hold a NUL */
	ssize_t want;
};
#define C(name, in, want) { name, in, sizeof(in) - 1, want }

static const struct status_case status_cases[] = {
	/* complete, valid heads */
	C("minimal 1.1", RL H "\r\n", LEN),
	C("minimal 1.0 without Host", "GET / HTTP/1.0\r\n\r\n", LEN),
	C("bare LF line ends", "GET / HTTP/1.1\nHost: a\n\n", LEN),
	C("mixed line ends", "GET / HTTP/1.1\r\nHost: a\n\r\n", LEN),
	C("one leading CRLF", "\r\n" RL H "\r\n", LEN),
	C("four leading empty lines", "\r\n\n\r\n\n" RL H "\r\n", LEN),
	C("five leading empty lines", "\r\n\r\n\r\n\r\n\r\n" RL H "\r\n", -400),
	C("unknown method token", "BREW / HTTP/1.1\r\n" H "\r\n", LEN),
	C("methods are case-sensitive tokens", "get / HTTP/1.1\r\n" H "\r\n", LEN),
	C("obs-text in value", RL H "X: caf\xc3\xa9\r\n\r\n", LEN),
	C("HTAB inside value", RL H "X: a\tb\r\n\r\n", LEN),
	C("empty value", RL H "X:\r\n\r\n", LEN),
	C("OPTIONS *", "OPTIONS * HTTP/1.1\r\n" H "\r\n", LEN),
	C("CONNECT authority-form", "CONNECT example.com:443 HTTP/1.1\r\n" H "\r\n", LEN),
	C("absolute-form", "GET http://example.com/x HTTP/1.1\r\n" H "\r\n", LEN),
	C("absolute-form https, caps", "GET HTTPS://example.com HTTP/1.1\r\n" H "\r\n", LEN),
	C("Host IPv6", RL "Host: [::1]:8080\r\n\r\n", LEN),
	C("Host IPv4 and port", RL "Host: 10.0.0.1:80\r\n\r\n", LEN),
	C("Host pct-encoded, sub-delims", RL "Host: %41b_c~d!$&'()*+,;=\r\n\r\n", LEN),
	C("Host empty port", RL "Host: a:\r\n\r\n", LEN),
	C("Content-Length list", RL H "Content-Length: 5, 5 ,5\r\n\r\n", LEN),
	C("Content-Length repeated equal", RL H "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", LEN),
	C("Content-Length INT64_MAX", RL H "Content-Length: 9223372036854775807\r\n\r\n", LEN),
	C("Content-Length leading zeros", RL H "Content-Length: 007\r\n\r\n", LEN),
	C("TE chunked", RL H "Transfer-Encoding: chunked\r\n\r\n", LEN),
	C("TE gzip, chunked", RL H "Transfer-Encoding: gzip, chunked\r\n\r\n", LEN),
	C("TE split across fields", RL H "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", LEN),
	C("TE empty list elements", RL H "Transfer-Encoding: , chunked,\r\n\r\n", LEN),
	C("Expect 100-continue", RL H "Expect: 100-Continue\r\n\r\n", LEN),
	C("empty Expect", RL H "Expect:\r\n\r\n", LEN),

	/* incomplete */
	C("empty buffer", "", 0),
	C("only CRLF", "\r\n", 0),
	C("CR awaiting LF", "\r", 0),
	C("request line only", RL, 0),
	C("head missing final LF", RL H "\r", 0),

	/* request line */
	C("double SP after method", "GET  / HTTP/1.1\r\n" H "\r\n", -400),
	C("double SP after target", "GET /  HTTP/1.1\r\n" H "\r\n", -400),
	C("trailing SP", "GET / HTTP/1.1 \r\n" H "\r\n", -400),
	C("HTAB separator", "GET\t/ HTTP/1.1\r\n" H "\r\n", -400),
	C("leading SP", " GET / HTTP/1.1\r\n" H "\r\n", -400),
	C("no target", "GET HTTP/1.1\r\n" H "\r\n", -400),
	C("HTTP/0.9 style", "GET /\r\n\r\n", -400),
	C("method with bad char", "GE(T / HTTP/1.1\r\n" H "\r\n", -400),
	C("lowercase version", "GET / http/1.1\r\n" H "\r\n", -400),
	C("HTTP/1.2 is handled as 1.1", "GET / HTTP/1.2\r\n" H "\r\n", LEN),
	C("HTTP/1.2 needs Host as 1.1 does", "GET / HTTP/1.2\r\n\r\n", -400),
	C("HTTP/2.0", "GET / HTTP/2.0\r\n" H "\r\n", -505),
	C("HTTP/0.9", "GET / HTTP/0.9\r\n" H "\r\n", -505),
	C("HTTP/1.10", "GET / HTTP/1.10\r\n" H "\r\n", -400),
	C("HTTP/11", "GET / HTTP/11\r\n" H "\r\n", -400),
	C("HTTP/1.x", "GET / HTTP/1.x\r\n" H "\r\n", -400),
	C("HTTP/ 1.1", "GET / HTTP/ 1.1\r\n" H "\r\n", -400),
	C("target with DEL", "GET /\x7f HTTP/1.1\r\n" H "\r\n", -400),
	C("target with obs-text", "GET /\xc3\xa9 HTTP/1.1\r\n" H "\r\n", -400),
	C("target with NUL", "GET /\0 HTTP/1.1\r\n" H "\r\n", -400),
	C("target with CTL", "GET /\x01 HTTP/1.1\r\n" H "\r\n", -400),
	C("asterisk for GET", "GET * HTTP/1.1\r\n" H "\r\n", -400),
	C("asterisk for an unknown method", "M-SEARCH * HTTP/1.1\r\n" H "\r\n", -400),
	C("asterisk plus", "OPTIONS *x HTTP/1.1\r\n" H "\r\n", -400),
	C("authority-form for GET", "GET example.com:80 HTTP/1.1\r\n" H "\r\n", -400),
	C("CONNECT without port", "CONNECT example.com HTTP/1.1\r\n" H "\r\n", -400),
	C("CONNECT origin-form", "CONNECT / HTTP/1.1\r\n" H "\r\n", -400),
	C("other scheme", "GET ftp://example.com/ HTTP/1.1\r\n" H "\r\n", -400),
	C("absolute-form empty host", "GET http:///x HTTP/1.1\r\n" H "\r\n", -400),
	C("absolute-form only scheme", "GET http:// HTTP/1.1\r\n" H "\r\n", -400),
	C("absolute-form userinfo", "GET http://u:p@example.com/ HTTP/1.1\r\n" H "\r\n", -400),
	C("relative target", "GET x/y HTTP/1.1\r\n" H "\r\n", -400),
	C("bare CR in request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", -400),
	C("bare CR ending a line", "GET / HTTP/1.1\r\r\n" H "\r\n", -400),

	/* request line refused before the head is complete: at its first impossible byte */
	C("TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", -400),
	C("TLS record type alone", "\x16", -400),
	C("NUL first", "\0", -400),
	C("SP first", " ", -400),
	C("SSH banner", "SSH-2.0-OpenSSH_9.2\r\n", -400),
	C("method then CR", "GET\r", -400),
	C("method then HTAB", "GET\t", -400),
	C("target CTL, line unfinished", "GET /a\x01", -400),
	C("target obs-text, line unfinished", "GET /\xc3", -400),
	C("empty target, line unfinished", "GET  ", -400),
	C("other protocol name", "GET / HTTPS", -400),
	C("version letter", "GET / HTTP/x", -400),
	C("version without dot", "GET / HTTP/11", -400),
	C("junk after version", "GET / HTTP/1.1x", -400),
	C("CR junk after version", "GET / HTTP/1.1\rx", -400),
	C("after an empty line", "\r\n\x16\x03", -400),
	C("unfinished method", "GET", 0),
	C("unfinished target", "GET /index.html", 0),
	C("unfinished version", "GET / HTTP/1.", 0),
	C("unfinished line end", "GET / HTTP/1.1\r", 0),
	C("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", -505),

	/* field lines */
	C("SP before colon", RL "Host : a\r\n\r\n", -400),
	C("HTAB before colon", RL "Host\t: a\r\n\r\n", -400),
	C("empty field name", RL H ": a\r\n\r\n", -400),
	C("no colon", RL H "X-Foo\r\n\r\n", -400),
	C("bad name char", RL H "X(Foo): a\r\n\r\n", -400),
	C("obs-fold", RL H "X: a\r\n b\r\n\r\n", -400),
	C("whitespace after request line", RL "\tHost: a\r\n\r\n", -400),
	C("NUL in value", RL H "X: a\0b\r\n\r\n", -400),
	C("CTL in value", RL H "X: a\x1b b\r\n\r\n", -400),
	C("DEL in value", RL H "X: a\x7f\r\n\r\n", -400),
	C("bare CR in value", RL H "X: a\rb\r\n\r\n", -400),
	C("CR line made of a CR", RL H "\r\r\n\r\n", -400),

	/* Host */
	C("1.1 without Host", RL "X: a\r\n\r\n", -400),
	C("two Host fields", RL H H "\r\n", -400),
	C("two Host fields, other case", RL H "hOST: example.com\r\n\r\n", -400),
	C("1.0 with two Host fields", "GET / HTTP/1.0\r\n" H H "\r\n", -400),
	C("absolute-form still needs Host", "GET http://a/ HTTP/1.1\r\n\r\n", -400),
	C("empty Host", RL "Host:\r\n\r\n", -400),
	C("Host with SP", RL "Host: a b\r\n\r\n", -400),
	C("Host with slash", RL "Host: a/b\r\n\r\n", -400),
	C("Host with userinfo", RL "Host: u@a\r\n\r\n", -400),
	C("Host port too big", RL "Host: a:65536\r\n\r\n", -400),
	C("Host port not digits", RL "Host: a:8x\r\n\r\n", -400),
	C("Host two colons", RL "Host: a:1:2\r\n\r\n", -400),
	C("Host bad pct", RL "Host: a%4\r\n\r\n", -400),
	C("Host bad pct hex", RL "Host: a%zz\r\n\r\n", -400),
	C("Host IPv6 unclosed", RL "Host: [::1\r\n\r\n", -400),
	C("Host IPv6 bad char", RL "Host: [::g]\r\n\r\n", -400),
	C("Host IPv6 junk after", RL "Host: [::1]x\r\n\r\n", -400),
	C("Host IPv6 without colon", RL "Host: [1]\r\n\r\n", -400),
	C("Host port only", RL "Host: :80\r\n\r\n", -400),
	C("Host with backslash", RL "Host: a\\b\r\n\r\n", -400),

	/* Content-Length */
	C("CL with sign", RL H "Content-Length: +5\r\n\r\n", -400),
	C("CL negative", RL H "Content-Length: -1\r\n\r\n", -400),
	C("CL with inner SP", RL H "Content-Length: 1 0\r\n\r\n", -400),
	C("CL hex", RL H "Content-Length: 0x10\r\n\r\n", -400),
	C("CL empty", RL H "Content-Length:\r\n\r\n", -400),
	C("CL unequal list", RL H "Content-Length: 5, 6\r\n\r\n", -400),
	C("CL empty list element", RL H "Content-Length: 5,,5\r\n\r\n", -400),
	C("CL trailing comma", RL H "Content-Length: 5,\r\n\r\n", -400),
	C("CL repeated unequal", RL H "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", -400),
	C("CL INT64_MAX + 1", RL H "Content-Length: 9223372036854775808\r\n\r\n", -400),
	C("CL far overflow", RL H "Content-Length: 99999999999999999999999\r\n\r\n", -400),

	/* Transfer-Encoding */
	C("TE final not chunked", RL H "Transfer-Encoding: gzip\r\n\r\n", -400),
	C("TE chunked not final", RL H "Transfer-Encoding: chunked, gzip\r\n\r\n", -400),
	C("TE chunked twice", RL H "Transfer-Encoding: chunked, chunked\r\n\r\n", -400),
	C("TE chunked then gzip field", RL H "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", -400),
	C("TE unknown coding", RL H "Transfer-Encoding: foo, chunked\r\n\r\n", -501),
	C("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -400),
	C("TE and CL", RL H "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", -400),
	C("CL after TE", RL H "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", -400),
	C("TE with parameter", RL H "Transfer-Encoding: chunked;q=1\r\n\r\n", -400),
	C("TE empty", RL H "Transfer-Encoding:\r\n\r\n", -400),
	C("TE bad token", RL H "Transfer-Encoding: \"chunked\"\r\n\r\n", -400),
	C("TE unknown and bad framing", RL H "Transfer-Encoding: foo\r\n\r\n", -400),

	/* Expect */
	C("Expect other", RL H "Expect: 200-ok\r\n\r\n", -417),
	C("Expect list with other", RL H "Expect: 100-continue, x\r\n\r\n", -417),
	C("Expect with parameter", RL H "Expect: 100-continue;a=b\r\n\r\n", -417),
	C("syntax error beats Expect", RL H "Expect: x\r\nBad Name: y\r\n\r\n", -400),
};

static void test_status_table(void)
{
	for (size_t i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
		const struct status_case *c = &status_cases[i];
		struct http_field f[MAXF];
		struct http_request req = { .fields = f };
		size_t len = c->len;
		ssize_t want = c->want == LEN ? (ssize_t)len : c->want;

		is_int(parse_lim(c->in, len, &lim_default, &req), want, "%s", c->name);
		is_int(parse_bytewise(c->in, len, &lim_default, &req), want, "%s, byte by byte",
		       c->name);
		ok(splits_agree(c->in, len, &lim_default), "%s, every split", c->name);
	}
}

struct field_case {
	const char *in;
	enum http_method method;
	const char *method_name, *target, *path, *query, *host;
	int version;
	bool keep_alive;
	int64_t content_length;
	bool chunked, expect_continue;
};

static const struct field_case field_cases[] = {
	{ RL H "\r\n", HTTP_GET, "GET", "/", "/", NONE, "example.com", 11, true, -1, false, false },
	{ "HEAD /a/b?x=1&y HTTP/1.1\r\nHost: h:8080\r\n\r\n", HTTP_HEAD, "HEAD", "/a/b?x=1&y",
	  "/a/b", "x=1&y", "h:8080", 11, true, -1, false, false },
	{ "GET /? HTTP/1.0\r\n\r\n", HTTP_GET, "GET", "/?", "/", "", NONE, 10, false, -1, false,
	  false },
	{ "GET /%2e%2E/a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", HTTP_GET, "GET",
	  "/%2e%2E/a", "/%2e%2E/a", NONE, NONE, 10, true, -1, false, false },
	{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", HTTP_GET, "GET", "/", "/",
	  NONE, NONE, 10, false, -1, false, false },
	{ RL H "Connection: Upgrade, CLOSE\r\n\r\n", HTTP_GET, "GET", "/", "/", NONE,
	  "example.com", 11, false, -1, false, false },
	{ RL H "Connection: x ,close\t, y\r\n\r\n", HTTP_GET, "GET", "/", "/", NONE,
	  "example.com", 11, false, -1, false, false },
	{ RL H "Connection: keep-alive\r\n\r\n", HTTP_GET, "GET", "/", "/", NONE,
	  "example.com", 11, true, -1, false, false },
	{ "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nExpect: 100-continue\r\n\r\n",
	  HTTP_POST, "POST", "/up", "/up", NONE, "a", 11, true, 12, false, true },
	{ "POST /up HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
	  HTTP_POST, "POST", "/up", "/up", NONE, NONE, 10, false, 3, false, false },
	{ "PUT /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", HTTP_PUT, "PUT",
	  "/f", "/f", NONE, "a", 11, true, -1, true, false },
	{ "DELETE /f HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", HTTP_DELETE, "DELETE",
	  "/f", "/f", NONE, "a", 11, true, 0, false, false },
	{ "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_OPTIONS, "OPTIONS", "*", "*", NONE, "a",
	  11, true, -1, false, false },
	{ "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_TRACE, "TRACE", "/", "/", NONE, "a", 11,
	  true, -1, false, false },
	{ "PATCH / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PATCH, "PATCH", "/", "/", NONE, "a", 11,
	  true, -1, false, false },
	{ "GET / HTTP/1.9\r\nHost: a\r\n\r\n", HTTP_GET, "GET", "/", "/", NONE, "a", 11, true,
	  -1, false, false },
	{ "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", HTTP_CONNECT,
	  "CONNECT", "a.example:443", NONE, NONE, "a.example:443", 11, true, -1, false, false },
	{ "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_UNKNOWN, "BREW", "/pot", "/pot", NONE,
	  "a", 11, true, -1, false, false },
	{ "GET http://Target.example:81/p?q HTTP/1.1\r\nHost: other\r\n\r\n", HTTP_GET, "GET",
	  "http://Target.example:81/p?q", "/p", "q", "Target.example:81", 11, true, -1, false,
	  false },
	{ "GET http://t.example HTTP/1.1\r\nHost: t.example\r\n\r\n", HTTP_GET, "GET",
	  "http://t.example", "/", NONE, "t.example", 11, true, -1, false, false },
	{ "GET http://t.example?a=b HTTP/1.0\r\n\r\n", HTTP_GET, "GET", "http://t.example?a=b",
	  "/", "a=b", "t.example", 10, false, -1, false, false },
	{ "GET https://[::1]:8443/x HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n", HTTP_GET, "GET",
	  "https://[::1]:8443/x", "/x", NONE, "[::1]:8443", 11, true, -1, false, false },
	{ "\r\n\nGET /x HTTP/1.1\nHost:   spaced  \t\n\n", HTTP_GET, "GET", "/x", "/x", NONE,
	  "spaced", 11, true, -1, false, false },
};

static void test_field_table(void)
{
	for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		const struct field_case *c = &field_cases[i];
		struct http_field f[MAXF];
		struct http_request req = { .fields = f };
		size_t len = strlen(c->in);
		ssize_t r = parse_lim(c->in, len, &lim_default, &req);
		/* The label is the request line; expected values stay out of the format. */
		const char *line = c->in + strspn(c->in, "\r\n");
		char rl[80];

		snprintf(rl, sizeof(rl), "%.*s", (int)strcspn(line, "\r\n"), line);
		is_int(r, (ssize_t)len, "%s: head length", rl);
		is_int(req.head_len, len, "%s: head_len", rl);
		is_int(req.method, c->method, "%s: method", rl);
		is_str(S(req.method_name), c->method_name, "%s: method_name", rl);
		is_str(S(req.target), c->target, "%s: target", rl);
		is_str(S(req.path), c->path, "%s: path", rl);
		is_str(S(req.query), c->query, "%s: query", rl);
		is_str(S(req.host), c->host, "%s: host", rl);
		is_int(req.version, c->version, "%s: version", rl);
		is_int(req.keep_alive, c->keep_alive, "%s: keep_alive", rl);
		is_int(req.content_length, c->content_length, "%s: content_length", rl);
		is_int(req.chunked, c->chunked, "%s: chunked", rl);
		is_int(req.expect_continue, c->expect_continue, "%s: expect_continue", rl);
		ok(splits_agree(c->in, len, &lim_default), "%s: every split", rl);
	}
}

static void test_fields_array(void)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n"
		"If-Match: \"a\"\r\nif-match: \"b\"\r\nIf-None-Match: W/\"x\", \"y\"\r\n"
		"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
		"If-Unmodified-Since: Mon, 07 Nov 1994 08:49:37 GMT\r\n"
		"Range: bytes=0-9\r\nRange: bytes=5-\r\nIf-Range: \"e\"\r\n"
		"Referer: http://r.example/\r\nUser-Agent: t/1.0 (x)\r\n\r\nBODY";
	struct http_field f[MAXF];
	struct http_request req = { .fields = f };
	ssize_t r = parse_lim(in, sizeof(in) - 1, &lim_default, &req);

	is_int(r, sizeof(in) - 1 - 4, "digest: head length excludes the body");
	is_int(req.nfields, 12, "digest: every field line is listed");
	is_str(S((struct http_str){ f[0].name, f[0].name_len }), "Host", "field 0 name");
	is_str(S((struct http_str){ f[0].value, f[0].value_len }), "a", "field 0 value");
	is_str(S((struct http_str){ f[1].name, f[1].name_len }), "X-Empty", "field 1 name");
	is_int(f[1].value_len, 0, "field 1 value is empty");
	is_str(S(req.if_match), "\"a\"", "If-Match keeps the first");
	is_str(S(req.if_none_match), "W/\"x\", \"y\"", "If-None-Match");
	is_str(S(req.if_modified_since), "Sun, 06 Nov 1994 08:49:37 GMT", "If-Modified-Since");
	is_str(S(req.if_unmodified_since), "Mon, 07 Nov 1994 08:49:37 GMT",
	       "If-Unmodified-Since");
	is_str(S(req.range), "bytes=0-9", "Range keeps the first");
	is_str(S(req.if_range), "\"e\"", "If-Range");
	is_str(S(req.referer), "http://r.example/", "Referer");
	is_str(S(req.user_agent), "t/1.0 (x)", "User-Agent");
	ok(req.target.p >= in && req.target.p < in + sizeof(in), "slices point into the buffer");

	r = parse_lim(RL H "\r\n", strlen(RL H "\r\n"), &lim_default, &req);
	is_str(S(req.range), NONE, "absent Range is {NULL,0}");
	is_str(S(req.user_agent), NONE, "absent User-Agent is {NULL,0}");
	is_int(req.content_length, -1, "absent Content-Length is -1");
	is_int(r, strlen(RL H "\r\n"), "reused request struct");
}

/* A request line of exactly n bytes, "GET /aaa... HTTP/1.1", then rest (its line end). */
static char *request_line(size_t n, const char *rest)
{
	char *s = malloc(n + strlen(rest) + 1);

	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', n - 14);
	memcpy(s + n - 9, " HTTP/1.1", 9);
	strcpy(s + n, rest);
	return s;
}

static void test_limits(void)
{
	struct http_limits lim = { 64, 1024, 4 };
	struct http_field f[MAXF];
	struct http_request req = { .fields = f };
	char *s;

	s = request_line(64, "\r\n" H "\r\n");
	is_int(parse_lim(s, strlen(s), &lim, &req), strlen(s), "request line at the limit");
	ok(splits_agree(s, strlen(s), &lim), "request line at the limit, every split");
	is_int(parse_lim(s, 65, &lim, &req), 0, "limit-long line, then CR: wait for LF");
	is_int(parse_lim(s, 66, &lim, &req), 0, "limit-long line, CRLF: still incomplete");
	free(s);
	s = request_line(65, "\r\n" H "\r\n");
	is_int(parse_lim(s, strlen(s), &lim, &req), -414, "request line one over");
	is_int(parse_lim(s, 65, &lim, &req), -414, "one over, detected before the line ends");
	is_int(parse_bytewise(s, strlen(s), &lim, &req), -414, "one over, byte by byte");
	ok(splits_agree(s, strlen(s), &lim), "one over, every split");
	s[63] = '\x01';	/* a bad byte inside the limit wins over the length */
	is_int(parse_lim(s, 66, &lim, &req), -400, "bad byte inside the limit: 400 before 414");
	ok(splits_agree(s, strlen(s), &lim), "bad byte inside the limit, every split");
	free(s);
	s = request_line(64, "\rX\n" H "\r\n");	/* a bare CR: cannot be a line end */
	is_int(parse_lim(s, 66, &lim, &req), -414, "limit-long line, CR not followed by LF");
	ok(splits_agree(s, strlen(s), &lim), "limit-long line, bare CR, every split");
	free(s);
	s = request_line(66, "\r\n" H "\r\n");
	s[65] = '\x01';	/* past the limit: the line is too long before it is malformed */
	is_int(parse_lim(s, strlen(s), &lim, &req), -414, "bad byte past the limit: 414");
	is_int(parse_bytewise(s, strlen(s), &lim, &req), -414, "bad byte past the limit, bytewise");
	ok(splits_agree(s, strlen(s), &lim), "bad byte past the limit, every split");
	free(s);
	s = request_line(64, "\nHost: a\n\n");
	is_int(parse_lim(s, strlen(s), &lim, &req), strlen(s), "at the limit, bare LF");
	free(s);
	s = request_line(60, "\r\n" H "\r\n");
	char lead[256];

	snprintf(lead, sizeof(lead), "\r\n\r\n%s", s);
	is_int(parse_lim(lead, strlen(lead), &lim, &req), strlen(lead),
	       "leading empty lines do not count toward the request line");
	free(s);

	static const char head[] = RL H "X: 123456\r\n\r\n";	/* 47 bytes */
	size_t hl = sizeof(head) - 1;

	lim = (struct http_limits){ 64, hl, 4 };
	is_int(parse_lim(head, hl, &lim, &req), hl, "head at max_head");
	ok(splits_agree(head, hl, &lim), "head at max_head, every split");
	lim.max_head = hl - 1;
	is_int(parse_lim(head, hl, &lim, &req), -431, "head one over max_head");
	is_int(parse_bytewise(head, hl, &lim, &req), -431, "one over max_head, byte by byte");
	is_int(parse_lim(head, hl - 1, &lim, &req), 0, "max_head bytes without the end: wait");
	ok(splits_agree(head, hl, &lim), "one over max_head, every split");
	lim.max_head = hl;
	is_int(parse_lim("\r\n" RL H "X: 123456\r\n\r\n", hl + 2, &lim, &req), -431,
	       "leading empty lines count toward max_head");

	/* Both limits broken: whichever a byte-by-byte feed meets first must win, always. */
	static const char both[] = "\r\n\r\n\r\n\r\nHTHT";

	lim = (struct http_limits){ 1, 8, 0 };
	is_int(parse_lim(both, sizeof(both) - 1, &lim, &req), -431, "431 met before 414");
	ok(splits_agree(both, sizeof(both) - 1, &lim), "431 met before 414, every split");
	lim = (struct http_limits){ 1, 12, 0 };
	is_int(parse_lim(both, sizeof(both) - 1, &lim, &req), -414, "414 met before 431");
	ok(splits_agree(both, sizeof(both) - 1, &lim), "414 met before 431, every split");

	lim = (struct http_limits){ 1, 4, 0 };
	is_int(parse_lim("\r\n\r\n\r\nGET", 9, &lim, &req), -431,
	       "max_head spent on empty lines alone");
	ok(splits_agree("\r\n\r\n\r\nGET", 9, &lim), "max_head spent on empty lines, every split");

	static const char four[] = RL H "A: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	static const char five[] = RL H "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";

	lim = (struct http_limits){ 64, 1024, 4 };
	is_int(parse_lim(four, sizeof(four) - 1, &lim, &req), sizeof(four) - 1,
	       "fields at max_fields");
	is_int(req.nfields, 4, "nfields at max_fields");
	is_int(parse_lim(five, sizeof(five) - 1, &lim, &req), -431, "one field over max_fields");
	ok(splits_agree(five, sizeof(five) - 1, &lim), "one field over, every split");
	lim.max_fields = 0;
	is_int(parse_lim("GET / HTTP/1.0\r\n\r\n", 18, &lim, &req), 18, "no fields allowed, none sent");
	is_int(parse_lim(RL H "\r\n", strlen(RL H "\r\n"), &lim, &req), -431,
	       "no fields allowed, one sent");
}

static void test_pipelined(void)
{
	static const char in[] = RL "Host: a\r\n\r\n" "HEAD /2 HTTP/1.1\r\nHost: b\r\n\r\n"
		"GET /3 HTTP/1.0\n\nGET /4 HT";
	struct http_field f[MAXF];
	struct http_request req = { .fields = f };
	size_t len = sizeof(in) - 1, off = 0;
	ssize_t r;

	r = parse_lim(in, len, &lim_default, &req);
	is_int(r, 27, "pipelined: first head");
	is_str(S(req.path), "/", "pipelined: first path");
	off += (size_t)r;
	r = parse_lim(in + off, len - off, &lim_default, &req);
	is_int(r, 29, "pipelined: second head");
	is_str(S(req.path), "/2", "pipelined: second path");
	is_int(req.method, HTTP_HEAD, "pipelined: second method");
	off += (size_t)r;
	r = parse_lim(in + off, len - off, &lim_default, &req);
	is_int(r, 17, "pipelined: third head, bare LF");
	is_int(req.version, 10, "pipelined: third version");
	off += (size_t)r;
	is_int(parse_lim(in + off, len - off, &lim_default, &req), 0, "pipelined: fourth partial");
	is_int(parse_bytewise(in, len, &lim_default, &req), 27, "pipelined: byte by byte");
}

/* A head fed with a scan that remembers: the work stays linear even for a long head. */
static void test_incremental(void)
{
	struct http_limits lim = { 8192, 65536, MAXF };
	static char big[60000];
	struct http_field f[MAXF];
	struct http_request req = { .fields = f };
	struct http_scan scan = HTTP_SCAN_INIT;
	size_t n;
	ssize_t r = 0;

	n = (size_t)snprintf(big, sizeof(big), RL H "X-Long: ");
	memset(big + n, 'v', 50000);
	n += 50000;
	memcpy(big + n, "\r\n\r\n", 4);
	n += 4;
	for (size_t k = 1; k <= n && r == 0; k++)
		r = http_parse_head(big, k, &lim, &scan, &req);
	is_int(r, n, "50 kB head byte by byte");
	is_int(req.fields[1].value_len, 50000, "its long value");
	ok(scan.scanned <= n, "scan position stays inside the buffer");
}

struct chunk_case {
	const char *name;
	const char *in;
	size_t len;
	ssize_t want;	/* bytes consumed, or -400 */
	bool done;
};
#define K(name, in, want, done) { name, in, sizeof(in) - 1, want, done }

static const struct chunk_case chunk_cases[] = {
	K("one chunk", "5\r\nhello\r\n0\r\n\r\n", 15, true),
	K("two chunks, hex", "A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", 35, true),
	K("stops at the end", "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n", 11, true),
	K("empty body", "0\r\n\r\n", 5, true),
	K("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", 20, true),
	K("chunk-ext", "5;a=b;c=\"d e\"\r\nhello\r\n0;last\r\n\r\n", 32, true),
	K("BWS before chunk-ext", "5 \t;x\r\nhello\r\n0\r\n\r\n", 19, true),
	K("trailers", "0\r\nX-A: b\r\nX-C: d\t e\r\n\r\n", 24, true),
	K("incomplete data", "5\r\nhel", 6, false),
	K("incomplete final CRLF", "0\r\n\r", 4, false),
	K("largest size", "ffffffffffffffff\r\n", 18, false),
	K("incomplete size", "1f", 2, false),
	K("bad hex", "g\r\nx\r\n", -400, false),
	K("empty size", "\r\nx\r\n", -400, false),
	K("negative size", "-5\r\nhello\r\n", -400, false),
	K("0x prefix", "0x5\r\nhello\r\n", -400, false),
	K("SP in size", "5 5\r\nhello\r\n", -400, false),
	K("SP then CRLF", "5 \r\nhello\r\n", -400, false),
	K("overflow", "10000000000000000\r\n", -400, false),
	K("far overflow", "fffffffffffffffffffffffff\r\n", -400, false),
	K("data not followed by CRLF", "5\r\nhelloX\r\n0\r\n\r\n", -400, false),
	K("data followed by bare LF", "5\r\nhello\n0\r\n\r\n", -400, false),
	K("data followed by CR only", "5\r\nhello\rX", -400, false),
	K("size line bare LF", "5\nhello\r\n0\r\n\r\n", -400, false),
	K("size line bare CR", "5\rhello\r\n", -400, false),
	K("CTL in chunk-ext", "5;\x01\r\nhello\r\n", -400, false),
	K("trailer bare LF", "0\r\nX: y\n\r\n", -400, false),
	K("trailer bare CR", "0\r\nX: y\rZ\r\n\r\n", -400, false),
	K("trailer obs-fold", "0\r\nX: y\r\n z\r\n\r\n", -400, false),
	K("trailer empty name", "0\r\n: y\r\n\r\n", -400, false),
	K("trailer without colon", "0\r\nX-Foo\r\n\r\n", -400, false),
	K("trailer name then SP", "0\r\nX-Foo : y\r\n\r\n", -400, false),
	K("trailer name then HTAB", "0\r\nX\t: y\r\n\r\n", -400, false),
	K("trailer bad name byte", "0\r\nX(Foo): y\r\n\r\n", -400, false),
	K("request line as trailer", "0\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n", -400, false),
	K("trailer, then request line", "0\r\nX: y\r\nGET / HTTP/1.1\r\n\r\n", -400, false),
	K("trailer empty value", "0\r\nX:\r\n\r\n", 9, true),
	K("trailer colon in value", "0\r\nX: a:b\r\n\r\n", 13, true),
	K("trailer NUL", "0\r\nX: \0\r\n\r\n", -400, false),
	K("final bare LF", "0\r\n\n", -400, false),
	K("final CR junk", "0\r\n\rX", -400, false),
};

static ssize_t chunked_whole(const char *in, size_t len, bool *done)
{
	struct http_chunked st = HTTP_CHUNKED_INIT;

	*done = false;
	return http_chunked_consume(&st, in, len, done);
}

/* Feeds the body in two pieces: the consumed total and completion must match. */
static bool chunked_split_agree(const char *in, size_t len, ssize_t want, bool want_done)
{
	for (size_t k = 0; k <= len; k++) {
		struct http_chunked st = HTTP_CHUNKED_INIT;
		bool done = false;
		ssize_t a = http_chunked_consume(&st, in, k, &done), b = 0, total;

		if (a >= 0 && !done && (size_t)a == k)
			b = http_chunked_consume(&st, in + k, len - k, &done);
		total = a < 0 ? a : b < 0 ? b : a + b;
		if (total != want || done != want_done) {
			printf("#   split at %zu: got %zd/%d\n", k, total, done);
			return false;
		}
	}
	return true;
}

static void test_chunked(void)
{
	for (size_t i = 0; i < sizeof(chunk_cases) / sizeof(chunk_cases[0]); i++) {
		const struct chunk_case *c = &chunk_cases[i];
		size_t len = c->len;
		bool done;

		is_int(chunked_whole(c->in, len, &done), c->want, "chunked: %s", c->name);
		if (c->want >= 0)
			is_int(done, c->done, "chunked: %s: done", c->name);
		ok(chunked_split_agree(c->in, len, c->want, c->done), "chunked: %s, every split",
		   c->name);
	}

	static const char body[] = "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\nNEXT";
	struct http_chunked st = HTTP_CHUNKED_INIT;
	bool done = false;
	size_t total = 0, i;

	for (i = 0; i < sizeof(body) - 1 && !done; i++) {
		ssize_t r = http_chunked_consume(&st, body + i, 1, &done);

		if (r != 1)
			break;
		total += (size_t)r;
	}
	is_int(total, sizeof(body) - 1 - 4, "chunked byte by byte: consumed up to the end");
	ok(done, "chunked byte by byte: done");
	is_int(http_chunked_consume(&st, "NEXT", 4, &done), 0, "after done: consumes nothing");
	ok(done, "after done: still done");

	char line[CHUNK_LINE_MAX + 16];

	memset(line, 0, sizeof(line));
	line[0] = '1';
	line[1] = ';';
	memset(line + 2, 'x', CHUNK_LINE_MAX - 2);
	bool d;

	is_int(chunked_whole(line, CHUNK_LINE_MAX, &d), CHUNK_LINE_MAX,
	       "chunk-size line at the bound");
	memcpy(line + CHUNK_LINE_MAX, "\r\n", 2);
	is_int(chunked_whole(line, CHUNK_LINE_MAX + 2, &d), -400, "chunk-size line over the bound");
	memcpy(line, "0\r\nX:", 5);
	memset(line + 5, 'y', CHUNK_LINE_MAX);
	is_int(chunked_whole(line, CHUNK_LINE_MAX + 5, &d), -400, "trailer line over the bound");

	/* A corrupt state must not be trusted. */
	st = (struct http_chunked){ .state = 99 };
	is_int(http_chunked_consume(&st, "x", 1, &d), -400, "unknown state refused");
}

static void test_method_names(void)
{
	is_str(http_method_name(HTTP_GET), "GET", "name GET");
	is_str(http_method_name(HTTP_HEAD), "HEAD", "name HEAD");
	is_str(http_method_name(HTTP_POST), "POST", "name POST");
	is_str(http_method_name(HTTP_PUT), "PUT", "name PUT");
	is_str(http_method_name(HTTP_DELETE), "DELETE", "name DELETE");
	is_str(http_method_name(HTTP_CONNECT), "CONNECT", "name CONNECT");
	is_str(http_method_name(HTTP_OPTIONS), "OPTIONS", "name OPTIONS");
	is_str(http_method_name(HTTP_TRACE), "TRACE", "name TRACE");
	is_str(http_method_name(HTTP_PATCH), "PATCH", "name PATCH");
	is_str(http_method_name(HTTP_UNKNOWN), "UNKNOWN", "name UNKNOWN");
	is_str(http_method_name((enum http_method)42), "UNKNOWN", "name out of range");
}

int main(void)
{
	test_status_table();
	test_field_table();
	test_fields_array();
	test_limits();
	test_pipelined();
	test_incremental();
	test_chunked();
	test_method_names();
	return done_testing();
}
