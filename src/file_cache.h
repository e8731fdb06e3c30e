/* SPDX-License-Identifier: ISC */
/*
 * file_cache: a per-thread cache of small regular files, so that a hot file costs no
 * openat2, fstat, read or close per request. Entries are made only from a descriptor the
 * caller opened with its own resolve rules (http_static: RESOLVE_BENEATH), hold the
 * fstat result and the bytes, and are trusted for at most a second before the path is
 * resolved again. Changes to a cached file itself (write, truncate, chmod, unlink,
 * rename) are seen at once through inotify; changes elsewhere on the path (a directory
 * renamed, a symlink retargeted) within a second; a document root followed to another
 * directory (docroot.h) at once, since the root is part of the key.
 *
 * The cache is off until a thread calls file_cache_init(); that thread should then call
 * file_cache_notify() whenever the returned descriptor is readable, so that the queue is
 * read when nothing looks up. A lookup sees every change queued before it by itself,
 * without a system call where io_uring is available (ready_flag.h).
 */
#ifndef MINIHTTPD_FILE_CACHE_H
#define MINIHTTPD_FILE_CACHE_H

#include <stdint.h>
#include <sys/stat.h>

/* Larger files are sent from a descriptor (sendfile); these go out with the head. */
#define FILE_CACHE_MAX_SIZE 8192

/* Enables the cache for the calling thread; returns the descriptor to watch, or -1. */
int file_cache_init(void);
void file_cache_notify(void);
void file_cache_free(void);

/*
 * root names the directory path is under, as an identity only (never used for I/O): the
 * caller's descriptor, and whatever tells apart the directories that descriptor has
 * held (docroot_key()), so that a root followed to another directory misses at once.
 */

/* The bytes of path under root (st filled) when a fresh entry has them, else NULL. */
const char *file_cache_get(uint64_t root, const char *path, struct stat *st);

/*
 * Offers the file the caller just opened as fd (st from fstat) for path; returns the
 * cached bytes (valid until the thread's next file_cache_* call) or NULL when it is not
 * cached (too large, not regular, changing, cache off). fd stays the caller's.
 */
const char *file_cache_put(uint64_t root, const char *path, int fd, const struct stat *st);

#endif
