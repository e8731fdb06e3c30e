/* SPDX-License-Identifier: ISC */
/*
 * http_static: GET and HEAD for files under the document root.
 *
 * One request costs one openat2 and one fstat (plus one openat2 per index name tried for
 * a directory), or nothing for a small file the thread's file_cache holds; nothing is
 * allocated but a directory listing's page. The root is enforced by the kernel
 * (RESOLVE_BENEATH) at open time rather than by realpath checks, which would race with
 * renames. Where
 * openat2 is missing (ENOSYS: a kernel before 5.6, or a seccomp filter), paths are walked
 * one component at a time with O_NOFOLLOW instead, which is stricter: unless
 * follow_symlinks is on, every symlink is refused, even one that stays inside the root.
 *
 * Choices the RFCs leave open:
 *  - Only regular files are served. Anything else that is not a directory (FIFO, socket,
 *    device) is 404, like nginx: it does not confirm the name exists. Files are opened
 *    O_NONBLOCK so that a FIFO cannot stall the worker before fstat rejects it.
 *  - A "text/..." type without parameters gets "; charset=utf-8".
 *  - The ETag is strong: "mtime_ns-size" in hex by default, the same on every replica
 *    that holds the same files with their mtimes (the inode differs from host to host,
 *    which is why Apache dropped it from its default); "inode-mtime_ns-size" or none when
 *    configured (etag). Without one, no entity-tag matches but "*".
 *  - A malformed entity-tag list matches nothing (If-Match: 412, If-None-Match: served).
 *  - Requests for several ranges get the whole representation (200), which RFC 9110
 *    section 14.2 allows, or 416 when none of them is satisfiable.
 *  - A suffix range on an empty file is satisfiable (section 14.1.1) but no 206 can say
 *    "zero bytes", so the whole (empty) representation is sent with 200.
 *  - Precompressed siblings (FILE.br, FILE.zst, FILE.gz) are other representations of
 *    FILE, each with its own validators: ETag (with the coding's name appended, since
 *    two siblings may share a size and a time), conditionals and ranges are the sibling's.
 *    With the option on, every answer for a regular file says "Vary: Accept-Encoding",
 *    even when no sibling exists now: one may appear, and a cache must not have kept
 *    the identity answer for a client that would then get the sibling.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "accept_encoding.h"
#include "content_policy.h"
#include "file_cache.h"
#include "http_date.h"
#include "http_static.h"
#include "log.h"

#define ETAG_MAX 64

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

ssize_t static_path_clean(const char *path, size_t len, char *out, size_t cap, bool *dir)
{
	size_t i = 0, o = 0;
	bool trail = true;	/* the result names a directory: "/", "x/", "x/." or "x/.." */

	if (len == 0 || path[0] != '/' || cap == 0)
		return -400;
	while (i < len) {
		if (path[i] == '/') {
			i++;
			trail = true;
			continue;
		}
		size_t before = o;
		if (o > 0) {
			if (o + 1 >= cap)
				return -400;
			out[o++] = '/';
		}
		size_t seg = o;
		while (i < len && path[i] != '/') {
			int c = (unsigned char)path[i++];
			if (c == '%') {
				int hi, lo;
				if (len - i < 2 || (hi = hex_value(path[i])) < 0 ||
				    (lo = hex_value(path[i + 1])) < 0)
					return -400;
				c = hi << 4 | lo;
				i += 2;
				/* An encoded '/' would be a name containing a slash: nothing on disk. */
				if (c == '/')
					return -400;
			}
			if (c < 0x20 || c == 0x7f || c == '\\')
				return -400;
			if (o + 1 >= cap)
				return -400;
			out[o++] = (char)c;
		}
		size_t sl = o - seg;
		trail = sl <= 2 && out[seg] == '.' && (sl == 1 || out[seg + 1] == '.');
		if (!trail)
			continue;
		if (sl == 2) {
			if (before == 0)
				return -400;	/* ".." above the root */
			o = before;
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			o = before;
		}
	}
	out[o] = '\0';
	*dir = trail;
	return (ssize_t)o;
}

