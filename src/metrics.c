/* SPDX-License-Identifier: ISC */
/*
 * metrics: names follow Prometheus' conventions (a minihttpd_ prefix, _total on counters,
 * seconds and bytes). Every labelled series is written from the start, zeros included, so
 * that rate() has a first sample the moment a series first moves. The histogram's buckets
 * are fixed: counted one bucket per response on the hit path, cumulated here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "metrics.h"
#include "status.h"

static const int common_codes[SB_CODES - 1] = {
	200, 206, 301, 302, 304, 400, 401, 403, 404, 405, 408, 413, 414, 416, 431,
	500, 501, 503, 505,
};

/* Upper bounds in microseconds; the last bucket, +Inf, takes the rest. */
static const uint64_t bucket_us[SB_BUCKETS - 1] = {
	500, 1000, 5000, 10000, 50000, 100000, 500000, 1000000, 5000000,
};
static const char *const bucket_le[SB_BUCKETS] = {
	"0.0005", "0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "+Inf",
};

static const char *const method_names[SB_METHODS] = { "GET", "HEAD", "POST", "other" };

static unsigned method_index(enum http_method m)
{
	switch (m) {
	case HTTP_GET: return 0;
	case HTTP_HEAD: return 1;
	case HTTP_POST: return 2;
	default: return 3;
	}
}

static unsigned class_index(int status)
{
	int c = status / 100;

	return c < 1 ? 0 : c > SB_CLASSES ? SB_CLASSES - 1 : (unsigned)(c - 1);
}

static unsigned code_index(int status)
{
	unsigned i = 0;

	while (i < SB_CODES - 1 && common_codes[i] != status)
		i++;
	return i;
}

static unsigned bucket_index(uint64_t us)
{
	unsigned i = 0;

	while (i < SB_BUCKETS - 1 && us > bucket_us[i])
		i++;
	return i;
}

void metrics_record(struct sb_slot *slot, enum http_method method, int status,
		    uint64_t bytes, uint64_t us)
{
	struct sb_counts *c;
	unsigned cl = class_index(status), m = method_index(method);

	if (!slot)
		return;
	c = &slot->counts;
	sb_add(&c->requests[cl][m], 1);
	sb_add(&c->bytes[cl][m], bytes);
	sb_add(&c->codes[code_index(status)], 1);
	sb_add(&c->duration[bucket_index(us)], 1);
	sb_add(&c->duration_us, us);
}

/* The text so far; len keeps counting past cap, so the caller learns what it needs. */
struct out {
	char *buf;
	size_t cap, len;
};

