/* SPDX-License-Identifier: ISC */
/*
 * http_conn: the per-connection state machine. Request bodies are read and discarded
 * before answering, so a client that sends a body and only then reads can never deadlock
 * against us, and the next pipelined request starts exactly where the body ended.
 *
 * On a proxy_protocol listener the connection starts in S_PROXY: the balancer's PROXY
 * header is read before any HTTP, within header_timeout like a head, and a connection
 * without a valid one is closed with nothing more read or written. Its source address is
 * then the connection's client, counted for max_connections_per_client in place of the
 * balancer's.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "http_site.h"
#include "addr.h"
#include "auth_basic.h"
#include "clock.h"
#include "engine.h"
#include "error_pages.h"
#include "file_cache.h"
#include "forwarded.h"
#include "http_conn.h"
#include "http_date.h"
#include "log.h"
#include "metrics.h"
#include "proxy_proto.h"
#include "status.h"

#define OUT_CAP 16384		/* a head plus a small file leave in one send() */
#define LINGER_MS 2000
#define REFUSAL_LOG_MS 10000
#define DRAIN_GRACE_MS 1000
#define IO_CACHE_MAX 64
/* Bytes of buffers a thread frees past its cache before it returns them to the system. */
#define IO_TRIM_BYTES (2 << 20)
/* Input room past max_header_size, so a body can follow a head that fills the limit. */
#define IN_SLACK 1024

/* A cached file is a memory body (http_static): it must fit after the largest head. */
_Static_assert(FILE_CACHE_MAX_SIZE + REPLY_HDR_MAX + 512 <= OUT_CAP, "cached file too large");
/* The input buffer is at least 256 + IN_SLACK bytes (max_header_size >= 256). */
_Static_assert(PROXY_HEADER_MAX <= 256 + IN_SLACK, "no room for a PROXY header");

enum state { S_PROXY, S_HEAD, S_CONTINUE, S_BODY, S_WRITE, S_LINGER, S_CLOSED };

/*
 * A connection's addresses are IP: listeners are (addr.h), and a PROXY header's source is
 * one or none (proxy_proto.h). Not a sockaddr_storage: every connection holds two, idle.
 */
union conn_addr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

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
	bool quiet;			/* a health check, kept out of the access log */
	union {				/* the request's client: conn's, or a trusted proxy's word */
		struct sockaddr sa;
		struct sockaddr_storage ss;
	} client;
	size_t out_len, out_off;
	int64_t body_left;		/* Content-Length bytes still to discard */
	int64_t body_seen;
	bool body_chunked;
	struct http_chunked chunked;
	uint64_t sent;
	int64_t start_us;		/* clock_us() at the request's first byte; 0: none */
	size_t head_out;		/* of sent, the response head's bytes (not logged) */
	char out[OUT_CAP];
	struct http_field *fields;
	char in[];
};

/*
 * All an idle keep-alive connection holds, with its loop's link (conn_extra): what lives
 * only while a request is in progress is in struct conn_io. Ordered and packed against
 * holes.
 */
struct conn {
	struct conn_io *io;
	struct worker *w;
	const char *rx;		/* completion: received bytes not yet consumed */
	int64_t deadline;
	int fd;
	uint32_t requests;
	uint32_t id;			/* in the process: the log's connection id */
	uint32_t write_budget;	/* file bytes per conn_run(); 0: no bound */
	uint32_t waited;	/* ms connected before accept(), counted until a first byte */
	uint32_t rx_len;	/* a completion's result is an int */
	int16_t rx_err;		/* an errno */
	uint8_t state;
	uint8_t timer;
	uint16_t client_at;	/* the client's offset from c (past extra); 0: the peer */
	bool draining : 1;
	bool drained : 1;	/* a read of this conn_run() came back short: the socket was empty */
	bool counted : 1;	/* in ctx->climit: released when the connection ends */
	bool refused : 1;	/* over max_connections_per_client: closed without lingering */
	bool completion : 1;	/* the driver does the socket I/O (conn_set_completion) */
	bool rx_empty : 1;	/* completion: the socket had nothing more after rx */
	bool rx_end : 1;	/* completion: the stream ended (rx_err 0) or failed */
	union conn_addr peer;	/* the socket's */
	/*
	 * Only a connection on a proxy_protocol listener has a client of its own (the PROXY
	 * header's source), after its extra: client_of().
	 */
	_Alignas(16) unsigned char extra[];
};

