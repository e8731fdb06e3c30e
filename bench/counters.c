/* SPDX-License-Identifier: ISC */
/*
 * counters: what counting one response on the scoreboard costs a worker, in ns: the
 * status page's three counters as locked adds (their cost before metrics_path) against
 * the same three as owner-only adds plus metrics_record() (now), on one slot, best of 5.
 * A run on an otherwise idle CPU; nothing here is shared, so no contention is measured.
 *
 *   cc -O2 -D_GNU_SOURCE -DPACKAGE_VERSION='"bench"' -Isrc -o counters bench/counters.c \
 *      src/.libs/libhttp.a && ./counters
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../src/clock.h"
#include "../src/scoreboard.c"
#include "../src/metrics.c"

/* metrics_serve()'s, never called here: the bench links no libcore. */
int status_body(struct http_reply *r, const char *buf, size_t len)
{
	(void)r;
	(void)buf;
	(void)len;
	return -1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void locked_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000;
	struct scoreboard *sb = sb_create(1);
	struct sb_slot *s = sb ? sb_claim(sb, 1) : NULL;
	volatile int status = 200;
	double before = 1e9, after = 1e9, clk = 1e9;
	volatile int64_t sink = 0;

	if (!s || n <= 0)
		return 1;
	for (int r = 0; r < 5; r++) {
		double t0 = now();
		for (long i = 0; i < n; i++) {
			locked_add(&s->conns, 1);
			locked_add(&s->requests, 1);
			locked_add(&s->bytes, (uint64_t)i & 1023);
		}
		double t1 = now();
		for (long i = 0; i < n; i++) {
			sb_add(&s->conns, 1);
			sb_add(&s->requests, 1);
			sb_add(&s->bytes, (uint64_t)i & 1023);
			metrics_record(s, HTTP_GET, status, (uint64_t)i & 1023, (uint64_t)i & 2047);
		}
		double t2 = now();
		for (long i = 0; i < n; i++)
			sink += clock_us();
		double t3 = now();
		before = t1 - t0 < before ? t1 - t0 : before;
		after = t2 - t1 < after ? t2 - t1 : after;
		clk = t3 - t2 < clk ? t3 - t2 : clk;
	}
	printf("before: 3 locked adds %.1f ns/response\n"
	       "now: 3 owner adds + metrics_record %.1f ns/response, + 2 clock_us() "
	       "(the duration) at %.1f ns each\n", before * 1e9 / (double)n,
	       after * 1e9 / (double)n, clk * 1e9 / (double)n);
	return 0;
}
