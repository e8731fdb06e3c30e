/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for auth_basic: loading an htpasswd file (hashes made here with libxcrypt's
 * own crypt_gensalt and crypt_r, one per scheme), and the verdict on Authorization
 * fields: right, wrong, unknown, absent, malformed; a refusal is a 401 that asks.
 */
#include <stdlib.h>
#include <unistd.h>

#include "../../src/auth_basic.c"
#include "tap.h"

static const struct { const char *user, *prefix, *password; unsigned long cost; } users[] = {
	{ "alice", "$2b$", "bcrypt pw", 4 },
	{ "bob", "$6$", "sha512 pw", 0 },
	{ "carol", "$5$", "sha256 pw", 0 },
};

static char file[] = "/tmp/test_auth_basic.XXXXXX";

static void write_file(void)
{
	int fd = mkstemp(file);
	FILE *f = fdopen(fd, "w");
	struct crypt_data cd = { 0 };

	fprintf(f, "# users\n");
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		const char *setting = crypt_gensalt(users[i].prefix, users[i].cost, NULL, 0);
		fprintf(f, "%s:%s\n", users[i].user, crypt_r(users[i].password, setting, &cd));
	}
	fclose(f);
}

static const char *b64(const char *s)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static char out[1024];
	size_t n = strlen(s), o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16 | (i + 1 < n ? (unsigned char)s[i + 1] << 8 : 0) |
			     (i + 2 < n ? (unsigned char)s[i + 2] : 0);
		out[o++] = abc[v >> 18];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? abc[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* The verdict for one Authorization value (NULL: no field). */
static bool verdict(const struct auth_basic *a, const char *value, struct http_reply *r)
{
	struct http_field f = { "Authorization", 13, value, value ? strlen(value) : 0 };
	struct http_request req = { .method = HTTP_GET, .fields = &f, .nfields = value ? 1 : 0 };

	reply_init(r);
	return auth_basic_check(a, &req, r);
}

static const char *basic(const char *user, const char *pw)
{
	static char buf[2][1100];
	static int k;
	char plain[600];

	snprintf(plain, sizeof(plain), "%s:%s", user, pw);
	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "Basic %s", b64(plain));
	return buf[k];
}

int main(void)
{
	struct auth_basic a;
	struct http_reply r;
	char err[512];

	ok(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("ab", "abc") &&
	   !same_secret("abcd", "abc") && !same_secret("", "a") && same_secret("", ""),
	   "same_secret: equal only when equal, whatever the lengths");

	write_file();
	if (!ok(auth_basic_load(&a, "Staging", file, err, sizeof(err)) == 0, "loads"))
		printf("#   %s\n", err);
	is_int((long long)a.users.n, 3, "three users");
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		ok(verdict(&a, basic(users[i].user, users[i].password), &r), "%s (%s): right password",
		   users[i].user, users[i].prefix);
		ok(!verdict(&a, basic(users[i].user, "wrong"), &r) && r.status == 401,
		   "%s: wrong password: 401", users[i].user);
	}
	ok(!verdict(&a, NULL, &r) && r.status == 401, "no Authorization: 401");
	size_t len;
	const char *h = reply_find_header(&r, "WWW-Authenticate", &len);
	ok(h && len == strlen("WWW-Authenticate: Basic realm=\"Staging\", charset=\"UTF-8\"") &&
	   memcmp(h, "WWW-Authenticate: Basic realm=\"Staging\"", 39) == 0, "... asking for Basic");
	ok(verdict(&a, "basic  " "Ym9iOnNoYTUxMiBwdw==", &r), "scheme case-insensitive, blanks");
	ok(!verdict(&a, basic("mallory", "bcrypt pw"), &r), "unknown user: 401");
	ok(!verdict(&a, basic("bob", "bcrypt pw"), &r), "another user's password: 401");
	ok(!verdict(&a, basic("", "bcrypt pw"), &r), "empty user: 401");
	ok(!verdict(&a, "Basic YWxpY2U=", &r), "no colon: 401");
	ok(!verdict(&a, "Basic Ym9iOnNoYTUxMiBwdw", &r), "unpadded base64: 401");
	ok(!verdict(&a, "Bearer Ym9iOnNoYTUxMiBwdw==", &r), "another scheme: 401");
	ok(!verdict(&a, "Basic", &r) && !verdict(&a, "Basic ", &r), "no credentials: 401");
	ok(!verdict(&a, "Basicx Ym9iOnNoYTUxMiBwdw==", &r), "a longer scheme name: 401");
	ok(!verdict(&a, "Basic Ym9iAHNoYTUxMiBwdw==", &r), "a NUL in the credentials: 401");
	char pw[700];
	memset(pw, 'x', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	ok(!verdict(&a, basic("bob", pw), &r), "credentials over 512 bytes: 401");
	auth_basic_free(&a);

	is_int(auth_basic_load(&a, "S", "/nonexistent/htpasswd", err, sizeof(err)), -1,
	       "a missing file is refused");
	ok(strstr(err, "/nonexistent/htpasswd: No such file") != NULL, "... naming it: %s", err);
	ok(auth_basic_realm_ok("Staging area") && !auth_basic_realm_ok("a\"b") &&
	   !auth_basic_realm_ok("a\\b") && !auth_basic_realm_ok("a\nb") && !auth_basic_realm_ok(""),
	   "realms a quoted-string holds as they are");
	unlink(file);
	return done_testing();
}