/* Set once openat2 has answered ENOSYS, so that the process pays for it once; the unit
 * tests set it to exercise the fallback. */
static _Atomic bool no_openat2;

/*
 * openat2's replacement: path is already clean (no "..", no leading '/'), so walking it
 * from the root, never following a symlink, cannot leave the root. With follow_symlinks
 * the kernel resolves the whole path, as openat2 would without RESOLVE_BENEATH.
 */
static long open_walk(int root, const struct static_ctx *ctx, const char *path, int flags)
{
	if (ctx->follow_symlinks)
		return openat(root, path, flags);

	int dfd = root;
	char name[NAME_MAX + 1];

	for (;;) {
		const char *slash = strchr(path, '/');
		size_t n = slash ? (size_t)(slash - path) : strlen(path);
		bool last = !slash || slash[strspn(slash, "/")] == '\0';

		if (n > NAME_MAX || (n == 2 && path[0] == '.' && path[1] == '.')) {
			if (dfd != root)
				close(dfd);
			errno = n > NAME_MAX ? ENAMETOOLONG : EXDEV;
			return -1;
		}
		memcpy(name, n ? path : ".", n ? n : 1);
		name[n ? n : 1] = '\0';
		int fd = openat(dfd, name, last ? flags | O_NOFOLLOW
					       : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int saved = errno;

		if (dfd != root)
			close(dfd);
		if (fd < 0 || last) {
			errno = saved;
			return fd;
		}
		dfd = fd;
		path = slash + strspn(slash, "/");
	}
}

/* Returns 0 with *fd set, or the status to answer. */
static int open_file(int root, const struct static_ctx *ctx, const char *path, int *fd)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
		/* Magic links (/proc/.../fd) would jump anywhere whatever the root. */
		.resolve = RESOLVE_NO_MAGICLINKS | (ctx->follow_symlinks ? 0 : RESOLVE_BENEATH),
	};
	long r;
	int tries = 0;

	/* EAGAIN: the kernel saw a rename race it could not rule out; openat2(2) says retry. */
	do
		r = no_openat2 ? open_walk(root, ctx, path, (int)how.flags)
			       : syscall(SYS_openat2, root, path, &how, sizeof(how));
	while (r < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 3);
	if (r < 0 && errno == ENOSYS && !no_openat2) {
		if (!atomic_exchange(&no_openat2, true))
			log_msg(LOG_WARNING, "openat2: %m; resolving paths one component at a "
				"time instead, refusing every symlink unless follow_symlinks");
		r = open_walk(root, ctx, path, (int)how.flags);
	}
	if (r >= 0) {
		*fd = (int)r;
		return 0;
	}
	switch (errno) {
	case EACCES:
	case EPERM:
		return 403;
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
	case EXDEV:	/* escapes the root: refused, and not said so */
	case ELOOP:
	case ENXIO:	/* a socket */
	case ENODEV:
		return 404;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case EAGAIN:
		return 503;
	default:
		return 500;
	}
}

