/* SPDX-License-Identifier: ISC */
/*
 * scoreboard: slot claiming is a compare-and-swap on the pid, so processes and threads of
 * several generations can come and go without a lock or a round trip to the master.
 *
 * Folding a freed slot into the totals is bracketed by a counter (in progress / done) that
 * readers check before and after summing, seqlock-style: a reader never counts a freed
 * slot's requests twice (in the slot and in the totals) or not at all. Frees are rare
 * (a worker exits), so readers almost never retry, and the per-request path pays nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "scoreboard.h"

_Static_assert(sizeof(struct sb_slot) % 64 == 0, "a slot is whole cache lines");
_Static_assert(offsetof(struct sb_slot, counts) == 128, "a slot's own fields: two lines");

#define FOLD_DONE (UINT64_C(1) << 32)
#define READ_TRIES 16

static size_t board_size(unsigned nslots)
{
	return sizeof(struct scoreboard) + (size_t)nslots * sizeof(struct sb_slot);
}

struct scoreboard *sb_create(unsigned nslots)
{
	size_t size = board_size(nslots);
	int fd = memfd_create(SB_MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct scoreboard *sb;

	if (fd < 0)
		return NULL;
	/* Sealed at its size: a reader that mapped it by fstat() can never fault past the end. */
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		close(fd);
		return NULL;
	}
	sb = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (sb == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	sb->magic = SB_MAGIC;
	sb->layout = SB_LAYOUT;
	sb->slot_size = sizeof(struct sb_slot);
	sb->nslots = nslots;
	sb->totals.started = time(NULL);
	for (unsigned i = 0; i < nslots; i++)
		sb->slots[i].index = i;
	/* fd stays open for the master's lifetime: it is how `minihttpd -S` finds the board. */
	return sb;
}

struct scoreboard *sb_of(struct sb_slot *slot)
{
	if (!slot)
		return NULL;
	return (struct scoreboard *)(void *)((char *)(slot - slot->index) -
					     offsetof(struct scoreboard, slots));
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
		__atomic_store_n(&s->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELAXED);
		__atomic_store_n(&s->generation, generation, __ATOMIC_RELAXED);
		__atomic_store_n(&s->active, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->started, (int64_t)time(NULL), __ATOMIC_RELAXED);
		s->request[0] = '\0';
		__atomic_store_n(&s->state, SB_IDLE, __ATOMIC_RELEASE);
		return s;
	}
	return NULL;
}

void sb_generation_load(const struct scoreboard *sb, unsigned generation, unsigned max,
			uint64_t *conns, unsigned *workers)
{
	*conns = 0;
	*workers = 0;
	for (unsigned i = 0; sb && i < sb->nslots && *workers < max; i++) {
		const struct sb_slot *s = &sb->slots[i];
		if (__atomic_load_n(&s->pid, __ATOMIC_ACQUIRE) == 0 ||
		    __atomic_load_n(&s->generation, __ATOMIC_RELAXED) != generation)
			continue;
		*conns += __atomic_load_n(&s->active, __ATOMIC_RELAXED);
		(*workers)++;
	}
}

/* Moves a counter into the totals; the exchange makes a repeated free add nothing. */
static void fold(uint64_t *total, uint64_t *counter)
{
	uint64_t n = __atomic_exchange_n(counter, 0, __ATOMIC_RELAXED);

	__atomic_fetch_add(total, n, __ATOMIC_RELAXED);
}

static uint64_t *words(struct sb_counts *c)
{
	return (uint64_t *)(void *)c;
}

static const uint64_t *cwords(const struct sb_counts *c)
{
	return (const uint64_t *)(const void *)c;
}

static void slot_free(struct scoreboard *sb, struct sb_slot *s)
{
	struct sb_totals *t = &sb->totals;

	__atomic_fetch_add(&t->folding, 1, __ATOMIC_SEQ_CST);
	fold(&t->conns, &s->conns);
	fold(&t->requests, &s->requests);
	fold(&t->bytes, &s->bytes);
	fold(&t->refused, &s->refused);
	for (size_t i = 0; i < SB_NCOUNTS; i++)
		fold(&words(&t->counts)[i], &words(&s->counts)[i]);
	__atomic_store_n(&s->active, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->state, SB_FREE, __ATOMIC_RELAXED);
	__atomic_store_n(&s->pid, 0, __ATOMIC_RELEASE);
	__atomic_fetch_add(&t->folding, FOLD_DONE - 1, __ATOMIC_SEQ_CST);
}

