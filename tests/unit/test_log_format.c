/* SPDX-License-Identifier: ISC */
/*
 * test_log_format: the access log's format compiler (names, every directive, refusals
 * with the column) and the formatter over fixed facts: the text formats' and JSON's
 * escaping of quotes, backslashes, control bytes and bytes that are not UTF-8, and
 * fields cut to their budget without breaking an escape.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "tap.h"
#include "../../src/log_format.c"

static struct sockaddr_in client, peer;
static struct http_request req;

static struct http_str S(const char *s)
{
	return (struct http_str){ s, s ? strlen(s) : 0 };
}

static struct log_facts facts(void)
{
	return (struct log_facts){
		.client = (struct sockaddr *)&client, .peer = (struct sockaddr *)&peer, .req = &req,
		.time = 1700000000, .status = 200, .bytes = 1024, .duration_us = 1234567,
		.conn_id = (uint64_t)4242 << 32 | 17, .keepalive = 3,
	};
}

/* The line for spec over x, without its newline (checked to be there). */
static const char *line(const char *spec, const struct log_facts *x)
{
	static char out[LOG_LINE_MAX + 1], err[128];
	struct log_format f;
	size_t n;

	if (log_format_compile(&f, spec, err, sizeof(err)) < 0)
		return err;
	n = log_format_line(&f, x, out);
	if (n == 0 || out[n - 1] != '\n')
		return "<no newline>";
	out[n - 1] = '\0';
	return out;
}

static const char *refused(const char *spec)
{
	static char err[128];
	struct log_format f;

	return log_format_compile(&f, spec, err, sizeof(err)) < 0 ? err : "<accepted>";
}