/* A small file the thread's file cache holds comes as *data with *fd -1. */
static int open_stat(const struct static_ctx *ctx, const char *path, int *fd, struct stat *st,
		     const char **data)
{
	int root = docroot_fd(ctx->root);
	uint64_t key = docroot_key(ctx->root);

	if ((*data = file_cache_get(key, path, st))) {
		*fd = -1;
		return 0;
	}
	int status = open_file(root, ctx, path, fd);

	if (status == 0 && fstat(*fd, st) < 0) {
		close(*fd);
		status = 500;
	}
	if (status == 0 && (*data = file_cache_put(key, path, *fd, st))) {
		close(*fd);
		*fd = -1;
	}
	return status;
}

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Whether etag is in the list f ("*" or #entity-tag). Strong comparison skips weak tags.
 * Empty list elements are allowed (RFC 9110 section 5.6.1); anything else malformed makes
 * the whole field match nothing.
 */
static bool etag_match(struct http_str f, const char *etag, size_t etag_len, bool strong)
{
	const char *p = f.p, *end = f.p + f.len;
	bool match = false;

	while (p < end && ows(*p))
		p++;
	while (end > p && ows(end[-1]))
		end--;
	if (end - p == 1 && *p == '*')
		return true;
	while (p < end) {
		if (*p == ',' || ows(*p)) {
			p++;
			continue;
		}
		bool weak = end - p >= 2 && p[0] == 'W' && p[1] == '/';
		const char *tag = weak ? p + 2 : p;
		if (tag == end || *tag != '"')
			return false;
		p = tag + 1;
		while (p < end && *p != '"') {
			unsigned char c = (unsigned char)*p++;
			if (c < 0x21 || c == 0x7f)
				return false;
		}
		if (p == end)
			return false;
		p++;
		if (!(strong && weak) && (size_t)(p - tag) == etag_len &&
		    memcmp(tag, etag, etag_len) == 0)
			match = true;
		while (p < end && ows(*p))
			p++;
		if (p < end && *p != ',')
			return false;
	}
	return match;
}

/* RFC 9110 section 13.2.2, steps 1 to 4: 0 to go on, or 304 or 412. */
static int preconditions(const struct http_request *req, const char *etag, size_t etag_len,
			 time_t lm, time_t now)
{
	bool safe = req->method == HTTP_GET || req->method == HTTP_HEAD;
	time_t t;

	if (req->if_match.p) {
		if (!etag_match(req->if_match, etag, etag_len, true))
			return 412;
	} else if (req->if_unmodified_since.p &&
		   http_date_parse(req->if_unmodified_since.p, req->if_unmodified_since.len, &t) &&
		   lm > t) {
		return 412;
	}
	if (req->if_none_match.p) {
		if (etag_match(req->if_none_match, etag, etag_len, false))
			return safe ? 304 : 412;
	} else if (safe && req->if_modified_since.p &&
		   http_date_parse(req->if_modified_since.p, req->if_modified_since.len, &t) &&
		   t <= now && lm <= t) {
		return 304;
	}
	return 0;
}

/*
 * Section 13.1.5: an entity-tag matches strongly; a date must equal Last-Modified and
 * that date must be a strong validator, i.e. at least a second in the past (8.8.2.2).
 */
static bool if_range_holds(struct http_str f, const char *etag, size_t etag_len, time_t lm,
			   time_t now)
{
	time_t t;

	if (f.p == NULL)
		return true;
	if (f.len > 0 && f.p[0] == '"')
		return f.len == etag_len && memcmp(f.p, etag, etag_len) == 0;
	return http_date_parse(f.p, f.len, &t) && t == lm && lm < now;
}

enum range_result { RANGE_IGNORE, RANGE_PARTIAL, RANGE_UNSATISFIABLE };

/* 1*DIGIT, saturating: a huge position is simply beyond any file. */
static const char *number(const char *p, const char *end, uint64_t *v, bool *any)
{
	*v = 0;
	*any = false;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		*v = *v > (UINT64_MAX - d) / 10 ? UINT64_MAX : *v * 10 + d;
		*any = true;
	}
	return p;
}

/* RFC 9110 section 14.1: a syntactically invalid Range is ignored. */
static enum range_result parse_range(struct http_str f, uint64_t size, off_t *off, off_t *len)
{
	const char *p = f.p, *end = f.p + f.len;
	unsigned nspec = 0;
	bool satisfiable = false;
	uint64_t first = 0, last = 0;
	bool has_first = false, has_last = false;

