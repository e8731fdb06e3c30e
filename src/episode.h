/* SPDX-License-Identifier: ISC */
/*
 * episode: a condition that comes and goes (a shortage of descriptors), told to the log
 * as episodes, a line when one starts and a line when it ends. An episode ends only once
 * the condition has stayed away for a quiet time, because a condition at its edge flaps:
 * at a full descriptor table each close frees one descriptor and the next accept takes
 * it, and an end line and a start line per connection would flood the log exactly while
 * the operator reads it. Pure logic over the caller's clock, so it is tested directly.
 */
#ifndef MINIHTTPD_EPISODE_H
#define MINIHTTPD_EPISODE_H

#include <stdbool.h>
#include <stdint.h>

struct episode {
	bool on;
	int64_t since_ms;	/* the episode's first sighting */
	int64_t last_ms;	/* its latest */
	unsigned long seen;	/* its sightings */
};

/* The condition was seen at now: true when this starts an episode (log its start). */
static inline bool episode_seen(struct episode *e, int64_t now)
{
	bool starts = !e->on;

	if (starts)
		*e = (struct episode){ .on = true, .since_ms = now };
	e->last_ms = now;
	e->seen++;
	return starts;
}

/* The condition was absent at now: true when this ends the episode (log its end), that
 * is when quiet_ms have passed since its last sighting. */
static inline bool episode_absent(struct episode *e, int64_t now, int64_t quiet_ms)
{
	if (!e->on || now - e->last_ms < quiet_ms)
		return false;
	e->on = false;
	return true;
}

#endif