static __attribute__((format(printf, 2, 3))) void put(struct out *o, const char *fmt, ...)
{
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped (the format's rule). */
static void put_label(struct out *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			put(o, "\\%c", *s);
		else if (*s == '\n')
			put(o, "\\n");
		else
			put(o, "%c", *s);
	}
}

static void counter(struct out *o, const char *name, const char *help, uint64_t v)
{
	family(o, name, "counter", help);
	put(o, "%s %llu\n", name, (unsigned long long)v);
}

static void gauge(struct out *o, const char *name, const char *help, long long v)
{
	family(o, name, "gauge", help);
	put(o, "%s %lld\n", name, v);
}

static void by_class_method(struct out *o, const char *name, const char *help,
			    const uint64_t v[SB_CLASSES][SB_METHODS])
{
	family(o, name, "counter", help);
	for (unsigned c = 0; c < SB_CLASSES; c++)
		for (unsigned m = 0; m < SB_METHODS; m++)
			put(o, "%s{method=\"%s\",class=\"%uxx\"} %llu\n", name, method_names[m],
			    c + 1, (unsigned long long)v[c][m]);
}

static void histogram(struct out *o, const struct sb_counts *c)
{
	static const char name[] = "minihttpd_http_request_duration_seconds";
	uint64_t n = 0;

	family(o, name, "histogram", "Time from a request's first byte read to its "
	       "response's last byte sent.");
	for (unsigned b = 0; b < SB_BUCKETS; b++) {
		n += c->duration[b];
		put(o, "%s_bucket{le=\"%s\"} %llu\n", name, bucket_le[b], (unsigned long long)n);
	}
	put(o, "%s_sum %llu.%06llu\n%s_count %llu\n", name,
	    (unsigned long long)(c->duration_us / 1000000),
	    (unsigned long long)(c->duration_us % 1000000), name, (unsigned long long)n);
}

static void workers(struct out *o, const struct sb_summary *m)
{
	static const struct { unsigned state; const char *name; } shown[] = {
		{ SB_IDLE, "idle" }, { SB_READ, "reading" }, { SB_WRITE, "writing" },
		{ SB_KEEPALIVE, "keepalive" }, { SB_CLOSING, "closing" },
		{ SB_GRACEFUL, "finishing" },
	};

	family(o, "minihttpd_workers", "gauge", "Workers (scoreboard slots claimed) by state; "
	       "finishing: draining, or of a generation that no longer serves.");
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		put(o, "minihttpd_workers{state=\"%s\"} %u\n", shown[i].name,
		    m->states[shown[i].state]);
}

size_t metrics_render(char *buf, size_t cap, const struct metrics_view *v)
{
	const struct sb_summary *m = v->sum;
	const struct sb_counts *c = &m->counts;
	struct out o = { buf, cap, 0 };

	if (cap)
		buf[0] = '\0';
	family(&o, "minihttpd_build_info", "gauge", "Always 1: the version and the serving "
	       "generation's MPM in its labels.");
	put(&o, "minihttpd_build_info{version=\"");
	put_label(&o, v->version);
	put(&o, "\",mpm=\"");
	put_label(&o, v->mpm ? v->mpm : "");
	put(&o, "\"} 1\n");
	gauge(&o, "minihttpd_start_time_seconds", "When the master started, in seconds since "
	      "the Unix epoch.", (long long)m->started);
	gauge(&o, "minihttpd_generation", "The serving generation (one per start or reload).",
	      (long long)m->generation);
	counter(&o, "minihttpd_reloads_total", "Reloads (SIGHUP) and access log reopenings "
		"(SIGUSR1) that started a new generation.", m->reloads);
	counter(&o, "minihttpd_reload_failures_total", "Reloads and reopenings refused: the "
		"previous configuration kept serving.", m->reload_failures);
	by_class_method(&o, "minihttpd_http_requests_total", "Responses sent, by request method "
			"and status class.", c->requests);
	by_class_method(&o, "minihttpd_http_response_bytes_total", "Bytes sent in responses, "
			"heads included, by request method and status class.", c->bytes);
	family(&o, "minihttpd_http_responses_total", "counter", "Responses sent, by status "
	       "code: the common ones, and other.");
	for (unsigned i = 0; i < SB_CODES; i++) {
		if (i < SB_CODES - 1)
			put(&o, "minihttpd_http_responses_total{code=\"%d\"} %llu\n",
			    common_codes[i], (unsigned long long)c->codes[i]);
		else
			put(&o, "minihttpd_http_responses_total{code=\"other\"} %llu\n",
			    (unsigned long long)c->codes[i]);
	}
	histogram(&o, c);
	gauge(&o, "minihttpd_connections_open", "Client connections open now.",
	      (long long)m->active);
	counter(&o, "minihttpd_connections_accepted_total", "Client connections accepted.",
		m->accepts);
	family(&o, "minihttpd_connections_refused_total", "counter", "Connections closed "
	       "unserved: client_limit, over max_connections_per_client (answered 503); "
	       "proxy_protocol, a PROXY header missing, malformed or too slow.");
	put(&o, "minihttpd_connections_refused_total{reason=\"client_limit\"} %llu\n",
	    (unsigned long long)m->refused);
	put(&o, "minihttpd_connections_refused_total{reason=\"proxy_protocol\"} %llu\n",
	    (unsigned long long)c->proxy_refused);
	workers(&o, m);
	gauge(&o, "minihttpd_scoreboard_slots", "Scoreboard slots: the most workers at once "
	      "(max_workers).", (long long)v->nslots);
	gauge(&o, "minihttpd_saturated", "1 during a saturation episode (every worker the MPM "
	      "allows busy), else 0.", m->saturated ? 1 : 0);
	counter(&o, "minihttpd_saturations_total", "Saturation episodes begun.", m->saturations);
	return o.len;
}

bool metrics_serve(const struct config *conf, struct sb_slot *slot,
		   const struct http_request *req, const struct sockaddr *peer,
		   struct http_reply *r)
{
	const struct scoreboard *sb = sb_of(slot);
	struct sb_summary sum;
	size_t cap = 16384, len;
	char *buf;

	if (!conf->metrics_path_len || req->path.len != conf->metrics_path_len ||
	    memcmp(req->path.p, conf->metrics_path, req->path.len) != 0)
		return false;
	if (!addr_match(conf->status_allow, conf->nstatus_allow, peer)) {
		reply_error(r, 403);
		return true;
	}
	/* The scrape shows this worker answering it, as the status page does. */
	sb_set_state(slot, SB_WRITE);
	if (!sb) {
		reply_error(r, 503);
		return true;
	}
	sb_summarize(sb, &sum);
	struct metrics_view v = {
		.sum = &sum,
		.nslots = sb->nslots,
		.version = PACKAGE_VERSION,
		.mpm = conf->mpm,
	};
	buf = malloc(cap);
	len = buf ? metrics_render(buf, cap, &v) : 0;
	if (buf && len >= cap) {
		free(buf);
		cap = len + 1;
		buf = malloc(cap);
		len = buf ? metrics_render(buf, cap, &v) : 0;
	}
	int rc = buf ? status_body(r, buf, len) : -1;
	free(buf);
	if (rc < 0) {
		log_msg(LOG_ERR, "metrics %s: cannot render: %m", conf->metrics_path);
		reply_error(r, 500);
		return true;
	}
	reply_header(r, "Content-Type: " METRICS_CONTENT_TYPE);
	reply_header(r, "Cache-Control: no-store");
	return true;
}
