/*
 * scoreboard: shared memory the master maps once, before any generation, with one slot
 * per worker (a process, or a thread in threaded MPMs) and the server's totals. Slots hold
 * no pointers, so every process reads them alike. A worker claims a free slot, and only it
 * writes there (relaxed atomics: readers want recent numbers, not a consistent snapshot);
 * the process that reaps a dead worker frees its slots.
 */
#ifndef MINIHTTPD_SCOREBOARD_H
#define MINIHTTPD_SCOREBOARD_H

#include <stdint.h>
#include <sys/types.h>

enum sb_state {
	SB_FREE = 0,
	SB_IDLE,		/* waiting for a connection */
	SB_READ,		/* reading a request */
	SB_WRITE,		/* sending a response */
	SB_KEEPALIVE,		/* idle connection, waiting for the next request */
	SB_CLOSING,		/* lingering close */
	SB_GRACEFUL,		/* finishing before exit */
};

#define SB_REQUEST_MAX 64

struct sb_slot {
	pid_t pid;		/* 0: free */
	pid_t tid;
	unsigned generation;
	uint8_t state;
	uint32_t active;	/* connections open now (event loops hold many) */
	uint64_t conns;
	uint64_t requests;
	uint64_t bytes;
	int64_t started;	/* CLOCK_REALTIME seconds the slot was claimed */
	char request[SB_REQUEST_MAX];	/* last request line, truncated */
};

struct sb_totals {
	int64_t started;
	uint64_t reloads;
	unsigned generation;	/* the serving generation */
};

struct scoreboard {
	unsigned nslots;
	struct sb_totals totals;
	struct sb_slot slots[];
};

/* Maps a shared anonymous scoreboard of nslots slots; NULL on failure. */
struct scoreboard *sb_create(unsigned nslots);

/* Claims a free slot for the calling process or thread; NULL when the board is full. */
struct sb_slot *sb_claim(struct scoreboard *sb, unsigned generation);
void sb_release(struct sb_slot *slot);

/* Frees every slot of a process that died without releasing them. */
void sb_release_pid(struct scoreboard *sb, pid_t pid);

static inline void sb_set_state(struct sb_slot *s, enum sb_state st)
{
	if (s)
		__atomic_store_n(&s->state, (uint8_t)st, __ATOMIC_RELAXED);
}

static inline void sb_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

#endif
