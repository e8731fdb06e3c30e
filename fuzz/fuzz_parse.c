/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for http_parse. Beyond memory safety (ASan/UBSan), it checks the
 * property the server relies on: the answer never depends on how the bytes were cut into
 * reads. Each input is parsed whole, in two pieces at a data-derived point and, when short,
 * byte by byte; any disagreement or broken invariant abort()s. The same bytes also go
 * through the chunked decoder, whole, in two pieces and byte by byte, and a body it accepts
 * must end in a trailer section made of field lines only.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../src/http_parse.c"

#define MAXF 32

/* Several limit sets, so the 414/431 paths see inputs of fuzzable size. */
static const struct http_limits limit_sets[] = {
	{ 8190, 16384, MAXF },
	{ 64, 256, 4 },
	{ 16, 40, 1 },
	{ 1, 8, 0 },
};

static void check(bool cond)
{
	if (!cond)
		abort();
}

static bool same_str(struct http_str a, struct http_str b)
{
	return a.p == b.p && a.len == b.len;
}

static void check_same(const struct http_request *a, const struct http_request *b)
{
	check(a->method == b->method && a->version == b->version && a->nfields == b->nfields);
	check(a->content_length == b->content_length && a->chunked == b->chunked);
	check(a->keep_alive == b->keep_alive && a->expect_continue == b->expect_continue);
	check(a->head_len == b->head_len);
	check(same_str(a->method_name, b->method_name) && same_str(a->target, b->target));
	check(same_str(a->path, b->path) && same_str(a->query, b->query));
	check(same_str(a->host, b->host) && same_str(a->range, b->range));
	check(same_str(a->if_match, b->if_match) && same_str(a->if_none_match, b->if_none_match));
	check(same_str(a->if_modified_since, b->if_modified_since));
	check(same_str(a->if_unmodified_since, b->if_unmodified_since));
	check(same_str(a->if_range, b->if_range) && same_str(a->referer, b->referer));
	check(same_str(a->user_agent, b->user_agent));
	for (unsigned i = 0; i < a->nfields; i++)
		check(a->fields[i].name == b->fields[i].name &&
		      a->fields[i].name_len == b->fields[i].name_len &&
		      a->fields[i].value == b->fields[i].value &&
		      a->fields[i].value_len == b->fields[i].value_len);
}

static void check_inside(struct http_str s, const char *buf, size_t len)
{
	if (s.p)
		check(s.p >= buf && s.len <= len && (size_t)(s.p - buf) <= len - s.len);
	else
		check(s.len == 0);
}

/* What a successful parse promises its caller. */
static void check_request(const struct http_request *r, const char *buf, size_t head_len,
			  const struct http_limits *lim)
{
	check(r->head_len == head_len && head_len <= lim->max_head);
	check(r->version == 10 || r->version == 11);
	check(r->nfields <= lim->max_fields);
	check(r->content_length >= -1 && !(r->chunked && r->content_length >= 0));
	check(r->method_name.len > 0 && r->target.len > 0);
	check(r->version == 10 || r->host.p);
	check(!r->expect_continue || r->version == 11);
	check_inside(r->method_name, buf, head_len);
	check_inside(r->target, buf, head_len);
	check_inside(r->path, buf, head_len);
	check_inside(r->query, buf, head_len);
	check_inside(r->host, buf, head_len);
	for (size_t i = 0; i < r->target.len; i++)
		check(r->target.p[i] > 0x20 && r->target.p[i] < 0x7f);
	for (unsigned i = 0; i < r->nfields; i++) {
		const struct http_field *f = &r->fields[i];

		check_inside((struct http_str){ f->name, f->name_len }, buf, head_len);
		check_inside((struct http_str){ f->value, f->value_len }, buf, head_len);
		check(f->name_len > 0);
		for (size_t j = 0; j < f->value_len; j++)
			check(f->value[j] != '\r' && f->value[j] != '\n' && f->value[j] != '\0');
		check(f->value_len == 0 || (!IS_WS(f->value[0]) && !IS_WS(f->value[f->value_len - 1])));
	}
}