/*
 * With the event or uring MPM's part (40 bytes, struct conn_qlink first) an idle
 * keep-alive connection is a 136-byte request, which malloc serves from a 144-byte
 * block: a field more here is 10,000 of it for 10,000 idle connections.
 */
_Static_assert(sizeof(struct conn) <= 96, "an idle connection is a small struct");

/* A connection serves its worker's generation, whose context it is: no copy to hold. */
static const struct conn_ctx *ctx_of(const struct conn *c)
{
	return &c->w->env->engine->http;
}

/* What the access log, status_allow and max_connections_per_client know as the client. */
static const union conn_addr *client_of(const struct conn *c)
{
	return c->client_at ? (const void *)((const char *)c + c->client_at) : &c->peer;
}

static __thread struct conn_io *io_cache;
static __thread unsigned io_cached;
static __thread size_t io_untrimmed;

static size_t in_cap(const struct conn_ctx *ctx)
{
	return ctx->conf->max_header_size;
}

static size_t io_size(const struct conn_ctx *ctx)
{
	return sizeof(struct conn_io) + in_cap(ctx) + IN_SLACK +
	       ctx->limits.max_fields * sizeof(struct http_field) + 16;
}

static struct conn_io *io_get(const struct conn_ctx *ctx)
{
	struct conn_io *io = io_cache;

	if (io) {
		io_cache = io->next_free;
		io_cached--;
	} else {
		io = malloc(io_size(ctx));
		if (!io)
			return NULL;
	}
	/* Fields live after in[], aligned; only the scalars need resetting. */
	io->fields = (struct http_field *)(((uintptr_t)(io->in + in_cap(ctx) + IN_SLACK) + 15) &
					   ~(uintptr_t)15);
	io->in_len = io->pos = 0;
	io->start_us = 0;
	io->scan = HTTP_SCAN_INIT;
	io->have_req = false;
	io->keep_alive = false;
	io->quiet = false;
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
		/*
		 * Connections that held a head each (a burst, a flood of slow heads) leave free
		 * memory that malloc keeps below any block still in use: past a bound it goes
		 * back to the system, so that what a process keeps after them is bounded.
		 */
		io_untrimmed += io_size(ctx_of(c));
		if (io_untrimmed >= IO_TRIM_BYTES) {
			io_untrimmed = 0;
			malloc_trim(0);
		}
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
	const struct config *conf = ctx_of(c)->conf;
	int64_t ms;

	switch (t) {
	case CONN_T_HEADER: ms = conf->header_timeout * 1000LL; break;
	case CONN_T_KEEPALIVE: ms = conf->keepalive_timeout * 1000LL; break;
	case CONN_T_SEND: ms = conf->send_timeout * 1000LL; break;
	case CONN_T_FIRST: ms = conf->header_timeout * 1000LL - c->waited; break;
	default: ms = LINGER_MS; break;
	}
	if (c->draining && t == CONN_T_KEEPALIVE && ms > DRAIN_GRACE_MS)
		ms = DRAIN_GRACE_MS;
	/* conn_queue.c keeps 32 bits of a deadline: right within 24.8 days (http_conn.h). */
	if (ms > CONN_TIMEOUT_MAX_MS)
		ms = CONN_TIMEOUT_MAX_MS;
	c->timer = (uint8_t)t;
	c->deadline = clock_coarse_deadline(ms > 0 ? ms : 0);
}

