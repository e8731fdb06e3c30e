/* SPDX-License-Identifier: ISC */
/*
 * test_status: the scoreboard (claiming, folding freed slots into the totals across
 * processes, saturation edges, attaching from outside through /proc) and the status page
 * (the text form's numbers and Scoreboard line, HTML escaping, the engine hook's answers,
 * status_allow among them; test_addr covers the matching itself).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "../../src/scoreboard.c"
#include "../../src/status.c"
#include "../../src/addr.c"
#include "../../src/log.c"

#define S(x) ((struct http_str){ (x), strlen(x) })

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, text, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, text, &s4->sin_addr);
	}
	return ss;
}

static void test_board(void)
{
	struct scoreboard *sb = sb_create(4);
	struct sb_summary m;
	struct sb_slot *a, *b;

	ok(sb != NULL, "board: created");
	if (!sb)
		return;
	sb->totals.generation = 1;
	a = sb_claim(sb, 1);
	b = sb_claim(sb, 1);
	ok(a && b && a != b, "board: two slots claimed");
	ok(sb_of(a) == sb && sb_of(b) == sb && sb_of(NULL) == NULL, "board: sb_of finds the board");
	sb_add(&a->conns, 2);
	sb_add(&a->requests, 5);
	sb_add(&a->bytes, 1000);
	sb_add(&a->refused, 4);
	sb_add(&b->conns, 1);
	sb_add(&b->requests, 1);
	sb_add(&b->bytes, 10);
	a->active = 1;
	sb_set_state(a, SB_WRITE);
	sb_summarize(sb, &m);
	is_int(m.requests, 6, "board: requests summed over slots");
	is_int(m.accepts, 3, "board: accepts are the slots' connections");
	is_int(m.bytes, 1010, "board: bytes summed");
	is_int(m.refused, 4, "board: refusals summed");
	is_int(m.active, 1, "board: open connections");
	is_int(m.workers, 2, "board: two workers");
	is_int(m.busy, 1, "board: one busy (writing)");
	is_int(m.idle, 1, "board: one idle");

	sb_release(a);
	sb_summarize(sb, &m);
	is_int(m.requests, 6, "board: a released slot's requests stay in the totals");
	is_int(m.accepts, 3, "board: and its connections");
	is_int(m.bytes, 1010, "board: and its bytes");
	is_int(m.refused, 4, "board: and its refusals");
	is_int(m.active, 0, "board: its open connections do not");
	is_int(m.workers, 1, "board: one worker left");
	sb_release_pid(sb, getpid());
	sb_summarize(sb, &m);
	is_int(m.requests, 6, "board: freeing again by pid adds nothing");
	is_int(m.workers, 0, "board: no worker left");

	/* A worker that dies without releasing: its reaper folds it. */
	pid_t pid = fork();
	if (pid == 0) {
		struct sb_slot *s = sb_claim(sb, 1);
		if (!s)
			_exit(1);
		sb_add(&s->requests, 7);
		sb_add(&s->conns, 3);
		_exit(0);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	sb_summarize(sb, &m);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && m.workers == 1 && m.requests == 13,
	   "board: a child's slot counts in the parent's view");
	sb_release_pid(sb, pid);
	sb_summarize(sb, &m);
	is_int(m.requests, 13, "board: a dead child's requests are folded by its reaper");
	is_int(m.accepts, 6, "board: and its connections");
	is_int(m.workers, 0, "board: its slot is free");

	struct sb_slot *all[5];
	for (int i = 0; i < 5; i++)
		all[i] = sb_claim(sb, 2);
	ok(all[3] && !all[4], "board: a full board claims nothing");
	for (int i = 0; i < 4; i++)
		sb_release(all[i]);

	/* The generations: older ones are finishing, idle or not. */
	sb->totals.generation = 3;
	a = sb_claim(sb, 2);
	b = sb_claim(sb, 3);
	struct sb_slot *c = sb_claim(sb, 3);
	sb_set_state(c, SB_KEEPALIVE);
	sb_summarize(sb, &m);
	ok(m.workers == 3 && m.finishing == 1 && m.idle == 1 && m.busy == 2,
	   "board: an idle worker of an older generation is finishing, not idle");
	sb_set_state(b, SB_GRACEFUL);
	sb_summarize(sb, &m);
	ok(m.finishing == 2 && m.idle == 0, "board: a draining worker is finishing");
	/* What it still serves (a connection queued when it stopped) does not undo that. */
	sb_set_state(b, SB_WRITE);
	sb_set_state(b, SB_IDLE);
	sb_summarize(sb, &m);
	ok(b->state == SB_GRACEFUL && m.finishing == 2 && m.idle == 0,
	   "board: a draining worker stays finishing whatever it serves after");
	/* A worker of a newer generation than the master named yet: that one is starting. */
	struct sb_slot *d = sb_claim(sb, 4);
	sb_summarize(sb, &m);
	ok(m.generation == 4 && m.finishing == 3, "board: the newest generation is the serving one");
	/* A generation's load, for the balance of its processes (worker_share_room()). */
	uint64_t conns;
	unsigned workers;
	__atomic_store_n(&b->active, 5, __ATOMIC_RELAXED);
	__atomic_store_n(&c->active, 7, __ATOMIC_RELAXED);
	__atomic_store_n(&a->active, 100, __ATOMIC_RELAXED);
	sb_generation_load(sb, 3, 4, &conns, &workers);
	ok(conns == 12 && workers == 2, "board: a generation's load counts its slots only "
	   "(%llu connections in %u slots)", (unsigned long long)conns, workers);
	sb_generation_load(sb, 3, 1, &conns, &workers);
	ok(conns == 5 && workers == 1, "board: and ends at the first max of them (%llu in %u)",
	   (unsigned long long)conns, workers);
	sb_release(a);
	sb_release(b);
	sb_release(c);
	sb_release(d);
	munmap(sb, board_size(4));
}