	if (f.len < 6 || strncasecmp(p, "bytes=", 6) != 0)
		return RANGE_IGNORE;
	for (p += 6; p < end;) {
		if (*p == ',' || ows(*p)) {
			p++;
			continue;
		}
		p = number(p, end, &first, &has_first);
		if (p == end || *p != '-')
			return RANGE_IGNORE;
		p = number(p + 1, end, &last, &has_last);
		if ((!has_first && !has_last) || (has_first && has_last && last < first))
			return RANGE_IGNORE;
		while (p < end && ows(*p))
			p++;
		if (p < end && *p != ',')
			return RANGE_IGNORE;
		nspec++;
		satisfiable |= has_first ? first < size : last > 0;
	}
	if (nspec == 0)
		return RANGE_IGNORE;
	if (!satisfiable)
		return RANGE_UNSATISFIABLE;
	if (nspec > 1 || size == 0)
		return RANGE_IGNORE;
	if (!has_first) {
		first = last < size ? size - last : 0;
		last = size - 1;
	} else if (!has_last || last >= size) {
		last = size - 1;
	}
	*off = (off_t)first;
	*len = (off_t)(last - first + 1);
	return RANGE_PARTIAL;
}

static void content_type(const struct static_ctx *ctx, struct http_reply *reply,
			 const char *name, size_t len)
{
	const char *type = ctx->mime ? mime_lookup(ctx->mime, name, len) : NULL;

	if (type == NULL)
		type = ctx->default_type;
	if (type == NULL)
		return;
	if (strncmp(type, "text/", 5) == 0 && strchr(type, ';') == NULL)
		reply_header(reply, "Content-Type: %s; charset=utf-8", type);
	else
		reply_header(reply, "Content-Type: %s", type);
}

static bool older(const struct stat *a, const struct stat *b)
{
	return a->st_mtim.tv_sec < b->st_mtim.tv_sec ||
	       (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec < b->st_mtim.tv_nsec);
}

/*
 * With the client's Accept-Encoding, the sibling of path (plen bytes, room for a suffix
 * up to cap) to serve in place of *fd, *data and *st: the best coding whose sibling is a
 * regular file not older than the original. On success the original is closed and
 * replaced; identity leaves them as they were, reopened if the cache may have dropped
 * the original's bytes meanwhile. Returns the coding, or -STATUS when the original can no
 * longer be had.
 */
static int pick_sibling(const struct static_ctx *ctx, const struct http_request *req,
			char *path, size_t plen, size_t cap, int *fd, const char **data,
			struct stat *st)
{
	struct accept_encoding ae;
	unsigned available = 1u << AE_BR | 1u << AE_ZSTD | 1u << AE_GZIP;
	bool any = false, tried = false;

	ae_init(&ae);
	for (unsigned i = 0; i < req->nfields; i++) {
		const struct http_field *f = &req->fields[i];
		if (f->name_len != 15 || strncasecmp(f->name, "accept-encoding", 15) != 0)
			continue;
		if (any)
			ae_feed(&ae, ", ", 2);
		ae_feed(&ae, f->value, f->value_len);
		any = true;
	}
	/* No field: any coding is acceptable (RFC 9110 section 12.5.3), identity the safest. */
	if (!any || !ae_finish(&ae))
		return AE_IDENTITY;
	for (;;) {
		enum ae_coding c = ae_choose(&ae, available);
		const char *sfx = ae_suffix(c);
		size_t sl = strlen(sfx);
		struct stat vst;
		const char *vdata;
		int vfd;

		if (c == AE_IDENTITY || plen + sl + 1 > cap)
			break;
		available &= ~(1u << c);
		tried = true;
		memcpy(path + plen, sfx, sl + 1);
		int status = open_stat(ctx, path, &vfd, &vst, &vdata);
		path[plen] = '\0';
		if (status)
			continue;
		if (!S_ISREG(vst.st_mode) || older(&vst, st)) {
			if (vfd >= 0)
				close(vfd);
			continue;
		}
		if (*fd >= 0)
			close(*fd);
		*fd = vfd;
		*data = vdata;
		*st = vst;
		return c;
	}
	/* A cached original's bytes live until the thread's next file_cache call. */
	if (tried && *data) {
		struct stat again;
		int status = open_stat(ctx, path, fd, &again, data);
		if (status)
			return -status;
		if (!S_ISREG(again.st_mode)) {
			if (*fd >= 0)
				close(*fd);
			return -404;
		}
		*st = again;
	}
	return AE_IDENTITY;
}

