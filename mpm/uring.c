/* SPDX-License-Identifier: ISC */
/*
 * uring: the Proactor (Stevens, UNIX Network Programming vol. 1, ch. 30; the lecture's
 * last model). event is a Reactor: the kernel says a socket is ready and the loop does
 * the I/O. Here the loop starts operations on an io_uring and the kernel says when they
 * completed, with their result. A fixed number of processes, one ring each, the same
 * connection engine as event, driven through its completion interface (http_conn.h):
 * bytes received go in, what to send comes out.
 *
 * Accept: a multishot accept per listener (io_uring arms it exclusively, as
 * EPOLLEXCLUSIVE: one process per connection). Within ACCEPT_BURST of max_connections it
 * becomes one accept at a time, so that only a burst larger than the room left, arriving
 * while the room was above ACCEPT_BURST, can pass the limit; full, short of descriptors
 * or stopping, it is cancelled. What completed before the cancel is served; stopping,
 * so is what is still queued once it ended (an exclusive wakeup may have picked this
 * process for it). The wakeup goes to the first process armed, busy or not, so one
 * process would take every connection: the accept is also cancelled while the process
 * holds its share of the generation's connections (worker_share_room(), as event keeps
 * it, with its rescue of what waits: take_waiting()). A multishot accept cannot be
 * bounded by that room, as event's bursts are, and going one at a time below it would
 * cost every new connection a submission at the few connections where a share is small,
 * so a turn's arrivals can carry a process past its share: measured, 58% of a burst on
 * average with two processes, 71% at most (tests/integration/test_balance.py).
 *
 * Receive: one receive per connection, started only when the engine asks to read, into
 * a buffer the kernel picks from a provided-buffer ring when data arrives. An idle
 * connection holds no buffer, only the engine's small struct and this file's links. A
 * buffer goes back to the ring once the engine consumed it; a pipelined request that
 * arrives while a response goes out stays in the socket (no receive is outstanding
 * then), so there is no readiness edge to lose. ENOBUFS (every buffer held) leaves the
 * connection starved: its receive is started again once a buffer is back (slower,
 * nothing dropped). A receive after one that left the socket empty waits for data
 * before it tries (IORING_RECVSEND_POLL_FIRST): the next request comes only after the
 * response. Not a multishot receive: it would go on taking a pipelined client's bytes,
 * a buffer each, while the response goes out, holding buffers and losing the socket's
 * backpressure, to save one submission entry per request.
 *
 * Send: the head and small bodies from the engine's buffer (the file cache inlines small
 * files there) with MSG_DONTWAIT, so a send completes within the submit that starts it
 * and no operation outlives the engine's buffer; a full socket becomes a POLLOUT poll.
 * Large files go by splice, file to pipe and pipe to socket, never through user space.
 *
 * A connection is freed only when none of its operations is outstanding: closing it
 * cancels them, and their completions (counted in inflight) arrive before the free.
 * Timeouts are the core's FIFOs per kind (conn_queue.c); the ring waits with the
 * earliest deadline as its timeout, and with SIGTERM unblocked only while waiting. A
 * turn's entries are submitted with that wait, one system call, and the completions
 * are run by it in one batch (deferred task work: ring_flag_sets below).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http_conn.h"
#include "mpm.h"

#define RING_ENTRIES 2048
#define BUF_SIZE 4096		/* one receive; the engine copies it into its head buffer */
#define BGID 0
#define ACCEPT_BURST 64		/* room below which accepts go one at a time */
#define PIPE_SIZE 262144	/* file bytes per splice round */
#define PIPE_CACHE 16
#define STARVED_RETRY_MS 10

/*
 * The ring's setup flags, decided once by probe() (the first set the kernel takes) and
 * inherited by every process. With the defaults, a receive's data arriving interrupts
 * the process (a signal-like task-work notification) to complete it at once, while the
 * sender's softirq still holds the socket's lock: the process spins on it. Deferred
 * task work (Linux 6.1) completes it only when the loop asks for completions, in a
 * batch; cooperative task work (5.19) at least does not interrupt. SUBMIT_ALL: one bad
 * entry does not hold back those queued after it.
 */
