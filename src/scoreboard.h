/* SPDX-License-Identifier: ISC */
/*
 * scoreboard: shared memory the master maps once, before any generation, with one slot
 * per worker (a process, or a thread in threaded MPMs) and the server's totals. Slots hold
 * no pointers, so every process reads them alike. A worker claims a free slot (a CAS on its
 * pid), and only it writes there (relaxed atomics: readers want recent numbers, not a
 * consistent snapshot; with one writer an add is a load and a store, no locked
 * instruction, and a slot's lines are its worker's own). Freeing a slot, by its worker or by the process that reaps a dead
 * one, folds its counters into the totals, so totals outlive workers: a server total is the
 * folded counters plus the live slots'. The mapping is a memfd the master keeps open, so
 * `minihttpd -S` can map it read-only from outside through /proc/PID/fd.
 *
 * Saturation (as many workers as the MPM allows, every one busy or at its connection
 * limit): a generation's leader calls sb_check_busy() once a second, whatever the MPM, so
 * that an episode is logged once, when it starts and when it ends, and the status page
 * shows it.
 */
#ifndef MINIHTTPD_SCOREBOARD_H
#define MINIHTTPD_SCOREBOARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum sb_state {
	SB_FREE = 0,
	SB_IDLE,		/* waiting for a connection */
	SB_READ,		/* reading a request */
	SB_WRITE,		/* sending a response */
	SB_KEEPALIVE,		/* idle connection, waiting for the next request */
	SB_CLOSING,		/* lingering close */
	SB_GRACEFUL,		/* the generation stops: finishing before exit */
	SB_NSTATES
};

#define SB_MEMFD_NAME "minihttpd-scoreboard"
#define SB_MAGIC 0x5342484dU	/* "MHBS" */
#define SB_LAYOUT 6		/* changes with any change of the structs below */
#define SB_REQUEST_MAX 64	/* keeps a slot's own fields at two cache lines */
#define SB_WHAT_MAX 96
#define SB_VERDICT_MAX 512

/*
 * The metrics' counters (metrics.c gives them their meaning and renders them): responses
 * by status class and method, by code, and their durations, a histogram of fixed buckets
 * counted per bucket (the renderer makes them cumulative). Kept per slot and folded into
 * the totals like the other counters, so a request costs no shared cache line.
 */
#define SB_CLASSES 5		/* 1xx..5xx */
#define SB_METHODS 4		/* GET, HEAD, POST, other */
#define SB_CODES 20		/* the common codes and "other" (metrics.c) */
#define SB_BUCKETS 10		/* the last one is +Inf */

struct sb_counts {
	uint64_t requests[SB_CLASSES][SB_METHODS];
	uint64_t bytes[SB_CLASSES][SB_METHODS];	/* sent, response heads included */
	uint64_t codes[SB_CODES];
	uint64_t duration[SB_BUCKETS];
	uint64_t duration_us;			/* their sum */
	uint64_t proxy_refused;			/* connections refused for their PROXY header */
};

#define SB_NCOUNTS (sizeof(struct sb_counts) / sizeof(uint64_t))

/* A slot is cache-line aligned so that workers counting on their slots never share a line. */
struct sb_slot {
	_Alignas(64) pid_t pid;	/* 0: free */
	pid_t tid;
	unsigned generation;
	uint32_t index;		/* position in slots[], fixed when the board is made */
	uint8_t state;
	uint32_t active;	/* connections open now (event loops hold many) */
	uint64_t conns;		/* connections accepted */
	uint64_t requests;
	uint64_t bytes;
	uint64_t refused;	/* connections refused: max_connections_per_client */
	int64_t started;	/* CLOCK_REALTIME seconds the slot was claimed */
	char request[SB_REQUEST_MAX];	/* current or last request line, truncated */
	struct sb_counts counts;
};

struct sb_totals {
	int64_t started;	/* CLOCK_REALTIME seconds the board (the master) started */
	uint64_t reloads;
	unsigned generation;	/* the serving generation */
	uint32_t saturated;	/* 1 during a saturation episode */
	int64_t saturated_since;
	uint64_t saturations;	/* episodes so far */
	char saturated_what[SB_WHAT_MAX];
	/* 1 from the master's SIGTERM on: health_path answers 503 (shutdown_delay). */
	uint32_t stopping;
	/* Counters of freed slots. */
	uint64_t conns, requests, bytes, refused;
	struct sb_counts counts;
	/* Frees: in progress in the low half, done in the high half (see sb_summarize). */
	uint64_t folding;
	/*
	 * Verdicts of the master on SIGHUP and SIGUSR1, for `minihttpd -s`: every request
	 * handled counts in verdicts, a refused one in refusals too, its reason in refused_why.
	 * The master writes the reason, then refusals, then verdicts (release); a reader that
	 * sees verdicts change reads the rest after it (acquire).
	 */
	uint64_t verdicts;
	uint64_t refusals;
	char refused_why[SB_VERDICT_MAX];
};

struct scoreboard {
	uint32_t magic;		/* SB_MAGIC, SB_LAYOUT, sizeof(struct sb_slot): checked by -S */
	uint32_t layout;
	uint32_t slot_size;
	unsigned nslots;
	struct sb_totals totals;
	struct sb_slot slots[];
};

