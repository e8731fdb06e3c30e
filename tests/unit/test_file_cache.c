/* SPDX-License-Identifier: ISC */
/*
 * test_file_cache: the per-thread small-file cache: off until enabled, what it keeps and
 * refuses, that every kind of change to a cached file empties it once notified, that
 * its own watch removals do not, and that an entry is re-resolved after a second.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "../../src/file_cache.c"
#include "../../src/log.c"

static char root[64];
static int root_fd;

static void write_file(const char *name, const char *text)
{
	int fd = openat(root_fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
}

/* What http_static does on a miss: open, fstat, offer. */
static const char *offer(const char *name)
{
	struct stat st;
	const char *data;
	int fd = openat(root_fd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		abort();
	data = file_cache_put(root_fd, name, fd, &st);
	close(fd);
	return data;
}

/* Waits (bounded) for the inotify descriptor, then lets the cache read it. */
static int notified(int ifd)
{
	struct pollfd p = { .fd = ifd, .events = POLLIN };
	int rc = poll(&p, 1, 2000);

	file_cache_notify();
	return rc;
}

static int cached(const char *name, const char *want)
{
	struct stat st;
	const char *d = file_cache_get(root_fd, name, &st);

	return d && (size_t)st.st_size == strlen(want) && memcmp(d, want, strlen(want)) == 0;
}

int main(void)
{
	struct stat st;
	char big[FILE_CACHE_MAX_SIZE + 2];
	int ifd;

	snprintf(root, sizeof(root), "/tmp/test_file_cache.XXXXXX");
	if (!mkdtemp(root) || (root_fd = open(root, O_PATH | O_DIRECTORY)) < 0)
		abort();
	write_file("a.txt", "alpha\n");
	write_file("b.txt", "bravo\n");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file("big.txt", big);
	if (mkdirat(root_fd, "dir", 0755) < 0)
		abort();

	ok(offer("a.txt") == NULL, "off until enabled: nothing is kept");
	ok(file_cache_get(root_fd, "a.txt", &st) == NULL, "off until enabled: nothing found");
	ifd = file_cache_init();
	ok(ifd >= 0, "enabled: a descriptor to watch");
	is_int(file_cache_init(), ifd, "enabling twice keeps the same cache");

	const char *a = offer("a.txt");
	ok(a && memcmp(a, "alpha\n", 6) == 0, "a small file is kept, with its bytes");
	ok(cached("a.txt", "alpha\n"), "and found again");
	ok(file_cache_get(root_fd, "a.txt", &st) == a && st.st_size == 6,
	   "a hit gives the same bytes and the fstat result");
	ok(file_cache_get(root_fd, "a.tx", &st) == NULL, "another name misses");
	ok(file_cache_get(root_fd + 1000, "a.txt", &st) == NULL, "another root misses");
	ok(offer("big.txt") == NULL, "a file over FILE_CACHE_MAX_SIZE is not kept");
	ok(offer("dir") == NULL, "a directory is not kept");
	ok(offer("a.txt") == a, "offered again unchanged: the entry is kept, not re-read");

	/* Our own watch removal (IN_IGNORED) is no change. */
	offer("b.txt");
	unsigned slot;
	find(root_fd, "b.txt", 5, &slot);
	drop(slot);
	notified(ifd);
	ok(cached("a.txt", "alpha\n"), "dropping another entry (IN_IGNORED) keeps the rest");

	/*
	 * Every change to a cached file empties the cache, seen by the very next lookup even
	 * before the event loop reads the inotify queue (a request never gets older bytes).
	 */
	offer("b.txt");
	write_file("a.txt", "ALPHA\n");
	struct pollfd queued = { .fd = ifd, .events = POLLIN };
	ok(poll(&queued, 1, 2000) == 1, "rewritten in place: inotify reports it");
	ok(!file_cache_get(root_fd, "a.txt", &st),
	   "rewritten in place: the next lookup misses, before any file_cache_notify()");
	ok(!file_cache_get(root_fd, "b.txt", &st), "  and the whole cache with it");
	ok(offer("a.txt") && cached("a.txt", "ALPHA\n"), "the new bytes are cached");

	if (fchmodat(root_fd, "a.txt", 0600, 0) < 0)
		abort();
	notified(ifd);
	ok(!file_cache_get(root_fd, "a.txt", &st), "mode changed: entry gone");

	offer("a.txt");
	write_file("new.txt", "new\n");
	if (renameat(root_fd, "new.txt", root_fd, "a.txt") < 0)
		abort();
	notified(ifd);
	ok(!file_cache_get(root_fd, "a.txt", &st), "another file renamed over it: entry gone");
	ok(offer("a.txt") && cached("a.txt", "new\n"), "the renamed file is cached");

	if (unlinkat(root_fd, "a.txt", 0) < 0)
		abort();
	notified(ifd);
	ok(!file_cache_get(root_fd, "a.txt", &st), "removed: entry gone");

	/* After a second the name is resolved again (the caller opens it afresh). */
	const char *b = offer("b.txt");
	find(root_fd, "b.txt", 5, &slot);
	cache->slot[slot]->checked -= VALID_MS;
	ok(file_cache_get(root_fd, "b.txt", &st) == NULL, "a second old: a miss, to re-resolve");
	ok(offer("b.txt") == b && cached("b.txt", "bravo\n"),
	   "re-resolved to the same file: trusted again without re-reading");

	/*
	 * Another process's change, as a server sees one: the writer exits, this thread makes
	 * one unrelated system call (as it would reading the request), and the lookup
	 * misses, with nothing read from the inotify queue before. Then a hit with nothing
	 * changed leaves the flag alone: no system call.
	 */
	offer("b.txt");
	ok(cached("b.txt", "bravo\n"), "cached, before another process writes it");
	pid_t pid = fork();
	if (pid == 0) {
		write_file("b.txt", "BRAVO\n");
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	ok(!file_cache_get(root_fd, "b.txt", &st),
	   "changed by another process: the next lookup misses");
	ok(offer("b.txt") && cached("b.txt", "BRAVO\n"), "  and the new bytes are cached");
	if (cache->changed) {
		ok(!ready_flag_fired(cache->changed), "io_uring: the flag was rearmed");
		ok(cached("b.txt", "BRAVO\n") && !ready_flag_fired(cache->changed),
		   "io_uring: a hit with nothing changed finds the flag down");
	} else {
		ok(1, "io_uring: the flag was rearmed # SKIP io_uring unavailable here");
		ok(1, "io_uring: a hit with nothing changed # SKIP io_uring unavailable here");
	}

	file_cache_free();
	ok(file_cache_get(root_fd, "b.txt", &st) == NULL, "freed: off again");

	unlinkat(root_fd, "b.txt", 0);
	unlinkat(root_fd, "big.txt", 0);
	unlinkat(root_fd, "dir", AT_REMOVEDIR);
	close(root_fd);
	ok(rmdir(root) == 0, "temporary directory removed");
	return done_testing();
}