static void test_saturation(void)
{
	struct scoreboard *sb = sb_create(4);
	struct sb_summary m;

	if (!sb)
		return;
	sb->totals.generation = 5;
	ok(!sb_saturated(sb, false, "x"), "saturation: off while off is no edge");
	ok(sb_saturated(sb, true, "test limit"), "saturation: the rising edge flips");
	ok(!sb_saturated(sb, true, "again"), "saturation: repeated, it is the same episode");
	sb_summarize(sb, &m);
	ok(m.saturated && m.saturations == 1 && strcmp(m.saturated_what, "test limit") == 0 &&
	   m.saturated_since > 0, "saturation: flag, count, reason and start in the totals");
	ok(sb_saturated(sb, false, NULL), "saturation: the falling edge flips");
	ok(!sb_saturated(sb, false, NULL), "saturation: and only once");
	sb_summarize(sb, &m);
	ok(!m.saturated && m.saturations == 1, "saturation: over, one episode counted");

	struct sb_slot *a = sb_claim(sb, 5), *b = sb_claim(sb, 5), *old = sb_claim(sb, 4);
	sb_set_state(a, SB_WRITE);
	sb_set_state(old, SB_WRITE);
	sb_check_busy(sb, 5, 0, 0);
	sb_summarize(sb, &m);
	ok(!m.saturated, "saturation: one of two workers idle is not saturated");
	sb_set_state(b, SB_KEEPALIVE);
	sb_check_busy(sb, 5, 3, 0);
	sb_summarize(sb, &m);
	ok(!m.saturated, "saturation: all busy below the MPM's bound, board not full, is not");
	sb_check_busy(sb, 4, 0, 0);
	sb_summarize(sb, &m);
	ok(!m.saturated, "saturation: an older generation's check changes nothing");
	sb_check_busy(sb, 5, 0, 0);
	sb_summarize(sb, &m);
	ok(m.saturated && m.saturations == 2 && strstr(m.saturated_what, "all 2 workers"),
	   "saturation: every worker of the serving generation busy");
	sb_set_state(a, SB_IDLE);
	sb_check_busy(sb, 5, 0, 0);
	sb_summarize(sb, &m);
	ok(!m.saturated, "saturation: a worker idle again ends it");

	/* Event loops: busy means at the connection limit, whatever the state says. */
	sb_set_state(a, SB_KEEPALIVE);
	__atomic_store_n(&a->active, 10, __ATOMIC_RELAXED);
	__atomic_store_n(&b->active, 9, __ATOMIC_RELAXED);
	sb_check_busy(sb, 5, 0, 10);
	sb_summarize(sb, &m);
	ok(!m.saturated, "saturation: one loop below max_active is not saturated");
	__atomic_store_n(&b->active, 10, __ATOMIC_RELAXED);
	sb_check_busy(sb, 5, 0, 10);
	sb_summarize(sb, &m);
	ok(m.saturated && m.saturations == 3 && strstr(m.saturated_what, "hold 10 connections"),
	   "saturation: every loop at max_active is");
	__atomic_store_n(&a->active, 3, __ATOMIC_RELAXED);
	sb_check_busy(sb, 5, 0, 10);
	sb_summarize(sb, &m);
	ok(!m.saturated, "saturation: one connection closing ends it");
	sb_release(a);
	sb_release(b);
	sb_release(old);
	munmap(sb, board_size(4));
}