void sb_release(struct sb_slot *s)
{
	if (s)
		slot_free(sb_of(s), s);
}

void sb_release_pid(struct scoreboard *sb, pid_t pid)
{
	if (!sb || pid <= 0)
		return;
	for (unsigned i = 0; i < sb->nslots; i++)
		if (__atomic_load_n(&sb->slots[i].pid, __ATOMIC_ACQUIRE) == pid)
			slot_free(sb, &sb->slots[i]);
}

/* Text written by another thread without atomics: a torn line is acceptable, a report not. */
__attribute__((no_sanitize("thread")))
static void copy_text(char *dst, const char *src, size_t cap)
{
	memcpy(dst, src, cap);
	dst[cap - 1] = '\0';
}

static void slot_read(const struct sb_slot *s, struct sb_slot *c)
{
	memset(c, 0, sizeof(*c));
	c->pid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
	c->index = s->index;
	if (!c->pid)
		return;
	c->tid = __atomic_load_n(&s->tid, __ATOMIC_RELAXED);
	c->generation = __atomic_load_n(&s->generation, __ATOMIC_RELAXED);
	c->state = __atomic_load_n(&s->state, __ATOMIC_RELAXED);
	c->active = __atomic_load_n(&s->active, __ATOMIC_RELAXED);
	c->conns = __atomic_load_n(&s->conns, __ATOMIC_RELAXED);
	c->requests = __atomic_load_n(&s->requests, __ATOMIC_RELAXED);
	c->bytes = __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
	c->refused = __atomic_load_n(&s->refused, __ATOMIC_RELAXED);
	c->started = __atomic_load_n(&s->started, __ATOMIC_RELAXED);
	copy_text(c->request, s->request, sizeof(c->request));
	for (size_t i = 0; i < SB_NCOUNTS; i++)
		words(&c->counts)[i] = __atomic_load_n(&cwords(&s->counts)[i], __ATOMIC_RELAXED);
}

static void add_slot(struct sb_summary *m, const struct sb_slot *c)
{
	bool finishing;

	if (!c->pid)
		return;
	finishing = c->generation != m->generation || c->state == SB_GRACEFUL;
	m->workers++;
	m->finishing += finishing;
	m->idle += !finishing && (c->state == SB_IDLE || c->state == SB_FREE);
	m->busy = m->workers - m->idle;
	m->active += c->active;
	m->accepts += c->conns;
	m->requests += c->requests;
	m->bytes += c->bytes;
	m->refused += c->refused;
	unsigned st = finishing ? SB_GRACEFUL : c->state == SB_FREE ? SB_IDLE : c->state;
	m->states[st < SB_NSTATES ? st : SB_IDLE]++;
	for (size_t i = 0; i < SB_NCOUNTS; i++)
		words(&m->counts)[i] += cwords(&c->counts)[i];
}

/* Sums the totals and n slots, copying them into copies when not NULL. */
static void read_board(const struct scoreboard *sb, unsigned n, struct sb_summary *m,
		       struct sb_slot *copies)
{
	const struct sb_totals *t = &sb->totals;