int conn_ctx_init(struct conn_ctx *ctx, const struct config *conf, int access_fd,
		  char *err, size_t errlen)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->conf = conf;
	if (docroot_open(&ctx->root, conf->document_root, err, errlen) < 0)
		return -1;
	ctx->st.root = &ctx->root;
	ctx->st.index = conf->index;
	ctx->st.nindex = conf->nindex;
	ctx->st.follow_symlinks = conf->follow_symlinks;
	ctx->st.directory_listing = conf->directory_listing;
	ctx->st.hidden_files = conf->hidden_files;
	ctx->st.default_type = conf->default_type;
	ctx->st.mime = mime_load(conf->mime_types[0] ? conf->mime_types : NULL);
	ctx->st.etag = (enum static_etag)conf->etag;
	const struct site_set *sites = &conf->sites;
	ctx->site_st = calloc(sites->n ? sites->n : 1, sizeof(*ctx->site_st));
	ctx->site_root = calloc(sites->n ? sites->n : 1, sizeof(*ctx->site_root));
	if (!ctx->site_st || !ctx->site_root) {
		snprintf(err, errlen, "%s", strerror(errno));
		conn_ctx_free(ctx);
		return -1;
	}
	for (size_t i = 0; i < sites->n; i++)
		ctx->site_root[i].fd = -1;
	ctx->site_st[0] = ctx->st;
	/* Each server block's root is followed like the top level's (docroot.h). */
	for (size_t i = 1; i < sites->n; i++) {
		const struct site *s = &sites->sites[i];
		char why[512];
		ctx->site_st[i] = ctx->st;
		ctx->site_st[i].root = &ctx->site_root[i];
		if (docroot_open(&ctx->site_root[i], s->document_root, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "server \"%s\": %s", s->name, why);
			conn_ctx_free(ctx);
			return -1;
		}
	}
	ctx->limits.max_request_line = conf->max_request_line;
	ctx->limits.max_head = conf->max_header_size;
	ctx->limits.max_fields = conf->max_header_fields;
	access_log_sink(&ctx->access, access_fd, conf->access_log, &conf->access_log_format,
			conf->access_log_buffer);
	if (!(ctx->site_access = calloc(sites->n ? sites->n : 1, sizeof(*ctx->site_access)))) {
		snprintf(err, errlen, "%s", strerror(errno));
		conn_ctx_free(ctx);
		return -1;
	}
	for (size_t i = 0; i < sites->n; i++) {
		const struct site *s = &sites->sites[i];
		ctx->site_access[i] = ctx->access;
		if (i > 0 && s->access_log)
			access_log_sink(&ctx->site_access[i], s->log_fd, s->access_log,
					&conf->access_log_format, conf->access_log_buffer);
	}
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
	docroot_close(&ctx->root);
	for (size_t i = 1; ctx->site_root && i < ctx->conf->sites.n; i++)
		docroot_close(&ctx->site_root[i]);
	free(ctx->site_root);
	free(ctx->site_st);
	free(ctx->site_access);
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
	c->rx_len -= (uint32_t)n;
	c->drained = c->rx_len == 0 && c->rx_empty;
	return n;
}

/* Connections made by this process: with the pid, an id unique in the server's life. */
static uint32_t conn_seq;
static __thread pid_t self_pid;

/* duration_us: request_us() of the request, which the metrics take anyway. */
static void log_response(struct conn *c, int status, uint64_t bytes, uint64_t duration_us)
{
	const struct conn_ctx *ctx = ctx_of(c);
	const struct conn_io *io = c->io;
	/* A server block with an access_log of its own logs there, and is %v. */
	const struct site *site = io && io->have_req ? io->req.site : NULL;
	const struct access_sink *sink = site ? &ctx->site_access[site->id] : &ctx->access;

	if (sink->fd < 0 && !sink->syslog)
		return;
	if (!self_pid)
		self_pid = getpid();
	struct log_facts x = {
		.client = conn_addrs(c).client,
		.peer = &c->peer.sa,
		.req = io && io->have_req ? &io->req : NULL,
		.site = site && site->name[0] ? site->name : NULL,
		.site_len = site ? strlen(site->name) : 0,
		.time = time(NULL),
		.status = status,
		.bytes = bytes,
		.conn_id = (uint64_t)self_pid << 32 | c->id,
		.keepalive = io && io->have_req ? c->requests - 1 : c->requests,
		.duration_us = duration_us,
	};
	access_log_write(sink, &x);
}

static bool trusted_proxy(const struct sockaddr *sa, void *arg)
{
	const struct config *conf = arg;

	return addr_match(conf->trusted_proxies, conf->ntrusted_proxies, sa);
}

