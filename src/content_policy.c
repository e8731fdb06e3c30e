/* SPDX-License-Identifier: ISC */
/*
 * content_policy: reading the content options of one section. The checks that need only
 * the value run while libconfuse parses (validate callbacks), so their errors carry the
 * statement's own line wherever the section is; content_policy_load() then builds the
 * structs, and reports what spans options (auth_basic without auth_basic_file) at the
 * line the caller gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_basic.h"
#include "content_policy.h"
#include "error_pages.h"

int content_check_error_page(cfg_t *sec, const char *name, const char *value)
{
	unsigned char statuses[25];
	const char *uri;
	size_t len;
	char err[512];

	if (error_page_parse(value, statuses, &uri, &len, err, sizeof(err)) < 0) {
		cfg_error(sec, "%s: %s", name, err);
		return -1;
	}
	return 0;
}

int content_check_realm(cfg_t *sec, const char *name, const char *realm)
{
	if (realm[0] && !auth_basic_realm_ok(realm)) {
		cfg_error(sec, "%s: \"%s\" must not contain '\"', '\\' or control "
			  "characters", name, realm);
		return -1;
	}
	return 0;
}

int content_check_auth_file(cfg_t *sec, const char *name, const char *file)
{
	struct auth_basic a;
	char err[768];

	if (!file[0] || strcmp(file, "off") == 0)
		return 0;
	if (file[0] != '/') {
		cfg_error(sec, "%s: \"%s\" must be an absolute path", name, file);
		return -1;
	}
	if (auth_basic_load(&a, "check", file, err, sizeof(err)) < 0) {
		cfg_error(sec, "%s: %s", name, err);
		return -1;
	}
	auth_basic_free(&a);
	return 0;
}

static bool is_set(cfg_t *sec, const char *name)
{
	return cfg_size(sec, name) > 0;
}

bool content_policy_set_in(cfg_t *sec)
{
	return is_set(sec, "precompressed") || is_set(sec, "error_page") ||
	       is_set(sec, "auth_basic") || is_set(sec, "auth_basic_file");
}

int content_policy_load(cfg_t *sec, const struct content_policy *parent, const char *file,
			int line, struct content_policy *out, char *err, size_t errlen)
{
	const struct auth_basic *up = parent ? parent->auth : NULL;
	bool own_realm = is_set(sec, "auth_basic"), own_file = is_set(sec, "auth_basic_file");
	const char *realm = own_realm ? cfg_getstr(sec, "auth_basic") : up ? up->realm : "";
	const char *pwfile = own_file ? cfg_getstr(sec, "auth_basic_file") : up ? up->file : "";
	unsigned n = cfg_size(sec, "error_page");
	char msg[768];

	memset(out, 0, sizeof(*out));
	out->precompressed = is_set(sec, "precompressed") ? cfg_getbool(sec, "precompressed") :
			     parent && parent->precompressed;
	if (n == 0 && parent) {
		out->error_pages = parent->error_pages;
	} else if (n > 0) {
		if (!(out->error_pages = calloc(1, sizeof(*out->error_pages))))
			goto oom;
		out->own_error_pages = true;
		for (unsigned i = 0; i < n; i++) {
			if (error_pages_add(out->error_pages, cfg_getnstr(sec, "error_page", i), msg,
					    sizeof(msg)) < 0) {
				snprintf(err, errlen, "%s:%d: error_page: %s", file, line, msg);
				goto fail;
			}
		}
	}
	if (!own_realm && !own_file && parent) {
		out->auth = parent->auth;
		return 0;
	}
	/* "off" says none, as "" does: for a scope that turns off what an outer one sets. */
	if (strcmp(realm, "off") == 0)
		realm = "";
	if (strcmp(pwfile, "off") == 0)
		pwfile = "";
	/* In a block, either one turned off is enough: the other may be inherited. */
	if (parent && ((own_realm && !realm[0]) || (own_file && !pwfile[0])))
		return 0;
	if (!realm[0] && !pwfile[0])
		return 0;
	if (!realm[0] || !pwfile[0]) {
		snprintf(err, errlen, "%s:%d: auth_basic and auth_basic_file go together: %s is "
			 "missing", file, line, realm[0] ? "auth_basic_file" : "auth_basic");
		goto fail;
	}
	if (!auth_basic_realm_ok(realm)) {
		snprintf(err, errlen, "%s:%d: auth_basic: \"%s\" must not contain '\"', '\\' or "
			 "control characters", file, line, realm);
		goto fail;
	}
	if (!(out->auth = malloc(sizeof(*out->auth))))
		goto oom;
	out->own_auth = true;
	if (auth_basic_load(out->auth, realm, pwfile, msg, sizeof(msg)) < 0) {
		free(out->auth);
		out->auth = NULL;
		out->own_auth = false;
		snprintf(err, errlen, "%s:%d: auth_basic_file: %s", file, line, msg);
		goto fail;
	}
	return 0;
oom:
	snprintf(err, errlen, "%s: out of memory", file);
fail:
	content_policy_free(out);
	return -1;
}

void content_policy_free(struct content_policy *p)
{
	if (p->own_error_pages)
		error_pages_free(p->error_pages);
	if (p->own_auth) {
		auth_basic_free(p->auth);
		free(p->auth);
	}
	memset(p, 0, sizeof(*p));
}