/*
 * Answers for the open regular file fd (or its cached data) at path (plen bytes, with
 * room up to cap for a sibling's suffix); name gives the extension.
 */
static void serve_file(const struct static_ctx *ctx, const struct content_policy *pol,
		       const struct http_request *req, struct http_reply *reply, int fd,
		       const char *data, struct stat *st, char *path, size_t plen, size_t cap,
		       const char *name, size_t name_len)
{
	int coding = AE_IDENTITY;

	if (pol && pol->precompressed) {
		reply_header(reply, "Vary: Accept-Encoding");
		coding = pick_sibling(ctx, req, path, plen, cap, &fd, &data, st);
		if (coding < 0) {
			reply_error(reply, -coding);
			return;
		}
	}

	char etag[ETAG_MAX], lm_str[HTTP_DATE_LEN + 1];
	time_t now = time(NULL);
	/* Section 8.8.2.1: a modification time in the future is replaced by now. */
	time_t lm = st->st_mtim.tv_sec < now ? st->st_mtim.tv_sec : now;
	unsigned long long mtime = (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
				   (unsigned long long)st->st_mtim.tv_nsec;
	int n = 0;

	if (ctx->etag == ETAG_MTIME_SIZE)
		n = snprintf(etag, sizeof(etag), "\"%llx-%llx\"", mtime,
			     (unsigned long long)st->st_size);
	else if (ctx->etag == ETAG_INODE_MTIME_SIZE)
		n = snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx\"",
			     (unsigned long long)st->st_ino, mtime, (unsigned long long)st->st_size);
	/* Siblings may share a size and a time (the default ETag has no inode): name it. */
	if (n > 0 && coding != AE_IDENTITY)
		n += snprintf(etag + n - 1, sizeof(etag) - (size_t)n + 1, "-%s\"",
			      ae_name((enum ae_coding)coding)) - 1;
	etag[n] = '\0';
	size_t etag_len = (size_t)n;
	off_t off = 0, len = st->st_size;

	http_date_format(lm, lm_str);
	int status = preconditions(req, etag, etag_len, lm, now);
	if (status == 412) {
		if (fd >= 0)
			close(fd);
		reply_error(reply, 412);
		return;
	}
	if (status == 304) {
		if (fd >= 0)
			close(fd);
		reply->status = 304;
		reply->no_body = true;
		reply->len = 0;
		if (etag_len)
			reply_header(reply, "ETag: %s", etag);
		reply_header(reply, "Last-Modified: %s", lm_str);
		return;
	}

	status = 200;
	/* Section 14.2: GET is the only method with defined range handling. */
	if (req->method == HTTP_GET && req->range.p &&
	    if_range_holds(req->if_range, etag, etag_len, lm, now)) {
		switch (parse_range(req->range, (uint64_t)st->st_size, &off, &len)) {
		case RANGE_UNSATISFIABLE:
			if (fd >= 0)
				close(fd);
			reply_header(reply, "Content-Range: bytes */%lld", (long long)st->st_size);
			reply_error(reply, 416);
			return;
		case RANGE_PARTIAL:
			status = 206;
			reply_header(reply, "Content-Range: bytes %lld-%lld/%lld", (long long)off,
				     (long long)(off + len - 1), (long long)st->st_size);
			break;
		case RANGE_IGNORE:
			break;
		}
	}
	reply->status = status;
	content_type(ctx, reply, name, name_len);
	reply_header(reply, "Last-Modified: %s", lm_str);
	if (etag_len)
		reply_header(reply, "ETag: %s", etag);
	reply_header(reply, "Accept-Ranges: bytes");
	if (coding != AE_IDENTITY)
		reply_header(reply, "Content-Encoding: %s", ae_name((enum ae_coding)coding));
	reply->fd = fd;
	reply->off = off;
	reply->len = len;
	if (data)
		reply->body = data + off;
}

