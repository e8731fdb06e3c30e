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
 * 64 Ki entries (1.5 MiB of address space, touched as used) place any realistic set of
 * concurrent clients: a bucket overflows only when more than WAYS (address, process)
 * pairs hashing to it are connected at once.
 */
#define BUCKETS 8192
#define WAYS 8

struct entry {
	unsigned char addr[16];		/* IPv6, or IPv4 mapped into it */
	pid_t pid;
	uint32_t count;			/* 0: the entry is free, whatever else it holds */
};

struct climit {
	pthread_mutex_t lock;
	unsigned max;
	uint64_t seed;			/* a client cannot aim its addresses at one bucket */
	struct entry bucket[BUCKETS][WAYS];
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

static void lock(struct climit *cl)
{
	/* A holder killed mid-change left at most one store undone: the table is whole. */
	if (pthread_mutex_lock(&cl->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&cl->lock);
}

static void unlock(struct climit *cl)
{
	pthread_mutex_unlock(&cl->lock);
}

static struct entry *bucket_of(struct climit *cl, const unsigned char key[16])
{
	uint64_t a, b;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	uint64_t h = (a ^ cl->seed) * 0x9e3779b97f4a7c15ull;
	h = (h ^ b ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return cl->bucket[h & (BUCKETS - 1)];
}

static enum climit_verdict acquire_as(struct climit *cl, const unsigned char key[16], pid_t pid)
{
	struct entry *b = bucket_of(cl, key), *mine = NULL, *free_entry = NULL;
	unsigned held = 0;
	enum climit_verdict v;

	lock(cl);
	for (unsigned i = 0; i < WAYS; i++) {
		struct entry *e = &b[i];
		if (e->count == 0) {
			if (!free_entry)
				free_entry = e;
		} else if (memcmp(e->addr, key, 16) == 0) {
			held += e->count;
			if (e->pid == pid)
				mine = e;
		}
	}
	if (held >= cl->max) {
		v = CLIMIT_OVER;
	} else if (mine) {
		__atomic_store_n(&mine->count, mine->count + 1, __ATOMIC_RELEASE);
		v = CLIMIT_COUNTED;
	} else if (free_entry) {
		memcpy(free_entry->addr, key, 16);
		free_entry->pid = pid;
		/* Last, so that a holder killed before it leaves the entry free. */
		__atomic_store_n(&free_entry->count, 1, __ATOMIC_RELEASE);
		v = CLIMIT_COUNTED;
	} else {
		v = CLIMIT_UNCOUNTED;
	}
	unlock(cl);
	return v;
}

static void release_as(struct climit *cl, const unsigned char key[16], pid_t pid)
{
	struct entry *b = bucket_of(cl, key);

	lock(cl);
	for (unsigned i = 0; i < WAYS; i++) {
		struct entry *e = &b[i];
		if (e->count > 0 && e->pid == pid && memcmp(e->addr, key, 16) == 0) {
			__atomic_store_n(&e->count, e->count - 1, __ATOMIC_RELEASE);
			break;
		}
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
	for (unsigned i = 0; i < BUCKETS; i++)
		for (unsigned j = 0; j < WAYS; j++)
			if (cl->bucket[i][j].count > 0 && cl->bucket[i][j].pid == pid)
				__atomic_store_n(&cl->bucket[i][j].count, 0, __ATOMIC_RELEASE);
	unlock(cl);
}

unsigned climit_count(struct climit *cl, const struct sockaddr *peer)
{
	unsigned char key[16];
	unsigned held = 0;

	if (!addr_key(peer, key))
		return 0;
	struct entry *b = bucket_of(cl, key);
	lock(cl);
	for (unsigned i = 0; i < WAYS; i++)
		if (b[i].count > 0 && memcmp(b[i].addr, key, 16) == 0)
			held += b[i].count;
	unlock(cl);
	return held;
}