/*
 * Whether the connection on fd came in on a proxy_protocol listener. Only a config that
 * mixes both kinds costs a getsockname(): the local address is matched as bind() would,
 * a listener's wildcard address covering any address of its family and port (listeners
 * never overlap: config.c). So a socket from systemd (socket activation, where listen
 * binds nothing) takes the option of the entry of its address, or of all entries when
 * they agree, which is also what minihttpd -i's connection gets.
 */
static bool wants_proxy_header(const struct config *conf, int fd)
{
	union conn_addr local;

	if (conf->nproxy_listen == 0 || conf->nproxy_listen == conf->nlisten)
		return conf->nproxy_listen > 0;
	if (getsockname(fd, &local.sa, &(socklen_t){ sizeof(local) }) < 0)
		return false;
	for (size_t i = 0; i < conf->nlisten; i++) {
		const struct listen_addr *la = &conf->listen[i];
		const union conn_addr *l = (const union conn_addr *)&la->ss;
		if (la->ss.ss_family != local.sa.sa_family)
			continue;
		if (local.sa.sa_family == AF_INET && l->in4.sin_port == local.in4.sin_port &&
		    (l->in4.sin_addr.s_addr == htonl(INADDR_ANY) ||
		     l->in4.sin_addr.s_addr == local.in4.sin_addr.s_addr))
			return la->proxy_protocol;
		if (local.sa.sa_family == AF_INET6 && l->in6.sin6_port == local.in6.sin6_port &&
		    (IN6_IS_ADDR_UNSPECIFIED(&l->in6.sin6_addr) ||
		     IN6_ARE_ADDR_EQUAL(&l->in6.sin6_addr, &local.in6.sin6_addr)))
			return la->proxy_protocol;
	}
	return false;
}

/*
 * Takes the connection's max_connections_per_client slot under its client address. A
 * trusted proxy's own connections are not counted: they carry many clients' requests,
 * and limiting them would limit every client behind it (per-client limits behind an
 * HTTP proxy need the PROXY protocol, which gives each client its own connection).
 */
static void count_client(struct conn *c)
{
	const struct conn_ctx *ctx = ctx_of(c);
	enum climit_verdict v;

	if (!ctx->climit || trusted_proxy(&client_of(c)->sa, (void *)ctx->conf))
		return;
	v = climit_acquire(ctx->climit, &client_of(c)->sa);
	c->counted = v == CLIMIT_COUNTED;
	if (v == CLIMIT_OVER)
		refuse_over_limit(c);
}

struct conn_addrs conn_addrs(const struct conn *c)
{
	const struct conn_io *io = c->io;

	return (struct conn_addrs){
		.client = io && io->have_req ? &io->client.sa : &client_of(c)->sa,
		.peer = &c->peer.sa,
	};
}

struct conn *conn_new(struct worker *w, int fd, const struct sockaddr *peer,
		      socklen_t peerlen, size_t extra)
{
	const struct conn_ctx *ctx = &w->env->engine->http;
	struct sb_slot *slot = w->slot;
	bool proxied = wants_proxy_header(ctx->conf, fd);
	/* The PROXY client is after extra, aligned as an address. */
	size_t client_at = sizeof(struct conn) + ((extra + 3) & ~(size_t)3);
	struct conn *c = malloc(client_at + (proxied ? sizeof(union conn_addr) : 0));
	int one = 1;

	if (!c) {
		close(fd);
		return NULL;
	}
	c->io = NULL;
	c->w = w;
	c->fd = fd;
	c->requests = 0;
	c->id = __atomic_add_fetch(&conn_seq, 1, __ATOMIC_RELAXED);
	c->state = S_HEAD;
	c->draining = false;
	c->drained = false;
	c->write_budget = 0;
	c->waited = 0;
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
	c->client_at = 0;
	if (proxied) {
		c->client_at = (uint16_t)client_at;
		memcpy((char *)c + client_at, &c->peer, sizeof(c->peer));
		c->state = S_PROXY;
	}
	/* Responses are written whole (or corked with MSG_MORE): Nagle would only add delay. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_timer(c, CONN_T_FIRST);
	if (slot) {
		sb_add(&slot->conns, 1);
		__atomic_fetch_add(&slot->active, 1, __ATOMIC_RELAXED);
	}
	/* Behind a PROXY header the client is known only once it is read (proxy_accept()). */
	if (c->state == S_HEAD)
		count_client(c);
	return c;
}