/* "/" for a directory reference whose raw path lacks it. */
static void redirect_slash(const struct http_request *req, struct http_reply *reply)
{
	const char *p = req->path.p;
	size_t len = req->path.len;

	/* "//host" would read as a network-path reference: an open redirect. */
	while (len > 1 && p[0] == '/' && p[1] == '/') {
		p++;
		len--;
	}
	if (len > INT_MAX || req->query.len > INT_MAX ||
	    reply_header(reply, "Location: %.*s/%s%.*s", (int)len, p, req->query.p ? "?" : "",
			 (int)req->query.len, req->query.p ? req->query.p : "") < 0) {
		reply_error(reply, 414);
		return;
	}
	reply_error(reply, 301);
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* A directory's entries: each is a type byte ('/' for a directory, else ' ') and a name. */
struct dir_names {
	char *arena;
	size_t len, cap;
	size_t *offs;		/* where each entry starts in arena */
	size_t n, offs_cap;
};

static bool names_add(struct dir_names *dn, bool dir, const char *name, size_t nl)
{
	if (dn->n == dn->offs_cap) {
		size_t cap = dn->offs_cap ? dn->offs_cap * 2 : 256;
		size_t *o = realloc(dn->offs, cap * sizeof(*o));

		if (!o)
			return false;
		dn->offs = o;
		dn->offs_cap = cap;
	}
	if (nl + 2 > dn->cap - dn->len) {
		size_t cap = dn->cap ? dn->cap * 2 : 16384;
		char *a;

		while (nl + 2 > cap - dn->len)
			cap *= 2;
		if (!(a = realloc(dn->arena, cap)))
			return false;
		dn->arena = a;
		dn->cap = cap;
	}
	dn->offs[dn->n++] = dn->len;
	dn->arena[dn->len++] = dir ? '/' : ' ';
	memcpy(dn->arena + dn->len, name, nl + 1);
	dn->len += nl + 1;
	return true;
}

/* Bytewise, so that the order does not depend on a locale. */
static int by_name(const void *a, const void *b, void *arena)
{
	return strcmp((const char *)arena + *(const size_t *)a + 1,
		      (const char *)arena + *(const size_t *)b + 1);
}

/* The page under construction, written to a memfd through buf. */
struct page {
	int fd;
	bool failed;
	size_t len;
	off_t total;
	_Alignas(8) char buf[32768];	/* first the getdents64 buffer, then the page's */
};

/*
 * Every entry but "." and "..", and but the names starting with '.' unless show_hidden
 * (left out as nginx's autoindex does, and as hidden_files refuses them); false on an
 * error. d_type is trusted where the file system gives it, as ls does.
 */
static bool read_names(int dfd, bool show_hidden, struct page *pg, struct dir_names *dn)
{
	for (;;) {
		long got = syscall(SYS_getdents64, dfd, pg->buf, sizeof(pg->buf));

		if (got <= 0)
			return got == 0;
		for (long pos = 0; pos < got;) {
			const struct linux_dirent64 *d = (const void *)(pg->buf + pos);
			struct stat st;
			bool dir = d->d_type == DT_DIR;

			pos += d->d_reclen;
			if (d->d_name[0] == '.' && (!show_hidden || d->d_name[1] == '\0' ||
						    (d->d_name[1] == '.' && d->d_name[2] == '\0')))
				continue;
			if (d->d_type == DT_UNKNOWN)
				dir = fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				      S_ISDIR(st.st_mode);
			if (!names_add(dn, dir, d->d_name, strlen(d->d_name)))
				return false;
		}
	}
}

static void page_flush(struct page *pg)
{
	for (size_t off = 0; off < pg->len && !pg->failed;) {
		ssize_t n = write(pg->fd, pg->buf + off, pg->len - off);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EINTR)
			pg->failed = true;
	}
	pg->total += (off_t)pg->len;
	pg->len = 0;
}