	for (int tries = 1;; tries++) {
		uint64_t before = __atomic_load_n(&t->folding, __ATOMIC_ACQUIRE);
		if ((uint32_t)before != 0 && tries < READ_TRIES)
			continue;
		memset(m, 0, sizeof(*m));
		m->started = __atomic_load_n(&t->started, __ATOMIC_RELAXED);
		m->generation = __atomic_load_n(&t->generation, __ATOMIC_RELAXED);
		m->reloads = __atomic_load_n(&t->reloads, __ATOMIC_RELAXED);
		m->accepts = __atomic_load_n(&t->conns, __ATOMIC_RELAXED);
		m->requests = __atomic_load_n(&t->requests, __ATOMIC_RELAXED);
		m->bytes = __atomic_load_n(&t->bytes, __ATOMIC_RELAXED);
		m->refused = __atomic_load_n(&t->refused, __ATOMIC_RELAXED);
		m->reload_failures = __atomic_load_n(&t->refusals, __ATOMIC_RELAXED);
		for (size_t i = 0; i < SB_NCOUNTS; i++)
			words(&m->counts)[i] = __atomic_load_n(&cwords(&t->counts)[i],
							       __ATOMIC_RELAXED);
		m->saturated = __atomic_load_n(&t->saturated, __ATOMIC_RELAXED) != 0;
		m->saturated_since = __atomic_load_n(&t->saturated_since, __ATOMIC_RELAXED);
		m->saturations = __atomic_load_n(&t->saturations, __ATOMIC_RELAXED);
		copy_text(m->saturated_what, t->saturated_what, sizeof(m->saturated_what));
		/*
		 * The master names the serving generation once its leader reports ready, a
		 * moment after its workers start: a newer worker means a newer generation.
		 */
		for (unsigned i = 0; i < n; i++) {
			const struct sb_slot *s = &sb->slots[i];
			unsigned g = __atomic_load_n(&s->generation, __ATOMIC_RELAXED);
			if (g > m->generation && __atomic_load_n(&s->pid, __ATOMIC_RELAXED))
				m->generation = g;
		}
		for (unsigned i = 0; i < n; i++) {
			struct sb_slot one, *c = copies ? &copies[i] : &one;
			slot_read(&sb->slots[i], c);
			add_slot(m, c);
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&t->folding, __ATOMIC_RELAXED) == before || tries >= READ_TRIES)
			return;
	}
}

void sb_summarize(const struct scoreboard *sb, struct sb_summary *out)
{
	read_board(sb, sb->nslots, out, NULL);
}

int sb_snapshot(const struct scoreboard *sb, unsigned nslots, struct sb_snapshot *out)
{
	if (nslots > sb->nslots)
		nslots = sb->nslots;
	out->nslots = nslots;
	out->slots = calloc(nslots ? nslots : 1, sizeof(*out->slots));
	if (!out->slots)
		return -1;
	read_board(sb, nslots, &out->sum, out->slots);
	return 0;
}

void sb_snapshot_free(struct sb_snapshot *snap)
{
	free(snap->slots);
	snap->slots = NULL;
}

char sb_state_char(unsigned state)
{
	static const char codes[SB_NSTATES] = {
		[SB_FREE] = '.', [SB_IDLE] = '_', [SB_READ] = 'R', [SB_WRITE] = 'W',
		[SB_KEEPALIVE] = 'K', [SB_CLOSING] = 'C', [SB_GRACEFUL] = 'G',
	};
	return state < SB_NSTATES ? codes[state] : '?';
}

const char *sb_state_name(unsigned state)
{
	static const char *const names[SB_NSTATES] = {
		[SB_FREE] = "free", [SB_IDLE] = "idle", [SB_READ] = "reading",
		[SB_WRITE] = "writing", [SB_KEEPALIVE] = "keep-alive", [SB_CLOSING] = "closing",
		[SB_GRACEFUL] = "gracefully finishing",
	};
	return state < SB_NSTATES ? names[state] : "unknown";
}

bool sb_saturated(struct scoreboard *sb, bool on, const char *what)
{
	struct sb_totals *t;
	int64_t now = time(NULL);

	if (!sb)
		return false;
	t = &sb->totals;
	/* The common case, nothing changes, costs a load and no shared-line write. */
	if ((__atomic_load_n(&t->saturated, __ATOMIC_RELAXED) != 0) == on)
		return false;
	if ((__atomic_exchange_n(&t->saturated, (uint32_t)on, __ATOMIC_ACQ_REL) != 0) == on)
		return false;
	if (on) {
		__atomic_store_n(&t->saturated_since, now, __ATOMIC_RELAXED);
		__atomic_fetch_add(&t->saturations, 1, __ATOMIC_RELAXED);
		snprintf(t->saturated_what, sizeof(t->saturated_what), "%s", what ? what : "");
		log_msg(LOG_WARNING, "saturated: %s", what ? what : "no capacity left");
	} else {
		int64_t since = __atomic_load_n(&t->saturated_since, __ATOMIC_RELAXED);
		log_msg(LOG_NOTICE, "no longer saturated after %lld s%s%s",
			(long long)(now > since ? now - since : 0), what ? ": " : "",
			what ? what : "");
	}
	return true;
}

