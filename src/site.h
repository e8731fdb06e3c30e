/* SPDX-License-Identifier: ISC */
/*
 * site: the virtual hosts of a configuration (`server` blocks, and the top level as the
 * default server) and their `location` blocks, as config.c builds them. Pure data and
 * lookup, no I/O: unit-tested.
 *
 * A request's site is found by its Host key (host_normalize()): an exact name or alias
 * first, then `*.` wildcards, the longest suffix first; else the default server. The
 * lookup is a hash probe per label of the name, never a scan of the configured names, so
 * that a hundred sites cost what one does.
 */
#ifndef MINIHTTPD_SITE_H
#define MINIHTTPD_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct content_policy;	/* content_policy.h */

/*
 * What server and location scope may set (site_options.c, one table row per option).
 * A location starts from its server's values, a server from the top level's: every
 * struct here is complete, with defaults filled in.
 */
struct site_opts {
	char **index;			/* index file names, tried in order */
	size_t nindex;
	bool directory_listing;
	char **headers;			/* "Name: value" lines added to responses */
	size_t nheaders;
	long expires;			/* seconds for Cache-Control max-age and Expires; -1: none */
	int redirect_status;		/* 301, 302, 303, 307, 308; 0: no redirect */
	char *redirect;			/* its URL, with $PATH, $QUERY, $HOST */
	char *fallback;			/* served when the path names nothing; NULL: none */
	/* precompressed, error_page, auth_basic, auth_basic_file: the parent's own policy
	 * when the scope sets none of them (config.c owns every policy). */
	const struct content_policy *content;
};

struct location {
	char *pattern;
	bool glob;
	const char *file;		/* where it is written */
	int line;
	struct site_opts opts;
};

struct site {
	unsigned id;			/* its index in the set */
	char *name;			/* "" for the top level */
	char **aliases;
	size_t naliases;
	char *document_root;		/* absolute */
	char *access_log;		/* absolute, or NULL: the top level's log */
	bool is_default;
	const char *file;		/* where it is written; NULL for the top level */
	int line;
	struct site_opts opts;
	struct location *locs;		/* most specific first (location_compare()) */
	size_t nlocs;
	/* The access_log file, opened by each generation's leader in its own copy of the
	 * config before it drops privileges (site_set_open_logs()); -1 otherwise. */
	int log_fd;
};

struct site_slot;
struct site_mem;

struct site_set {
	struct site *sites;		/* sites[0] is the top level */
	size_t n, cap;
	size_t default_site;		/* the one `default = true` names, else 0 */
	struct site_slot *slots;	/* open addressing, a power of two */
	size_t mask;
	struct site_mem *mem;		/* everything the sites point to */
};

/* Memory that lives as long as the set: strings and arrays of its sites. */
void *site_alloc(struct site_set *set, size_t size);
char *site_strdup(struct site_set *set, const char *s);

/* A new site at the end of set (zeroed but for id and log_fd); NULL when out of memory. */
struct site *site_add(struct site_set *set);

/*
 * Indexes every site's name and aliases (lower case, no trailing dot; "*.example.org"
 * for a wildcard). Returns 0, or -1 with err naming a name that is given twice or is
 * not a host name, and *which set to the site that gives it again.
 */
int site_set_index(struct site_set *set, size_t *which, char *err, size_t errlen);

/* key from host_normalize(); "" or unknown: the default server. */
const struct site *site_lookup(const struct site_set *set, const char *key, size_t len);

/* The location for a clean path ("/..." NUL-terminated), or NULL: the site's own opts. */
const struct location *site_location(const struct site *s, const char *path, size_t len);

/* Sorts s's locations by location_compare(), keeping their order on a tie. */
void site_sort_locations(struct site *s);

void site_set_free(struct site_set *set);

#endif
