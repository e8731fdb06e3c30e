/* SPDX-License-Identifier: ISC */
/*
 * worker: a fixed number of processes, each with a fixed pool of threads serving one
 * connection at a time (the prethreaded server of Stevens, UNIX Network Programming
 * vol. 1, ch. 30; Apache's worker hybrid). The `accept` strategy decides how a
 * connection reaches a thread:
 *   mutex  each thread accepts in turn under a mutex (Stevens: each thread accepts);
 *   queue  one thread accepts and hands descriptors to the others through a bounded
 *          queue (Stevens: the main thread accepts); when the queue is full the acceptor
 *          waits, and clients wait in the listen backlog: none is refused.
 * Every thread runs with all signals blocked except while it waits in ppoll() (inside
 * pool_child_wait()), so SIGTERM lands in a thread that is waiting; whichever thread
 * sees a stop (SIGTERM, the generation's stop pipe, max_requests_per_child) closes the
 * process's quit pipe, which every thread polls. The acceptor then closes the queue after
 * its last push, and serving threads leave only once it is closed and empty: a retiring
 * process serves every connection it accepted. Threads finish their connections, the
 * process joins them and exits; the pool replaces a process that crashes.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpm.h"

#define THREADS_MAX 1024
#define PROCESSES_MAX 256

enum accept_strategy { ACCEPT_MUTEX, ACCEPT_QUEUE };

struct worker_conf {
	enum accept_strategy accept;
	long processes;			/* "auto" resolved to the CPUs we may run on */
	long threads;
	long queue_size;		/* "auto" resolved to threads */
	long max_conns_per_child;	/* per process; 0: never recycle */
};

struct accepted {
	int fd;
	socklen_t len;
	struct sockaddr_storage peer;
};

/* Stevens's clifd[] ring with iget/iput, bounded both ways. */
struct queue {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	struct accepted *ring;
	size_t cap, head, len;
	bool closing;			/* no more pushes come; drain, then leave */
};

/* One process. */
struct proc {
	const struct mpm_env *env;
	const struct worker_conf *wc;
	int quit[2];			/* closing quit[1] is "finish and exit" for every thread */
	int quitting;			/* atomic: quit() ran */
	unsigned long conns;		/* atomic */
	pthread_mutex_t accept_mu;
	struct queue q;
};

static const char *const strategies[] = {"mutex", "queue", NULL};

static const struct mpm_option options[] = {
	MPM_INT_AUTO("processes", 1, PROCESSES_MAX, struct worker_conf, processes),
	MPM_INT("threads_per_process", 25, 1, THREADS_MAX, struct worker_conf, threads),
	MPM_WORD("accept", ACCEPT_QUEUE, strategies, struct worker_conf, accept),
	MPM_INT_AUTO("queue_size", 1, 65536, struct worker_conf, queue_size),
	MPM_INT("max_requests_per_child", 0, 0, 1L << 30, struct worker_conf,
		max_conns_per_child),
	{0}
};

/* Derives the "auto" values. */
static int check(void *conf, char *err, size_t errlen)
{
	struct worker_conf *wc = conf;

	(void)err;
	(void)errlen;
	if (wc->processes == 0) {
		long cpus = mpm_cpu_count();
		wc->processes = cpus > PROCESSES_MAX ? PROCESSES_MAX : cpus;
	}
	if (wc->queue_size == 0)
		wc->queue_size = wc->threads;
	return 0;
}

static long query(const void *conf, enum mpm_query what)
{
	const struct worker_conf *wc = conf;

	switch (what) {
	case MPM_Q_MAX_SLOTS: return wc->processes * wc->threads;
	case MPM_Q_CONNS_PER_WORKER: return 0;
	}
	return -1;
}

static int queue_init(struct queue *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	q->ring = calloc(cap, sizeof(*q->ring));
	if (!q->ring)
		return -1;
	q->cap = cap;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	return 0;
}

static void queue_destroy(struct queue *q)
{
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->mu);
	free(q->ring);
}

/*
 * Waits while the queue is full: consumers leave only once the acceptor has closed the
 * queue and they have drained it, so room always comes, and an accepted connection is
 * never dropped.
 */