void sb_check_busy(struct scoreboard *sb, unsigned generation, unsigned max_workers,
		   unsigned max_active)
{
	unsigned n = 0, busy = 0, free_slots = 0;
	char what[SB_WHAT_MAX];

	if (!sb || __atomic_load_n(&sb->totals.generation, __ATOMIC_RELAXED) != generation)
		return;
	for (unsigned i = 0; i < sb->nslots; i++) {
		const struct sb_slot *s = &sb->slots[i];
		pid_t pid = __atomic_load_n(&s->pid, __ATOMIC_RELAXED);
		free_slots += pid == 0;
		if (!pid || __atomic_load_n(&s->generation, __ATOMIC_RELAXED) != generation)
			continue;
		uint8_t st = __atomic_load_n(&s->state, __ATOMIC_RELAXED);
		n++;
		if (max_active)
			busy += __atomic_load_n(&s->active, __ATOMIC_RELAXED) >= max_active;
		else
			busy += st != SB_IDLE && st != SB_FREE;
	}
	/* Below its bound the MPM starts another worker rather than make a client wait. */
	bool at_bound = !max_workers || n >= max_workers || free_slots == 0;
	if (n > 0 && busy == n && at_bound) {
		if (max_active)
			snprintf(what, sizeof(what), "all %u workers of generation %u hold %u "
				 "connections", n, generation, max_active);
		else
			snprintf(what, sizeof(what), "all %u workers of generation %u are busy",
				 n, generation);
		sb_saturated(sb, true, what);
	} else {
		snprintf(what, sizeof(what), "%u of %u workers of generation %u %s", n - busy, n,
			 generation, max_active ? "below their connection limit" : "idle");
		sb_saturated(sb, false, what);
	}
}

/* The descriptor of pid that is our memfd; -errno when there is none or we may not look. */
static int find_memfd(pid_t pid)
{
	static const char want[] = "/memfd:" SB_MEMFD_NAME " (deleted)";
	char dir[64], path[64 + sizeof(((struct dirent *)0)->d_name)], link[sizeof(want) + 1];
	struct dirent *de;
	int fd = -ENOENT;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n != (ssize_t)sizeof(want) - 1 || memcmp(link, want, (size_t)n) != 0)
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
		break;
	}
	closedir(d);
	return fd;
}

int sb_attach(pid_t pid, const struct scoreboard **out, unsigned *nslots,
	      char *err, size_t errlen)
{
	struct stat st;
	const struct scoreboard *sb;
	int fd = find_memfd(pid);

	if (fd < 0) {
		if (fd == -ESRCH)
			snprintf(err, errlen, "no process %ld", (long)pid);
		else if (fd == -ENOENT)
			snprintf(err, errlen, "process %ld has no minihttpd scoreboard", (long)pid);
		else
			snprintf(err, errlen, "cannot look into process %ld: %s%s", (long)pid,
				 strerror(-fd), fd == -EACCES || fd == -EPERM ?
				 " (run as root, or as the user that started the server)" : "");
		return fd == -EPERM ? -EACCES : fd;
	}
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(*sb)) {
		close(fd);
		snprintf(err, errlen, "process %ld: the scoreboard is truncated", (long)pid);
		return -EPROTO;
	}
	sb = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (sb == MAP_FAILED) {
		int e = errno;
		snprintf(err, errlen, "process %ld: mmap: %s", (long)pid, strerror(e));
		return -e;
	}
	if (sb->magic != SB_MAGIC || sb->layout != SB_LAYOUT ||
	    sb->slot_size != sizeof(struct sb_slot)) {
		munmap((void *)sb, (size_t)st.st_size);
		snprintf(err, errlen, "process %ld: the scoreboard has another layout (another "
			 "minihttpd version?)", (long)pid);
		return -EPROTO;
	}
	size_t fit = ((size_t)st.st_size - sizeof(*sb)) / sizeof(struct sb_slot);
	*nslots = sb->nslots < fit ? sb->nslots : (unsigned)fit;
	*out = sb;
	return 0;
}