void *conn_extra(struct conn *c)
{
	return c->extra;
}

struct conn *conn_of_extra(void *extra)
{
	return (struct conn *)((char *)extra - offsetof(struct conn, extra));
}

void conn_set_write_budget(struct conn *c, uint32_t bytes)
{
	c->write_budget = bytes;
}

void conn_set_waited(struct conn *c, uint32_t ms)
{
	c->waited = ms;
	if (c->timer == CONN_T_FIRST)
		set_timer(c, CONN_T_FIRST);
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
		c->rx_len = (uint32_t)n;
		c->rx_empty = empty;
		return;
	}
	c->rx_end = true;
	c->rx_err = (int16_t)-n;
}

size_t conn_unread(const struct conn *c)
{
	return c->rx_len;
}

static bool closes_at_once(struct conn *c);
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

/* Gives the client's place back (max_connections_per_client), once. */
static void release_client(struct conn *c)
{
	if (c->counted)
		climit_release(ctx_of(c)->climit, &client_of(c)->sa);
	c->counted = false;
}

void conn_free(struct conn *c)
{
	if (!c)
		return;
	closed(c);
	release_client(c);
	/* The worker's last connection closed: it waits for the next (idle on the board). */
	if (c->w->slot && __atomic_sub_fetch(&c->w->slot->active, 1, __ATOMIC_RELAXED) == 0)
		sb_set_state(c->w->slot, SB_IDLE);
	free(c);
}

/*
 * The client asked to close and sent nothing more: it may send nothing more (RFC 9112
 * section 9.6), so no lingering; the last send is held (MSG_MORE) for close() to send
 * with its FIN in one segment.
 */
static bool closes_at_once(struct conn *c)
{
	const struct conn_io *io = c->io;
	char b;

	/* Completion-driven, bytes received and not yet consumed are input too. */
	if (io->keep_alive || !io->have_req || io->req.keep_alive || io->pos != io->in_len ||
	    c->rx_len)
		return false;
	/* A response of several turns: whether more input came must be looked at now. */
	if (!c->drained && recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN)
		c->drained = true;
	return c->drained;
}

