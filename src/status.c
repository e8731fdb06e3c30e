/* SPDX-License-Identifier: ISC */
/*
 * status: the page and its text form. The text form keeps mod_status's ?auto names where
 * they mean the same (Total Accesses, BusyWorkers, Scoreboard...) so existing collectors
 * read it; the page adds generations, since a reload leaves an older one finishing.
 * In the Scoreboard line a worker of an older generation is 'G' whatever it does, so '_'
 * and 'G' count exactly IdleWorkers and FinishingWorkers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "status.h"

#define MAX_GENS 32

struct gen_stat {
	unsigned gen;
	unsigned workers, busy;
	uint64_t active, requests;
};

static bool finishing(const struct sb_summary *m, const struct sb_slot *s)
{
	return s->generation != m->generation || s->state == SB_GRACEFUL;
}

static char slot_char(const struct sb_summary *m, const struct sb_slot *s)
{
	if (!s->pid)
		return '.';
	if (finishing(m, s))
		return 'G';
	return s->state == SB_FREE ? '_' : sb_state_char(s->state);
}

/* Live generations, the serving one first, then the older ones from the newest. */
static size_t generations(const struct sb_snapshot *snap, struct gen_stat *g, size_t max)
{
	const struct sb_summary *m = &snap->sum;
	size_t n = 1;

	memset(g, 0, max * sizeof(*g));
	g[0].gen = m->generation;
	for (unsigned i = 0; i < snap->nslots; i++) {
		const struct sb_slot *s = &snap->slots[i];
		size_t k;
		if (!s->pid)
			continue;
		for (k = 0; k < n && g[k].gen != s->generation; k++)
			;
		if (k == n) {
			if (n == max)
				continue;
			g[n++].gen = s->generation;
		}
		g[k].workers++;
		g[k].busy += s->state != SB_IDLE && s->state != SB_FREE;
		g[k].active += s->active;
		g[k].requests += s->requests;
	}
	for (size_t i = 2; i < n; i++)
		for (size_t j = i; j > 1 && g[j].gen > g[j - 1].gen; j--) {
			struct gen_stat t = g[j];
			g[j] = g[j - 1];
			g[j - 1] = t;
		}
	return n;
}

static const char *iso_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "-");
	return buf;
}

static int64_t uptime(const struct status_view *v)
{
	int64_t up = (int64_t)v->now - v->snap->sum.started;

	return up > 0 ? up : 0;
}

static void render_text(FILE *f, const struct status_view *v)
{
	const struct sb_summary *m = &v->snap->sum;
	struct gen_stat g[MAX_GENS];
	size_t ng = generations(v->snap, g, MAX_GENS);
	int64_t up = uptime(v);
	double secs = up > 0 ? (double)up : 1.0;
	char t1[32], t2[32];

	fprintf(f, "ServerVersion: %s\n", v->server);
	if (v->mpm)
		fprintf(f, "ServerMPM: %s\n", v->mpm);
	fprintf(f, "CurrentTime: %s\nRestartTime: %s\nUptime: %lld\n",
		iso_time(v->now, t1, sizeof(t1)), iso_time(m->started, t2, sizeof(t2)),
		(long long)up);
	fprintf(f, "Generation: %u\nFinishingGenerations:", m->generation);
	for (size_t i = 1; i < ng; i++)
		fprintf(f, " %u", g[i].gen);
	fprintf(f, "\nReloads: %llu\n", (unsigned long long)m->reloads);
	fprintf(f, "Total Accesses: %llu\nTotal kBytes: %llu\nTotal Bytes: %llu\n"
		"Total Connections: %llu\n", (unsigned long long)m->requests,
		(unsigned long long)(m->bytes / 1024), (unsigned long long)m->bytes,
		(unsigned long long)m->accepts);
	fprintf(f, "ReqPerSec: %.3f\nBytesPerSec: %.1f\nBytesPerReq: %.1f\n",
		(double)m->requests / secs, (double)m->bytes / secs,
		m->requests ? (double)m->bytes / (double)m->requests : 0.0);
	fprintf(f, "ConnsTotal: %llu\nBusyWorkers: %u\nIdleWorkers: %u\nFinishingWorkers: %u\n",
		(unsigned long long)m->active, m->busy, m->idle, m->finishing);
	fprintf(f, "Saturated: %d\nSaturations: %llu\n", m->saturated ? 1 : 0,
		(unsigned long long)m->saturations);
	fprintf(f, "ClientLimitRefusals: %llu\n", (unsigned long long)m->refused);
	if (m->saturated)
		fprintf(f, "SaturatedSince: %s\nSaturatedReason: %s\n",
			iso_time(m->saturated_since, t1, sizeof(t1)), m->saturated_what);
	fputs("Scoreboard: ", f);
	for (unsigned i = 0; i < v->snap->nslots; i++)
		fputc(slot_char(m, &v->snap->slots[i]), f);
	fputc('\n', f);
}