static const unsigned ring_flag_sets[] = {
	IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
	0,
};
static unsigned ring_flags;

struct uring_conf {
	long processes;
	long max_connections;
	long defer_accept;	/* seconds; 0: off */
	long buffers;		/* receive buffers per process, a power of two */
};

/* Low bits of a completion's user_data: connection operations carry the urc pointer. */
enum tag { T_RECV, T_SEND, T_FILL, T_DRAIN, T_POLLOUT, T_ACCEPT, T_STOP, T_CACHE, T_CANCEL };
#define TAG_MASK 15ULL

/* A pipe that file bytes go through, held only while a connection sends a file. */
struct upipe {
	int fd[2];
	uint32_t piped;		/* bytes in it */
	uint32_t cap;
};

/*
 * The loop's part of a connection, in the engine's allocation (conn_extra), every idle
 * connection's: no bigger than event's, so that 10,000 of them cost no more (with
 * struct conn a 136-byte request, a 144-byte malloc block; a field more takes the next
 * size). The link first, as conn_queue.c needs (conn_of_extra()); and so the struct
 * starts where extra does, 16-aligned, which leaves the tag bits of user_data free.
 */
struct urc {
	struct conn_qlink link;
	/* A connection waits for a receive buffer (starved: it reads) or sends a file
	 * through a pipe (it writes), never both: the starved list's link is the pipe's. */
	union {
		struct urc *next_starved;
		struct upipe *pipe;	/* NULL: none */
	};
	uint16_t bid;		/* the receive buffer the engine reads, when has_buf */
	uint8_t inflight;	/* operations whose completion has not arrived */
	uint8_t wtag;		/* the write operation outstanding, when writing */
	bool recv_armed : 1, writing : 1, has_buf : 1, dead : 1, starved : 1;
	bool emptied : 1;	/* the last receive left the socket empty */
};

_Static_assert(_Alignof(struct urc) <= 16 && TAG_MASK < 16, "tag bits in the pointer");
_Static_assert(offsetof(struct urc, link) == 0, "conn_of_extra() takes the link");
_Static_assert(sizeof(struct urc) <= 40, "an idle connection's block: see struct urc");

#define URC(k) ((struct urc *)((char *)(k) - offsetof(struct urc, link)))

static struct conn *urc_conn(struct urc *u)
{
	return conn_of_extra(u);
}

struct lsn {
	uint8_t armed;		/* 0 none, 1 one accept, 2 multishot */
	bool cancelling;
};

struct loop {
	const struct mpm_env *env;
	const struct uring_conf *uc;
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	char *bufs;
	unsigned nbufs, held;
	struct worker *w;
	struct conn_queue q;
	struct lsn *lsn;
	struct urc *starved;
	struct upipe *pipes[PIPE_CACHE];
	unsigned npipes, single;
	long nconns;
	int64_t fd_pause_until;
	uint32_t deferral_ms;	/* how long the kernel holds a connection that sends nothing */
	int stop_fd, cache_fd;
	bool stopping;
	bool full_logged;
	bool pipe_failing;	/* the last pipe could not be made (logged) */
};

static const struct mpm_option options[] = {
	MPM_INT_AUTO("processes", 1, 4096, struct uring_conf, processes),
	MPM_INT("max_connections", 10000, 1, 1000000, struct uring_conf, max_connections),
	MPM_INT("defer_accept", 1, 0, 3600, struct uring_conf, defer_accept),
	MPM_INT("buffers", 512, 16, 32768, struct uring_conf, buffers),
	{0}
};

/* Why io_uring_queue_init() failed, in the operator's terms. */
static const char *cause(int err, char *buf, size_t len)
{
	FILE *f;
	int disabled = 0;

	switch (err) {
	case ENOSYS:
		return "the kernel has no io_uring (built without it, or a filter hides it)";
	case ENOMEM:
		return "not enough memory for a ring (RLIMIT_MEMLOCK?)";
	case EPERM:
		if ((f = fopen("/proc/sys/kernel/io_uring_disabled", "r"))) {
			if (fscanf(f, "%d", &disabled) != 1)
				disabled = 0;
			fclose(f);
		}
		if (disabled == 2)
			return "io_uring is disabled (sysctl kernel.io_uring_disabled = 2)";
		if (disabled == 1)
			return "io_uring is restricted (sysctl kernel.io_uring_disabled = 1) and "
			       "this user is not in kernel.io_uring_group";
		return "io_uring is forbidden (EPERM: a seccomp filter or the container "
		       "runtime denies io_uring_setup)";
	}
	snprintf(buf, len, "io_uring_setup: %s", strerror(err));
	return buf;
}

