/* SPDX-License-Identifier: ISC */
/*
 * clock: the one clock of deadlines, timeouts and rates, in monotonic milliseconds. The
 * precise reading is for what runs a few times a second (leaders, the master); the
 * coarse one (a few ms of resolution, no system call even without a vDSO fast path) is
 * for what runs per request, where deadlines are seconds long anyway.
 */
#ifndef MINIHTTPD_CLOCK_H
#define MINIHTTPD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t clock_coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The coarse reading lags the precise one by up to a tick (10 ms at HZ=100, the coarsest
 * Linux is built with), so "coarse now + ms" could pass that tick early: a deadline that
 * a client may count on (header_timeout) adds it, and is never early by either clock.
 */
#define CLOCK_COARSE_TICK_MS 10

static inline int64_t clock_coarse_deadline(int64_t ms)
{
	return clock_coarse_ms() + ms + CLOCK_COARSE_TICK_MS;
}

/*
 * Microseconds, precise: for systemd's MONOTONIC_USEC= (sd_notify(3)), which systemd
 * compares with its own reading taken when it sent SIGHUP, where a reading cut to
 * milliseconds could come out earlier than that; and for request durations (two readings
 * a request, a vDSO call each), whose histogram's smallest bucket is half a millisecond,
 * below the coarse clock's resolution; the access log's %D reuses them.
 */
static inline int64_t clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
