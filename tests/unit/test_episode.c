/* SPDX-License-Identifier: ISC */
/*
 * test_episode: episode.h's edges, as the accept policy uses them (a quiet time of
 * ACCEPT_QUIET_MS): a start line at the first sighting only, none for the sightings
 * after it, an end line only once the condition has stayed away the quiet time, so a
 * condition that flaps at its edge stays one episode, and the counts the end line reports.
 */
#include <stdlib.h>

#include "tap.h"
#include "../../src/episode.h"

#define QUIET 1000

/* A case is a line of events, each a letter and a time in ms: "s" the condition seen,
 * "a" seen absent; want holds what each event must log: S a start, E an end, - nothing. */
static const struct {
	const char *name;
	const char *events;
	const char *want;
	long span_ms;		/* at the last end: from first to last sighting */
	unsigned long seen;	/* sightings in that episode */
} cases[] = {
	{ "a condition never seen logs nothing", "a0 a5000", "--", -1, 0 },
	{ "one sighting starts an episode", "s0", "S", -1, 0 },
	{ "pauses of a long shortage log nothing more", "s0 s100 s200 s300 s2000", "S----",
	  -1, 0 },
	{ "an absence too soon does not end it", "s0 a999", "S-", -1, 0 },
	{ "an absence after the quiet time ends it", "s0 a1000", "SE", 0, 1 },
	{ "flapping at the edge stays one episode", "s0 a10 s20 a30 s40 a50 s60 a1060",
	  "S------E", 60, 4 },
	{ "the quiet time counts from the last sighting", "s0 s900 a1000 a1899 a1900",
	  "S---E", 900, 2 },
	{ "an end is logged once", "s0 a1000 a1001 a9000", "SE--", 0, 1 },
	{ "a sighting after the end starts a new episode", "s0 a1000 s1500 s1600 a2600",
	  "SES-E", 100, 2 },
	{ "a new episode starts with a new count", "s0 s1 s2 a1002 s5000 a6000", "S--ESE",
	  0, 1 },
};

static void run_case(size_t k)
{
	struct episode e = { 0 };
	char got[64] = "";
	const char *p = cases[k].events;
	size_t n = 0;

	while (*p && n + 1 < sizeof(got)) {
		char what = *p++;
		char *end;
		int64_t t = strtoll(p, &end, 10);
		p = end + strspn(end, " ");
		if (what == 's')
			got[n++] = episode_seen(&e, t) ? 'S' : '-';
		else
			got[n++] = episode_absent(&e, t, QUIET) ? 'E' : '-';
		got[n] = '\0';
	}
	is_str(got, cases[k].want, "%s: lines", cases[k].name);
	if (cases[k].span_ms >= 0) {
		is_int(e.last_ms - e.since_ms, cases[k].span_ms, "%s: the span it reports",
		       cases[k].name);
		is_int(e.seen, cases[k].seen, "%s: the failures it reports", cases[k].name);
		ok(!e.on, "%s: it is over", cases[k].name);
	} else {
		ok(e.on == (strchr(cases[k].want, 'S') != NULL), "%s: %s", cases[k].name,
		   e.on ? "still on" : "never on");
	}
}

int main(void)
{
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		run_case(k);
	return done_testing();
}
