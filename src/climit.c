/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "addr.h"
#include "climit.h"

/*
 * Two tables of 64 Ki entries each (2.75 MiB of address space, touched as used). What a
 * process holds is placed by (address, pid), so however many processes serve one address
 * their entries spread over the table; an address's total lives in an entry of its own,
 * placed by the address. A bucket overflows only when more than WAYS distinct addresses
 * (or (address, process) pairs) hashing to it are connected at once.
 */
#define BUCKETS 8192
#define WAYS 8

/* What one process holds of one address: the truth, from which totals can be rebuilt. */
struct holding {
	unsigned char addr[16];		/* IPv6, or IPv4 mapped into it */
	pid_t pid;
	uint32_t count;			/* 0: the entry is free, whatever else it holds */
};

/* One address's connections across the generation: the sum of its holdings. */
struct client {
	unsigned char addr[16];
	uint32_t total;			/* 0: the entry is free */
};

struct climit {
	pthread_mutex_t lock;
	unsigned max;
	uint64_t seed;			/* a client cannot aim its addresses at one bucket */
	struct client client[BUCKETS][WAYS];
	struct holding holding[BUCKETS][WAYS];
};

struct climit *climit_create(unsigned max)
{
	struct climit *cl = mmap(NULL, sizeof(*cl), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t attr;

	if (cl == MAP_FAILED)
		return NULL;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	int rc = pthread_mutex_init(&cl->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (rc != 0) {
		munmap(cl, sizeof(*cl));
		errno = rc;
		return NULL;
	}
	if (getrandom(&cl->seed, sizeof(cl->seed), GRND_NONBLOCK) != sizeof(cl->seed))
		cl->seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
	cl->max = max;
	return cl;
}

void climit_destroy(struct climit *cl)
{
	if (!cl)
		return;
	pthread_mutex_destroy(&cl->lock);
	munmap(cl, sizeof(*cl));
}

static uint64_t mix(uint64_t h)
{
	h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

static uint64_t hash_addr(const struct climit *cl, const unsigned char key[16])
{
	uint64_t a, b;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	return mix(((a ^ cl->seed) * 0x9e3779b97f4a7c15ull) ^ b);
}

static struct client *client_bucket(struct climit *cl, const unsigned char key[16])
{
	return cl->client[hash_addr(cl, key) & (BUCKETS - 1)];
}

static struct holding *holding_bucket(struct climit *cl, const unsigned char key[16], pid_t pid)
{
	uint64_t h = mix(hash_addr(cl, key) ^ (uint64_t)(uint32_t)pid * 0xd6e8feb86659fd93ull);

	return cl->holding[h & (BUCKETS - 1)];
}

/* key's entry, or else (with *free_slot) where it could go; NULL for both: no room. */
static struct client *find_client(struct climit *cl, const unsigned char key[16],
				  struct client **free_slot)
{
	struct client *b = client_bucket(cl, key);

	*free_slot = NULL;
	for (unsigned i = 0; i < WAYS; i++) {
		if (b[i].total == 0) {
			if (!*free_slot)
				*free_slot = &b[i];
		} else if (memcmp(b[i].addr, key, 16) == 0) {
			return &b[i];
		}
	}
	return NULL;
}

static struct holding *find_holding(struct climit *cl, const unsigned char key[16], pid_t pid,
				    struct holding **free_slot)
{
	struct holding *b = holding_bucket(cl, key, pid);

	*free_slot = NULL;
	for (unsigned i = 0; i < WAYS; i++) {
		if (b[i].count == 0) {
			if (!*free_slot)
				*free_slot = &b[i];
		} else if (b[i].pid == pid && memcmp(b[i].addr, key, 16) == 0) {
			return &b[i];
		}
	}
	return NULL;
}

static void set_total(struct client *c, uint32_t total)
{
	__atomic_store_n(&c->total, total, __ATOMIC_RELEASE);
}

/* Takes n from key's total (a total only ever lacks what a rebuild could not place). */
static void client_sub(struct climit *cl, const unsigned char key[16], uint32_t n)
{
	struct client *free_slot, *c = find_client(cl, key, &free_slot);

	if (c)
		set_total(c, c->total > n ? c->total - n : 0);
}

/*
 * The totals again from the holdings, after a holder of the lock died: a change is a
 * holding's count first (one decisive store), then its address's total, so only a total
 * can be out of step. A holding whose address finds no room is dropped: fail open.
 */
static void rebuild_totals(struct climit *cl)
{
	for (unsigned i = 0; i < BUCKETS; i++)
		for (unsigned j = 0; j < WAYS; j++)
			cl->client[i][j].total = 0;
	for (unsigned i = 0; i < BUCKETS; i++) {
		for (unsigned j = 0; j < WAYS; j++) {
			struct holding *h = &cl->holding[i][j];
			struct client *free_slot, *c;

			if (h->count == 0)
				continue;
			if (!(c = find_client(cl, h->addr, &free_slot)) && (c = free_slot))
				memcpy(c->addr, h->addr, 16);
			if (c)
				c->total += h->count;
			else
				h->count = 0;
		}
	}
}

static void lock(struct climit *cl)
{
	if (pthread_mutex_lock(&cl->lock) == EOWNERDEAD) {
		rebuild_totals(cl);
		pthread_mutex_consistent(&cl->lock);
	}
}

static void unlock(struct climit *cl)
{
	pthread_mutex_unlock(&cl->lock);
}

static enum climit_verdict acquire_as(struct climit *cl, const unsigned char key[16], pid_t pid)
{
	struct client *c, *free_c;
	struct holding *h, *free_h;
	enum climit_verdict v = CLIMIT_COUNTED;

	lock(cl);
	c = find_client(cl, key, &free_c);
	h = find_holding(cl, key, pid, &free_h);
	if (c && c->total >= cl->max) {
		v = CLIMIT_OVER;
	} else if ((!c && !free_c) || (!h && !free_h)) {
		v = CLIMIT_UNCOUNTED;
	} else {
		if (!h) {
			h = free_h;
			memcpy(h->addr, key, 16);
			h->pid = pid;
		}
		/* The decisive store: a holder killed before it leaves the entry as it was. */
		__atomic_store_n(&h->count, h->count + 1, __ATOMIC_RELEASE);
		if (!c) {
			c = free_c;
			memcpy(c->addr, key, 16);
		}
		set_total(c, c->total + 1);
	}
	unlock(cl);
	return v;
}

static void release_as(struct climit *cl, const unsigned char key[16], pid_t pid)
{
	struct holding *free_h, *h;

	lock(cl);
	if ((h = find_holding(cl, key, pid, &free_h))) {
		__atomic_store_n(&h->count, h->count - 1, __ATOMIC_RELEASE);
		client_sub(cl, key, 1);
	}
	unlock(cl);
}

enum climit_verdict climit_acquire(struct climit *cl, const struct sockaddr *peer)
{
	unsigned char key[16];

	if (!addr_key(peer, key))
		return CLIMIT_UNCOUNTED;
	return acquire_as(cl, key, getpid());
}

void climit_release(struct climit *cl, const struct sockaddr *peer)
{
	unsigned char key[16];

	if (addr_key(peer, key))
		release_as(cl, key, getpid());
}

void climit_forget(struct climit *cl, pid_t pid)
{
	lock(cl);
	for (unsigned i = 0; i < BUCKETS; i++) {
		for (unsigned j = 0; j < WAYS; j++) {
			struct holding *h = &cl->holding[i][j];
			uint32_t n = h->count;

			if (n == 0 || h->pid != pid)
				continue;
			__atomic_store_n(&h->count, 0, __ATOMIC_RELEASE);
			client_sub(cl, h->addr, n);
		}
	}
	unlock(cl);
}

unsigned climit_count(struct climit *cl, const struct sockaddr *peer)
{
	unsigned char key[16];
	struct client *free_c, *c;
	unsigned held;

	if (!addr_key(peer, key))
		return 0;
	lock(cl);
	c = find_client(cl, key, &free_c);
	held = c ? c->total : 0;
	unlock(cl);
	return held;
}