/*
 * What the loop needs of the kernel: a ring, the operations it starts, and provided
 * buffer rings (Linux 5.19). -1 with err naming the cause and the alternative.
 */
static int probe(char *err, size_t errlen)
{
	static const struct { int op; const char *name; } ops[] = {
		{ IORING_OP_ACCEPT, "ACCEPT" }, { IORING_OP_RECV, "RECV" },
		{ IORING_OP_SEND, "SEND" }, { IORING_OP_SPLICE, "SPLICE" },
		{ IORING_OP_POLL_ADD, "POLL_ADD" }, { IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL" },
	};
	static const char alt[] = "; use mpm = \"event\" instead";
	struct io_uring ring;
	struct io_uring_probe *p;
	char buf[96];
	int rc = -EINVAL;

	for (size_t i = 0; rc == -EINVAL && i < sizeof(ring_flag_sets) / sizeof(ring_flag_sets[0]);
	     i++) {
		ring_flags = ring_flag_sets[i];
		rc = io_uring_queue_init(8, &ring, ring_flags);
	}
	if (rc < 0) {
		snprintf(err, errlen, "io_uring is not available: %s%s", cause(-rc, buf, sizeof(buf)),
			 alt);
		return -1;
	}
	p = io_uring_get_probe_ring(&ring);
	for (size_t i = 0; p && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!io_uring_opcode_supported(p, ops[i].op)) {
			snprintf(err, errlen, "the kernel's io_uring lacks IORING_OP_%s (Linux 5.19 "
				 "or later needed)%s", ops[i].name, alt);
			rc = -1;
			break;
		}
	io_uring_free_probe(p);
	if (rc == 0) {
		struct io_uring_buf_ring *br = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
						    MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
		struct io_uring_buf_reg reg = { .ring_addr = (uintptr_t)br, .ring_entries = 16,
						.bgid = BGID };
		int r = br == MAP_FAILED ? -ENOMEM : io_uring_register_buf_ring(&ring, &reg, 0);
		if (r < 0) {
			snprintf(err, errlen, "the kernel's io_uring has no provided buffer rings "
				 "(%s; Linux 5.19 or later needed)%s", strerror(-r), alt);
			rc = -1;
		}
		if (br != MAP_FAILED)
			munmap(br, 4096);
	}
	io_uring_queue_exit(&ring);
	return rc;
}

static int check(void *conf, char *err, size_t errlen)
{
	struct uring_conf *uc = conf;

	if (uc->processes == 0)
		uc->processes = mpm_cpu_count();
	if (uc->buffers & (uc->buffers - 1)) {
		snprintf(err, errlen, "buffers = %ld is not a power of two", uc->buffers);
		return -1;
	}
	return probe(err, errlen);
}

static long query(const void *conf, enum mpm_query what)
{
	const struct uring_conf *uc = conf;

	switch (what) {
	case MPM_Q_MAX_SLOTS: return uc->processes;
	case MPM_Q_CONNS_PER_WORKER: return uc->max_connections;
	}
	return -1;
}

static uint64_t ud(const struct urc *u, enum tag t)
{
	return (uint64_t)(uintptr_t)u | t;
}

/* A submission entry; the queue is flushed when full. NULL only if that fails. */
static struct io_uring_sqe *sqe_get(struct loop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe && io_uring_submit(&l->ring) >= 0)
		sqe = io_uring_get_sqe(&l->ring);
	if (!sqe)
		log_msg(LOG_ERR, "uring: the submission queue is full");
	return sqe;
}

static void cancel(struct loop *l, uint64_t what)
{
	struct io_uring_sqe *sqe = sqe_get(l);

	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, what, 0);
	io_uring_sqe_set_data64(sqe, T_CANCEL);
}