/* Serializes io->reply into io->out, inlining a memory body or a small file. */
static void build_output(struct conn *c)
{
	struct conn_io *io = c->io;
	struct http_reply *r = &io->reply;
	bool keep = io->keep_alive && !r->close && !c->draining;
	int version = io->have_req ? io->req.version : 11;

	io->keep_alive = keep;
	io->out_len = reply_serialize(r, date_now(), ctx_of(c)->server, keep, version,
				      io->out, sizeof(io->out));
	if (io->out_len == 0) {
		/* Only a handler bug can overflow the head; answer something valid. */
		reply_init(r);
		reply_error(r, 500);
		io->keep_alive = false;
		io->out_len = reply_serialize(r, date_now(), ctx_of(c)->server, false, version,
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
	if (r->fd >= 0 && c->counted && closes_at_once(c)) {
		/* As MSG_MORE holds an inlined answer's end, the cork holds sendfile's last
		 * partial segment for close(), after the client's place is given back (a
		 * body ending exactly on a segment boundary still leaves whole before). */
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	}
	c->state = S_WRITE;
	set_timer(c, CONN_T_SEND);
	sb_set_state(c->w->slot, SB_WRITE);
}

static void refuse(struct conn *c, int status);

/*
 * health_path: what a balancer polls, so it costs no file system access and no log line
 * (unless health_log). 503 from the master's SIGTERM on (scoreboard totals.stopping),
 * while shutdown_delay still serves everything else: the balancer takes the server out
 * before it stops accepting.
 */
static void health(struct conn *c, struct http_reply *r)
{
	const struct scoreboard *sb = c->w->env->engine->sb;
	bool stopping = sb && __atomic_load_n(&sb->totals.stopping, __ATOMIC_RELAXED);

	c->io->quiet = !ctx_of(c)->conf->health_log;
	reply_header(r, "Content-Type: text/plain");
	reply_header(r, "Cache-Control: no-store");
	r->status = stopping ? 503 : 200;
	r->body = stopping ? "stopping\n" : "ok\n";
	r->len = (off_t)strlen(r->body);
}

static bool is_health(const struct conn *c, const struct http_request *req)
{
	return (req->method == HTTP_GET || req->method == HTTP_HEAD) &&
	       req->path.len == ctx_of(c)->conf->health_path_len &&
	       memcmp(req->path.p, ctx_of(c)->conf->health_path, req->path.len) == 0;
}

static bool is_engine_page(const struct conn *c, const struct http_request *req)
{
	const struct config *conf = ctx_of(c)->conf;

	return (req->path.len == conf->status_path_len &&
		memcmp(req->path.p, conf->status_path, req->path.len) == 0) ||
	       (req->path.len == conf->metrics_path_len &&
		memcmp(req->path.p, conf->metrics_path, req->path.len) == 0);
}

/*
 * The one place that says which content policy (content_policy.h) a request gets, and
 * the root its error pages are read from: its location's, else its site's. The status
 * page and the metrics are the server's, not a site's: they keep the top level's policy
 * (its password) and root on every site. Everything below receives the pointers.
 */
static const struct content_policy *policy_for(const struct conn *c,
					       const struct http_request *req,
					       const struct http_site_target *t,
					       const struct static_ctx **st)
{
	if (req->path.len && is_engine_page(c, req)) {
		*st = &ctx_of(c)->st;
		return &ctx_of(c)->conf->content;
	}
	*st = &ctx_of(c)->site_st[req->site->id];
	return http_site_opts(req->site, t)->content;
}

/* A 4xx or 5xx answer gets the policy's page for it, if any (never a 304). */
static void error_page(const struct static_ctx *st, const struct content_policy *pol,
		       struct http_reply *r)
{
	const char *uri = error_pages_find(pol->error_pages, r->status);

	if (uri)
		static_error_page(st, uri, r);
}

/* The answer by method, once the request may have one. */
static void answer(struct conn *c, const struct http_site_target *t, const char *host,
		   struct http_reply *r)
{
	struct conn_io *io = c->io;

	switch (io->req.method) {
	case HTTP_GET:
	case HTTP_HEAD:
		if ((io->req.path.len != ctx_of(c)->conf->status_path_len ||
		     !status_serve(ctx_of(c)->conf, c->w->slot, &io->req, &io->client.sa, r)) &&
		    (io->req.path.len != ctx_of(c)->conf->metrics_path_len ||
		     !metrics_serve(ctx_of(c)->conf, c->w->slot, &io->req, &io->client.sa, r)))
			http_site_serve(&ctx_of(c)->site_st[io->req.site->id], io->req.site, host, t,
					&io->req, r);
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
}

/* Per request, in this order: the site, its location, the password, the answer, the error page. */
static void respond(struct conn *c)
{
	struct conn_io *io = c->io;
	struct http_reply *r = &io->reply;
	char host[HOST_NAME_MAX_LEN + 2];
	const struct site *site = http_site_of(&ctx_of(c)->conf->sites, &io->req, host,
					       sizeof(host));
	struct http_site_target t;
	const struct static_ctx *st;

	/* The site first: a Host that names nothing valid is refused before any policy. */
	if (!site) {
		refuse(c, 400);
		return;
	}
	io->req.site = site;
	/* The one location lookup of the request: its policy and its answer use it. */
	http_site_locate(site, &io->req, &t);
	const struct content_policy *pol = policy_for(c, &io->req, &t, &st);

	reply_init(r);
	/* A balancer sends no password, and its 503 must read as the server's own. */
	if (is_health(c, &io->req)) {
		health(c, r);
	} else {
		if (!pol->auth || auth_basic_check(pol->auth, &io->req, r))
			answer(c, &t, host, r);
		error_page(st, pol, r);
	}
	if (io->req.method == HTTP_HEAD)
		r->no_body = true;
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
/* A kind of refusal that a flood could repeat: logged at most once per REFUSAL_LOG_MS. */
struct refusal_log {
	int64_t next;
	unsigned unlogged;
};

/* Counts one refusal; when one is due to be logged, returns how many it stands for. */
static unsigned refusal_due(struct refusal_log *g)
{
	int64_t now = clock_coarse_ms(), due = __atomic_load_n(&g->next, __ATOMIC_RELAXED);
	unsigned n = __atomic_add_fetch(&g->unlogged, 1, __ATOMIC_RELAXED);

	if (now >= due && __atomic_compare_exchange_n(&g->next, &due, now + REFUSAL_LOG_MS, false,
						      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		__atomic_sub_fetch(&g->unlogged, n, __ATOMIC_RELAXED);
		return n;
	}
	return 0;
}

static void refuse_over_limit(struct conn *c)
{
	static struct refusal_log gate;
	unsigned n = refusal_due(&gate);

	if (n) {
		char addr[ADDR_TEXT_MAX];
		log_msg(LOG_WARNING, "client %s holds max_connections_per_client (%u): refused with "
			"503 (%u refusal%s in this process since the last such message)",
			addr_format(&client_of(c)->sa, addr, sizeof(addr)),
			ctx_of(c)->conf->max_connections_per_client, n, n == 1 ? "" : "s");
	}
	if (c->w->slot)
		sb_add(&c->w->slot->refused, 1);
	c->refused = true;
	if (!c->io && !(c->io = io_get(ctx_of(c)))) {
		closed(c);
		return;
	}
	refuse(c, 503);
}

/*
 * A PROXY header missing, malformed (err: its proxy_parse() error) or slower than
 * header_timeout (err 0): the connection is closed, nothing more is read or written. The
 * peer is a balancer (or something posing as one), so an answer in HTTP would be noise
 * in its stream. Logged once per episode, like the client-limit refusals.
 */
static enum conn_want proxy_refuse(struct conn *c, int err)
{
	static struct refusal_log gate;
	unsigned n = refusal_due(&gate);

	if (n) {
		char addr[ADDR_TEXT_MAX];
		log_msg(LOG_WARNING, "connection from %s refused: %s on a proxy_protocol listener "
			"(%u refusal%s in this process since the last such message)",
			addr_format_port(&c->peer.sa, addr, sizeof(addr)),
			err ? proxy_error_text(err) : "no complete PROXY header within "
			"header_timeout", n, n == 1 ? "" : "s");
	}
	sb_count_proxy_refused(c->w->slot);
	return closed(c);
}

/*
 * The request's client: the connection's, or for a trusted proxy the one its forwarding
 * field names (forwarded.h: walked right to left past trusted hops).
 */
static void request_client(struct conn *c)
{
	const struct config *conf = ctx_of(c)->conf;
	struct conn_io *io = c->io;
	socklen_t len;

	memcpy(&io->client, client_of(c), sizeof(union conn_addr));
	if (conf->ntrusted_proxies == 0)
		return;
	forwarded_client(conf->client_address_header == CLIENT_HEADER_FORWARDED ?
			 FORWARDED_RFC7239 : FORWARDED_XFF, io->req.fields, io->req.nfields,
			 &client_of(c)->sa, sizeof(union conn_addr), trusted_proxy, (void *)conf,
			 &io->client.ss, &len);
}

static void start_request(struct conn *c, size_t head_len)
{
	struct conn_io *io = c->io;
	const struct config *conf = ctx_of(c)->conf;
	struct http_request *req = &io->req;

	io->have_req = true;
	io->quiet = false;
	request_client(c);
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

/*
 * The header is complete (len bytes): the HTTP head starts after it. Its source is the
 * client from now on, and takes the client's max_connections_per_client slot.
 */
static void proxy_accept(struct conn *c, const struct proxy_header *h, size_t len)
{
	struct conn_io *io = c->io;

	memmove(io->in, io->in + len, io->in_len - len);
	io->in_len -= len;
	if (h->command == PROXY_CMD_PROXY && h->src_len > 0) {
		union conn_addr *client = (void *)((char *)c + c->client_at);

		memset(client, 0, sizeof(*client));
		memcpy(client, &h->src, h->src_len < sizeof(*client) ? h->src_len : sizeof(*client));
	}
	c->state = S_HEAD;
	count_client(c);
}

/* Returns -1 to go on with the new state, or what to wait for. */
static int step_proxy(struct conn *c)
{
	const struct conn_ctx *ctx = ctx_of(c);
	struct conn_io *io = c->io;

	if (!io && !(io = c->io = io_get(ctx)))
		return closed(c);
	for (;;) {
		if (io->in_len > 0) {
			struct proxy_header h;
			ssize_t r = proxy_parse(io->in, io->in_len, &h);
			if (r < 0)
				return proxy_refuse(c, (int)-r);
			if (r > 0) {
				proxy_accept(c, &h, (size_t)r);
				return -1;
			}
		}
		if (c->drained) {
			c->drained = false;
			return CONN_WANT_READ;
		}
		/* The head may follow in the same segment: room for both, as step_head has. */
		ssize_t n = conn_read(c, io->in + io->in_len, in_cap(ctx) + IN_SLACK - io->in_len);
		if (n > 0) {
			if (io->in_len == 0) {
				/* Its first byte: header_timeout from here, as for a head. */
				set_timer(c, CONN_T_HEADER);
				sb_set_state(c->w->slot, SB_READ);
			}
			io->in_len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return CONN_WANT_READ;
		/* Closed before a whole header: refused like a malformed one, if it sent any. */
		return io->in_len ? proxy_refuse(c, 0) : closed(c);
	}
}

/* Returns -1 to go on with the new state, or what to wait for. */
static int step_head(struct conn *c)
{
	const struct conn_ctx *ctx = ctx_of(c);
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
				io->start_us = clock_us();
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
	const struct config *conf = ctx_of(c)->conf;

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
		ssize_t n = conn_read(c, io->in + io->in_len, in_cap(ctx_of(c)) + IN_SLACK - io->in_len);
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

/* Microseconds since the request's first byte (0 for a refusal before any). */
static uint64_t request_us(const struct conn_io *io, int64_t now)
{
	return io->start_us && now > io->start_us ? (uint64_t)(now - io->start_us) : 0;
}

static void finish_response(struct conn *c)
{
	struct conn_io *io = c->io;
	int64_t now = clock_us();

	/* Log Format counts the body only (Apache's %b). */
	if (!io->quiet)
		log_response(c, io->reply.status,
			     io->sent > io->head_out ? io->sent - io->head_out : 0,
			     request_us(io, now));
	metrics_record(c->w->slot, io->have_req ? io->req.method : HTTP_UNKNOWN,
		       io->reply.status, io->sent, request_us(io, now));
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
			/*
			 * The end of the answer is held (MSG_MORE) until close() sends it: the
			 * place is given back first, so a client that reconnects as soon as it
			 * has its answer never finds this connection still counted. Released
			 * after close(), it raced the client whenever this worker was not run
			 * at once (503 for a strictly sequential client, 16 in 3,000 on fork).
			 */
			release_client(c);
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
	/* A pipelined request waiting in the buffer starts now: its bytes came with this one's. */
	io->start_us = left ? now : 0;
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
	/*
	 * The driver may have taken an input event since the last run, while this one waited
	 * to write or for its turn (http_conn.h): an earlier "the socket was empty" no longer
	 * says that a byte still to read will raise another.
	 */
	c->drained = false;
	for (;;) {
		int rc;

		switch (c->state) {
		case S_PROXY: rc = step_proxy(c); break;
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

	if (c->state == S_PROXY) {
		proxy_refuse(c, 0);
		return;
	}
	if (io && ((c->state == S_HEAD && io->in_len > 0) || c->state == S_BODY)) {
		char timeout[256];
		/* RFC 9110 6.6.1: a 4xx carries Date like any other. */
		int n = snprintf(timeout, sizeof(timeout), "HTTP/1.1 408 Request Timeout\r\n"
				 "Date: %s\r\nServer: %s\r\nContent-Length: 0\r\n"
				 "Connection: close\r\n\r\n", date_now(), ctx_of(c)->server);
		/* Best effort: a client too slow to send is not waited for again. */
		ssize_t sent = send(c->fd, timeout, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		uint64_t us = request_us(io, clock_us());
		log_response(c, 408, 0, us);
		metrics_record(c->w->slot, io->have_req ? io->req.method : HTTP_UNKNOWN, 408,
			       sent > 0 ? (uint64_t)sent : 0, us);
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