/* Room for n more bytes in buf (n is small). */
static char *page_room(struct page *pg, size_t n)
{
	if (n > sizeof(pg->buf) - pg->len)
		page_flush(pg);
	return pg->buf + pg->len;
}

static void page_put(struct page *pg, const char *s, size_t n)
{
	memcpy(page_room(pg, n), s, n);
	pg->len += n;
}

#define PAGE_LIT(pg, lit) page_put((pg), lit, sizeof(lit) - 1)

static void page_html(struct page *pg, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *e;

		switch (s[i]) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default: page_put(pg, s + i, 1); continue;
		}
		page_put(pg, e, strlen(e));
	}
}

/* Everything but unreserved characters, so that "a:b" cannot read as a scheme. */
static void page_url(struct page *pg, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char *o = page_room(pg, 3);

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			o[0] = (char)c;
			pg->len++;
		} else {
			o[0] = '%';
			o[1] = hex[c >> 4];
			o[2] = hex[c & 15];
			pg->len += 3;
		}
	}
}

/*
 * Every entry, sorted by name. The page is written to a memfd that the engine sends as it
 * sends a file, so it has no bound but the directory's: a request costs its names in
 * memory while the page is built, and the page (25 bytes an entry and each name twice,
 * escaped) while it is sent.
 */
static void list_directory(const struct static_ctx *ctx, struct http_reply *reply, int dfd,
			   const char *path, size_t plen)
{
	struct dir_names dn = { 0 };
	struct page *pg = malloc(sizeof(*pg));
	bool read_ok = pg && read_names(dfd, ctx->hidden_files, pg, &dn);

	close(dfd);
	if (read_ok) {
		pg->fd = memfd_create("minihttpd-listing", MFD_CLOEXEC);
		pg->failed = false;
		pg->len = 0;
		pg->total = 0;
	}
	if (!read_ok || pg->fd < 0) {
		free(pg);
		free(dn.arena);
		free(dn.offs);
		reply_error(reply, 500);
		return;
	}
	if (dn.n)	/* an empty directory has no array at all */
		qsort_r(dn.offs, dn.n, sizeof(*dn.offs), by_name, dn.arena);

	PAGE_LIT(pg, "<!DOCTYPE html>\n<html><head><title>Index of /");
	page_html(pg, path, plen);
	if (plen)
		PAGE_LIT(pg, "/");
	PAGE_LIT(pg, "</title></head><body><ul>\n");
	for (size_t i = 0; i < dn.n; i++) {
		const char *e = dn.arena + dn.offs[i], *name = e + 1;
		size_t nl = strlen(name), sl = e[0] == '/';

		PAGE_LIT(pg, "<li><a href=\"");
		page_url(pg, name, nl);
		page_put(pg, "/", sl);
		PAGE_LIT(pg, "\">");
		page_html(pg, name, nl);
		page_put(pg, "/", sl);
		PAGE_LIT(pg, "</a></li>\n");
	}
	PAGE_LIT(pg, "</ul></body></html>\n");
	page_flush(pg);
	free(dn.arena);
	free(dn.offs);
	if (pg->failed) {
		close(pg->fd);
		free(pg);
		reply_error(reply, 500);
		return;
	}
	reply->status = 200;
	reply->fd = pg->fd;
	reply->off = 0;
	reply->len = pg->total;
	free(pg);
	reply_header(reply, "Content-Type: text/html; charset=utf-8");
}