/* The value of "Name: value" in text; NULL when absent. */
static const char *field(const char *text, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			v += *v == ' ';
			size_t n = strcspn(v, "\n");
			snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), v);
			return buf;
		}
	}
	return NULL;
}

static char *render(const struct status_view *v, enum status_form form)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	int rc = status_render(f, v, form);
	fclose(f);
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static void test_render(void)
{
	struct sb_slot slots[6];
	struct sb_snapshot snap = { .nslots = 6, .slots = slots };
	struct sb_summary *m = &snap.sum;
	char buf[256];

	memset(slots, 0, sizeof(slots));
	memset(m, 0, sizeof(*m));
	m->started = 1000;
	m->generation = 7;
	m->reloads = 2;
	m->requests = 41;
	m->bytes = 10240;
	m->accepts = 12;
	m->refused = 9;
	m->active = 3;
	m->workers = 4;
	m->busy = 3;
	m->idle = 1;
	m->finishing = 2;
	slots[0] = (struct sb_slot){ .pid = 10, .generation = 7, .state = SB_IDLE };
	slots[1] = (struct sb_slot){ .pid = 11, .generation = 7, .state = SB_WRITE };
	slots[3] = (struct sb_slot){ .pid = 12, .generation = 6, .state = SB_WRITE,
				     .active = 1 };
	slots[4] = (struct sb_slot){ .pid = 13, .generation = 5, .state = SB_IDLE };
	snprintf(slots[1].request, sizeof(slots[1].request), "GET /<script>&\"x\x01 HTTP/1.1");
	struct status_view v = { .snap = &snap, .server = "minihttpd/9", .mpm = "prefork",
				 .now = 1100 };

	char *t = render(&v, STATUS_TEXT);
	ok(t != NULL, "text: rendered");
	if (!t)
		return;
	is_str(field(t, "ServerVersion", buf, sizeof(buf)), "minihttpd/9", "text: ServerVersion");
	is_str(field(t, "ServerMPM", buf, sizeof(buf)), "prefork", "text: ServerMPM");
	is_str(field(t, "Uptime", buf, sizeof(buf)), "100", "text: Uptime");
	is_str(field(t, "Total Accesses", buf, sizeof(buf)), "41", "text: Total Accesses");
	is_str(field(t, "Total kBytes", buf, sizeof(buf)), "10", "text: Total kBytes");
	is_str(field(t, "Total Connections", buf, sizeof(buf)), "12", "text: Total Connections");
	is_str(field(t, "ConnsTotal", buf, sizeof(buf)), "3", "text: ConnsTotal (open now)");
	is_str(field(t, "ClientLimitRefusals", buf, sizeof(buf)), "9", "text: ClientLimitRefusals");
	is_str(field(t, "Generation", buf, sizeof(buf)), "7", "text: Generation");
	is_str(field(t, "FinishingGenerations", buf, sizeof(buf)), "6 5",
	       "text: older generations, newest first");
	is_str(field(t, "Reloads", buf, sizeof(buf)), "2", "text: Reloads");
	is_str(field(t, "ReqPerSec", buf, sizeof(buf)), "0.410", "text: ReqPerSec");
	is_str(field(t, "BusyWorkers", buf, sizeof(buf)), "3", "text: BusyWorkers");
	is_str(field(t, "IdleWorkers", buf, sizeof(buf)), "1", "text: IdleWorkers");
	is_str(field(t, "Saturated", buf, sizeof(buf)), "0", "text: Saturated");
	ok(!field(t, "SaturatedSince", buf, sizeof(buf)), "text: no SaturatedSince when not");
	is_str(field(t, "Scoreboard", buf, sizeof(buf)), "_W.GG.", "text: Scoreboard line");
	free(t);

	m->saturated = true;
	m->saturated_since = 1050;
	snprintf(m->saturated_what, sizeof(m->saturated_what), "all 2 workers busy");
	m->generation = 8;
	t = render(&v, STATUS_TEXT);
	if (t) {
		is_str(field(t, "SaturatedReason", buf, sizeof(buf)), "all 2 workers busy",
		       "text: the saturation's reason");
		is_str(field(t, "SaturatedSince", buf, sizeof(buf)), "1970-01-01T00:17:30Z",
		       "text: its start, UTC");
		is_str(field(t, "FinishingGenerations", buf, sizeof(buf)), "7 6 5",
		       "text: every worker of an older serving generation finishing");
		size_t idle = count_char(strstr(t, "Scoreboard:"), '_');
		ok(idle == 0, "text: no '_' when no worker of the serving generation is idle");
		free(t);
	}
	m->generation = 7;

	char *h = render(&v, STATUS_HTML);
	ok(h != NULL, "html: rendered");
	if (!h)
		return;
	ok(strncmp(h, "<!DOCTYPE html>", 15) == 0 && strstr(h, "</html>\n"), "html: a whole page");
	ok(strstr(h, "GET /&lt;script&gt;&amp;&quot;x? HTTP/1.1") != NULL,
	   "html: the request line is escaped, control bytes replaced");
	ok(!strstr(h, "<script>"), "html: no markup from a request gets through");
	ok(strstr(h, "<td>6 (finishing)</td>") && strstr(h, "<td>5 (finishing)</td>"),
	   "html: workers of older generations marked finishing");
	ok(strstr(h, "<td>7</td><td>serving</td>") && strstr(h, "<td>6</td><td>finishing</td>"),
	   "html: the generations table");
	ok(strstr(h, "class=\"saturated\"") && strstr(h, "all 2 workers busy"),
	   "html: saturation shown");
	free(h);
}