static void fuzz_head(const char *buf, size_t size, size_t cut, const struct http_limits *lim)
{
	struct http_field fw[MAXF], fs[MAXF];
	struct http_request whole = { .fields = fw }, split = { .fields = fs };
	struct http_scan scan = HTTP_SCAN_INIT;
	ssize_t want, r;

	want = http_parse_head(buf, size, lim, &scan, &whole);
	check(want == 0 || want == -400 || want == -414 || want == -417 || want == -431 ||
	      want == -501 || want == -505 || (want > 0 && (size_t)want <= size));
	if (want > 0)
		check_request(&whole, buf, (size_t)want, lim);

	scan = HTTP_SCAN_INIT;
	r = http_parse_head(buf, cut, lim, &scan, &split);
	if (r == 0)
		r = http_parse_head(buf, size, lim, &scan, &split);
	check(r == want);
	if (r > 0)
		check_same(&whole, &split);

	if (size > 512)
		return;
	scan = HTTP_SCAN_INIT;
	r = 0;
	for (size_t k = 1; k <= size && r == 0; k++)
		r = http_parse_head(buf, k, lim, &scan, &split);
	check(r == want);
	if (r > 0)
		check_same(&whole, &split);
}

/*
 * Byte by byte, the decoder must agree with the whole feed. Once it has accepted a body,
 * every line between the last chunk and the final CRLF must be a field line (RFC 9112
 * 7.1.2): a name, its colon, a value. A line it took without a colon would be a request
 * line swallowed as a trailer.
 */
static void fuzz_chunked_bytewise(const char *buf, size_t size, ssize_t whole, bool done_whole)
{
	struct http_chunked st = HTTP_CHUNKED_INIT;
	bool done = false;
	size_t i, trailer = 0;

	for (i = 0; i < size && !done; i++) {
		ssize_t r = http_chunked_consume(&st, buf + i, 1, &done);

		if (r < 0) {
			check(whole == -400);
			return;
		}
		check(r == 1);
		if (st.state == CK_TRAILER_START && !trailer)
			trailer = i + 1;
	}
	check(whole == (ssize_t)i && done == done_whole);
	if (!done)
		return;
	check(trailer >= 3 && i - trailer >= 2 && buf[i - 2] == '\r' && buf[i - 1] == '\n');
	for (size_t p = trailer; p < i - 2;) {
		size_t n = 0;
		const char *lf;

		while (IS(buf[p + n], C_TCHAR))
			n++;
		check(n > 0 && buf[p + n] == ':');
		lf = memchr(buf + p, '\n', i - 2 - p);
		check(lf && lf[-1] == '\r');
		p = (size_t)(lf - buf) + 1;
	}
}

static void fuzz_chunked(const char *buf, size_t size, size_t cut)
{
	struct http_chunked a = HTTP_CHUNKED_INIT, b = HTTP_CHUNKED_INIT;
	bool done_a = false, done_b = false;
	ssize_t whole, first, total;

	whole = http_chunked_consume(&a, buf, size, &done_a);
	check(whole == -400 || (whole >= 0 && (size_t)whole <= size));
	check(whole < 0 || done_a || (size_t)whole == size);

	first = http_chunked_consume(&b, buf, cut, &done_b);
	total = first;
	if (first >= 0 && !done_b) {
		check((size_t)first == cut);
		ssize_t second = http_chunked_consume(&b, buf + cut, size - cut, &done_b);

		total = second < 0 ? second : first + second;
	}
	check(total == whole && (whole < 0 || done_a == done_b));
	if (size <= 4096)
		fuzz_chunked_bytewise(buf, size, whole, done_a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	unsigned seed = size ? data[0] * 131u + data[size - 1] : 0;
	size_t cut = size ? seed % (size + 1) : 0;
	const struct http_limits *lim = &limit_sets[(seed >> 3) % 4];

	fuzz_head(buf, size, cut, lim);
	fuzz_chunked(buf, size, cut);

	/* A body usually follows a head: decode what comes after one, too. */
	struct http_field f[MAXF];
	struct http_request req = { .fields = f };
	struct http_scan scan = HTTP_SCAN_INIT;
	ssize_t r = http_parse_head(buf, size, &limit_sets[0], &scan, &req);

	if (r > 0)
		fuzz_chunked(buf + r, size - (size_t)r, cut > (size_t)r ? cut - (size_t)r : 0);
	return 0;
}