static void buf_give_back(struct loop *l, unsigned bid)
{
	io_uring_buf_ring_add(l->br, l->bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, (unsigned short)bid,
			      io_uring_buf_ring_mask(l->nbufs), 0);
	io_uring_buf_ring_advance(l->br, 1);
	l->held--;
}

static void pipe_close(struct upipe *p)
{
	close(p->fd[0]);
	close(p->fd[1]);
	free(p);
}

static void pipe_put(struct loop *l, struct urc *u)
{
	struct upipe *p = u->starved ? NULL : u->pipe;

	if (!p)
		return;
	/* A pipe with bytes in it (a connection cut mid-file) is not reused. */
	if (p->piped == 0 && !u->writing && l->npipes < PIPE_CACHE)
		l->pipes[l->npipes++] = p;
	else
		pipe_close(p);
	u->pipe = NULL;
}

static int pipe_get(struct loop *l, struct urc *u)
{
	struct upipe *p;
	int cap;

	if (l->npipes) {
		u->pipe = l->pipes[--l->npipes];
		return 0;
	}
	if (!(p = malloc(sizeof(*p))))
		return -ENOMEM;
	if (pipe2(p->fd, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(p);
		return -errno;
	}
	/* A bigger pipe is fewer rounds; the default (64 KiB) is fine when refused. */
	fcntl(p->fd[1], F_SETPIPE_SZ, PIPE_SIZE);
	cap = fcntl(p->fd[1], F_GETPIPE_SZ);
	p->cap = cap > 0 ? (uint32_t)cap : 65536;
	p->piped = 0;
	u->pipe = p;
	return 0;
}

/* The last completion of a closed connection arrived: nothing refers to it any more. */
static void maybe_free(struct loop *l, struct urc *u)
{
	if (!u->dead || u->inflight)
		return;
	conn_free(urc_conn(u));
	l->nconns--;
}

/*
 * The engine closed the connection (or its deadline passed): cancel what is outstanding.
 * The caller then calls maybe_free(), last: a completion's handler may still look at u.
 */
static void kill_conn(struct loop *l, struct urc *u)
{
	u->dead = true;
	conn_queue_remove(&l->q, &u->link);
	if (u->recv_armed)
		cancel(l, ud(u, T_RECV));
	if (u->writing)
		cancel(l, ud(u, (enum tag)u->wtag));
	if (u->has_buf) {
		u->has_buf = false;
		buf_give_back(l, u->bid);
	}
	pipe_put(l, u);
}

/*
 * A deadline passed. What the loop queued is submitted first, so that no entry still
 * waiting names a descriptor (a pipe) that this closes, or a number it is reused for.
 */
static void drop_link(struct conn_qlink *k, void *arg)
{
	struct loop *l = arg;

	if (io_uring_sq_ready(&l->ring))
		io_uring_submit(&l->ring);
	kill_conn(l, URC(k));
	maybe_free(l, URC(k));
}

static void arm_recv(struct loop *l, struct urc *u)
{
	struct io_uring_sqe *sqe = sqe_get(l);

	if (!sqe)
		return;		/* its timer closes it */
	io_uring_prep_recv(sqe, conn_fd(urc_conn(u)), NULL, BUF_SIZE, 0);
	/* Emptied, the next request is on its way only after this response: an attempt
	 * before waiting would find nothing. */
	if (u->emptied)
		sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, ud(u, T_RECV));
	u->recv_armed = true;
	u->inflight++;
}

static void start_write(struct loop *l, struct urc *u, enum tag t, struct io_uring_sqe *sqe)
{
	io_uring_sqe_set_data64(sqe, ud(u, t));
	u->wtag = (uint8_t)t;
	u->writing = true;
	u->inflight++;
}

/*
 * Starts the next step of what the engine sends: memory, else the pipe's bytes to the
 * socket, else the next piece of the file into the pipe. false: the connection failed.
 */
