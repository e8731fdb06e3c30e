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

int content_policy_load(cfg_t *sec, const char *file, int line, struct content_policy *out,
			char *err, size_t errlen)
{
	const char *realm = cfg_getstr(sec, "auth_basic");
	const char *pwfile = cfg_getstr(sec, "auth_basic_file");
	unsigned n = cfg_size(sec, "error_page");
	char msg[768];

	memset(out, 0, sizeof(*out));
	/* "off" says none, as "" does: for a scope that turns off what an outer one sets. */
	if (strcmp(realm, "off") == 0)
		realm = "";
	if (strcmp(pwfile, "off") == 0)
		pwfile = "";
	out->precompressed = cfg_getbool(sec, "precompressed");
	if (n > 0) {
		if (!(out->error_pages = calloc(1, sizeof(*out->error_pages))))
			goto oom;
		for (unsigned i = 0; i < n; i++) {
			if (error_pages_add(out->error_pages, cfg_getnstr(sec, "error_page", i), msg,
					    sizeof(msg)) < 0) {
				snprintf(err, errlen, "%s:%d: error_page: %s", file, line, msg);
				goto fail;
			}
		}
	}
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
	if (auth_basic_load(out->auth, realm, pwfile, msg, sizeof(msg)) < 0) {
		free(out->auth);
		out->auth = NULL;
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
	error_pages_free(p->error_pages);
	if (p->auth)
		auth_basic_free(p->auth);
	free(p->auth);
	memset(p, 0, sizeof(*p));
}
