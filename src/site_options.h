/* SPDX-License-Identifier: ISC */
/*
 * site_options: the options of `server` and `location` blocks (and of the top level, the
 * default server) as one table, a row per option: its libconfuse declaration, the check
 * of each value as it is read (so an error names its FILE:LINE), how a set value lands in
 * struct site_opts, and how -T prints it. config.c builds the sections from the table;
 * nothing else here knows an option by name.
 */
#ifndef MINIHTTPD_SITE_OPTIONS_H
#define MINIHTTPD_SITE_OPTIONS_H

#include <confuse.h>
#include <stdio.h>

#include "site.h"

enum site_scope {
	SITE_TOP = 1,		/* the top level (the default server) */
	SITE_SERVER = 2,
	SITE_LOCATION = 4,
	SITE_ALL = 7,
};

struct site_option {
	unsigned scope;		/* SITE_* where it may be written */
	cfg_opt_t opt;		/* CFGF_NODEFAULT: unset means inherited */
	/* One value as libconfuse reads it: 0, or -1 after cfg_error(). NULL: any. */
	int (*check)(cfg_t *sec, const char *name, const char *value);
	/* Copies the values set in sec over the inherited ones in o: 0, or -1 (memory). */
	int (*set)(struct site_set *set, cfg_t *sec, const char *name, struct site_opts *o);
	void (*print)(FILE *f, const char *name, const struct site_opts *o, const char *indent);
	size_t offset;		/* of the field, for the generic set and print functions */
};

/*
 * Appends the rows for scope at out (room for every row), skipping names already in
 * skip (a CFG_END()-terminated array, or NULL); returns how many.
 */
size_t site_options_append(unsigned scope, const cfg_opt_t *skip, cfg_opt_t *out);
size_t site_options_count(void);
bool site_options_has(const char *name);

/* The defaults of a scope that sets nothing. */
void site_opts_defaults(struct site_opts *o);

/* o (holding the inherited values) with every option set in sec applied: 0 or -1. */
int site_options_apply(struct site_set *set, cfg_t *sec, unsigned scope, struct site_opts *o);

/* Every option of scope, as -T shows it: effective values, one a line. */
void site_options_print(FILE *f, unsigned scope, const struct site_opts *o,
			const char *indent);

/* "1y", "30d", "12h", "5m", "10s" or plain seconds: 0, or -1 (too large or not that). */
int site_parse_duration(const char *s, long *seconds);

#endif
