/*
 * http_conn: the per-connection state machine. Request bodies are read and discarded
 * before answering, so a client that sends a body and only then reads can never deadlock
 * against us, and the next pipelined request starts exactly where the body ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "addr.h"
#include "clock.h"
#include "engine.h"
#include "file_cache.h"
#include "http_conn.h"
#include "http_date.h"
#include "log.h"
#include "status.h"

#define OUT_CAP 16384		/* a head plus a small file leave in one send() */
#define LINGER_MS 2000
#define REFUSAL_LOG_MS 10000
#define DRAIN_GRACE_MS 1000
#define IO_CACHE_MAX 64
/* Input room past max_header_size, so a body can follow a head that fills the limit. */
#define IN_SLACK 1024

/* A cached file is a memory body (http_static): it must fit after the largest head. */
_Static_assert(FILE_CACHE_MAX_SIZE + REPLY_HDR_MAX + 512 <= OUT_CAP, "cached file too large");

enum state { S_HEAD, S_CONTINUE, S_BODY, S_WRITE, S_LINGER, S_CLOSED };

/* What a connection holds only while a request is in progress. */
struct conn_io {
	struct conn_io *next_free;
	size_t in_len;			/* bytes in in[]; a head always starts at in[0] */
	size_t pos;			/* first byte after what has been consumed */
	struct http_scan scan;
	struct http_request req;
	bool have_req;
	bool keep_alive;
	struct http_reply reply;
	size_t out_len, out_off;
	int64_t body_left;		/* Content-Length bytes still to discard */
	int64_t body_seen;
	bool body_chunked;
	struct http_chunked chunked;
	uint64_t sent;
	size_t head_out;		/* of sent, the response head's bytes (not logged) */
	char out[OUT_CAP];
	struct http_field *fields;
	char in[];
};

struct conn {
	const struct conn_ctx *ctx;
	struct conn_io *io;
	struct worker *w;
	int64_t deadline;
	int fd;
	uint32_t requests;
	uint8_t state;
	uint8_t timer;
	bool draining;
	bool drained;		/* the last read came back short: the socket was empty */
	bool counted;		/* in ctx->climit: released when the connection ends */
	bool refused;		/* over max_connections_per_client: closed without lingering */
	bool completion;	/* the driver does the socket I/O (conn_set_completion) */
	bool rx_empty;		/* completion: the socket had nothing more after rx */
	bool rx_end;		/* completion: the stream ended (rx_err 0) or failed */
	int rx_err;
	const char *rx;		/* completion: received bytes not yet consumed */
	size_t rx_len;
	uint32_t write_budget;	/* file bytes per conn_run(); 0: no bound */
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} peer;
	_Alignas(16) unsigned char extra[];
};

static __thread struct conn_io *io_cache;
static __thread unsigned io_cached;

static size_t in_cap(const struct conn_ctx *ctx)
{
	return ctx->conf->max_header_size;
}

static struct conn_io *io_get(const struct conn_ctx *ctx)
{
	struct conn_io *io = io_cache;
	size_t nf = ctx->limits.max_fields;

	if (io) {
		io_cache = io->next_free;
		io_cached--;
	} else {
		io = malloc(sizeof(*io) + in_cap(ctx) + IN_SLACK + nf * sizeof(struct http_field) + 16);
		if (!io)
			return NULL;
	}
	/* Fields live after in[], aligned; only the scalars need resetting. */
	io->fields = (struct http_field *)(((uintptr_t)(io->in + in_cap(ctx) + IN_SLACK) + 15) &
					   ~(uintptr_t)15);
	io->in_len = io->pos = 0;
	io->scan = HTTP_SCAN_INIT;
	io->have_req = false;
	io->keep_alive = false;
	io->sent = 0;
	io->reply.fd = -1;
	io->out_len = io->out_off = 0;
	return io;
}

static void io_put(struct conn *c)
{
	struct conn_io *io = c->io;

	if (!io)
		return;
	c->io = NULL;
	if (io->reply.fd >= 0)
		close(io->reply.fd);
	if (io_cached >= IO_CACHE_MAX) {
		free(io);
		return;
	}
	io->next_free = io_cache;
	io_cache = io;
	io_cached++;
}