static void queue_push(struct queue *q, const struct accepted *a)
{
	pthread_mutex_lock(&q->mu);
	while (q->len == q->cap)
		pthread_cond_wait(&q->not_full, &q->mu);
	q->ring[(q->head + q->len) % q->cap] = *a;
	q->len++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

/* False once the queue is closing and empty. */
static bool queue_pop(struct queue *q, struct accepted *a)
{
	pthread_mutex_lock(&q->mu);
	while (q->len == 0 && !q->closing)
		pthread_cond_wait(&q->not_empty, &q->mu);
	bool got = q->len > 0;
	if (got) {
		*a = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->mu);
	return got;
}

static void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closing = true;
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

/*
 * Tells every thread of the process to finish; any thread may call it, once or more.
 * It does not close the queue: the acceptor may hold a connection it has accepted and
 * not yet pushed, and serving threads that left on an empty queue would leave it to be
 * reset. The acceptor closes the queue when it stops, after its last push.
 */
static void quit(struct proc *pr)
{
	if (__atomic_exchange_n(&pr->quitting, 1, __ATOMIC_ACQ_REL))
		return;
	close(pr->quit[1]);
}

static bool quitting(struct proc *pr)
{
	return __atomic_load_n(&pr->quitting, __ATOMIC_ACQUIRE);
}

static void serve(struct proc *pr, struct worker *w, const struct accepted *a)
{
	worker_serve(w, a->fd, (const struct sockaddr *)&a->peer, a->len);
	unsigned long n = __atomic_add_fetch(&pr->conns, 1, __ATOMIC_RELAXED);
	/* SIGTERM may have landed in this thread's wait: the others must hear of it. */
	if (pool_child_stopping(-1) ||
	    (pr->wc->max_conns_per_child && n >= (unsigned long)pr->wc->max_conns_per_child))
		quit(pr);
}

/* Waits on the listeners (or the quit pipe); -1 when the process stops. */
static int accept_next(struct proc *pr, struct accepted *a)
{
	if (quitting(pr))
		return -1;
	a->fd = mpm_accept_wait(pr->env, pr->quit[0], &a->peer, &a->len);
	return a->fd;
}

static void *serving_thread(void *arg)
{
	struct proc *pr = arg;
	struct worker *w = worker_begin(pr->env, pr->quit[0]);
	struct accepted a;

	if (pr->wc->accept == ACCEPT_QUEUE) {
		while (queue_pop(&pr->q, &a))
			serve(pr, w, &a);
	} else {
		for (;;) {
			pthread_mutex_lock(&pr->accept_mu);
			int fd = accept_next(pr, &a);
			pthread_mutex_unlock(&pr->accept_mu);
			if (fd < 0)
				break;
			serve(pr, w, &a);
		}
		quit(pr);
	}
	worker_end(w);
	return NULL;
}

static void *accepting_thread(void *arg)
{
	struct proc *pr = arg;
	struct accepted a;

	while (accept_next(pr, &a) >= 0)
		queue_push(&pr->q, &a);
	quit(pr);
	queue_close(&pr->q);
	return NULL;
}

/*
 * Starts the threads with every signal blocked (they inherit the mask), the acceptor
 * last and only when some thread serves; returns how many serve.
 */
static unsigned start_threads(struct proc *pr, pthread_t *tids, unsigned *started)
{
	const struct worker_conf *wc = pr->wc;
	unsigned serving = 0;
	sigset_t all, old;
	int rc = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	while (serving < (unsigned)wc->threads &&
	       (rc = pthread_create(&tids[serving], NULL, serving_thread, pr)) == 0)
		serving++;
	*started = serving;
	if (rc == 0 && serving > 0 && wc->accept == ACCEPT_QUEUE) {
		rc = pthread_create(&tids[serving], NULL, accepting_thread, pr);
		if (rc == 0) {
			(*started)++;
		} else {
			/* No acceptor will close the queue the serving threads wait on. */
			queue_close(&pr->q);
			serving = 0;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		log_msg(LOG_ERR, "process %ld: pthread_create: %s; %u threads serve",
			(long)getpid(), strerror(rc), serving);
	return serving;
}

static int process_main(const struct mpm_env *env, int stop_fd, int chan, void *arg)
{
	struct proc pr = { .env = env, .wc = env->mpm_conf };
	unsigned started, serving;
	pthread_t *tids;
	int rc = 0;

	(void)chan;
	(void)arg;
	tids = calloc((size_t)pr.wc->threads + 1, sizeof(*tids));
	if (!tids || pipe2(pr.quit, O_CLOEXEC) < 0 ||
	    (pr.wc->accept == ACCEPT_QUEUE && queue_init(&pr.q, (size_t)pr.wc->queue_size) < 0)) {
		log_msg(LOG_ERR, "process %ld: cannot start: %m", (long)getpid());
		return 1;
	}
	pthread_mutex_init(&pr.accept_mu, NULL);
	serving = start_threads(&pr, tids, &started);
	if (serving == 0) {
		rc = 1;
		quit(&pr);
	}
	/* The process's own thread only waits for a stop, and takes SIGTERM. */
	for (;;) {
		struct pollfd pfd = { .fd = pr.quit[0], .events = POLLIN };
		if (pool_child_wait(&pfd, 1, stop_fd, -1) != 0)
			break;
	}
	quit(&pr);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&pr.accept_mu);
	if (pr.wc->accept == ACCEPT_QUEUE)
		queue_destroy(&pr.q);
	close(pr.quit[0]);
	free(tids);
	return rc;
}

static int run(const struct mpm_env *env)
{
	const struct worker_conf *wc = env->mpm_conf;

	return pool_serve(env, process_main, (unsigned)wc->processes);
}

const struct mpm_module minihttpd_mpm = {
	.abi_version = MPM_ABI_VERSION,
	.name = "worker",
	.description = "processes of threads serving one connection each; accept: mutex or queue",
	.options = options,
	.conf_size = sizeof(struct worker_conf),
	.check = check,
	.query = query,
	.run = run,
};
