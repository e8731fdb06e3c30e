/* SPDX-License-Identifier: ISC */
/*
 * mime: extension -> media type, an open-addressing hash table built once.
 *
 * A loaded mime.types file is read whole into one buffer that the table keeps: its tokens
 * are NUL-terminated in place and the slots point into it, so loading costs two
 * allocations and lookups chase no per-entry allocation. When an extension is listed
 * under several types (Debian's file has a few, e.g. "sh"), the first one wins.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mime.h"

/* Longer extensions are never looked up: Debian's longest is 30 characters. */
#define MIME_EXT_MAX 32
/* A mime.types this big is a mistake; fall back to the built-in table. */
#define MIME_FILE_MAX (16u << 20)

struct mime_slot {
	const char *ext;	/* lower case; NULL for an empty slot */
	const char *type;
	uint32_t hash;
	uint32_t len;
};

struct mime_table {
	char *pool;		/* the loaded file's bytes, or NULL for the built-in table */
	size_t mask;
	struct mime_slot slot[];
};

static const char *const builtin[][2] = {
	{ "html", "text/html" }, { "htm", "text/html" }, { "css", "text/css" },
	{ "js", "text/javascript" }, { "mjs", "text/javascript" },
	{ "json", "application/json" }, { "map", "application/json" },
	{ "txt", "text/plain" }, { "md", "text/markdown" }, { "csv", "text/csv" },
	{ "xml", "application/xml" }, { "svg", "image/svg+xml" }, { "png", "image/png" },
	{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" }, { "gif", "image/gif" },
	{ "webp", "image/webp" }, { "avif", "image/avif" }, { "ico", "image/vnd.microsoft.icon" },
	{ "bmp", "image/bmp" }, { "pdf", "application/pdf" }, { "wasm", "application/wasm" },
	{ "woff", "font/woff" }, { "woff2", "font/woff2" }, { "ttf", "font/ttf" },
	{ "otf", "font/otf" }, { "mp4", "video/mp4" }, { "webm", "video/webm" },
	{ "mp3", "audio/mpeg" }, { "ogg", "audio/ogg" }, { "oga", "audio/ogg" },
	{ "ogv", "video/ogg" }, { "wav", "audio/wav" }, { "flac", "audio/flac" },
	{ "zip", "application/zip" }, { "gz", "application/gzip" },
	{ "tar", "application/x-tar" }, { "xz", "application/x-xz" },
	{ "bz2", "application/x-bzip2" }, { "7z", "application/x-7z-compressed" },
	{ "rss", "application/rss+xml" }, { "atom", "application/atom+xml" },
	{ "xhtml", "application/xhtml+xml" }, { "webmanifest", "application/manifest+json" },
	{ "ics", "text/calendar" }, { "epub", "application/epub+zip" },
};

static uint32_t fnv1a(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static struct mime_table *table_new(size_t n)
{
	size_t size = 16;
	struct mime_table *t;

	while (size < 2 * n)	/* at most half full keeps misses short */
		size *= 2;
	t = calloc(1, sizeof(*t) + size * sizeof(t->slot[0]));
	if (t)
		t->mask = size - 1;
	return t;
}

/* ext must already be lower case and stay alive as long as the table. */
static void table_put(struct mime_table *t, const char *ext, size_t len, const char *type)
{
	uint32_t h = fnv1a(ext, len);

	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		struct mime_slot *s = &t->slot[i];
		if (s->ext == NULL) {
			*s = (struct mime_slot){ ext, type, h, (uint32_t)len };
			return;
		}
		if (s->hash == h && s->len == len && memcmp(s->ext, ext, len) == 0)
			return;
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Blanks (with NULs) comments, whitespace, lines whose first word is not a type and
 * extensions we could never look up (containing '/' or '.', or too long), so that what
 * remains is a sequence of tokens in which those with a '/' are types and the others are
 * extensions of the type before them. Returns the number of extensions.
 */
static size_t tokenize(char *buf, size_t len)
{
	char *p = buf, *end = buf + len;
	size_t n = 0;

	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		char *stop = memchr(p, '#', (size_t)(eol - p));
		if (stop == NULL)
			stop = eol;
		bool first = true, valid = false;

		for (char *q = p; q < eol;) {
			if (q >= stop || is_space(*q)) {
				*q++ = '\0';
				continue;
			}
			char *tok = q;
			while (q < stop && !is_space(*q))
				q++;
			size_t tl = (size_t)(q - tok);
			bool slash = memchr(tok, '/', tl) != NULL;
			bool keep;
			if (first) {
				valid = slash;
				keep = valid;
				first = false;
			} else {
				keep = valid && !slash && memchr(tok, '.', tl) == NULL &&
				       tl < MIME_EXT_MAX;
				n += keep;
			}
			if (!keep)
				memset(tok, 0, tl);
		}
		if (eol < end)
			*eol = '\0';
		p = eol + 1;
	}
	return n;
}

/* NULL with errno ENOMEM on allocation failure, any other errno when unreadable. */
static char *read_all(const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)MIME_FILE_MAX) {
		errno = EINVAL;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		goto out;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			buf = NULL;
			errno = EIO;
			goto out;
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	*len = got;
out:
	close(fd);
	return buf;
}

static struct mime_table *load_file(char *buf, size_t len)
{
	struct mime_table *t = table_new(tokenize(buf, len));
	const char *type = NULL;

	if (t == NULL)
		return NULL;
	t->pool = buf;
	for (char *p = buf, *end = buf + len; p < end;) {
		if (*p == '\0') {
			p++;
			continue;
		}
		size_t tl = strlen(p);
		if (memchr(p, '/', tl)) {
			type = p;
		} else {
			for (size_t i = 0; i < tl; i++)
				p[i] = lower(p[i]);
			table_put(t, p, tl, type);
		}
		p += tl;
	}
	return t;
}

struct mime_table *mime_load(const char *path)
{
	size_t n = sizeof(builtin) / sizeof(builtin[0]);
	struct mime_table *t;

	if (path) {
		size_t len;
		char *buf = read_all(path, &len);
		if (buf) {
			t = load_file(buf, len);
			if (t == NULL)
				free(buf);
			return t;
		}
		if (errno == ENOMEM)
			return NULL;
	}
	t = table_new(n);
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		table_put(t, builtin[i][0], strlen(builtin[i][0]), builtin[i][1]);
	return t;
}

void mime_free(struct mime_table *t)
{
	if (t) {
		free(t->pool);
		free(t);
	}
}

const char *mime_lookup(const struct mime_table *t, const char *name, size_t len)
{
	char ext[MIME_EXT_MAX];
	size_t dot = len, n;

	while (dot > 0 && name[dot - 1] != '.' && name[dot - 1] != '/')
		dot--;
	if (dot == 0 || name[dot - 1] != '.')
		return NULL;
	n = len - dot;
	if (n == 0 || n >= MIME_EXT_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++)
		ext[i] = lower(name[dot + i]);

	uint32_t h = fnv1a(ext, n);
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		const struct mime_slot *s = &t->slot[i];
		if (s->ext == NULL)
			return NULL;
		if (s->hash == h && s->len == n && memcmp(s->ext, ext, n) == 0)
			return s->type;
	}
}