/* HTML-escapes s; bytes that are not printable ASCII become '?'. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(c >= 0x20 && c < 0x7f ? c : '?', f); break;
		}
	}
}

static const char *human_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double v = (double)b;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

static const char *human_duration(int64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%lld d %lld h %lld min", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600), (long long)(s % 3600 / 60));
	else if (s >= 3600)
		snprintf(buf, len, "%lld h %lld min %lld s", (long long)(s / 3600),
			 (long long)(s % 3600 / 60), (long long)(s % 60));
	else if (s >= 60)
		snprintf(buf, len, "%lld min %lld s", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(buf, len, "%lld s", (long long)s);
	return buf;
}

static void render_generations(FILE *f, const struct status_view *v)
{
	struct gen_stat g[MAX_GENS];
	size_t ng = generations(v->snap, g, MAX_GENS);

	fputs("<h2>Generations</h2>\n<table>\n<tr><th>Generation</th><th>State</th>"
	      "<th>Workers</th><th>Busy</th><th>Connections open</th>"
	      "<th>Requests (live workers)</th></tr>\n", f);
	for (size_t i = 0; i < ng; i++)
		fprintf(f, "<tr%s><td>%u</td><td>%s</td><td>%u</td><td>%u</td><td>%llu</td>"
			"<td>%llu</td></tr>\n", i ? " class=\"finishing\"" : "", g[i].gen,
			i ? "finishing" : "serving", g[i].workers, g[i].busy,
			(unsigned long long)g[i].active, (unsigned long long)g[i].requests);
	fputs("</table>\n", f);
}

static void render_workers(FILE *f, const struct status_view *v)
{
	const struct sb_summary *m = &v->snap->sum;
	char b[32], d[48];

	fputs("<h2>Workers</h2>\n<table>\n<tr><th>Slot</th><th>PID</th><th>TID</th>"
	      "<th>Generation</th><th>State</th><th>Open</th><th>Connections</th>"
	      "<th>Requests</th><th>Sent</th><th>Age</th><th>Request</th></tr>\n", f);
	for (unsigned i = 0; i < v->snap->nslots; i++) {
		const struct sb_slot *s = &v->snap->slots[i];
		bool fin;
		if (!s->pid)
			continue;
		fin = finishing(m, s);
		fprintf(f, "<tr%s><td>%u</td><td>%ld</td><td>%ld</td><td>%u%s</td><td>%s</td>"
			"<td>%u</td><td>%llu</td><td>%llu</td><td>%s</td><td>%s</td><td>",
			fin ? " class=\"finishing\"" : "", i, (long)s->pid, (long)s->tid,
			s->generation, fin ? " (finishing)" : "", sb_state_name(s->state),
			s->active, (unsigned long long)s->conns, (unsigned long long)s->requests,
			human_bytes(s->bytes, b, sizeof(b)),
			human_duration(v->now > s->started ? (int64_t)v->now - s->started : 0, d,
				       sizeof(d)));
		put_escaped(f, s->request);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void render_html(FILE *f, const struct status_view *v)
{
	const struct sb_summary *m = &v->snap->sum;
	int64_t up = uptime(v);
	char t1[32], t2[32], d[48], b[32];

	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>", f);
	put_escaped(f, v->server);
	fputs(" status</title>\n<style>body{font-family:sans-serif}"
	      "table{border-collapse:collapse}th,td{border:1px solid #999;padding:2px 6px}"
	      "tr.finishing{color:#777}.saturated{color:#b00;font-weight:bold}</style>\n"
	      "</head><body>\n<h1>Server status</h1>\n<dl>\n<dt>Server</dt><dd>", f);
	put_escaped(f, v->server);
	if (v->mpm) {
		fputs(", MPM ", f);
		put_escaped(f, v->mpm);
	}
	fprintf(f, "</dd>\n<dt>Current time</dt><dd>%s</dd>\n<dt>Started</dt><dd>%s "
		"(up %s)</dd>\n<dt>Generation</dt><dd>%u serving, %llu reload%s</dd>\n",
		iso_time(v->now, t1, sizeof(t1)), iso_time(m->started, t2, sizeof(t2)),
		human_duration(up, d, sizeof(d)), m->generation,
		(unsigned long long)m->reloads, m->reloads == 1 ? "" : "s");
	fprintf(f, "<dt>Totals</dt><dd>%llu requests, %s sent, %llu connections accepted, "
		"%llu refused (max_connections_per_client)</dd>\n<dt>Now</dt><dd>%llu open "
		"connection%s; %u busy, %u idle, %u finishing workers</dd>\n</dl>\n",
		(unsigned long long)m->requests, human_bytes(m->bytes, b, sizeof(b)),
		(unsigned long long)m->accepts, (unsigned long long)m->refused,
		(unsigned long long)m->active, m->active == 1 ? "" : "s", m->busy, m->idle,
		m->finishing);
	if (m->saturated) {
		fprintf(f, "<p class=\"saturated\">Saturated since %s: ",
			iso_time(m->saturated_since, t1, sizeof(t1)));
		put_escaped(f, m->saturated_what);
		fputs("</p>\n", f);
	} else {
		fprintf(f, "<p>Not saturated (%llu episode%s since start).</p>\n",
			(unsigned long long)m->saturations, m->saturations == 1 ? "" : "s");
	}
	render_generations(f, v);
	fputs("<h2>Scoreboard</h2>\n<pre>", f);
	for (unsigned i = 0; i < v->snap->nslots; i++) {
		fputc(slot_char(m, &v->snap->slots[i]), f);
		if (i % 64 == 63 && i + 1 < v->snap->nslots)
			fputc('\n', f);
	}
	fputs("</pre>\n<p>_ idle, R reading, W writing, K keep-alive, C closing, "
	      "G gracefully finishing (or of an older generation), . free slot</p>\n", f);
	render_workers(f, v);
	fputs("</body></html>\n", f);
}

int status_render(FILE *out, const struct status_view *v, enum status_form form)
{
	if (form == STATUS_TEXT)
		render_text(out, v);
	else
		render_html(out, v);
	return ferror(out) ? -1 : 0;
}

/*
 * Finds the token word in a query ("auto" in "?auto" or "?x&auto", "refresh" in
 * "?refresh=5"); *val gets what follows '=' up to the next '&' (empty without one).
 */