/* Maps a shared scoreboard of nslots slots (in the master, which keeps its memfd open). */
struct scoreboard *sb_create(unsigned nslots);

/* Claims a free slot for the calling process or thread; NULL when the board is full. */
struct sb_slot *sb_claim(struct scoreboard *sb, unsigned generation);

/* Frees a slot, folding its counters into the totals; by its own worker only. */
void sb_release(struct sb_slot *slot);

/* Frees every slot of a process that died without releasing them. */
void sb_release_pid(struct scoreboard *sb, pid_t pid);

/*
 * Connections open in the claimed slots of generation, and how many slots those are
 * (worker_share_room()), up to the first max of them: slots are claimed lowest first, so
 * with the generation's size as max the scan ends near the start of a large board.
 */
void sb_generation_load(const struct scoreboard *sb, unsigned generation, unsigned max,
			uint64_t *conns, unsigned *workers);

/* The board a slot belongs to. */
struct scoreboard *sb_of(struct sb_slot *slot);

/*
 * The state of the caller's own slot (only its owner writes it). SB_GRACEFUL is final
 * until the slot is freed: a worker told to stop may still serve, a connection that was
 * queued when it stopped or the last requests of its keep-alive ones, and each would
 * otherwise show it busy again, for good if its last download then stalls.
 */
static inline void sb_set_state(struct sb_slot *s, enum sb_state st)
{
	if (s && __atomic_load_n(&s->state, __ATOMIC_RELAXED) != SB_GRACEFUL)
		__atomic_store_n(&s->state, (uint8_t)st, __ATOMIC_RELAXED);
}

/* Adds to a counter of the caller's own slot: only its owner writes there. */
static inline void sb_add(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

/*
 * A connection refused for its PROXY protocol header (missing, malformed or too slow):
 * the engine's PROXY reader counts each one here, on the slot of the worker that refused
 * it (NULL, a worker without a slot: not counted, as any of its counts).
 */
static inline void sb_count_proxy_refused(struct sb_slot *s)
{
	if (s)
		sb_add(&s->counts.proxy_refused, 1);
}

/* The server's numbers now: what STATUS= and the status page headline. */
struct sb_summary {
	int64_t started;
	unsigned generation;	/* serving (or starting: the newest with a worker) */
	uint64_t reloads;
	uint64_t reload_failures;	/* SIGHUP or SIGUSR1 refused: the old config serves on */
	uint64_t accepts;	/* connections accepted, ever */
	uint64_t requests;
	uint64_t bytes;
	uint64_t active;	/* connections open now */
	uint64_t refused;	/* connections refused by max_connections_per_client, ever */
	unsigned workers;	/* claimed slots */
	unsigned busy;		/* workers - idle */
	unsigned idle;		/* of the serving generation, waiting for a connection */
	unsigned finishing;	/* of an older generation, or draining */
	bool saturated;
	int64_t saturated_since;
	uint64_t saturations;
	char saturated_what[SB_WHAT_MAX];
	/* Claimed slots by state; an older generation's or a draining one's are SB_GRACEFUL. */
	unsigned states[SB_NSTATES];
	struct sb_counts counts;
};

/* Reads sb without allocating (the master calls it every second). */
void sb_summarize(const struct scoreboard *sb, struct sb_summary *out);

/* A copy of the board for rendering: every slot, strings terminated. */
struct sb_snapshot {
	struct sb_summary sum;
	unsigned nslots;
	struct sb_slot *slots;
};

/* Copies at most nslots slots (the caller's bound, not the board's word); -1 without memory. */
int sb_snapshot(const struct scoreboard *sb, unsigned nslots, struct sb_snapshot *out);
void sb_snapshot_free(struct sb_snapshot *snap);

/* A one-character code per state, Apache's: '_' idle, 'W' writing, '.' free... */
char sb_state_char(unsigned state);
const char *sb_state_name(unsigned state);

/*
 * Saturation edges: on=true when the caller sees saturation (what: why, e.g. "all 5
 * workers of generation 2 are busy"), false when it no longer does. Idempotent: calling
 * it every tick is fine, and only the call that flips the shared flag logs (LOG_WARNING
 * when an episode starts, LOG_NOTICE with its length when it ends). Returns true on a
 * flip. Meant for one reporter per generation (its leader): several processes reporting
 * their own views would end each other's episodes; sb_check_busy() judges them all.
 */
bool sb_saturated(struct scoreboard *sb, bool on, const char *what);

/*
 * For a generation's leader, once a second: saturation is as many slots claimed by the
 * generation as it may have (max_workers; 0: any number; a full board counts as the
 * bound), every one busy. With max_active 0 (one connection per worker) a slot is busy
 * when it is not idle; otherwise (event loops) when it holds max_active connections. A
 * generation that no longer serves changes nothing.
 */
void sb_check_busy(struct scoreboard *sb, unsigned generation, unsigned max_workers,
		   unsigned max_active);

/*
 * For `minihttpd -S`: maps read-only the board that process pid keeps open. Returns 0 with
 * *nslots bounded by the mapping's size, or -errno with err set: -ESRCH (no such process),
 * -ENOENT (it has no scoreboard), -EACCES (not allowed to look), -EPROTO (another layout).
 */
int sb_attach(pid_t pid, const struct scoreboard **sb, unsigned *nslots,
	      char *err, size_t errlen);

#endif
