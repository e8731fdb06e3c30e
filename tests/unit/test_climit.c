/*
 * test_climit: the per-client connection table: the limit per address across processes,
 * IPv4 and its mapped IPv6 form as one client, release, what a dead process held coming
 * back with climit_forget(), a full bucket failing open, and a holder killed with the lock.
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

	/* Fill the bucket of one address with other processes' entries: fail open. */
	struct climit *big = climit_create(1000);
	unsigned char key[16];
	addr_key(SA(a), key);
	for (pid_t p = 100; p < 100 + WAYS; p++)
		acquire_as(big, key, p);
	is_int(acquire_as(big, key, 100 + WAYS), CLIMIT_UNCOUNTED, "a full bucket admits uncounted");
	is_int(climit_count(big, SA(a)), WAYS, "and counts what it holds");
	release_as(big, key, 100);
	is_int(acquire_as(big, key, 100 + WAYS), CLIMIT_COUNTED, "a freed entry is reused");
	climit_destroy(big);

	climit_destroy(cl);
	ok(climit_create(1) != NULL, "tables are independent");
	return done_testing();
}
