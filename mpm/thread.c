/* SPDX-License-Identifier: ISC */
/*
 * thread: one thread per connection (Stevens, UNIX Network Programming vol. 1, ch. 30:
 * "one thread per client"). One process, kept
 * by the pool (a crash is replaced), whose main thread accepts and starts a detached
 * thread for each connection; the thread serves it to its end and exits.
 *
 * max_threads caps the live connection threads: at the cap the main thread stops
 * accepting until one ends, so clients wait in the listen backlog (back-pressure, never a
 * refusal). Each thread claims its own scoreboard slot when one is free. On stop the main
 * thread stops accepting and waits for the threads, which finish the request in flight;
 * the master's graceful_timeout bounds that wait.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mpm.h"

/* A connection's call chain is shallow; 8 MiB stacks would only reserve address space. */
#define STACK_SIZE (512 * 1024)
#define RETRY_MS 100
#define THREAD_NAME "minihttpd conn"

struct thread_conf {
	long max_threads;
};

/* The child's count of connection threads; the main thread waits on `changed`. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static unsigned active;

struct job {
	const struct mpm_env *env;
	int stop_fd;
	int fd;
	socklen_t len;
	struct sockaddr_storage peer;
};

static const struct mpm_option options[] = {
	MPM_INT("max_threads", 256, 1, 4096, struct thread_conf, max_threads),
	{0}
};

static long query(const void *conf, enum mpm_query what)
{
	const struct thread_conf *tc = conf;

	switch (what) {
	case MPM_Q_MAX_SLOTS: return tc->max_threads;
	case MPM_Q_CONNS_PER_WORKER: return 0;
	}
	return -1;
}

static void *conn_thread(void *arg)
{
	struct job *j = arg;
	struct worker *w = worker_begin(j->env, j->stop_fd);

	/* So ps -L and /proc/PID/task tell connection threads from the main one. */
	pthread_setname_np(pthread_self(), THREAD_NAME);
	worker_serve(w, j->fd, (struct sockaddr *)&j->peer, j->len);
	worker_end(w);
	free(j);
	pthread_mutex_lock(&lock);
	active--;
	pthread_cond_signal(&changed);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Waits until fewer than max threads run; false when the child must stop meanwhile. */
static bool wait_below(unsigned max, int stop_fd)
{
	bool stop = false;

	pthread_mutex_lock(&lock);
	while (active >= max && !stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&changed, &lock, &ts);
		stop = pool_child_stopping(stop_fd);
	}
	pthread_mutex_unlock(&lock);
	return !stop;
}

/* Starts the thread for j, retrying while the system is short of threads. */
static bool start(const pthread_attr_t *attr, struct job *j, int stop_fd)
{
	bool logged = false;
	pthread_t t;
	int err;

	pthread_mutex_lock(&lock);
	active++;
	pthread_mutex_unlock(&lock);
	while ((err = pthread_create(&t, attr, conn_thread, j)) != 0) {
		if (!logged)
			log_msg(LOG_ERR, "pthread_create: %s; holding the connection and retrying "
				"every %d ms", strerror(err), RETRY_MS);
		logged = true;
		if (pool_child_wait(NULL, 0, stop_fd, RETRY_MS) < 0) {
			close(j->fd);
			free(j);
			pthread_mutex_lock(&lock);
			active--;
			pthread_mutex_unlock(&lock);
			return false;
		}
	}
	return true;
}

static int child_main(const struct mpm_env *env, int stop_fd, int chan, void *arg)
{
	const struct thread_conf *tc = env->mpm_conf;
	pthread_attr_t attr;

	(void)chan;
	(void)arg;
	pool_fit_nofile((rlim_t)tc->max_threads * 2 + 64);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	while (wait_below((unsigned)tc->max_threads, stop_fd)) {
		struct job *j = malloc(sizeof(*j));
		if (!j) {
			log_msg(LOG_ERR, "out of memory");
			if (pool_child_wait(NULL, 0, stop_fd, RETRY_MS) < 0)
				break;
			continue;
		}
		j->fd = mpm_accept_wait(env, stop_fd, &j->peer, &j->len);
		if (j->fd < 0) {
			free(j);
			break;
		}
		j->env = env;
		j->stop_fd = stop_fd;
		if (!start(&attr, j, stop_fd))
			break;
	}
	pthread_mutex_lock(&lock);
	while (active > 0)
		pthread_cond_wait(&changed, &lock);
	pthread_mutex_unlock(&lock);
	pthread_attr_destroy(&attr);
	return 0;
}

static int run(const struct mpm_env *env)
{
	return pool_serve(env, child_main, 1);
}

const struct mpm_module minihttpd_mpm = {
	.abi_version = MPM_ABI_VERSION,
	.name = "thread",
	.description = "one process, a new thread for every connection, up to max_threads",
	.options = options,
	.conf_size = sizeof(struct thread_conf),
	.query = query,
	.run = run,
};
