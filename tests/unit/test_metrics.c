/* SPDX-License-Identifier: ISC */
/*
 * test_metrics: what a response counts where (class, method, code, histogram bucket, at
 * each bucket's edge), that the counts fold into the totals with their slot, the
 * exposition (every line parsed by the format's grammar, a TYPE before each family's
 * samples, counters named _total, buckets cumulative, label values escaped, a short
 * buffer told the length it needs) and the engine hook's answers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "../../src/scoreboard.c"
#include "../../src/metrics.c"

#define S(x) ((struct http_str){ (x), strlen(x) })

static void test_record(void)
{
	struct scoreboard *sb = sb_create(2);
	struct sb_summary m;
	struct sb_slot *s;

	ok(sb != NULL, "record: board created");
	if (!sb)
		return;
	s = sb_claim(sb, 1);
	metrics_record(s, HTTP_GET, 200, 100, 500);
	metrics_record(s, HTTP_GET, 200, 50, 501);
	metrics_record(s, HTTP_HEAD, 304, 10, 0);
	metrics_record(s, HTTP_POST, 405, 7, 5000000);
	metrics_record(s, HTTP_OPTIONS, 418, 3, 5000001);
	metrics_record(s, HTTP_UNKNOWN, 501, 1, 20);
	metrics_record(NULL, HTTP_GET, 200, 1, 1);
	const struct sb_counts *c = &s->counts;
	is_int(c->requests[1][0], 2, "record: GET 2xx");
	is_int(c->bytes[1][0], 150, "record: GET 2xx bytes");
	is_int(c->requests[2][1], 1, "record: HEAD 3xx");
	is_int(c->requests[3][2], 1, "record: POST 4xx");
	is_int(c->requests[3][3], 1, "record: OPTIONS is other");
	is_int(c->requests[4][3], 1, "record: no method known is other, 5xx");
	is_int(c->codes[code_index(200)], 2, "record: code 200");
	is_int(c->codes[code_index(304)], 1, "record: code 304");
	is_int(c->codes[SB_CODES - 1], 1, "record: 418 is other");
	is_int(code_index(505), SB_CODES - 2, "record: 505 is the last common code");
	is_int(c->duration[0], 3, "record: 0, 20 and 500 us in the first bucket (le is inclusive)");
	is_int(c->duration[1], 1, "record: 501 us in the second");
	is_int(c->duration[8], 1, "record: 5 s in the 5 s bucket");
	is_int(c->duration[9], 1, "record: past 5 s in +Inf");
	is_int(c->duration_us, 500 + 501 + 5000000 + 5000001 + 20, "record: the durations' sum");
	is_int(class_index(99), 0, "record: a status below 100 is clamped into 1xx");
	is_int(class_index(600), SB_CLASSES - 1, "record: above 599 into 5xx");
	sb_count_proxy_refused(s);
	sb_count_proxy_refused(NULL);
	is_int(c->proxy_refused, 1, "record: a PROXY refusal");

	sb_release(s);
	sb_summarize(sb, &m);
	is_int(m.counts.requests[1][0], 2, "fold: a released slot's counts stay in the totals");
	is_int(m.counts.duration_us, 500 + 501 + 5000000 + 5000001 + 20, "fold: and its durations");
	is_int(m.counts.proxy_refused, 1, "fold: and its PROXY refusals");
	s = sb_claim(sb, 1);
	is_int(s->counts.requests[1][0], 0, "fold: a slot claimed again starts from zero");
	metrics_record(s, HTTP_GET, 200, 1, 1);
	sb_summarize(sb, &m);
	is_int(m.counts.requests[1][0], 3, "fold: totals and live slots add up");
	is_int(m.states[SB_IDLE], 1, "states: the live worker is idle");
	sb_set_state(s, SB_KEEPALIVE);
	sb_summarize(sb, &m);
	ok(m.states[SB_KEEPALIVE] == 1 && m.states[SB_IDLE] == 0, "states: then keep-alive");
	sb->totals.generation = 2;
	sb_summarize(sb, &m);
	ok(m.states[SB_GRACEFUL] == 1 && m.states[SB_KEEPALIVE] == 0,
	   "states: a worker of an older generation is finishing");
}

/* The family a sample belongs to: its name, or a histogram's name before its suffix. */
struct family {
	char name[96];
	char type[16];
	bool help;
};

static struct family *find(struct family *f, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(f[i].name) == len && memcmp(f[i].name, name, len) == 0)
			return &f[i];
	return NULL;
}

