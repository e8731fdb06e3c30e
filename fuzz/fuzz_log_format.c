/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for log_format. Input: a format (up to the first newline; "json" as
 * such too), then the request's User-Agent, Referer and target, one per line, any bytes.
 * A format that compiles must give, whatever the fields hold: one line of at most
 * LOG_LINE_MAX bytes ending in its only newline, without a NUL (the buffered log's
 * marker); with "json", valid UTF-8 with no control byte. Any breach abort()s.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>

#include "../src/addr.c"
#include "../src/log_format.c"

static void check(bool cond)
{
	if (!cond)
		abort();
}

/* The next line of d[*at..n), as a slice. */
static struct http_str next_line(const char *d, size_t n, size_t *at)
{
	struct http_str s = { d + *at, 0 };

	while (*at < n && d[*at] != '\n')
		(*at)++, s.len++;
	if (*at < n)
		(*at)++;
	return s;
}

int LLVMFuzzerTestOneInput(const char *d, size_t n)
{
	static char spec[LOG_FORMAT_MAX_TEXT * 2], out[LOG_LINE_MAX];
	struct sockaddr_in client = { .sin_family = AF_INET };
	struct http_request req = { .method_name = { "GET", 3 }, .version = 11 };
	struct log_format f;
	size_t at = 0, len;
	char err[128];

	struct http_str s = next_line(d, n, &at);
	if (s.len >= sizeof(spec) || memchr(s.p, '\0', s.len))
		return 0;
	memcpy(spec, s.p, s.len);
	spec[s.len] = '\0';
	req.user_agent = next_line(d, n, &at);
	req.referer = next_line(d, n, &at);
	req.target = req.path = next_line(d, n, &at);
	if (log_format_compile(&f, spec, err, sizeof(err)) < 0) {
		check(err[0] != '\0');
		return 0;
	}
	struct log_facts x = { .client = (struct sockaddr *)&client, .req = &req,
			       .status = 200, .time = 0 };
	len = log_format_line(&f, &x, out);
	check(len > 0 && len <= LOG_LINE_MAX && out[len - 1] == '\n');
	check(!memchr(out, '\n', len - 1) && !memchr(out, '\0', len));
	if (strcmp(spec, "json") == 0) {
		const unsigned char *u = (const unsigned char *)out;
		for (size_t i = 0; i < len - 1;) {
			size_t k = u[i] < 0x80 ? 1 : utf8_len(u + i, len - 1 - i);
			check(k > 0 && u[i] >= 0x20 && u[i] != 0x7f);
			i += k;
		}
	}
	return 0;
}