static bool arm_send(struct loop *l, struct urc *u)
{
	struct conn *c = urc_conn(u);
	struct conn_output o;
	struct io_uring_sqe *sqe;
	int fd = conn_fd(c);

	if (!conn_output(c, &o)) {
		conn_sent(c, -EIO);
		return false;
	}
	if (!o.len && !u->pipe) {
		int rc = pipe_get(l, u);
		/* Short of descriptors, every large file would fail alike: one line per episode. */
		if (rc < 0 && !l->pipe_failing)
			log_msg(LOG_ERR, "uring: no pipe to send a file through (%s): closing such "
				"connections until one can be made", strerror(-rc));
		l->pipe_failing = rc < 0;
		if (rc < 0) {
			conn_sent(c, rc);
			return false;
		}
	}
	if (!(sqe = sqe_get(l)))
		return true;	/* its send timer closes it */
	if (o.len) {
		io_uring_prep_send(sqe, fd, o.buf, o.len,
				   MSG_NOSIGNAL | MSG_DONTWAIT | (o.more ? MSG_MORE : 0));
		start_write(l, u, T_SEND, sqe);
	} else if (u->pipe->piped) {
		unsigned more = o.flen > u->pipe->piped || o.more ? SPLICE_F_MORE : 0;
		io_uring_prep_splice(sqe, u->pipe->fd[0], -1, fd, -1, u->pipe->piped,
				     SPLICE_F_NONBLOCK | more);
		start_write(l, u, T_DRAIN, sqe);
	} else {
		uint64_t n = o.flen < u->pipe->cap ? o.flen : u->pipe->cap;
		io_uring_prep_splice(sqe, o.fd, o.off, u->pipe->fd[1], -1, (unsigned)n,
				     SPLICE_F_NONBLOCK);
		start_write(l, u, T_FILL, sqe);
	}
	return true;
}

static void arm_pollout(struct loop *l, struct urc *u)
{
	struct io_uring_sqe *sqe = sqe_get(l);

	if (!sqe)
		return;
	io_uring_prep_poll_add(sqe, conn_fd(urc_conn(u)), POLLOUT);
	start_write(l, u, T_POLLOUT, sqe);
}

/* Runs the engine on what completed, then starts what it asks for. */
static void drive(struct loop *l, struct urc *u)
{
	struct conn *c = urc_conn(u);
	enum conn_want w = conn_run(c);

	if (u->has_buf && conn_unread(c) == 0) {
		u->has_buf = false;
		buf_give_back(l, u->bid);
	}
	if (w == CONN_DONE) {
		kill_conn(l, u);
		return;
	}
	if (w == CONN_WANT_READ) {
		pipe_put(l, u);
		if (!u->recv_armed && !u->starved)
			arm_recv(l, u);
	} else if (!u->writing && !arm_send(l, u)) {
		kill_conn(l, u);
		return;
	}
	conn_queue_retime(&l->q, &u->link);
}

/* ENOBUFS: every buffer is held. The connection waits for one (held in the list). */
static void starve(struct loop *l, struct urc *u)
{
	u->starved = true;
	u->inflight++;
	u->next_starved = l->starved;
	l->starved = u;
}

static void feed_starved(struct loop *l)
{
	struct urc *u = l->starved;

	if (!u || l->held >= l->nbufs)
		return;
	l->starved = NULL;
	while (u) {
		struct urc *next = u->next_starved;
		u->starved = false;
		u->pipe = NULL;
		u->inflight--;
		if (u->dead)
			maybe_free(l, u);
		else if (!u->recv_armed)
			arm_recv(l, u);
		u = next;
	}
}

static void on_recv(struct loop *l, struct urc *u, int res, unsigned flags)
{
	struct conn *c = urc_conn(u);
	const char *buf = NULL;

	u->recv_armed = false;
	if (flags & IORING_CQE_F_BUFFER) {
		unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
		l->held++;
		if (u->dead || res <= 0) {
			buf_give_back(l, bid);
		} else {
			u->bid = (uint16_t)bid;
			u->has_buf = true;
			buf = l->bufs + (size_t)bid * BUF_SIZE;
		}
	}
	if (u->dead)
		return;
	if (res == -ENOBUFS) {
		starve(l, u);
		return;
	}
	if (res == -EINTR || res == -EAGAIN) {
		arm_recv(l, u);
		return;
	}
	u->emptied = !(flags & IORING_CQE_F_SOCK_NONEMPTY);
	conn_received(c, buf, res, u->emptied);
	drive(l, u);
}