void conn_release_buffers(void)
{
	while (io_cache) {
		struct conn_io *io = io_cache;
		io_cache = io->next_free;
		free(io);
	}
	io_cached = 0;
}

static const char *date_now(void)
{
	static __thread time_t last;
	static __thread char text[HTTP_DATE_LEN + 1];
	time_t now = time(NULL);

	if (now != last) {
		last = now;
		http_date_format(now, text);
	}
	return text;
}

static void set_timer(struct conn *c, enum conn_timer t)
{
	const struct config *conf = c->ctx->conf;
	int64_t ms;

	switch (t) {
	case CONN_T_HEADER: ms = conf->header_timeout * 1000LL; break;
	case CONN_T_KEEPALIVE: ms = conf->keepalive_timeout * 1000LL; break;
	case CONN_T_SEND: ms = conf->send_timeout * 1000LL; break;
	default: ms = LINGER_MS; break;
	}
	if (c->draining && t == CONN_T_KEEPALIVE && ms > DRAIN_GRACE_MS)
		ms = DRAIN_GRACE_MS;
	c->timer = (uint8_t)t;
	c->deadline = clock_coarse_ms() + ms;
}

int conn_ctx_init(struct conn_ctx *ctx, const struct config *conf, int access_fd,
		  char *err, size_t errlen)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->conf = conf;
	ctx->st.root_fd = open(conf->document_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->st.root_fd < 0) {
		snprintf(err, errlen, "document_root %s: %s", conf->document_root, strerror(errno));
		return -1;
	}
	/* O_PATH succeeds without read permission; serving needs search permission. */
	if (faccessat(ctx->st.root_fd, ".", X_OK, 0) < 0) {
		snprintf(err, errlen, "document_root %s: %s (for user %s)", conf->document_root,
			 strerror(errno), conf->user);
		close(ctx->st.root_fd);
		return -1;
	}
	ctx->st.index = conf->index;
	ctx->st.nindex = conf->nindex;
	ctx->st.follow_symlinks = conf->follow_symlinks;
	ctx->st.directory_listing = conf->directory_listing;
	ctx->st.hidden_files = conf->hidden_files;
	ctx->st.default_type = conf->default_type;
	ctx->st.mime = mime_load(conf->mime_types[0] ? conf->mime_types : NULL);
	ctx->limits.max_request_line = conf->max_request_line;
	ctx->limits.max_head = conf->max_header_size;
	ctx->limits.max_fields = conf->max_header_fields;
	ctx->access_fd = access_fd;
	ctx->access_syslog = strcmp(conf->access_log, "syslog") == 0;
	snprintf(ctx->server, sizeof(ctx->server), "%s",
		 conf->server_tokens ? PACKAGE_NAME "/" PACKAGE_VERSION : PACKAGE_NAME);
	if (conf->max_connections_per_client > 0 &&
	    !(ctx->climit = climit_create(conf->max_connections_per_client))) {
		snprintf(err, errlen, "max_connections_per_client: %s", strerror(errno));
		conn_ctx_free(ctx);
		return -1;
	}
	return 0;
}

void conn_ctx_free(struct conn_ctx *ctx)
{
	if (ctx->st.root_fd >= 0)
		close(ctx->st.root_fd);
	mime_free((struct mime_table *)ctx->st.mime);
	climit_destroy(ctx->climit);
}

