/* SPDX-License-Identifier: ISC */
/*
 * test_docroot: a document root reached through a symlink is followed when the link is
 * retargeted, at most once per DOCROOT_CHECK_MS, under the same descriptor number; a
 * dangling or unusable path keeps the directory held, and it is followed again once the
 * path is repaired; its key (docroot_key, what file_cache keys on) changes with each
 * directory it holds, and only then. The clock is not waited on: next_check is moved to
 * "now".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "../../src/docroot.c"
#include "../../src/log.c"

static char base[64], link_path[128];

static void make_release(const char *name, const char *text)
{
	char p[192];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", base, name);
	if (mkdir(p, 0755) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/%s/version", base, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
}

/* The atomic deploy: a new link renamed over the old one. */
static void point_at(const char *target)
{
	char tmp[192];

	snprintf(tmp, sizeof(tmp), "%s/current.new", base);
	unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, link_path) < 0)
		abort();
}

/* What the root's descriptor serves as "version", "" when nothing. */
static const char *served(struct docroot *r)
{
	static char buf[32];
	int fd = openat(docroot_fd(r), "version", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void due(struct docroot *r)
{
	__atomic_store_n(&r->next_check, clock_coarse_ms(), __ATOMIC_RELAXED);
}

int main(void)
{
	struct docroot r;
	char err[256], p[192];

	strcpy(base, "/tmp/minihttpd-docroot-XXXXXX");
	if (!mkdtemp(base))
		abort();
	snprintf(link_path, sizeof(link_path), "%s/current", base);
	make_release("r1", "one");
	make_release("r2", "two");
	make_release("r3", "three");
	point_at("r1");

	ok(docroot_open(&r, "/nonexistent/minihttpd-docroot", err, sizeof(err)) < 0 &&
	   strstr(err, "document_root /nonexistent/minihttpd-docroot: "),
	   "a missing root is refused, naming it (%s)", err);
	ok(docroot_open(&r, link_path, err, sizeof(err)) == 0, "opens through the symlink");
	int fd = r.fd;
	is_str(served(&r), "one", "serves the first release");
	uint64_t key = docroot_key(&r);

	point_at("r2");
	is_str(served(&r), "one", "retargeted: not looked at again within the second");
	ok(docroot_key(&r) == key, "  its key unchanged meanwhile");
	due(&r);
	is_str(served(&r), "two", "a second later: follows the link");
	is_int(docroot_fd(&r), fd, "  under the same descriptor number");
	/* A cache keyed on it (file_cache) must not serve what it held under r1. */
	ok(docroot_key(&r) != key, "  with another key");
	key = docroot_key(&r);
	ok(r.next_check > clock_coarse_ms(), "  and the next look is a second away");

	snprintf(p, sizeof(p), "%s/r1", base);
	snprintf(err, sizeof(err), "%s/version", p);
	unlink(err);
	ok(rmdir(p) == 0, "the old release can be deleted");
	due(&r);
	is_str(served(&r), "two", "  and is not missed");
	ok(docroot_key(&r) == key, "  a look that finds the same directory keeps the key");

	point_at("gone");
	due(&r);
	is_str(served(&r), "two", "dangling link: the directory held serves on");
	ok(r.failing, "  the episode is noted (logged once)");
	ok(docroot_key(&r) == key, "  the key too");
	due(&r);
	is_str(served(&r), "two", "  and again a second later");

	snprintf(p, sizeof(p), "%s/r3", base);
	chmod(p, 0);
	point_at("r3");
	due(&r);
	/* root may enter any directory: the check is then on the others. */
	if (geteuid() != 0) {
		is_str(served(&r), "two", "a root the process may not enter is not taken");
	} else {
		served(&r);
		ok(1, "a root the process may not enter is not taken # SKIP running as root");
	}
	chmod(p, 0755);
	due(&r);
	is_str(served(&r), "three", "repaired: followed at the next look");
	ok(docroot_key(&r) != key, "  under a new key");
	ok(!r.failing, "  the episode is over");

	docroot_close(&r);
	is_int(r.fd, -1, "closed");
	snprintf(err, sizeof(err), "rm -rf %s", base);
	if (system(err) != 0)
		return 2;
	return done_testing();
}
