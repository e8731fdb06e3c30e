/* SPDX-License-Identifier: ISC */
/*
 * htpasswd: the file is small and read once per configuration load, so the users are a
 * plain array; a lookup compares names, and auth_basic evens out the time of a miss.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htpasswd.h"

static bool prefix(const char *p, size_t len, const char *pre)
{
	size_t n = strlen(pre);

	return len >= n && memcmp(p, pre, n) == 0;
}

int htpasswd_line(const char *line, size_t len, const char **name, size_t *name_len,
		  const char **hash, size_t *hash_len, char *err, size_t errlen)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return 0;

	const char *colon = memchr(line, ':', len);
	if (!colon) {
		snprintf(err, errlen, "expected \"user:hash\"");
		return -1;
	}
	*name = line;
	*name_len = (size_t)(colon - line);
	*hash = colon + 1;
	*hash_len = len - *name_len - 1;
	if (*name_len == 0) {
		snprintf(err, errlen, "the user name is empty");
		return -1;
	}
	for (size_t k = 0; k < *name_len; k++) {
		unsigned char c = (unsigned char)line[k];
		if (c <= ' ' || c == 0x7f) {
			snprintf(err, errlen, "the user name has a blank or a control character");
			return -1;
		}
	}
	for (size_t k = 0; k < *hash_len; k++) {
		unsigned char c = (unsigned char)(*hash)[k];
		if (c <= ' ' || c == 0x7f || c == ':') {
			snprintf(err, errlen, "the hash of \"%.*s\" has a blank, a control "
				 "character or a second ':'", (int)*name_len, line);
			return -1;
		}
	}
	if (prefix(*hash, *hash_len, "$apr1$")) {
		snprintf(err, errlen, "\"%.*s\": Apache MD5 ($apr1$) hashes are not supported "
			 "(crypt(3) cannot check them); re-create the entry with htpasswd -B "
			 "(bcrypt)", (int)*name_len, line);
		return -1;
	}
	if (!prefix(*hash, *hash_len, "$2y$") && !prefix(*hash, *hash_len, "$2b$") &&
	    !prefix(*hash, *hash_len, "$2a$") && !prefix(*hash, *hash_len, "$6$") &&
	    !prefix(*hash, *hash_len, "$5$")) {
		snprintf(err, errlen, "\"%.*s\": the hash is not bcrypt ($2y$, $2b$), SHA-512 "
			 "($6$) or SHA-256 ($5$) crypt", (int)*name_len, line);
		return -1;
	}
	return 1;
}

const char *htpasswd_find(const struct htpasswd *h, const char *name, size_t len)
{
	for (size_t i = 0; i < h->n; i++)
		if (strlen(h->user[i].name) == len && memcmp(h->user[i].name, name, len) == 0)
			return h->user[i].hash;
	return NULL;
}

int htpasswd_parse(const char *buf, size_t len, struct htpasswd *out, int *bad_line,
		   char *err, size_t errlen)
{
	size_t cap = 0;
	int line = 0;

	out->user = NULL;
	out->n = 0;
	for (size_t off = 0; off < len;) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - buf) : len;
		const char *name, *hash;
		size_t nlen, hlen;

		line++;
		int r = htpasswd_line(buf + off, end - off, &name, &nlen, &hash, &hlen, err, errlen);
		off = end + 1;
		if (r == 0)
			continue;
		if (r < 0)
			goto fail;
		if (htpasswd_find(out, name, nlen)) {
			snprintf(err, errlen, "user \"%.*s\" is given twice", (int)nlen, name);
			goto fail;
		}
		if (memchr(name, '\0', nlen) || memchr(hash, '\0', hlen)) {
			snprintf(err, errlen, "a NUL byte");
			goto fail;
		}
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct htpasswd_user *u = realloc(out->user, ncap * sizeof(*u));
			if (!u)
				goto oom;
			out->user = u;
			cap = ncap;
		}
		struct htpasswd_user *u = &out->user[out->n];
		u->name = strndup(name, nlen);
		u->hash = strndup(hash, hlen);
		out->n++;
		if (!u->name || !u->hash)
			goto oom;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	*bad_line = line;
	htpasswd_free(out);
	return -1;
}

void htpasswd_free(struct htpasswd *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->user[i].name);
		free(h->user[i].hash);
	}
	free(h->user);
	h->user = NULL;
	h->n = 0;
}
