/* SPDX-License-Identifier: ISC */
/*
 * location: checks, ranking and matching of location patterns (location.h).
 */
#include <fnmatch.h>
#include <string.h>

#include "location.h"

static const char wildcards[] = "*?[";

bool location_is_glob(const char *pattern)
{
	return pattern[strcspn(pattern, wildcards)] != '\0';
}

const char *location_pattern_problem(const char *pattern)
{
	size_t n = strlen(pattern);

	if (pattern[0] != '/')
		return "does not start with \"/\" (request paths all do)";
	for (const char *p = pattern; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "holds a control byte (request paths cannot)";
	if (strchr(pattern, '\\'))
		return "holds a '\\' (use [*] or [?] for a literal wildcard)";
	if (strstr(pattern, "//"))
		return "holds \"//\" (empty segments are removed from paths before matching)";
	if (strstr(pattern, "/./") || strstr(pattern, "/../") ||
	    (n >= 2 && strcmp(pattern + n - 2, "/.") == 0) ||
	    (n >= 3 && strcmp(pattern + n - 3, "/..") == 0))
		return "holds a \".\" or \"..\" segment (they are resolved before matching)";
	for (const char *b = strchr(pattern, '['); b; b = strchr(b + 1, '[')) {
		const char *e = b + 1;
		if (*e == '!' || *e == '^')
			e++;
		if (*e == ']')
			e++;
		if (!strchr(e, ']'))
			return "has a '[' that is never closed";
	}
	return NULL;
}

static size_t literal_total(const char *p)
{
	size_t n = 0;

	for (; *p; p++) {
		if (*p == '[') {
			const char *e = strchr(p + 2, ']');
			p = e ? e : p + strlen(p) - 1;
		} else if (!strchr(wildcards, *p)) {
			n++;
		}
	}
	return n;
}

int location_compare(const char *a, const char *b)
{
	size_t la = strcspn(a, wildcards), lb = strcspn(b, wildcards);
	bool ga = a[la] != '\0', gb = b[lb] != '\0';

	if (la != lb)
		return la > lb ? -1 : 1;
	size_t ta = literal_total(a), tb = literal_total(b);
	if (ta != tb)
		return ta > tb ? -1 : 1;
	if (ga != gb)
		return ga ? 1 : -1;
	return 0;
}

bool location_match(const char *pattern, bool glob, const char *path, size_t len)
{
	if (glob)
		return fnmatch(pattern, path, 0) == 0;
	size_t pl = strlen(pattern);
	if (len < pl || memcmp(path, pattern, pl) != 0)
		return false;
	return len == pl || pattern[pl - 1] == '/' || path[pl] == '/';
}