static bool name_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':' ||
	       (!first && isdigit((unsigned char)c));
}

/* Labels from '{' to '}': name="value" pairs, values escaped. Returns past '}', or NULL. */
static const char *labels(const char *p)
{
	if (*p != '{')
		return p;
	p++;
	while (*p != '}') {
		if (!name_char(*p, true))
			return NULL;
		while (name_char(*p, false))
			p++;
		if (*p++ != '=' || *p++ != '"')
			return NULL;
		while (*p != '"') {
			if (!*p || *p == '\n')
				return NULL;
			if (*p == '\\') {
				p++;
				if (*p != '\\' && *p != '"' && *p != 'n')
					return NULL;
			}
			p++;
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return NULL;
	}
	return p + 1;
}

/*
 * Checks text line by line; returns NULL or what is wrong. series: the sample lines' name
 * and labels, to find duplicates.
 */
static const char *check_exposition(const char *text, char *why, size_t whylen)
{
	struct family fam[64];
	size_t nfam = 0;
	char *copy = strdup(text), *save = NULL, *line;
	char *seen[256];
	size_t nseen = 0;
	const char *bad = NULL;

	if (!copy || !*text || text[strlen(text) - 1] != '\n')
		return "not newline-terminated";
	for (line = strtok_r(copy, "\n", &save); line && !bad; line = strtok_r(NULL, "\n", &save)) {
		char name[96], type[16];
		if (strncmp(line, "# HELP ", 7) == 0) {
			if (sscanf(line + 7, "%95s", name) != 1 || strlen(line) <= 8 + strlen(name)) {
				bad = "a HELP line without text";
				break;
			}
			struct family *f = find(fam, nfam, name, strlen(name));
			if (!f && nfam < 64) {
				f = &fam[nfam++];
				snprintf(f->name, sizeof(f->name), "%s", name);
				f->type[0] = '\0';
			}
			if (f->help)
				bad = "two HELP lines for one family";
			f->help = true;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			struct family *f;
			if (sscanf(line + 7, "%95s %15s", name, type) != 2 ||
			    (strcmp(type, "counter") && strcmp(type, "gauge") &&
			     strcmp(type, "histogram"))) {
				bad = "a TYPE line without a known type";
				break;
			}
			f = find(fam, nfam, name, strlen(name));
			if (!f || !f->help || f->type[0]) {
				bad = "TYPE not right after its HELP, or twice";
				break;
			}
			snprintf(f->type, sizeof(f->type), "%s", type);
			if (strcmp(type, "counter") == 0 &&
			    (strlen(name) < 6 || strcmp(name + strlen(name) - 6, "_total") != 0))
				bad = "a counter not named _total";
			if (strncmp(name, "minihttpd_", 10) != 0)
				bad = "a metric without the minihttpd_ prefix";
			continue;
		}
		if (line[0] == '#') {
			bad = "a comment that is neither HELP nor TYPE";
			break;
		}
		const char *p = line;
		if (!name_char(*p, true)) {
			bad = "a sample not starting with a name";
			break;
		}
		while (name_char(*p, false))
			p++;
		size_t nlen = (size_t)(p - line);
		struct family *f = find(fam, nfam, line, nlen);
		for (const char *sfx = "_bucket\0_sum\0_count\0"; !f && *sfx; sfx += strlen(sfx) + 1)
			if (nlen > strlen(sfx) && memcmp(line + nlen - strlen(sfx), sfx, strlen(sfx)) == 0) {
				f = find(fam, nfam, line, nlen - strlen(sfx));
				if (f && strcmp(f->type, "histogram") != 0)
					f = NULL;
			}
		if (!f || !f->type[0]) {
			bad = "a sample before its family's TYPE";
			break;
		}
		const char *end = labels(p);
		if (!end || *end != ' ') {
			bad = "bad labels";
			break;
		}
		char *num_end;
		strtod(end + 1, &num_end);
		if (num_end == end + 1 || *num_end) {
			bad = "a value that is not a number";
			break;
		}
		for (size_t i = 0; i < nseen; i++)
			if (strncmp(seen[i], line, (size_t)(end - line)) == 0 &&
			    seen[i][end - line] == ' ')
				bad = "a series twice";
		if (nseen < 256)
			seen[nseen++] = line;
	}
	if (bad)
		snprintf(why, whylen, "%s: %s", bad, line ? line : "");
	free(copy);
	return bad ? why : NULL;
}

static uint64_t sample(const char *text, const char *series)
{
	const char *p = strstr(text, series);

	while (p && p != text && p[-1] != '\n')
		p = strstr(p + 1, series);
	if (!p || p[strlen(series)] != ' ')
		return UINT64_MAX;
	return strtoull(p + strlen(series) + 1, NULL, 10);
}

static void test_render(void)
{
	struct sb_summary m;
	char buf[32768], small[16], why[512];

	memset(&m, 0, sizeof(m));
	m.started = 1700000000;
	m.generation = 3;
	m.reloads = 2;
	m.reload_failures = 1;
	m.accepts = 40;
	m.active = 5;
	m.refused = 6;
	m.saturated = true;
	m.saturations = 4;
	m.states[SB_IDLE] = 2;
	m.states[SB_WRITE] = 1;
	m.states[SB_GRACEFUL] = 3;
	m.counts.requests[1][0] = 30;
	m.counts.requests[3][3] = 2;
	m.counts.bytes[1][0] = 12345;
	m.counts.codes[0] = 30;
	m.counts.codes[SB_CODES - 1] = 2;
	m.counts.duration[0] = 20;
	m.counts.duration[3] = 10;
	m.counts.duration[9] = 2;
	m.counts.duration_us = 1500000;
	m.counts.proxy_refused = 7;
	struct metrics_view v = { .sum = &m, .nslots = 16, .version = "1.2.3",
				  .mpm = "ev\"il\\mpm\nx" };
	size_t len = metrics_render(buf, sizeof(buf), &v);

	ok(len > 0 && len < sizeof(buf) && strlen(buf) == len, "render: %zu bytes", len);
	const char *bad = check_exposition(buf, why, sizeof(why));
	ok(!bad, "render: every line follows the format");
	if (bad)
		printf("#   %s\n", bad);
	ok(strstr(buf, "\nminihttpd_build_info{version=\"1.2.3\",mpm=\"ev\\\"il\\\\mpm\\nx\"} 1\n")
	   != NULL, "render: build_info, its label values escaped");
	is_int(sample(buf, "minihttpd_generation"), 3, "render: generation");
	is_int(sample(buf, "minihttpd_reloads_total"), 2, "render: reloads");
	is_int(sample(buf, "minihttpd_reload_failures_total"), 1, "render: reload failures");
	is_int(sample(buf, "minihttpd_start_time_seconds"), 1700000000, "render: start time");
	is_int(sample(buf, "minihttpd_http_requests_total{method=\"GET\",class=\"2xx\"}"), 30,
	       "render: requests by method and class");
	is_int(sample(buf, "minihttpd_http_requests_total{method=\"other\",class=\"4xx\"}"), 2,
	       "render: other, 4xx");
	is_int(sample(buf, "minihttpd_http_requests_total{method=\"HEAD\",class=\"1xx\"}"), 0,
	       "render: every combination, zeros included");
	is_int(sample(buf, "minihttpd_http_response_bytes_total{method=\"GET\",class=\"2xx\"}"),
	       12345, "render: bytes");
	is_int(sample(buf, "minihttpd_http_responses_total{code=\"200\"}"), 30, "render: code 200");
	is_int(sample(buf, "minihttpd_http_responses_total{code=\"other\"}"), 2, "render: other code");
	is_int(sample(buf, "minihttpd_http_responses_total{code=\"505\"}"), 0, "render: code 505");
	is_int(sample(buf, "minihttpd_http_request_duration_seconds_bucket{le=\"0.0005\"}"), 20,
	       "render: first bucket");
	is_int(sample(buf, "minihttpd_http_request_duration_seconds_bucket{le=\"0.005\"}"), 20,
	       "render: buckets are cumulative");
	is_int(sample(buf, "minihttpd_http_request_duration_seconds_bucket{le=\"0.01\"}"), 30,
	       "render: ... and add up");
	is_int(sample(buf, "minihttpd_http_request_duration_seconds_bucket{le=\"+Inf\"}"), 32,
	       "render: +Inf holds them all");
	is_int(sample(buf, "minihttpd_http_request_duration_seconds_count"), 32,
	       "render: _count is +Inf's");
	ok(strstr(buf, "\nminihttpd_http_request_duration_seconds_sum 1.500000\n") != NULL,
	   "render: _sum in seconds");
	is_int(sample(buf, "minihttpd_connections_open"), 5, "render: connections open");
	is_int(sample(buf, "minihttpd_connections_accepted_total"), 40, "render: accepted");
	is_int(sample(buf, "minihttpd_connections_refused_total{reason=\"client_limit\"}"), 6,
	       "render: client-limit refusals");
	is_int(sample(buf, "minihttpd_connections_refused_total{reason=\"proxy_protocol\"}"), 7,
	       "render: PROXY refusals");
	is_int(sample(buf, "minihttpd_workers{state=\"idle\"}"), 2, "render: idle workers");
	is_int(sample(buf, "minihttpd_workers{state=\"writing\"}"), 1, "render: writing");
	is_int(sample(buf, "minihttpd_workers{state=\"finishing\"}"), 3, "render: finishing");
	is_int(sample(buf, "minihttpd_workers{state=\"keepalive\"}"), 0, "render: keepalive");
	is_int(sample(buf, "minihttpd_scoreboard_slots"), 16, "render: slots");
	is_int(sample(buf, "minihttpd_saturated"), 1, "render: saturated");
	is_int(sample(buf, "minihttpd_saturations_total"), 4, "render: saturations");

	size_t short_len = metrics_render(small, sizeof(small), &v);
	ok(short_len == len && strlen(small) == sizeof(small) - 1 &&
	   memcmp(small, buf, sizeof(small) - 1) == 0,
	   "render: a short buffer gets the start, terminated, and the length needed");
	is_int(metrics_render(NULL, 0, &v), len, "render: no buffer, just the length");
	v.mpm = NULL;
	metrics_render(buf, sizeof(buf), &v);
	ok(strstr(buf, "mpm=\"\"} 1\n") != NULL, "render: an unknown MPM is an empty label");
}

static struct sockaddr_storage addr4(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	s4->sin_family = AF_INET;
	inet_pton(AF_INET, text, &s4->sin_addr);
	return ss;
}

static void test_serve(void)
{
	struct scoreboard *sb = sb_create(2);
	struct sb_slot *slot = sb ? sb_claim(sb, 1) : NULL;
	struct addr_net acl;
	struct config conf;
	struct http_request req;
	struct http_reply r;
	struct sockaddr_storage in = addr4("127.0.0.1"), out = addr4("10.1.2.3");
	char body[32768];

	memset(&conf, 0, sizeof(conf));
	addr_parse_cidr("127.0.0.1", &acl, NULL, 0);
	conf.metrics_path = "/metrics";
	conf.metrics_path_len = 8;
	conf.status_allow = &acl;
	conf.nstatus_allow = 1;
	conf.mpm = "event";
	memset(&req, 0, sizeof(req));
	req.method = HTTP_GET;

	req.path = S("/metricsx");
	reply_init(&r);
	ok(!metrics_serve(&conf, slot, &req, (struct sockaddr *)&in, &r),
	   "serve: another path is not ours");
	req.path = S("/metrics");
	reply_init(&r);
	ok(metrics_serve(&conf, slot, &req, (struct sockaddr *)&out, &r) && r.status == 403 &&
	   r.fd < 0, "serve: a peer outside status_allow gets 403");
	metrics_record(slot, HTTP_GET, 200, 99, 10);
	reply_init(&r);
	ok(metrics_serve(&conf, slot, &req, (struct sockaddr *)&in, &r) && r.status == 200 &&
	   r.fd >= 0, "serve: from loopback, a file body");
	ok(strstr(r.hdr, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != NULL,
	   "serve: the format's content type");
	ssize_t n = r.fd >= 0 ? pread(r.fd, body, sizeof(body) - 1, 0) : -1;
	body[n > 0 ? n : 0] = '\0';
	ok(n == r.len && sample(body, "minihttpd_http_requests_total{method=\"GET\","
				"class=\"2xx\"}") == 1 &&
	   sample(body, "minihttpd_workers{state=\"writing\"}") == 1 &&
	   strstr(body, "mpm=\"event\"") != NULL,
	   "serve: the body counts what the board holds, this worker writing");
	if (r.fd >= 0)
		close(r.fd);
	reply_init(&r);
	ok(metrics_serve(&conf, NULL, &req, (struct sockaddr *)&in, &r) && r.status == 503,
	   "serve: without a scoreboard slot, 503");
	conf.metrics_path = "";
	conf.metrics_path_len = 0;
	reply_init(&r);
	ok(!metrics_serve(&conf, slot, &req, (struct sockaddr *)&in, &r), "serve: off when \"\"");
}

int main(void)
{
	test_record();
	test_render();
	test_serve();
	return done_testing();
}
