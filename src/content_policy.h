/* SPDX-License-Identifier: ISC */
/*
 * content_policy: what a scope (the top level, a `server` or a `location` block) asks of
 * the content it serves: precompressed siblings, custom error pages, a password. One
 * struct per scope that sets any of them, filled from its section by
 * content_policy_load(); a scope that sets none shares its parent's (site_opts.content).
 * The top level declares the options with CONTENT_OPTS, the blocks with rows of
 * site_options.c. The engine looks a request's policy up in one place (http_conn.c,
 * policy_for()) and hands it down; nothing else reads the config.
 */
#ifndef MINIHTTPD_CONTENT_POLICY_H
#define MINIHTTPD_CONTENT_POLICY_H

#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>

struct error_pages;	/* error_pages.h */
struct auth_basic;	/* auth_basic.h */

struct content_policy {
	bool precompressed;		/* serve FILE.br / .zst / .gz (http_static.c) */
	struct error_pages *error_pages;	/* NULL: the built-in pages only */
	struct auth_basic *auth;	/* NULL: no password asked */
	/* Whether error_pages and auth are this policy's own, or its parent's, shared. */
	bool own_error_pages, own_auth;
};

/* The top level's options, with its defaults; the same names in every block. */
#define CONTENT_OPTS \
	CFG_BOOL("precompressed", cfg_false, CFGF_NONE), \
	CFG_STR_LIST("error_page", "{}", CFGF_NONE), \
	CFG_STR("auth_basic", "", CFGF_NONE), \
	CFG_STR("auth_basic_file", "", CFGF_NONE)

/*
 * The check of one value, run as libconfuse reads each statement (so cfg_error() names
 * the line) in whatever section it is: 0, or -1 after cfg_error(). An error_page entry's
 * form and statuses; a realm a quoted-string cannot hold; an auth_basic_file's
 * readability and every line of it. Their signature is that of a row's check in a table
 * of options: name is the option's.
 */
int content_check_error_page(cfg_t *sec, const char *name, const char *value);
int content_check_realm(cfg_t *sec, const char *name, const char *realm);
int content_check_auth_file(cfg_t *sec, const char *name, const char *file);

/*
 * Fills out from section sec of file (line: where the section's auth options are, for an
 * error found only now). parent: the enclosing scope's policy, whose values an option
 * sec leaves unset keeps (shared, not copied); NULL at the top level, whose options all
 * have defaults. The htpasswd file is read once the realm and file are both resolved
 * (either may come from the parent), so a reload re-reads it; auth_basic = "off" turns
 * an inherited password off. -1 with err.
 */
int content_policy_load(cfg_t *sec, const struct content_policy *parent, const char *file,
			int line, struct content_policy *out, char *err, size_t errlen);

/* Whether sec sets any content option (else its scope can share the parent's policy). */
bool content_policy_set_in(cfg_t *sec);
void content_policy_free(struct content_policy *p);

#endif
