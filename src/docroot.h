/* SPDX-License-Identifier: ISC */
/*
 * docroot: a document root held open as a directory descriptor, which is what confines
 * every request (http_static resolves paths beneath it), and followed when its configured
 * path comes to name another directory: a deploy that retargets a `current` symlink, or
 * renames a new tree into place, is served without a reload, and the old tree may then
 * be deleted (Apache and nginx resolve the root per request).
 *
 * The cost is bounded: each process looks at the path (one stat) at most once a second,
 * when it serves a request, and re-opens only when the path names another directory than
 * the one held. The descriptor's number never changes: the new directory is put in its
 * place with dup3(), which the kernel does atomically, so a thread resolving a path at
 * that moment uses one directory or the other, never a closed or reused descriptor.
 * A path that cannot be resolved or opened leaves the held directory in service.
 */
#ifndef MINIHTTPD_DOCROOT_H
#define MINIHTTPD_DOCROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How often a process looks at the configured path again, at most. */
#define DOCROOT_CHECK_MS 1000

struct docroot {
	const char *path;	/* as configured: absolute, the caller's */
	int fd;			/* O_PATH | O_DIRECTORY; the same number for its whole life */
	int64_t next_check;	/* atomic: clock_coarse_ms() of the next look at path */
	int checking;		/* atomic: a thread is looking; it alone uses what follows */
	unsigned generation;	/* atomic: raised each time fd is made another directory */
	dev_t dev;		/* the directory fd holds */
	ino_t ino;
	bool failing;		/* the path could not be followed: logged once per episode */
};

/*
 * Opens path, which the calling process must be able to search. Returns 0, or -1 with
 * err set ("document_root PATH: reason").
 */
int docroot_open(struct docroot *r, const char *path, char *err, size_t errlen);

/*
 * The descriptor to resolve request paths beneath; first, at most once a second per
 * process, follows the path if it now names another directory. Safe from any thread.
 */
int docroot_fd(struct docroot *r);

/*
 * The directory fd holds now, as a key for caches of what lies beneath (file_cache): read
 * after docroot_fd() and before resolving a path, a key taken after a follow is never
 * paired with the directory before it. An entry made under the old directory by a thread
 * that was resolving during the follow keeps the old key, and is never found again.
 */
uint64_t docroot_key(const struct docroot *r);

void docroot_close(struct docroot *r);

#endif
