/* SPDX-License-Identifier: ISC */
/*
 * file_cache: a direct-mapped table keyed by (root, path). Any inotify event on a cached
 * file empties the whole table: changes are rare, refilling costs one read per hot file,
 * and it leaves no case (two writes within one timestamp tick, a name moved over the
 * file) where stale bytes could be compared equal and kept. A hit costs no system call
 * while nothing changed: whether the inotify queue has events is a ready_flag.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "clock.h"
#include "file_cache.h"
#include "log.h"
#include "ready_flag.h"

#define SLOTS 256
#define VALID_MS 1000
#define WATCH_MASK (IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)

struct entry {
	uint64_t hash;
	int64_t checked;	/* when the path was last resolved, monotonic ms */
	struct stat st;
	char *data;
	uint64_t root;
	int wd;
	size_t path_len;
	char path[];
};

struct cache {
	int ifd;
	struct ready_flag *changed;	/* the inotify queue became readable; NULL: read it */
	struct entry *slot[SLOTS];
};

static __thread struct cache *cache;

static uint64_t hash_path(uint64_t root, const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ root;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

int file_cache_init(void)
{
	if (cache)
		return cache->ifd;
	cache = calloc(1, sizeof(*cache));
	if (!cache)
		return -1;
	cache->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (cache->ifd < 0) {
		/* Without change notification a cached file could be stale: no cache. */
		log_msg(LOG_WARNING, "file cache off: inotify_init1: %m");
		free(cache);
		cache = NULL;
		return -1;
	}
	cache->changed = ready_flag_new(cache->ifd);
	if (!cache->changed) {
		static bool said;

		if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
			log_msg(LOG_INFO, "file cache: io_uring unavailable (%m): every hit reads "
				"the inotify queue");
	}
	return cache->ifd;
}

/* Drops slot i, and its watch unless another entry is of the same file. */
static void drop(unsigned i)
{
	struct entry *e = cache->slot[i];
	bool shared = false;

	if (!e)
		return;
	cache->slot[i] = NULL;
	for (unsigned j = 0; j < SLOTS && !shared; j++)
		shared = cache->slot[j] && cache->slot[j]->wd == e->wd;
	if (!shared)
		inotify_rm_watch(cache->ifd, e->wd);
	free(e);
}

static void drop_all(void)
{
	for (unsigned i = 0; i < SLOTS; i++)
		drop(i);
}

void file_cache_notify(void)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	ssize_t n;

	if (!cache)
		return;
	while ((n = read(cache->ifd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			const struct inotify_event *ev = (const void *)(buf + off);
			/* IN_IGNORED alone follows our own inotify_rm_watch: not a change. */
			changed |= (ev->mask & (WATCH_MASK | IN_Q_OVERFLOW)) != 0;
			off += (ssize_t)sizeof(*ev) + ev->len;
		}
	}
	if (changed)
		drop_all();
}

void file_cache_free(void)
{
	if (!cache)
		return;
	ready_flag_free(cache->changed);
	drop_all();
	close(cache->ifd);
	free(cache);
	cache = NULL;
}

static struct entry *find(uint64_t root, const char *path, size_t len, unsigned *slot)
{
	uint64_t h = hash_path(root, path, len);
	struct entry *e = cache->slot[h % SLOTS];

	*slot = (unsigned)(h % SLOTS);
	if (e && e->hash == h && e->root == root && e->path_len == len &&
	    memcmp(e->path, path, len) == 0)
		return e;
	return NULL;
}

const char *file_cache_get(uint64_t root, const char *path, struct stat *st)
{
	unsigned i;
	struct entry *e;

	if (!cache)
		return NULL;
	e = find(root, path, strlen(path), &i);
	if (!e || clock_coarse_ms() - e->checked >= VALID_MS)
		return NULL;
	/*
	 * A change made before this request arrived has already queued its event (inotify
	 * queues it within the writer's system call), but an event loop reads the queue only
	 * between batches: look at it now, so a hit is never older than the request. The
	 * ready flag tells from memory whether there is anything to read (ready_flag.h says
	 * why that is as fresh); without it, the queue is read.
	 */
	if (!cache->changed) {
		file_cache_notify();
	} else if (ready_flag_fired(cache->changed)) {
		file_cache_notify();
		if (ready_flag_rearm(cache->changed) < 0) {
			log_msg(LOG_WARNING, "file cache: io_uring: %m; every hit now reads the "
				"inotify queue");
			ready_flag_free(cache->changed);
			cache->changed = NULL;
			file_cache_notify();
		}
	}
	e = find(root, path, strlen(path), &i);
	if (!e)
		return NULL;
	*st = e->st;
	return e->data;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mode == b->st_mode &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Reads the file under a watch set first, and keeps it only if fstat saw no change. */
static struct entry *load(uint64_t root, const char *path, size_t len, int fd,
			  const struct stat *st)
{
	size_t size = (size_t)st->st_size, got = 0;
	struct entry *e = malloc(sizeof(*e) + len + 1 + size);
	char proc[32];
	struct stat now;
	ssize_t n = 1;

	if (!e)
		return NULL;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	e->wd = inotify_add_watch(cache->ifd, proc, WATCH_MASK);
	if (e->wd < 0) {
		free(e);
		return NULL;
	}
	e->data = e->path + len + 1;
	while (got < size && (n = pread(fd, e->data + got, size - got, (off_t)got)) > 0)
		got += (size_t)n;
	if (got < size || fstat(fd, &now) < 0 || !same_file(st, &now)) {
		/* Only shared when the table has this file under another name: it keeps it. */
		bool shared = false;
		for (unsigned j = 0; j < SLOTS && !shared; j++)
			shared = cache->slot[j] && cache->slot[j]->wd == e->wd;
		if (!shared)
			inotify_rm_watch(cache->ifd, e->wd);
		free(e);
		return NULL;
	}
	e->hash = hash_path(root, path, len);
	e->root = root;
	e->st = *st;
	e->path_len = len;
	memcpy(e->path, path, len + 1);
	return e;
}

const char *file_cache_put(uint64_t root, const char *path, int fd, const struct stat *st)
{
	size_t len = strlen(path);
	unsigned i;
	struct entry *e;

	if (!cache || !S_ISREG(st->st_mode) || st->st_size > FILE_CACHE_MAX_SIZE)
		return NULL;
	e = find(root, path, len, &i);
	if (e && same_file(&e->st, st)) {
		/* The path still names the file we watch: trust it for another second. */
		e->checked = clock_coarse_ms();
		return e->data;
	}
	/* Dropped first: its watch may be the one the new entry is about to share. */
	drop(i);
	e = load(root, path, len, fd, st);
	if (!e)
		return NULL;
	e->checked = clock_coarse_ms();
	cache->slot[i] = e;
	return e->data;
}
