/* SPDX-License-Identifier: ISC */
/*
 * docroot: the document root, held open and followed when its path is retargeted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "docroot.h"
#include "log.h"

/* O_PATH succeeds without read permission; serving needs search permission. */
static int open_dir(const char *path, struct stat *st)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (faccessat(fd, ".", X_OK, 0) < 0 || fstat(fd, st) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int docroot_open(struct docroot *r, const char *path, char *err, size_t errlen)
{
	struct stat st;

	memset(r, 0, sizeof(*r));
	r->path = path;
	r->fd = open_dir(path, &st);
	if (r->fd < 0) {
		snprintf(err, errlen, "document_root %s: %s%s", path, strerror(errno),
			 errno == EACCES ? " (the workers' user must be able to enter it)" : "");
		return -1;
	}
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->next_check = clock_coarse_ms() + DOCROOT_CHECK_MS;
	return 0;
}

static void follow(struct docroot *r)
{
	struct stat st;
	int fd;

	if (stat(r->path, &st) == 0 && st.st_dev == r->dev && st.st_ino == r->ino) {
		if (r->failing)
			log_msg(LOG_NOTICE, "document_root %s: resolved again", r->path);
		r->failing = false;
		return;
	}
	/* Another directory, or none: the directory opened, not the stat, is what counts. */
	fd = open_dir(r->path, &st);
	if (fd >= 0 && dup3(fd, r->fd, O_CLOEXEC) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		fd = -1;
	}
	if (fd < 0) {
		if (!r->failing)
			log_msg(LOG_WARNING, "document_root %s: %m; serving the directory it "
				"named before, and trying again every second", r->path);
		r->failing = true;
		return;
	}
	close(fd);
	/* After the dup3: a key read with this generation names the new directory. */
	__atomic_store_n(&r->generation, r->generation + 1, __ATOMIC_RELEASE);
	if (r->failing)
		log_msg(LOG_NOTICE, "document_root %s: resolved again", r->path);
	r->failing = false;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
}

int docroot_fd(struct docroot *r)
{
	int64_t now = clock_coarse_ms();

	if (now >= __atomic_load_n(&r->next_check, __ATOMIC_RELAXED) &&
	    !__atomic_exchange_n(&r->checking, 1, __ATOMIC_ACQUIRE)) {
		/* Another thread may have looked between the two reads. */
		if (now >= __atomic_load_n(&r->next_check, __ATOMIC_RELAXED)) {
			follow(r);
			__atomic_store_n(&r->next_check, now + DOCROOT_CHECK_MS, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&r->checking, 0, __ATOMIC_RELEASE);
	}
	return r->fd;
}

uint64_t docroot_key(const struct docroot *r)
{
	return (uint64_t)__atomic_load_n(&r->generation, __ATOMIC_ACQUIRE) << 32 | (uint32_t)r->fd;
}

void docroot_close(struct docroot *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