static void test_serve(void)
{
	struct scoreboard *sb = sb_create(2);
	struct addr_net acl;
	struct config conf;
	struct http_request req;
	struct http_reply r;
	struct sockaddr_storage lo = addr("127.0.0.1"), far = addr("10.1.1.1");
	char body[8192];

	if (!sb)
		return;
	memset(&conf, 0, sizeof(conf));
	memset(&req, 0, sizeof(req));
	conf.status_path = (char *)"/server-status";
	conf.status_path_len = strlen(conf.status_path);
	conf.mpm = (char *)"event";
	conf.server_tokens = true;
	addr_parse_cidr("127.0.0.1", &acl, NULL, 0);
	conf.status_allow = &acl;
	conf.nstatus_allow = 1;
	sb->totals.generation = 1;
	struct sb_slot *slot = sb_claim(sb, 1);
	sb_add(&slot->requests, 4);

	req.path = S("/server-statu");
	reply_init(&r);
	ok(!status_serve(&conf, slot, &req, (struct sockaddr *)&lo, &r),
	   "serve: another path is not ours");
	req.path = S("/server-status");
	req.query = S("auto");
	reply_init(&r);
	ok(status_serve(&conf, slot, &req, (struct sockaddr *)&far, &r) && r.status == 403 &&
	   r.fd < 0, "serve: a peer outside status_allow gets 403");
	reply_init(&r);
	ok(status_serve(&conf, slot, &req, (struct sockaddr *)&lo, &r) && r.status == 200 &&
	   r.fd >= 0 && r.off == 0 && r.len > 0 && r.len < (off_t)sizeof(body),
	   "serve: ?auto from loopback is a file body");
	ok(strstr(r.hdr, "Content-Type: text/plain; charset=utf-8\r\n") != NULL,
	   "serve: ?auto is text/plain");
	if (r.fd >= 0) {
		ssize_t n = pread(r.fd, body, sizeof(body) - 1, 0);
		body[n > 0 ? n : 0] = '\0';
		ok(n == r.len && strstr(body, "Total Accesses: 4\n") && strstr(body, "ServerMPM: event\n"),
		   "serve: the body is the text form of the board");
		ok(strstr(body, "Scoreboard: W.\n") != NULL,
		   "serve: the answering worker shows as writing");
		close(r.fd);
	}
	req.query = S("refresh=5");
	reply_init(&r);
	ok(status_serve(&conf, slot, &req, (struct sockaddr *)&lo, &r) &&
	   strstr(r.hdr, "Content-Type: text/html; charset=utf-8\r\n") &&
	   strstr(r.hdr, "Refresh: 5\r\n"), "serve: the HTML page, with ?refresh=5");
	if (r.fd >= 0)
		close(r.fd);
	req.query = S("refresh=99999&auto");
	reply_init(&r);
	ok(status_serve(&conf, slot, &req, (struct sockaddr *)&lo, &r) &&
	   !strstr(r.hdr, "Refresh:") && strstr(r.hdr, "text/plain"),
	   "serve: an out-of-range refresh is ignored, auto still seen");
	if (r.fd >= 0)
		close(r.fd);
	reply_init(&r);
	ok(status_serve(&conf, NULL, &req, (struct sockaddr *)&lo, &r) && r.status == 503,
	   "serve: without a scoreboard slot, 503");
	conf.status_path_len = 0;
	reply_init(&r);
	ok(!status_serve(&conf, slot, &req, (struct sockaddr *)&lo, &r), "serve: off when \"\"");
	sb_release(slot);
}

static void test_attach(void)
{
	const struct scoreboard *sb;
	unsigned n = 0;
	char err[256];
	int rc;

	/* This process created boards and keeps their memfds open, as the master does. */
	rc = sb_attach(getpid(), &sb, &n, err, sizeof(err));
	ok(rc == 0 && sb->magic == SB_MAGIC && n == sb->nslots && n > 0,
	   "attach: our own board found through /proc/self's descriptors");
	rc = sb_attach(getppid(), &sb, &n, err, sizeof(err));
	ok(rc == -ENOENT || rc == -EACCES, "attach: a process without a board (%s)", err);
	rc = sb_attach(0x3ffffffe, &sb, &n, err, sizeof(err));
	ok(rc == -ESRCH && strstr(err, "no process"), "attach: no such process (%s)", err);
}

int main(void)
{
	test_board();
	test_saturation();
	test_render();
	test_serve();
	test_attach();
	return done_testing();
}