static bool query_has(const struct http_str *q, const char *word, struct http_str *val)
{
	size_t wl = strlen(word);
	const char *p = q->p, *end = q->p ? q->p + q->len : NULL;

	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) >= wl && memcmp(p, word, wl) == 0 &&
		    (p + wl == stop || p[wl] == '=')) {
			const char *v = p + wl == stop ? stop : p + wl + 1;
			*val = (struct http_str){ v, (size_t)(stop - v) };
			return true;
		}
		p = amp ? amp + 1 : end;
	}
	return false;
}

/* "?refresh=N" with N in 1..3600 asks for a Refresh field; 0 otherwise. */
static int refresh_secs(const struct http_str *q)
{
	struct http_str v;
	int secs = 0;

	if (!query_has(q, "refresh", &v) || v.len == 0 || v.len > 4)
		return 0;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return 0;
		secs = secs * 10 + (v.p[i] - '0');
	}
	return secs >= 1 && secs <= 3600 ? secs : 0;
}

int status_body(struct http_reply *r, const char *buf, size_t len)
{
	int fd = memfd_create("minihttpd-status", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	r->fd = fd;
	r->off = 0;
	r->len = (off_t)len;
	return 0;
}

bool status_serve(const struct config *conf, struct sb_slot *slot,
		  const struct http_request *req, const struct sockaddr *peer,
		  struct http_reply *r)
{
	const struct scoreboard *sb = sb_of(slot);
	struct sb_snapshot snap;
	struct http_str word;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc = -1;

	if (!conf->status_path_len || req->path.len != conf->status_path_len ||
	    memcmp(req->path.p, conf->status_path, req->path.len) != 0)
		return false;
	if (!addr_match(conf->status_allow, conf->nstatus_allow, peer)) {
		reply_error(r, 403);
		return true;
	}
	/* The page shows this worker answering it, as it will be by the time it is read. */
	sb_set_state(slot, SB_WRITE);
	if (!sb || sb_snapshot(sb, sb->nslots, &snap) < 0) {
		reply_error(r, 503);
		return true;
	}
	enum status_form form = query_has(&req->query, "auto", &word) ? STATUS_TEXT : STATUS_HTML;
	struct status_view v = {
		.snap = &snap,
		.server = conf->server_tokens ? PACKAGE_NAME "/" PACKAGE_VERSION : PACKAGE_NAME,
		.mpm = conf->mpm,
		.now = time(NULL),
	};
	f = open_memstream(&buf, &len);
	if (f) {
		rc = status_render(f, &v, form);
		if (fclose(f) != 0 || rc < 0 || status_body(r, buf, len) < 0)
			rc = -1;
	}
	free(buf);
	sb_snapshot_free(&snap);
	if (rc < 0) {
		log_msg(LOG_ERR, "status page %s: cannot render: %m", conf->status_path);
		reply_error(r, 500);
		return true;
	}
	reply_header(r, "Content-Type: %s; charset=utf-8",
		     form == STATUS_TEXT ? "text/plain" : "text/html");
	reply_header(r, "Cache-Control: no-store");
	int secs = refresh_secs(&req->query);
	if (secs)
		reply_header(r, "Refresh: %d", secs);
	return true;
}
