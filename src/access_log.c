/* SPDX-License-Identifier: ISC */
/*
 * access_log: the targets and the per-thread buffers.
 *
 * A buffer is a ring with one producer, the thread that owns it, which never locks:
 * it copies a line in and publishes the new head (release). Its consumers, the process's
 * flusher thread once a second, and the owner itself when the ring is full or when it
 * ends, take the ring's mutex among themselves only. A line that would straddle the
 * ring's end is put at its start, after a NUL (never in a line: every field is escaped)
 * that tells the consumer the rest of the lap is empty; so every write(2) ends at a line's
 * end, and O_APPEND keeps other processes' lines from landing inside one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "config.h"
#include "log.h"

int access_log_open_target(const char *target, char *err, size_t errlen)
{
	int fd, std = strcmp(target, "stdout") == 0 ? 1 : strcmp(target, "stderr") == 0 ? 2 : -1;

	if (strcmp(target, "syslog") == 0 && !log_syslog_reachable()) {
		/* glibc would otherwise try socket+connect+close again for every line. */
		log_msg(LOG_WARNING, "access_log syslog: no syslog socket (%m); access lines go "
			"to stderr instead");
		std = 2;
	}
	if (std < 0 && target[0] != '/')
		return -1;
	if (std >= 0)
		fd = fcntl(std, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, errlen, "access_log %s: %s", target, strerror(errno));
		return -2;
	}
	return fd;
}

int access_log_open_sites(struct config *conf, char *err, size_t errlen)
{
	for (size_t i = 1; i < conf->sites.n; i++) {
		struct site *s = &conf->sites.sites[i];
		if (!s->access_log)
			continue;
		s->log_fd = access_log_open_target(s->access_log, err, errlen);
		if (s->log_fd == -2) {
			s->log_fd = -1;
			return -1;
		}
	}
	return 0;
}

int access_log_open(const struct config *conf, char *err, size_t errlen)
{
	return access_log_open_target(conf->access_log, err, errlen);
}

void access_log_sink(struct access_sink *sink, int fd, const char *target,
		     const struct log_format *format, size_t buffer)
{
	struct stat st;

	*sink = (struct access_sink){ .fd = fd, .name = target, .format = format };
	/* Without a descriptor, any target but off is syslog's (-i gives stdout's there). */
	sink->syslog = fd < 0 && strcmp(target, "off") != 0;
	if (fd >= 0 && buffer >= LOG_LINE_MAX && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		sink->buffer = buffer;
}

/* Per process: its threads share the target, so one of them saying it is enough. */
static void write_failed(const char *name)
{
	static bool reported;

	if (!__atomic_exchange_n(&reported, true, __ATOMIC_RELAXED))
		log_msg(LOG_ERR, "access log %s: %m (further errors not reported)", name);
}

static void write_out(int fd, const char *name, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			write_failed(name);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

struct ring {
	struct ring *next;		/* in the process's registry */
	pthread_mutex_t mu;		/* among consumers */
	int fd;
	const char *name;
	size_t size;
	uint64_t head;			/* written by the owner only */
	uint64_t tail;			/* written by consumers only, under mu */
	char buf[];
};

/* Up to this many buffered targets per thread; more are written unbuffered. */
#define RINGS 8

static __thread struct ring *rings[RINGS];
static __thread unsigned nrings;

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ring *registry;
static pid_t registry_pid;	/* the process the registry and its flusher belong to */

/* Writes out what the ring holds; the caller holds r->mu. */
static void consume(struct ring *r)
{
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE), tail = r->tail;

	while (tail < head) {
		size_t t = (size_t)(tail % r->size), n = r->size - t;
		const char *end;

		if (r->buf[t] == '\0') {
			tail += n;
			continue;
		}
		if (n > head - tail)
			n = (size_t)(head - tail);
		if ((end = memchr(r->buf + t, '\0', n)))
			n = (size_t)(end - (r->buf + t));
		write_out(r->fd, r->name, r->buf + t, n);
		tail += n;
	}
	__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
}

static void drain(struct ring *r)
{
	pthread_mutex_lock(&r->mu);
	consume(r);
	pthread_mutex_unlock(&r->mu);
}

static void *flusher(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec second = { .tv_sec = 1 };

		while (nanosleep(&second, &second) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&registry_mu);
		for (struct ring *r = registry; r; r = r->next)
			drain(r);
		pthread_mutex_unlock(&registry_mu);
	}
	return NULL;
}

/* The calling thread's ring for sink, made and registered on its first line. */
static struct ring *ring_of(const struct access_sink *sink)
{
	struct ring *r;

	for (unsigned i = 0; i < nrings; i++)
		if (rings[i]->fd == sink->fd)
			return rings[i];
	if (nrings == RINGS || !(r = calloc(1, sizeof(*r) + sink->buffer)))
		return NULL;
	pthread_mutex_init(&r->mu, NULL);
	r->fd = sink->fd;
	r->name = sink->name;
	r->size = sink->buffer;
	pthread_mutex_lock(&registry_mu);
	if (registry_pid != getpid()) {
		/* The first ring of this process: it gets its own flusher, signals blocked. */
		sigset_t all, old;
		pthread_attr_t attr;
		pthread_t t;

		registry = NULL;
		registry_pid = getpid();
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 64 * 1024);
		if (pthread_create(&t, &attr, flusher, NULL) != 0)
			log_msg(LOG_ERR, "access log %s: no flusher thread; lines wait for a full "
				"buffer or the worker's end", sink->name);
		pthread_attr_destroy(&attr);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	r->next = registry;
	registry = r;
	pthread_mutex_unlock(&registry_mu);
	rings[nrings++] = r;
	return r;
}

static void append(struct ring *r, const char *line, size_t len)
{
	uint64_t head = r->head;
	size_t p = (size_t)(head % r->size);
	size_t need = len + (p + len > r->size ? r->size - p : 0);

	while (r->size - (head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE)) < need)
		drain(r);
	if (p + len > r->size) {
		r->buf[p] = '\0';
		head += r->size - p;
		p = 0;
	}
	memcpy(r->buf + p, line, len);
	__atomic_store_n(&r->head, head + len, __ATOMIC_RELEASE);
}

void access_log_put(const struct access_sink *sink, const char *line, size_t len)
{
	struct ring *r;

	if (sink->syslog) {
		log_access(line, len - 1);
		return;
	}
	if (sink->fd < 0)
		return;
	if (sink->buffer && (r = ring_of(sink))) {
		append(r, line, len);
		return;
	}
	if (write(sink->fd, line, len) < 0)
		write_failed(sink->name);
}

void access_log_write(const struct access_sink *sink, const struct log_facts *facts)
{
	char line[LOG_LINE_MAX];

	if (sink->fd < 0 && !sink->syslog)
		return;
	access_log_put(sink, line, log_format_line(sink->format, facts, line));
}

void access_log_thread_end(void)
{
	for (unsigned i = 0; i < nrings; i++) {
		struct ring *r = rings[i], **pp;

		pthread_mutex_lock(&registry_mu);
		for (pp = &registry; *pp && *pp != r; pp = &(*pp)->next)
			;
		if (*pp)
			*pp = r->next;
		pthread_mutex_unlock(&registry_mu);
		drain(r);
		pthread_mutex_destroy(&r->mu);
		free(r);
	}
	nrings = 0;
}
