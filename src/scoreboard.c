/*
 * scoreboard: slot claiming is a compare-and-swap on the pid, so processes and threads of
 * several generations can come and go without a lock or a round trip to the master.
 */
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "scoreboard.h"

struct scoreboard *sb_create(unsigned nslots)
{
	size_t size = sizeof(struct scoreboard) + (size_t)nslots * sizeof(struct sb_slot);
	struct scoreboard *sb = mmap(NULL, size, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (sb == MAP_FAILED)
		return NULL;
	sb->nslots = nslots;
	sb->totals.started = time(NULL);
	return sb;
}

struct sb_slot *sb_claim(struct scoreboard *sb, unsigned generation)
{
	pid_t me = getpid();

	if (!sb)
		return NULL;
	for (unsigned i = 0; i < sb->nslots; i++) {
		struct sb_slot *s = &sb->slots[i];
		pid_t free_pid = 0;
		if (__atomic_load_n(&s->pid, __ATOMIC_RELAXED) != 0)
			continue;
		if (!__atomic_compare_exchange_n(&s->pid, &free_pid, me, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		s->tid = (pid_t)syscall(SYS_gettid);
		s->generation = generation;
		s->active = 0;
		s->conns = s->requests = s->bytes = 0;
		s->started = time(NULL);
		s->request[0] = '\0';
		__atomic_store_n(&s->state, SB_IDLE, __ATOMIC_RELEASE);
		return s;
	}
	return NULL;
}

void sb_release(struct sb_slot *s)
{
	if (!s)
		return;
	__atomic_store_n(&s->state, SB_FREE, __ATOMIC_RELAXED);
	__atomic_store_n(&s->pid, 0, __ATOMIC_RELEASE);
}

void sb_release_pid(struct scoreboard *sb, pid_t pid)
{
	if (!sb)
		return;
	for (unsigned i = 0; i < sb->nslots; i++)
		if (__atomic_load_n(&sb->slots[i].pid, __ATOMIC_ACQUIRE) == pid)
			sb_release(&sb->slots[i]);
}
