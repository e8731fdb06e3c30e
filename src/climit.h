/* SPDX-License-Identifier: ISC */
/*
 * climit: how many connections each client address holds across every process and thread
 * of a generation, so that max_connections_per_client can refuse the one too many.
 *
 * The table is shared memory made by the leader before it forks. What each process holds
 * is kept as (address, pid, count), placed by both, so any number of processes can hold
 * one address's connections; each address's total is kept beside, placed by the address.
 * When a process dies without closing its connections (SIGKILL), whoever reaps it calls
 * climit_forget() and what it held is given back. A change stores the holding first, in
 * one decisive store under a robust lock, then the total: the next locker after a holder
 * died rebuilds the totals from the holdings, so the table stays whole. A client the
 * table cannot place (a bucket is full) is admitted uncounted: the limit fails open
 * rather than refuse a well-behaved client.
 */
#ifndef MINIHTTPD_CLIMIT_H
#define MINIHTTPD_CLIMIT_H

#include <sys/socket.h>
#include <sys/types.h>

struct climit;

/* A table refusing the (max+1)th connection of an address; NULL with errno on failure. */
struct climit *climit_create(unsigned max);
void climit_destroy(struct climit *cl);

enum climit_verdict {
	CLIMIT_COUNTED,		/* admitted: climit_release() it when the connection ends */
	CLIMIT_UNCOUNTED,	/* admitted, not counted: not an inet peer, or no room */
	CLIMIT_OVER,		/* refuse: the address already holds max */
};

/* Counts one more connection of peer for the calling process, unless it is over max. */
enum climit_verdict climit_acquire(struct climit *cl, const struct sockaddr *peer);
/* Gives back one connection counted by the calling process's climit_acquire(). */
void climit_release(struct climit *cl, const struct sockaddr *peer);
/* pid is gone: the connections it held count no more. */
void climit_forget(struct climit *cl, pid_t pid);
/* The connections peer holds across the generation. */
unsigned climit_count(struct climit *cl, const struct sockaddr *peer);

#endif
