/* SPDX-License-Identifier: ISC */
/*
 * test_climit: the per-client connection table: the limit per address across processes,
 * IPv4 and its mapped IPv6 form as one client, release, what a dead process held coming
 * back with climit_forget(), any number of processes holding one address, a full bucket
 * failing open, and a holder killed with the lock, before or between its two stores.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "tap.h"
#include "../../src/climit.c"
#include "../../src/addr.c"

static struct sockaddr_storage v4(const char *text)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
		abort();
	return ss;
}

static struct sockaddr_storage v6(const char *text)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	sin6->sin6_family = AF_INET6;
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1)
		abort();
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

/* Runs fn in a child that exits without releasing anything; returns its pid, reaped. */
static pid_t in_child(void (*fn)(struct climit *), struct climit *cl, bool killed)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		fn(cl);
		if (killed)
			raise(SIGKILL);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return pid;
}

static void take_two(struct climit *cl)
{
	struct sockaddr_storage a = v4("192.0.2.7");

	climit_acquire(cl, SA(a));
	climit_acquire(cl, SA(a));
}

static void die_locked(struct climit *cl)
{
	lock(cl);
}

int main(void)
{
	struct climit *cl = climit_create(3);
	struct sockaddr_storage a = v4("192.0.2.7"), a6 = v6("::ffff:192.0.2.7"),
				b = v6("2001:db8::1"), un = {.ss_family = AF_UNIX};

	ok(cl != NULL, "a table is made");
	is_int(climit_acquire(cl, SA(a)), CLIMIT_COUNTED, "first connection counted");
	is_int(climit_acquire(cl, SA(a6)), CLIMIT_COUNTED, "second, as IPv4-mapped IPv6");
	is_int(climit_count(cl, SA(a)), 2, "IPv4 and its mapped form are one client");
	is_int(climit_acquire(cl, SA(a)), CLIMIT_COUNTED, "third: at the limit");
	is_int(climit_acquire(cl, SA(a)), CLIMIT_OVER, "fourth refused");
	is_int(climit_count(cl, SA(a)), 3, "a refusal counts nothing");
	is_int(climit_acquire(cl, SA(b)), CLIMIT_COUNTED, "another client is not affected");
	climit_release(cl, SA(a));
	is_int(climit_count(cl, SA(a)), 2, "release gives one back");
	is_int(climit_acquire(cl, SA(a)), CLIMIT_COUNTED, "and the next is admitted");
	is_int(climit_acquire(cl, SA(un)), CLIMIT_UNCOUNTED, "a non-inet peer is not counted");
	climit_release(cl, SA(a));
	climit_release(cl, SA(a));
	climit_release(cl, SA(a));
	climit_release(cl, SA(a));
	is_int(climit_count(cl, SA(a)), 0, "a release too many goes no lower than zero");

	/* Other processes of the generation count against the same address. */
	pid_t clean = in_child(take_two, cl, false);
	is_int(climit_count(cl, SA(a)), 2, "a child's connections count in the parent");
	is_int(climit_acquire(cl, SA(a)), CLIMIT_COUNTED, "one more fits");
	is_int(climit_acquire(cl, SA(a)), CLIMIT_OVER, "then the shared limit refuses");
	climit_forget(cl, clean);
	is_int(climit_count(cl, SA(a)), 1, "forget gives back all a dead process held");
	pid_t killed = in_child(take_two, cl, true);
	is_int(climit_count(cl, SA(a)), 3, "a killed child's connections still count");
	climit_forget(cl, killed);
	is_int(climit_count(cl, SA(a)), 1, "until its reaper forgets it");
	climit_release(cl, SA(a));

	/* A holder killed inside the lock must not wedge the table. */
	in_child(die_locked, cl, true);
	is_int(climit_acquire(cl, SA(b)), CLIMIT_COUNTED, "the lock is taken over from a dead holder");

	/* Many processes of one address: the limit holds however many there are. */
	struct climit *many = climit_create(10);
	unsigned char key[16];
	unsigned counted = 0, over = 0;

	addr_key(SA(a), key);
	for (pid_t p = 1000; p < 1040; p++) {
		enum climit_verdict v = acquire_as(many, key, p);

		counted += v == CLIMIT_COUNTED;
		over += v == CLIMIT_OVER;
	}
	is_int(counted, 10, "40 processes of one address: 10 counted");
	is_int(over, 30, "  and the other 30 refused");
	is_int(climit_count(many, SA(a)), 10, "  the address holds 10");
	release_as(many, key, 1003);
	is_int(acquire_as(many, key, 1039), CLIMIT_COUNTED, "  a release lets another process in");
	climit_forget(many, 1000);
	is_int(climit_count(many, SA(a)), 9, "  forgetting one process gives back its own only");
	climit_destroy(many);

	many = climit_create(1000);
	for (pid_t p = 2000; p < 2200; p++)
		acquire_as(many, key, p);
	is_int(climit_count(many, SA(a)), 200, "200 processes of one address, 1 each: all counted");
	for (pid_t p = 2000; p < 2200; p += 2)
		climit_forget(many, p);
	is_int(climit_count(many, SA(a)), 100, "  half of them forgotten");
	climit_destroy(many);

	/* A holder killed between its two stores: the next locker rebuilds the totals. */
	many = climit_create(5);
	acquire_as(many, key, 3000);
	pid_t half = fork();

	if (half == 0) {
		struct holding *free_h, *h;

		lock(many);
		h = find_holding(many, key, 3000, &free_h);
		h->count++;	/* the holding, not yet the total */
		raise(SIGKILL);
	}
	waitpid(half, NULL, 0);
	is_int(climit_count(many, SA(a)), 2, "killed mid-change: the total follows the holdings");
	climit_forget(many, 3000);
	is_int(climit_count(many, SA(a)), 0, "  and forgetting gives it all back");
	climit_destroy(many);

	/* More distinct addresses in one bucket than it has ways: fail open. */
	struct climit *big = climit_create(1000);
	struct sockaddr_storage same[WAYS + 1];
	unsigned found = 0, home = 0;

	for (unsigned i = 0; found <= WAYS && i < (1u << 24); i++) {
		struct sockaddr_storage x = v4("10.0.0.0");

		((struct sockaddr_in *)&x)->sin_addr.s_addr = htonl(0x0a000000u | i);
		addr_key(SA(x), key);
		unsigned bucket = (unsigned)(client_bucket(big, key) - big->client[0]) / WAYS;

		if (found == 0)
			home = bucket;
		if (bucket == home)
			same[found++] = x;
	}
	for (unsigned i = 0; i < WAYS; i++)
		climit_acquire(big, SA(same[i]));
	is_int(climit_acquire(big, SA(same[WAYS])), CLIMIT_UNCOUNTED,
	       "a full bucket of addresses admits uncounted");
	is_int(climit_count(big, SA(same[0])), 1, "  and counts what it holds");
	climit_release(big, SA(same[0]));
	is_int(climit_acquire(big, SA(same[WAYS])), CLIMIT_COUNTED, "  a freed entry is reused");
	climit_destroy(big);

	climit_destroy(cl);
	ok(climit_create(1) != NULL, "tables are independent");
	return done_testing();
}
