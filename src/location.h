/* SPDX-License-Identifier: ISC */
/*
 * location: the path patterns of `location` blocks. Pure string logic, unit-tested.
 *
 * A pattern without '*', '?' or '[' is a prefix that ends at a segment boundary: "/old"
 * matches "/old" and "/old/x", not "/older". Any other is a glob (fnmatch(3) without
 * FNM_PATHNAME, so '*' crosses '/'): "/assets/" and a '*' matches everything below
 * /assets/.
 * Patterns are matched against the request's path once it is percent-decoded and its
 * "." and ".." segments resolved (static_path_clean()), so "/a/../staging/x" is
 * "/staging/x" here too.
 */
#ifndef MINIHTTPD_LOCATION_H
#define MINIHTTPD_LOCATION_H

#include <stdbool.h>
#include <stddef.h>

/* Why pattern can never match a cleaned path, or NULL when it can. */
const char *location_pattern_problem(const char *pattern);
bool location_is_glob(const char *pattern);

/*
 * Orders two patterns by the matching rule, most specific first (< 0: a before b): the
 * longer literal beginning (the bytes before the first wildcard) first; at equal length
 * the one with more literal bytes in all; then a prefix before a glob. 0: equally
 * specific (the one written first is then tried first).
 */
int location_compare(const char *a, const char *b);

/* path is NUL-terminated, starts with '/', and is clean. */
bool location_match(const char *pattern, bool glob, const char *path, size_t len);

#endif