static void on_write(struct loop *l, struct urc *u, enum tag t, int res)
{
	struct conn *c = urc_conn(u);

	u->writing = false;
	if (u->dead)
		return;
	if (res == -EAGAIN && (t == T_SEND || t == T_DRAIN)) {
		arm_pollout(l, u);
		return;
	}
	switch (t) {
	case T_FILL:
		/* Into the pipe only: nothing sent yet. 0: the file ended before its length. */
		if (res > 0)
			u->pipe->piped = (uint32_t)res;
		else
			conn_sent(c, res);
		break;
	case T_DRAIN:
		if (res > 0)
			u->pipe->piped -= (uint32_t)res;
		conn_sent(c, res ? res : -EPIPE);
		break;
	case T_SEND:
		conn_sent(c, res ? res : -EPIPE);
		break;
	default:	/* T_POLLOUT: writable (or failed: the send says how) */
		if (res < 0)
			conn_sent(c, res);
		break;
	}
	drive(l, u);
}

static void add_conn(struct loop *l, int fd)
{
	struct conn *c = conn_new(l->w, fd, NULL, 0, sizeof(struct urc));
	struct urc *u;

	if (!c)
		return;
	u = conn_extra(c);
	*u = (struct urc){ .pipe = NULL };
	conn_qlink_init(&u->link);
	conn_set_completion(c);
	conn_set_waited(c, l->deferral_ms);
	l->nconns++;
	drive(l, u);
	maybe_free(l, u);
}

static void arm_accept(struct loop *l, size_t i, uint8_t how)
{
	struct io_uring_sqe *sqe = sqe_get(l);
	int lfd = l->env->listeners[i];

	if (!sqe)
		return;
	if (how == 2)
		io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	else
		io_uring_prep_accept(sqe, lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, (uint64_t)i << 4 | T_ACCEPT);
	l->lsn[i].armed = how;
	if (how == 1)
		l->single++;
}

/*
 * Accept is paused, never refused, while full or short of descriptors. A process that
 * hovers at its limit would log at every close: an episode ends only below 90%.
 */
static void update_accepting(struct loop *l, int64_t now)
{
	long max = l->uc->max_connections, room;
	bool full = l->nconns >= max, held;

	if (full && !l->full_logged)
		log_msg(LOG_WARNING, "uring: process %ld reached max_connections (%ld); "
			"accepting again when one closes", (long)getpid(), max);
	if (full)
		l->full_logged = true;
	else if (l->nconns < max - (max + 9) / 10)
		l->full_logged = false;
	if (l->fd_pause_until && now >= l->fd_pause_until)
		l->fd_pause_until = 0;
	room = max - l->nconns - (long)l->single;
	held = worker_share_held(l->w, now);
	for (size_t i = 0; i < l->env->nlisteners; i++) {
		struct lsn *s = &l->lsn[i];
		uint8_t want = l->stopping || l->fd_pause_until || room <= 0 || held ? 0
			       : room > ACCEPT_BURST ? 2 : 1;
		if (s->cancelling)
			continue;
		if (s->armed && (want == 0 || (s->armed == 2 && want == 1))) {
			cancel(l, (uint64_t)i << 4 | T_ACCEPT);
			s->cancelling = true;
		} else if (!s->armed && want) {
			arm_accept(l, i, want);
			if (want == 1)
				room--;
		}
	}
}

/*
 * Takes up to limit connections queued on listener i by plain accepts. An exclusive
 * wakeup may have chosen this process for a connection still queued, its accept
 * cancelled before it ran (deferred task work makes that window as long as a turn of the
 * loop), and no other process was woken for it: a stopping process whose accept ended
 * takes them all (and serves, then closes them), as event does; one over its share, a
 * few at a time (take_waiting()).
 */
static void accept_left(struct loop *l, size_t i, long limit)
{
	long max = l->uc->max_connections;

	for (long k = 0; k < limit && l->nconns < max; k++) {
		struct sockaddr_storage peer;
		socklen_t len;
		int fd = mpm_accept(l->env->listeners[i], &peer, &len);

		if (fd < 0)
			break;
		add_conn(l, fd);
	}
}

