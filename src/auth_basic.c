/* SPDX-License-Identifier: ISC */
/*
 * auth_basic: the time an answer takes must not tell a client which part was wrong. An
 * unknown user is checked against a hash of the file all the same, and the result of
 * crypt_r is compared with the stored hash in time that depends only on their lengths.
 * crypt_r's state (32 KiB) is allocated for each check and wiped after it: a thread
 * per connection (the thread MPM) would leak a kept one at its exit, and the state holds
 * what was derived from the password. That costs microseconds beside the hash itself: a
 * bcrypt check costs what its cost factor says (about 50 ms at 10) on the worker that
 * runs it, as in every server that checks passwords in-line.
 */
#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_basic.h"
#include "base64.h"
#include "http_parse.h"
#include "http_response.h"

/* RFC 7617 leaves the length open; user-id and password together, as most servers. */
#define CREDENTIALS_MAX 512

/* Time depends on the lengths only, never on where a and b first differ. */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	for (size_t i = 0; i < lb; i++)
		diff |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
	return diff == 0;
}

/*
 * Whether password hashes to stored (its own setting) with crypt_r; *len, when not NULL,
 * gets the length of the hash computed (0 on a failure, "*0").
 */
static bool hash_matches(const char *password, const char *stored, size_t *len)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h;
	bool same;

	if (len)
		*len = 0;
	if (!cd)
		return false;
	h = crypt_r(password, stored, cd);
	same = h && h[0] != '*' && same_secret(h, stored);
	if (len)
		*len = h && h[0] != '*' ? strlen(h) : 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return same;
}

bool auth_basic_realm_ok(const char *realm)
{
	for (const unsigned char *p = (const unsigned char *)realm; *p; p++)
		if (*p < ' ' || *p == 0x7f || *p == '"' || *p == '\\')
			return false;
	return realm[0] != '\0';
}

int auth_basic_load(struct auth_basic *a, const char *realm, const char *file,
		    char *err, size_t errlen)
{
	FILE *f = fopen(file, "re");
	char *buf = NULL, msg[256];
	size_t len = 0;
	int line = 0;

	memset(a, 0, sizeof(*a));
	if (!f) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	FILE *mem = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while (mem && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, mem);
	bool read_err = ferror(f);
	fclose(f);
	if (!mem || fclose(mem) != 0 || read_err) {
		snprintf(err, errlen, "%s: cannot be read", file);
		free(buf);
		return -1;
	}
	if (htpasswd_parse(buf, len, &a->users, &line, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "%s:%d: %s", file, line, msg);
		free(buf);
		return -1;
	}
	free(buf);
	for (size_t i = 0; i < a->users.n; i++) {
		const char *stored = a->users.user[i].hash;
		size_t got;
		/* A whole hash comes back as long as it is; a bare setting ("$6$") longer. */
		hash_matches("", stored, &got);
		if (got != strlen(stored)) {
			snprintf(err, errlen, "%s: user \"%s\": crypt(3) cannot check this hash "
				 "(malformed or unsupported)", file, a->users.user[i].name);
			auth_basic_free(a);
			return -1;
		}
	}
	if (a->users.n == 0) {
		snprintf(err, errlen, "%s: no user in it", file);
		return -1;
	}
	a->realm = strdup(realm);
	a->file = strdup(file);
	if (!a->realm || !a->file) {
		snprintf(err, errlen, "%s: out of memory", file);
		auth_basic_free(a);
		return -1;
	}
	return 0;
}

void auth_basic_free(struct auth_basic *a)
{
	htpasswd_free(&a->users);
	free(a->realm);
	free(a->file);
	a->realm = a->file = NULL;
}

/* The credentials of "Authorization: Basic <token68>", decoded into buf; NULL if none. */
static char *credentials(const struct http_request *req, char *buf, size_t cap)
{
	for (unsigned i = 0; i < req->nfields; i++) {
		const struct http_field *f = &req->fields[i];
		if (f->name_len != 13 || strncasecmp(f->name, "authorization", 13) != 0)
			continue;
		const char *v = f->value;
		size_t vl = f->value_len;
		if (vl < 6 || strncasecmp(v, "basic", 5) != 0 || v[5] != ' ')
			return NULL;
		v += 6;
		vl -= 6;
		while (vl && *v == ' ') {
			v++;
			vl--;
		}
		ssize_t n = base64_decode(v, vl, (unsigned char *)buf, cap - 1);
		if (n < 0 || memchr(buf, '\0', (size_t)n))
			return NULL;
		buf[n] = '\0';
		return buf;
	}
	return NULL;
}

bool auth_basic_check(const struct auth_basic *a, const struct http_request *req,
		      struct http_reply *reply)
{
	char buf[CREDENTIALS_MAX + 1];
	char *cred = credentials(req, buf, sizeof(buf));
	char *colon = cred ? strchr(cred, ':') : NULL;
	bool good = false;

	if (colon) {
		const char *stored = htpasswd_find(&a->users, cred, (size_t)(colon - cred));
		/* An unknown user costs a check too: the time does not say who exists. */
		const char *setting = stored ? stored : a->users.user[0].hash;

		good = hash_matches(colon + 1, setting, NULL) && stored;
	}
	explicit_bzero(buf, sizeof(buf));
	if (good)
		return true;
	reply_header(reply, "WWW-Authenticate: Basic realm=\"%s\", charset=\"UTF-8\"", a->realm);
	reply_error(reply, 401);
	return false;
}