/* path holds the directory (plen bytes, "" for the root) and has room for a name after it. */
static void serve_directory(const struct static_ctx *ctx, const struct content_policy *pol,
			    const struct http_request *req, struct http_reply *reply, int dfd,
			    char *path, size_t plen, size_t cap)
{
	for (size_t i = 0; i < ctx->nindex; i++) {
		const char *idx = ctx->index[i];
		size_t il = strlen(idx), o = plen;
		struct stat st;
		const char *data;
		int fd;

		if (plen + il + 2 > cap)
			continue;
		if (plen)
			path[o++] = '/';
		memcpy(path + o, idx, il + 1);
		int status = open_stat(ctx, path, &fd, &st, &data);
		if (status == 404 || (status == 0 && !S_ISREG(st.st_mode))) {
			if (status == 0 && fd >= 0)
				close(fd);
			path[plen] = '\0';
			continue;
		}
		close(dfd);
		if (status) {
			reply_error(reply, status);
			return;
		}
		serve_file(ctx, pol, req, reply, fd, data, &st, path, o + il, cap, idx, il);
		return;
	}
	if (ctx->directory_listing) {
		list_directory(ctx, reply, dfd, path, plen);
		return;
	}
	close(dfd);
	reply_error(reply, 403);
}

bool static_path_hidden(const char *path, size_t len)
{
	size_t i = 0;

	if (len >= 11 && memcmp(path, ".well-known", 11) == 0 && (len == 11 || path[11] == '/'))
		i = 11;
	for (; i < len; i++)
		if (path[i] == '.' && (i == 0 || path[i - 1] == '/'))
			return true;
	return false;
}

static void serve(const struct static_ctx *ctx, const struct content_policy *pol,
		  const struct http_request *req, struct http_reply *reply)
{
	char path[PATH_MAX + NAME_MAX + 2];
	struct stat st;
	const char *data;
	bool dir;
	int fd;
	ssize_t n = static_path_clean(req->path.p, req->path.len, path, PATH_MAX, &dir);

	if (n < 0) {
		reply_error(reply, (int)-n);
		return;
	}
	/* Decided on the decoded path, so "/%2egit/" is as hidden as "/.git/". */
	if (!ctx->hidden_files && static_path_hidden(path, (size_t)n)) {
		reply_error(reply, 404);
		return;
	}
	int status = open_stat(ctx, n ? path : ".", &fd, &st, &data);
	if (status) {
		reply_error(reply, status);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		if (dir) {
			serve_directory(ctx, pol, req, reply, fd, path, (size_t)n, sizeof(path));
			return;
		}
		close(fd);
		redirect_slash(req, reply);
		return;
	}
	if (dir || !S_ISREG(st.st_mode)) {
		/* "file/" names nothing; non-regular files are not served (see the top). */
		if (fd >= 0)
			close(fd);
		reply_error(reply, 404);
		return;
	}
	serve_file(ctx, pol, req, reply, fd, data, &st, path, (size_t)n, sizeof(path), path,
		   (size_t)n);
}

/* reply must come from reply_init: headers already added are kept. */
void static_serve(const struct static_ctx *ctx, const struct content_policy *pol,
		  const struct http_request *req, struct http_reply *reply)
{
	serve(ctx, pol, req, reply);
	if (req->method == HTTP_HEAD)
		reply->no_body = true;
}

bool static_error_page(const struct static_ctx *ctx, const char *uri, struct http_reply *reply)
{
	struct http_request req = {
		.method = HTTP_GET,
		.path = { uri, strlen(uri) },
		.version = 11,
	};
	struct http_reply *page = malloc(sizeof(*page));
	const char *type;
	size_t type_len;

	if (!page)
		return false;
	reply_init(page);
	serve(ctx, NULL, &req, page);
	if (page->status != 200 || !(type = reply_find_header(page, "Content-Type", &type_len)) ||
	    reply_remove_header(reply, "Content-Type") < 0 ||
	    reply_header(reply, "%.*s", (int)type_len, type) < 0) {
		if (page->fd >= 0)
			close(page->fd);
		free(page);
		return false;
	}
	if (reply->fd >= 0)
		close(reply->fd);
	reply->fd = page->fd;
	reply->off = page->off;
	reply->len = page->len;
	reply->body = page->body;
	free(page);
	return true;
}