/*
 * Over its share, this process's accept is cancelled, but a connection queued before it
 * was may have woken only this process: balance may delay a connection
 * WORKER_SHARE_RECHECK_MS, never strand it (event's take_waiting()).
 */
static void take_waiting(struct loop *l, int64_t now)
{
	if (l->stopping || l->fd_pause_until || !worker_share_rescue_due(l->w, now))
		return;
	for (size_t i = 0; i < l->env->nlisteners; i++)
		accept_left(l, i, worker_share_burst(l->w, ACCEPT_BURST, WORKER_SHARE_SLACK));
}

static void on_accept(struct loop *l, size_t i, int res, unsigned flags, int64_t now)
{
	struct lsn *s = &l->lsn[i];
	bool ended = !(flags & IORING_CQE_F_MORE);

	if (ended) {
		if (s->armed == 1)
			l->single--;
		s->armed = 0;
		s->cancelling = false;
	}
	res = mpm_accepted(res);
	if (res == -2)
		l->fd_pause_until = now + ACCEPT_PAUSE_MS;
	if (res >= 0)
		add_conn(l, res);
	if (ended && l->stopping)
		accept_left(l, i, l->uc->max_connections);
}

static void arm_poll(struct loop *l, int fd, enum tag t)
{
	struct io_uring_sqe *sqe = sqe_get(l);

	if (!sqe)
		return;
	io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, t);
}

/* An accept still outstanding may yet bring a connection to serve. */
static bool accepting(const struct loop *l)
{
	for (size_t i = 0; i < l->env->nlisteners; i++)
		if (l->lsn[i].armed)
			return true;
	return false;
}

static void begin_stop(struct loop *l, int64_t now)
{
	if (l->stopping)
		return;
	l->stopping = true;
	worker_drain(l->w);
	update_accepting(l, now);
	conn_queue_drain(&l->q);
}

static void dispatch(struct loop *l, uint64_t data, int res, unsigned flags, int64_t now)
{
	enum tag t = (enum tag)(data & TAG_MASK);
	struct urc *u = (struct urc *)(uintptr_t)(data & ~TAG_MASK);

	switch (t) {
	case T_RECV:
		u->inflight--;
		on_recv(l, u, res, flags);
		maybe_free(l, u);
		break;
	case T_SEND: case T_FILL: case T_DRAIN: case T_POLLOUT:
		u->inflight--;
		on_write(l, u, t, res);
		maybe_free(l, u);
		break;
	case T_ACCEPT:
		on_accept(l, (size_t)(data >> 4), res, flags, now);
		break;
	case T_STOP:
		begin_stop(l, now);
		break;
	case T_CACHE:
		worker_notify(l->w);
		arm_poll(l, l->cache_fd, T_CACHE);
		break;
	case T_CANCEL:
		break;
	}
}

static int serve(struct loop *l)
{
	sigset_t open_mask;

	sigemptyset(&open_mask);
	arm_poll(l, l->stop_fd, T_STOP);
	if (l->cache_fd >= 0)
		arm_poll(l, l->cache_fd, T_CACHE);
	for (;;) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts;
		int64_t now, other;
		int ms, rc;
		unsigned head, n;

		/* What the turn queued goes with the wait: one system call per turn. */
		now = clock_coarse_ms();
		conn_queue_expire(&l->q, now, drop_link, l);
		feed_starved(l);
		update_accepting(l, now);
		if (l->stopping && l->nconns == 0 && !accepting(l))
			break;
		other = l->fd_pause_until ? l->fd_pause_until : INT64_MAX;
		if (l->starved && now + STARVED_RETRY_MS < other)
			other = now + STARVED_RETRY_MS;
		other = worker_share_wake(l->w, now, other);
		ms = conn_queue_timeout(&l->q, now, other);
		ts = (struct __kernel_timespec){ .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };
		/* SIGTERM (this process retired) is unblocked only while waiting. */
		rc = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, ms >= 0 ? &ts : NULL,
						      &open_mask);
		now = clock_coarse_ms();
		if (rc == -EINTR) {
			if (pool_child_stopping(l->stop_fd))
				begin_stop(l, now);
			continue;
		}
		if (rc < 0 && rc != -ETIME) {
			log_msg(LOG_ERR, "uring: waiting for completions: %s", strerror(-rc));
			return 1;
		}
		/* The batch is given back at once: one store the kernel reads, not one each. */
		n = 0;
		io_uring_for_each_cqe(&l->ring, head, cqe) {
			dispatch(l, cqe->user_data, cqe->res, cqe->flags, now);
			n++;
		}
		io_uring_cq_advance(&l->ring, n);
		take_waiting(l, now);
	}
	return 0;
}

