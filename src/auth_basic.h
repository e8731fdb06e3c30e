/* SPDX-License-Identifier: ISC */
/*
 * auth_basic: HTTP Basic authentication (RFC 7617) against an htpasswd file, read when
 * the configuration is loaded (so a reload re-reads it) and checked with libxcrypt's
 * crypt_r.
 */
#ifndef MINIHTTPD_AUTH_BASIC_H
#define MINIHTTPD_AUTH_BASIC_H

#include <stdbool.h>
#include <stddef.h>

#include "htpasswd.h"

struct http_request;
struct http_reply;

struct auth_basic {
	char *realm;
	char *file;
	struct htpasswd users;
};

/*
 * Reads file (absolute) for realm. Every hash is tried once with crypt_r, so that one it
 * cannot check is found now. -1 with err: "FILE: problem" or "FILE:LINE: problem".
 */
int auth_basic_load(struct auth_basic *a, const char *realm, const char *file,
		    char *err, size_t errlen);
void auth_basic_free(struct auth_basic *a);

/* Whether realm can be written in a quoted-string as it is (no '"', '\' or controls). */
bool auth_basic_realm_ok(const char *realm);

/*
 * Whether req's Authorization names a user of a with the right password; otherwise
 * makes reply a 401 that asks for them (WWW-Authenticate) and returns false.
 */
bool auth_basic_check(const struct auth_basic *a, const struct http_request *req,
		      struct http_reply *reply);

#endif