void conn_ctx_reaped(const struct conn_ctx *ctx, pid_t pid, int status)
{
	if (ctx->climit && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		climit_forget(ctx->climit, pid);
}

static void refuse_over_limit(struct conn *c);

/*
 * The one read of the state machine. A short read (TCP copies all it has) leaves the
 * socket empty: drained. Completion-driven, the bytes come from the last receive, and
 * EAGAIN once they are consumed asks the driver for the next.
 */
static ssize_t conn_read(struct conn *c, void *buf, size_t want)
{
	ssize_t n;

	if (!c->completion) {
		n = read(c->fd, buf, want);
		if (n > 0)
			c->drained = (size_t)n < want;
		return n;
	}
	if (c->rx_len == 0) {
		if (!c->rx_end) {
			errno = EAGAIN;
			return -1;
		}
		errno = c->rx_err;
		return c->rx_err ? -1 : 0;
	}
	n = (ssize_t)(c->rx_len < want ? c->rx_len : want);
	memcpy(buf, c->rx, (size_t)n);
	c->rx += n;
	c->rx_len -= (size_t)n;
	c->drained = c->rx_len == 0 && c->rx_empty;
	return n;
}

struct conn *conn_new(struct worker *w, int fd, const struct sockaddr *peer,
		      socklen_t peerlen, size_t extra)
{
	const struct conn_ctx *ctx = &w->env->engine->http;
	struct sb_slot *slot = w->slot;
	struct conn *c = malloc(sizeof(*c) + extra);
	int one = 1;

	if (!c) {
		close(fd);
		return NULL;
	}
	c->ctx = ctx;
	c->io = NULL;
	c->w = w;
	c->fd = fd;
	c->requests = 0;
	c->state = S_HEAD;
	c->draining = false;
	c->drained = false;
	c->write_budget = 0;
	c->counted = false;
	c->refused = false;
	c->completion = false;
	c->rx_empty = c->rx_end = false;
	c->rx_err = 0;
	c->rx = NULL;
	c->rx_len = 0;
	memset(&c->peer, 0, sizeof(c->peer));
	if (peer)
		memcpy(&c->peer, peer, peerlen < sizeof(c->peer) ? peerlen : sizeof(c->peer));
	else if (getpeername(fd, &c->peer.sa, &(socklen_t){ sizeof(c->peer) }) < 0)
		memset(&c->peer, 0, sizeof(c->peer));
	/* Responses are written whole (or corked with MSG_MORE): Nagle would only add delay. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_timer(c, CONN_T_HEADER);
	if (slot) {
		sb_add(&slot->conns, 1);
		__atomic_fetch_add(&slot->active, 1, __ATOMIC_RELAXED);
	}
	if (ctx->climit) {
		enum climit_verdict v = climit_acquire(ctx->climit, &c->peer.sa);
		c->counted = v == CLIMIT_COUNTED;
		if (v == CLIMIT_OVER)
			refuse_over_limit(c);
	}
	return c;
}

void *conn_extra(struct conn *c)
{
	return c->extra;
}

void conn_set_write_budget(struct conn *c, uint32_t bytes)
{
	c->write_budget = bytes;
}

int conn_fd(const struct conn *c)
{
	return c->fd;
}

int64_t conn_deadline(const struct conn *c)
{
	return c->deadline;
}

enum conn_timer conn_timer_kind(const struct conn *c)
{
	return (enum conn_timer)c->timer;
}

void conn_set_completion(struct conn *c)
{
	c->completion = true;
}

void conn_received(struct conn *c, const void *buf, ssize_t n, bool empty)
{
	if (n > 0) {
		c->rx = buf;
		c->rx_len = (size_t)n;
		c->rx_empty = empty;
		return;
	}
	c->rx_end = true;
	c->rx_err = (int)-n;
}

size_t conn_unread(const struct conn *c)
{
	return c->rx_len;
}

static bool closes_at_once(const struct conn *c);
static enum conn_want closed(struct conn *c);

bool conn_output(struct conn *c, struct conn_output *out)
{
	struct conn_io *io = c->io;

	if (!io || (c->state != S_WRITE && c->state != S_CONTINUE))
		return false;
	*out = (struct conn_output){ .fd = -1 };
	if (io->out_off < io->out_len) {
		out->buf = io->out + io->out_off;
		out->len = io->out_len - io->out_off;
		out->more = c->state == S_WRITE && (io->reply.fd >= 0 || closes_at_once(c));
		return true;
	}
	if (c->state != S_WRITE || io->reply.fd < 0 || io->reply.len <= 0)
		return false;
	out->fd = io->reply.fd;
	out->off = io->reply.off;
	out->flen = (uint64_t)io->reply.len;
	return true;
}

void conn_sent(struct conn *c, ssize_t n)
{
	struct conn_io *io = c->io;

	if (n <= 0 || !io) {
		if (n == 0)
			log_msg(LOG_WARNING, "file changed while being served (truncated)");
		closed(c);
		return;
	}
	if (io->out_off < io->out_len) {
		io->out_off += (size_t)n;
	} else {
		io->reply.off += n;
		io->reply.len -= n;
	}
	io->sent += (uint64_t)n;
	set_timer(c, CONN_T_SEND);
}

static enum conn_want closed(struct conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	io_put(c);
	c->state = S_CLOSED;
	return CONN_DONE;
}

void conn_free(struct conn *c)
{
	if (!c)
		return;
	closed(c);
	if (c->counted)
		climit_release(c->ctx->climit, &c->peer.sa);
	/* The worker's last connection closed: it waits for the next (idle on the board). */
	if (c->w->slot && __atomic_sub_fetch(&c->w->slot->active, 1, __ATOMIC_RELAXED) == 0 &&
	    !c->w->draining)
		sb_set_state(c->w->slot, SB_IDLE);
	free(c);
}

/* Serializes io->reply into io->out, inlining a memory body or a small file. */
static void build_output(struct conn *c)
{
	struct conn_io *io = c->io;
	struct http_reply *r = &io->reply;
	bool keep = io->keep_alive && !r->close && !c->draining;
	int version = io->have_req ? io->req.version : 11;

	io->keep_alive = keep;
	io->out_len = reply_serialize(r, date_now(), c->ctx->server, keep, version,
				      io->out, sizeof(io->out));
	if (io->out_len == 0) {
		/* Only a handler bug can overflow the head; answer something valid. */
		reply_init(r);
		reply_error(r, 500);
		io->keep_alive = false;
		io->out_len = reply_serialize(r, date_now(), c->ctx->server, false, version,
					      io->out, sizeof(io->out));
	}
	io->head_out = io->out_len;
	io->out_off = 0;
	if (r->no_body || !http_status_has_body(r->status)) {
		if (r->fd >= 0)
			close(r->fd);
		r->fd = -1;
		r->len = 0;
	} else if (r->fd < 0) {
		memcpy(io->out + io->out_len, r->body, (size_t)r->len);
		io->out_len += (size_t)r->len;
		r->len = 0;
	} else if (r->len <= (off_t)(sizeof(io->out) - io->out_len)) {
		size_t want = (size_t)r->len, got = 0;
		ssize_t n = 1;
		while (got < want && (n = pread(r->fd, io->out + io->out_len + got, want - got,
						r->off + (off_t)got)) > 0)
			got += (size_t)n;
		if (got < want) {
			/* The file shrank after fstat: the promised length cannot be kept. */
			io->keep_alive = false;
			log_msg(LOG_WARNING, "file changed while being served (short read)");
		}
		io->out_len += got;
		close(r->fd);
		r->fd = -1;
		r->len = 0;
	}
	c->state = S_WRITE;
	set_timer(c, CONN_T_SEND);
	sb_set_state(c->w->slot, SB_WRITE);
}

static void respond(struct conn *c)
{
	struct conn_io *io = c->io;
	struct http_reply *r = &io->reply;

	reply_init(r);
	switch (io->req.method) {
	case HTTP_GET:
	case HTTP_HEAD:
		if (io->req.path.len != c->ctx->conf->status_path_len ||
		    !status_serve(c->ctx->conf, c->w->slot, &io->req, &c->peer.sa, r))
			static_serve(&c->ctx->st, &io->req, r);
		if (io->req.method == HTTP_HEAD)
			r->no_body = true;
		break;
	case HTTP_OPTIONS:
		reply_header(r, "Allow: GET, HEAD, OPTIONS");
		r->len = 0;
		r->body = "";
		break;
	case HTTP_UNKNOWN:
		reply_error(r, 501);
		break;
	default:
		reply_header(r, "Allow: GET, HEAD, OPTIONS");
		reply_error(r, 405);
		break;
	}
	build_output(c);
}

/* A request refused before it could be understood: the connection closes after it. */
static void refuse(struct conn *c, int status)
{
	struct conn_io *io = c->io;

	io->keep_alive = false;
	io->sent = 0;
	reply_init(&io->reply);
	reply_error(&io->reply, status);
	io->reply.close = true;
	build_output(c);
}

/*
 * A client over max_connections_per_client: 503 at once, before reading anything, then a
 * close without lingering (close_refused()), so that a refusal costs a worker only a
 * write and a close: a lingering close would let one address that floods connections it
 * never closes hold every worker of a blocking MPM. Logged at most once per
 * REFUSAL_LOG_MS per process, with the count since, so that a flood cannot fill the
 * journal.
 */
static void refuse_over_limit(struct conn *c)
{
	static int64_t next_log;
	static unsigned unlogged;
	int64_t now = clock_coarse_ms(), due = __atomic_load_n(&next_log, __ATOMIC_RELAXED);
	unsigned n = __atomic_add_fetch(&unlogged, 1, __ATOMIC_RELAXED);

	if (now >= due && __atomic_compare_exchange_n(&next_log, &due, now + REFUSAL_LOG_MS, false,
						      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		char addr[ADDR_TEXT_MAX];
		__atomic_sub_fetch(&unlogged, n, __ATOMIC_RELAXED);
		log_msg(LOG_WARNING, "client %s holds max_connections_per_client (%u): refused with "
			"503 (%u refusal%s in this process since the last such message)",
			addr_format(&c->peer.sa, addr, sizeof(addr)),
			c->ctx->conf->max_connections_per_client, n, n == 1 ? "" : "s");
	}
	if (c->w->slot)
		sb_add(&c->w->slot->refused, 1);
	c->refused = true;
	if (!(c->io = io_get(c->ctx))) {
		closed(c);
		return;
	}
	refuse(c, 503);
}

static void start_request(struct conn *c, size_t head_len)
{
	struct conn_io *io = c->io;
	const struct config *conf = c->ctx->conf;
	struct http_request *req = &io->req;

	io->have_req = true;
	io->pos = head_len;
	io->sent = 0;
	c->requests++;
	io->keep_alive = req->keep_alive && !c->draining &&
			 c->requests < conf->max_keepalive_requests;
	if (c->w->slot) {
		size_t n = head_len < SB_REQUEST_MAX - 1 ? head_len : SB_REQUEST_MAX - 1;
		const char *eol = memchr(io->in, '\r', n);
		n = eol ? (size_t)(eol - io->in) : n;
		memcpy(c->w->slot->request, io->in, n);
		c->w->slot->request[n] = '\0';
	}
	io->body_left = req->chunked ? 0 : (req->content_length > 0 ? req->content_length : 0);
	io->body_chunked = req->chunked;
	io->body_seen = 0;
	io->chunked = HTTP_CHUNKED_INIT;
	if (io->body_left > conf->max_body_size) {
		reply_init(&io->reply);
		reply_error(&io->reply, 413);
		io->reply.close = true;
		build_output(c);
		return;
	}
	if (io->body_left == 0 && !io->body_chunked) {
		respond(c);
		return;
	}
	set_timer(c, CONN_T_HEADER);
	if (req->expect_continue && io->pos == io->in_len) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		memcpy(io->out, cont, sizeof(cont) - 1);
		io->out_len = sizeof(cont) - 1;
		io->out_off = 0;
		c->state = S_CONTINUE;
	} else {
		c->state = S_BODY;
	}
}

/* Returns -1 to go on with the new state, or what to wait for. */
static int step_head(struct conn *c)
{
	const struct conn_ctx *ctx = c->ctx;
	struct conn_io *io = c->io;

	if (!io && !(io = c->io = io_get(ctx)))
		return closed(c);
	io->req.fields = io->fields;
	for (;;) {
		if (io->in_len > 0) {
			ssize_t r = http_parse_head(io->in, io->in_len, &ctx->limits, &io->scan,
						    &io->req);
			if (r > 0) {
				start_request(c, (size_t)r);
				return -1;
			}
			/* Bytes left by a body read may pass the limit: judge them, never read more. */
			if (r < 0 || io->in_len >= in_cap(ctx)) {
				refuse(c, r < 0 ? (int)-r : 431);
				return -1;
			}
		}
		/*
		 * A short read (TCP copies all it has) left the socket empty, and a byte arriving
		 * since is a new readiness event even when edge-triggered: no read to see EAGAIN.
		 */
		if (c->drained) {
			c->drained = false;
			if (io->in_len == 0)
				io_put(c);
			return CONN_WANT_READ;
		}
		ssize_t n = conn_read(c, io->in + io->in_len, in_cap(ctx) - io->in_len);
		if (n > 0) {
			if (io->in_len == 0) {
				set_timer(c, CONN_T_HEADER);
				sb_set_state(c->w->slot, SB_READ);
			}
			io->in_len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (io->in_len == 0)
				io_put(c);
			return CONN_WANT_READ;
		}
		return closed(c);
	}
}

static int step_body(struct conn *c)
{
	struct conn_io *io = c->io;
	const struct config *conf = c->ctx->conf;

	for (;;) {
		size_t avail = io->in_len - io->pos;
		bool done = false;

		if (io->body_chunked) {
			ssize_t used = http_chunked_consume(&io->chunked, io->in + io->pos, avail,
							    &done);
			if (used < 0) {
				refuse(c, 400);
				return -1;
			}
			io->pos += (size_t)used;
			io->body_seen += used;
		} else {
			size_t used = (int64_t)avail < io->body_left ? avail : (size_t)io->body_left;
			io->pos += used;
			io->body_left -= (int64_t)used;
			done = io->body_left == 0;
		}
		if (io->body_seen > conf->max_body_size) {
			refuse(c, 413);
			return -1;
		}
		if (done) {
			respond(c);
			return -1;
		}
		/* All buffered bytes were body: reuse the space after the head. */
		io->in_len = io->pos = io->req.head_len;
		ssize_t n = conn_read(c, io->in + io->in_len, in_cap(c->ctx) + IN_SLACK - io->in_len);
		if (n > 0) {
			/* No refresh: a body gets header_timeout from its start, however it trickles. */
			io->in_len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return CONN_WANT_READ;
		return closed(c);
	}
}

static int flush_out(struct conn *c, bool more)
{
	struct conn_io *io = c->io;

	if (c->completion)
		return io->out_off < io->out_len ? CONN_WANT_WRITE : -1;
	while (io->out_off < io->out_len) {
		ssize_t n = send(c->fd, io->out + io->out_off, io->out_len - io->out_off,
				 MSG_NOSIGNAL | (more ? MSG_MORE : 0));
		if (n > 0) {
			io->out_off += (size_t)n;
			io->sent += (uint64_t)n;
			set_timer(c, CONN_T_SEND);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return CONN_WANT_WRITE;
		return closed(c);
	}
	return -1;
}

/*
 * The client asked to close and sent nothing more: it may send nothing more (RFC 9112
 * section 9.6), so no lingering; the last send is held (MSG_MORE) for close() to send
 * with its FIN in one segment.
 */
static bool closes_at_once(const struct conn *c)
{
	const struct conn_io *io = c->io;

	return !io->keep_alive && io->have_req && !io->req.keep_alive &&
	       io->pos == io->in_len && c->drained;
}

/*
 * A refusal over the per-client limit closes without lingering, so that its cost stays
 * nothing. Its answer went out uncorked, the FIN follows it at once, and what input has
 * already arrived is read (without waiting, and only up to a bound) so that close() does
 * not turn into a reset; input arriving later can only reset a connection whose answer
 * and FIN are already on their way.
 */
static void close_refused(struct conn *c)
{
	char junk[4096];

	shutdown(c->fd, SHUT_WR);
	for (unsigned i = 0; i < 16; i++) {
		ssize_t n = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
	}
	closed(c);
}

static void finish_response(struct conn *c)
{
	struct conn_io *io = c->io;

	/* Log Format counts the body only (Apache's %b). */
	access_log_write(c->ctx, &c->peer.sa, io->have_req ? &io->req : NULL, io->reply.status,
			 io->sent > io->head_out ? io->sent - io->head_out : 0);
	if (c->w->slot) {
		sb_add(&c->w->slot->requests, 1);
		sb_add(&c->w->slot->bytes, io->sent);
	}
	if (io->reply.fd >= 0) {
		close(io->reply.fd);
		io->reply.fd = -1;
	}
	if (!io->keep_alive) {
		if (c->refused) {
			close_refused(c);
			return;
		}
		if (closes_at_once(c)) {
			closed(c);
			return;
		}
		/* Lingering close: a RST caused by unread input must not destroy the response. */
		shutdown(c->fd, SHUT_WR);
		io_put(c);
		c->state = S_LINGER;
		set_timer(c, CONN_T_LINGER);
		sb_set_state(c->w->slot, SB_CLOSING);
		return;
	}
	size_t left = io->in_len - io->pos;
	memmove(io->in, io->in + io->pos, left);
	io->in_len = left;
	io->pos = 0;
	io->scan = HTTP_SCAN_INIT;
	io->have_req = false;
	c->state = S_HEAD;
	set_timer(c, left ? CONN_T_HEADER : CONN_T_KEEPALIVE);
	sb_set_state(c->w->slot, left ? SB_READ : SB_KEEPALIVE);
}

static int step_write(struct conn *c)
{
	struct conn_io *io = c->io;
	struct http_reply *r = &io->reply;
	int rc = flush_out(c, r->fd >= 0 || closes_at_once(c));

	if (rc >= 0)
		return rc;
	size_t spent = 0;
	if (c->completion && r->fd >= 0 && r->len > 0)
		return CONN_WANT_WRITE;
	while (r->fd >= 0 && r->len > 0) {
		size_t chunk = r->len > 0x40000000 ? 0x40000000 : (size_t)r->len;
		if (c->write_budget) {
			/* Bounded turns let a loop's other clients in, and keep less in flight. */
			if (spent >= c->write_budget)
				return CONN_YIELD;
			if (chunk > c->write_budget - spent)
				chunk = c->write_budget - spent;
		}
		ssize_t n = sendfile(c->fd, r->fd, &r->off, chunk);
		if (n > 0) {
			spent += (size_t)n;
			r->len -= n;
			io->sent += (uint64_t)n;
			set_timer(c, CONN_T_SEND);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return CONN_WANT_WRITE;
		if (n == 0)
			log_msg(LOG_WARNING, "file changed while being served (truncated)");
		return closed(c);
	}
	finish_response(c);
	return -1;
}

static int step_continue(struct conn *c)
{
	int rc = flush_out(c, false);

	if (rc >= 0)
		return rc;
	c->io->sent = 0;
	c->state = S_BODY;
	return -1;
}

static int step_linger(struct conn *c)
{
	char junk[4096];

	for (;;) {
		ssize_t n = conn_read(c, junk, sizeof(junk));
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return CONN_WANT_READ;
		return closed(c);
	}
}

enum conn_want conn_run(struct conn *c)
{
	for (;;) {
		int rc;

		switch (c->state) {
		case S_HEAD: rc = step_head(c); break;
		case S_CONTINUE: rc = step_continue(c); break;
		case S_BODY: rc = step_body(c); break;
		case S_WRITE: rc = step_write(c); break;
		case S_LINGER: rc = step_linger(c); break;
		default: return CONN_DONE;
		}
		if (rc >= 0)
			return (enum conn_want)rc;
	}
}

void conn_expire(struct conn *c)
{
	struct conn_io *io = c->io;

	if (io && ((c->state == S_HEAD && io->in_len > 0) || c->state == S_BODY)) {
		char timeout[256];
		/* RFC 9110 6.6.1: a 4xx carries Date like any other. */
		int n = snprintf(timeout, sizeof(timeout), "HTTP/1.1 408 Request Timeout\r\n"
				 "Date: %s\r\nServer: %s\r\nContent-Length: 0\r\n"
				 "Connection: close\r\n\r\n", date_now(), c->ctx->server);
		/* Best effort: a client too slow to send is not waited for again. */
		send(c->fd, timeout, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		access_log_write(c->ctx, &c->peer.sa, io->have_req ? &io->req : NULL, 408, 0);
	}
	closed(c);
}

void conn_drain(struct conn *c)
{
	if (c->draining)
		return;
	c->draining = true;
	/*
	 * Only a connection idle between requests gets the short grace. A fresh one keeps
	 * its header timeout: its client has connected to send a request, which is on its
	 * way by definition, and closing before reading it would answer with a reset.
	 */
	if (c->state == S_HEAD && c->requests > 0 && (!c->io || c->io->in_len == 0))
		set_timer(c, CONN_T_KEEPALIVE);
}