static int setup_buffers(struct loop *l)
{
	size_t ring_bytes = l->nbufs * sizeof(struct io_uring_buf);
	struct io_uring_buf_reg reg = { .ring_entries = l->nbufs, .bgid = BGID };
	int rc;

	l->br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (l->br == MAP_FAILED) {
		l->br = NULL;
		return -errno;
	}
	/* Pages are touched only as receives use them. */
	l->bufs = mmap(NULL, (size_t)l->nbufs * BUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (l->bufs == MAP_FAILED) {
		l->bufs = NULL;
		return -errno;
	}
	reg.ring_addr = (uintptr_t)l->br;
	if ((rc = io_uring_register_buf_ring(&l->ring, &reg, 0)) < 0)
		return rc;
	io_uring_buf_ring_init(l->br);
	for (unsigned i = 0; i < l->nbufs; i++)
		io_uring_buf_ring_add(l->br, l->bufs + (size_t)i * BUF_SIZE, BUF_SIZE,
				      (unsigned short)i, io_uring_buf_ring_mask(l->nbufs), (int)i);
	io_uring_buf_ring_advance(l->br, (int)l->nbufs);
	return 0;
}

static int child_main(const struct mpm_env *env, int stop_fd, int chan, void *arg)
{
	struct lsn lsn[env->nlisteners ? env->nlisteners : 1];
	struct loop l = {
		.env = env,
		.uc = env->mpm_conf,
		.lsn = lsn,
		.w = worker_begin(env, stop_fd),
		.stop_fd = stop_fd,
		.deferral_ms = mpm_deferral_ms(((const struct uring_conf *)env->mpm_conf)->
					       defer_accept),
	};
	int rc;
	char buf[96];

	(void)chan;
	(void)arg;
	memset(lsn, 0, sizeof(lsn));
	l.nbufs = (unsigned)l.uc->buffers;
	l.cache_fd = worker_watch_fd(l.w);
	rc = io_uring_queue_init(RING_ENTRIES, &l.ring, ring_flags);
	if (rc < 0) {
		log_msg(LOG_ERR, "uring: io_uring is not available: %s; use mpm = \"event\" instead",
			cause(-rc, buf, sizeof(buf)));
		worker_end(l.w);
		return 1;
	}
	if ((rc = setup_buffers(&l)) < 0) {
		log_msg(LOG_ERR, "uring: the receive buffer ring: %s", strerror(-rc));
		rc = 1;
	} else {
		rc = serve(&l);
	}
	io_uring_queue_exit(&l.ring);
	for (unsigned i = 0; i < l.npipes; i++)
		pipe_close(l.pipes[i]);
	if (l.bufs)
		munmap(l.bufs, (size_t)l.nbufs * BUF_SIZE);
	if (l.br)
		munmap(l.br, l.nbufs * sizeof(struct io_uring_buf));
	worker_end(l.w);
	return rc;
}

static int run(const struct mpm_env *env)
{
	const struct uring_conf *uc = env->mpm_conf;
	char err[256];

	/* Again as the unprivileged user: kernel.io_uring_disabled = 1 may allow only root. */
	if (probe(err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "uring: %s", err);
		return 1;
	}
	/* Every connection is a descriptor. */
	pool_fit_connections("uring", uc->max_connections);
	mpm_defer_accepts(env, "uring", uc->defer_accept);
	return pool_serve(env, child_main, (unsigned)uc->processes);
}

const struct mpm_module minihttpd_mpm = {
	.abi_version = MPM_ABI_VERSION,
	.name = "uring",
	.description = "processes each running one io_uring proactor over many connections",
	.options = options,
	.conf_size = sizeof(struct uring_conf),
	.check = check,
	.query = query,
	.run = run,
};
