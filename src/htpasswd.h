/* SPDX-License-Identifier: ISC */
/*
 * htpasswd: the password file of `auth_basic_file`, "user:hash" a line, as Apache's
 * htpasswd -B writes it. Pure parsing over a buffer (the loader reads the file); the
 * hashes are checked by auth_basic with crypt_r. Only the schemes libxcrypt verifies
 * well are accepted: bcrypt ($2y$, $2b$, $2a$), SHA-512 crypt ($6$), SHA-256 crypt
 * ($5$). Apache's own MD5 ($apr1$), which crypt(3) does not know, is refused by name.
 */
#ifndef MINIHTTPD_HTPASSWD_H
#define MINIHTTPD_HTPASSWD_H

#include <stddef.h>

struct htpasswd_user {
	char *name;
	char *hash;
};

struct htpasswd {
	struct htpasswd_user *user;
	size_t n;
};

/*
 * One line, without its LF (a CR before it is ignored). Returns 1 with the user name
 * and hash as slices of line, 0 for a blank line or a '#' comment, -1 with err.
 */
int htpasswd_line(const char *line, size_t len, const char **name, size_t *name_len,
		  const char **hash, size_t *hash_len, char *err, size_t errlen);

/*
 * Every line of buf; a user named twice is an error. -1 with *bad_line (1-based) and err
 * naming the problem; out is then freed.
 */
int htpasswd_parse(const char *buf, size_t len, struct htpasswd *out, int *bad_line,
		   char *err, size_t errlen);

/* The user's hash, or NULL. */
const char *htpasswd_find(const struct htpasswd *h, const char *name, size_t len);

void htpasswd_free(struct htpasswd *h);

#endif