static bool valid_utf8(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t k = u[i] < 0x80 ? 1 : utf8_len(u + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

int main(void)
{
	struct log_facts x;
	struct log_format f;
	char err[128];

	setenv("TZ", "UTC", 1);
	tzset();
	client = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(1234) };
	inet_pton(AF_INET, "192.0.2.7", &client.sin_addr);
	peer = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(80) };
	inet_pton(AF_INET, "10.0.0.1", &peer.sin_addr);
	req = (struct http_request){ .method_name = S("GET"), .target = S("/a?b=1"),
		.path = S("/a"), .query = S("b=1"), .version = 11, .host = S("example.org"),
		.referer = S("http://r/"), .user_agent = S("curl/8") };
	x = facts();

	/* ---- the compiler ---- */
	ok(log_format_compile(&f, "combined", err, sizeof(err)) == 0, "combined compiles");
	ok(log_format_compile(&f, "json", err, sizeof(err)) == 0, "json compiles");
	ok(log_format_compile(&f, "%h %D", err, sizeof(err)) == 0, "%%D compiles");
	ok(log_format_compile(&f, "a%%b", err, sizeof(err)) == 0 && f.nops == 1,
	   "%%%% is text, merged with its neighbours into one op");
	is_str(refused("%h %Z"), "unknown directive %Z at column 4", "an unknown letter, with its column");
	is_str(refused("%{Cookie}i"), "unknown directive %{Cookie}i at column 1",
	       "a header the log cannot show is refused");
	is_str(refused("%{peer"), "unterminated %{ at column 1", "an unterminated %%{");
	is_str(refused("100%"), "unknown directive % at column 4", "a trailing %%");
	is_str(refused("%>b"), "unknown directive %>b at column 1", "%%> is for s only");
	is_str(refused(""), "empty format", "an empty format");
	char many[200] = "";
	for (int i = 0; i < 65; i++)
		strcat(many, "%h");
	is_str(refused(many), "more than 64 directives and texts", "too many directives");

	/* ---- the text formats ---- */
	is_str(line("common", &x), "192.0.2.7 - - [14/Nov/2023:22:13:20 +0000] \"GET /a?b=1 HTTP/1.1\" 200 1024",
	       "common");
	is_str(line("combined", &x), "192.0.2.7 - - [14/Nov/2023:22:13:20 +0000] \"GET /a?b=1 HTTP/1.1\" "
	       "200 1024 \"http://r/\" \"curl/8\"", "combined");
	is_str(line("%a|%{peer}a|%{c}a|%m|%U|%q|%H|%s|%>s|%B|%D|%T|%v|%{HOST}i|%{c}L|%k|%%", &x),
	       "192.0.2.7|10.0.0.1|10.0.0.1|GET|/a|?b=1|HTTP/1.1|200|200|1024|1234567|1|example.org|"
	       "example.org|4242-17|3|%", "every directive");
	x.site = "site-a";
	x.site_len = 6;
	x.user = "bob";
	is_str(line("%v %u", &x), "site-a bob", "%%v is the site when there is one, %%u the user");
	x = facts();
	x.peer = NULL;
	x.bytes = 0;
	x.req = NULL;
	is_str(line("%{peer}a \"%r\" %b %B %m %q %{Referer}i", &x), "192.0.2.7 \"-\" - 0 -  -",
	       "no request: dashes (%%q: nothing); no peer: the client's; %%b of 0 is -");
	x = facts();

	struct http_request evil = req;
	evil.user_agent = S("a\"b\\c\n\x01\x7f\xc3\xa9\xff");
	x.req = &evil;
	is_str(line("%{User-Agent}i", &x), "a\\x22b\\x5cc\\x0a\\x01\\x7f\\xc3\\xa9\\xff",
	       "text: quote, backslash, control and non-ASCII bytes as \\xhh");

	/* ---- JSON ---- */
	x = facts();
	is_str(line("json", &x), "{\"time\":\"2023-11-14T22:13:20+00:00\",\"client\":\"192.0.2.7\","
	       "\"peer\":\"10.0.0.1\",\"method\":\"GET\",\"target\":\"/a?b=1\",\"protocol\":\"HTTP/1.1\","
	       "\"status\":200,\"bytes\":1024,\"duration_us\":1234567,\"referer\":\"http://r/\","
	       "\"user_agent\":\"curl/8\",\"host\":\"example.org\",\"site\":null,"
	       "\"connection\":\"4242-17\",\"keepalive\":3}", "json: every field");
	x.req = NULL;
	is_str(line("json", &x), "{\"time\":\"2023-11-14T22:13:20+00:00\",\"client\":\"192.0.2.7\","
	       "\"peer\":\"10.0.0.1\",\"method\":null,\"target\":null,\"protocol\":null,"
	       "\"status\":200,\"bytes\":1024,\"duration_us\":1234567,\"referer\":null,"
	       "\"user_agent\":null,\"host\":null,\"site\":null,"
	       "\"connection\":\"4242-17\",\"keepalive\":3}", "json without a request: nulls");

	struct { const char *in, *want, *name; } esc[] = {
		{ "q\"b\\s", "q\\\"b\\\\s", "quote and backslash" },
		{ "\n\r\t", "\\n\\r\\t", "newline, return, tab" },
		{ "\x01\x1f\x7f", "\\u0001\\u001f\\u007f", "other control bytes as \\u00hh" },
		{ "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
		  "valid UTF-8 (2, 3, 4 bytes) as it is" },
		{ "\xff\xfe", "\\u00ff\\u00fe", "bytes never in UTF-8 as \\u00hh" },
		{ "\xc3(", "\\u00c3(", "a lead byte without its continuation" },
		{ "\xc0\xaf", "\\u00c0\\u00af", "an overlong encoding" },
		{ "\xed\xa0\x80", "\\u00ed\\u00a0\\u0080", "a UTF-16 surrogate" },
		{ "\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080", "beyond U+10FFFF" },
		{ "\xe2\x82", "\\u00e2\\u0082", "a sequence cut by the field's end" },
	};
	for (size_t i = 0; i < sizeof(esc) / sizeof(esc[0]); i++) {
		char want[256];
		const char *got;

		evil.user_agent = S(esc[i].in);
		x.req = &evil;
		got = line("json", &x);
		snprintf(want, sizeof(want), "\"user_agent\":\"%s\"", esc[i].want);
		if (!ok(strstr(got, want) && valid_utf8(got), "json: %s", esc[i].name))
			printf("#   got %s\n#   want %s\n", got, want);
	}

	/* ---- budgets ---- */
	static char huge[20000];
	memset(huge, 'x', sizeof(huge) - 1);
	for (size_t i = 0; i < sizeof(huge) - 1; i += 7)
		huge[i] = '\x01';
	evil.user_agent = S(huge);
	evil.referer = S(huge);
	evil.target = S(huge);
	x.req = &evil;
	const char *j = line("json", &x);
	ok(strlen(j) < LOG_LINE_MAX && strstr(j, "...\",\"host\"") && strstr(j, "\"keepalive\":3}"),
	   "json: huge fields cut with ..., every field still there (%zu bytes)", strlen(j));
	const char *t = line("combined", &x);
	ok(strlen(t) < LOG_LINE_MAX && t[strlen(t) - 1] == '"' && strstr(t, "... HTTP/1.1\" 200 "),
	   "combined: huge fields cut with ..., the line still ends its last field");
	bool cut_whole = true;
	for (const char *p = strstr(j, "\"user_agent\":\""); p && *p && !(p[0] == '.' && p[1] == '.'); p++)
		if (p[0] == '\\' && p[1] == 'u' && (!p[2] || !p[3] || !p[4] || !p[5] || p[2] == '.'))
			cut_whole = false;
	ok(cut_whole, "json: no escape is cut in the middle");
	char many_ua[60 * sizeof("%{User-Agent}i")] = "";
	for (int i = 0; i < 60; i++)
		strcat(many_ua, "%{User-Agent}i");
	x.req = &evil;
	ok(strlen(line(many_ua, &x)) == LOG_LINE_MAX - 1, "a format asking for too much stops at LOG_LINE_MAX");

	return done_testing();
}
