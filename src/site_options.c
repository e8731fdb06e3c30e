/* SPDX-License-Identifier: ISC */
/*
 * site_options: the table of server and location options (site_options.h).
 *
 * A row is one line: to add an option, add its field to struct site_opts (site.h) and a
 * row here, with the generic BOOL_ROW / STR_ROW or its own check/set/print functions.
 * The content options (precompressed, error_page, auth_basic, auth_basic_file) have rows
 * for their checks and -T; their values land in one struct content_policy that
 * content_policy_load() builds after the table is applied (config.c), since the realm and
 * the password file resolve together.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_basic.h"
#include "content_policy.h"
#include "error_pages.h"
#include "location.h"
#include "site_options.h"

static int check_index(cfg_t *sec, const char *name, const char *v)
{
	if (!v[0] || strchr(v, '/') || strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
		cfg_error(sec, "%s: \"%s\" must be a plain file name", name, v);
		return -1;
	}
	return 0;
}

/* Connection-level fields: one a handler adds would contradict the engine's framing. */
static const char *const framing[] = {
	"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "TE",
	"Trailer", NULL,
};

static int check_header(cfg_t *sec, const char *name, const char *v)
{
	size_t n = strcspn(v, ":");

	if (n == 0 || !v[n]) {
		cfg_error(sec, "%s: \"%s\" is not \"Name: value\"", name, v);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && !strchr("!#$%&'*+-.^_`|~", v[i])) {
			cfg_error(sec, "%s: \"%.*s\" is not a field name", name, (int)n, v);
			return -1;
		}
	for (const char *p = v + n + 1; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			cfg_error(sec, "%s: the value of \"%.*s\" holds a control byte", name,
				  (int)n, v);
			return -1;
		}
	for (const char *const *f = framing; *f; f++)
		if (strlen(*f) == n && strncasecmp(*f, v, n) == 0) {
			cfg_error(sec, "%s: %s is the server's to send (it frames the response)",
				  name, *f);
			return -1;
		}
	return 0;
}

int site_parse_duration(const char *s, long *seconds)
{
	static const struct { char unit; long mult; } units[] = {
		{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}, {'y', 31536000},
	};
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10), mult = 1;
	if (errno || (end[0] && end[1]))
		return -1;
	if (end[0]) {
		mult = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (units[i].unit == end[0])
				mult = units[i].mult;
		if (!mult)
			return -1;
	}
	/* Ten years: RFC 9111 5.3 advises against more than a year; beyond is a typo. */
	if (v > 10 * 31536000L / mult)
		return -1;
	*seconds = v * mult;
	return 0;
}

static int check_expires(cfg_t *sec, const char *name, const char *v)
{
	long s;

	if (strcmp(v, "off") != 0 && site_parse_duration(v, &s) < 0) {
		cfg_error(sec, "%s: \"%s\" is not \"off\" or a duration (\"30s\", \"10m\", \"2h\", "
			  "\"7d\", \"4w\", \"1y\"; at most 10y)", name, v);
		return -1;
	}
	return 0;
}

static const char *const redirect_vars[] = {"$PATH", "$QUERY", "$HOST", NULL};

static int check_redirect(cfg_t *sec, const char *name, const char *v)
{
	char *end;
	long code = strtol(v, &end, 10);

	if (strcmp(v, "off") == 0)
		return 0;
	if (!(code == 301 || code == 302 || code == 303 || code == 307 || code == 308) ||
	    *end != ' ') {
		cfg_error(sec, "%s: \"%s\" is not \"CODE URL\" with CODE 301, 302, 303, 307 or 308",
			  name, v);
		return -1;
	}
	const char *url = end + strspn(end, " ");
	if (!*url) {
		cfg_error(sec, "%s: \"%s\" has no URL", name, v);
		return -1;
	}
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			cfg_error(sec, "%s: the URL holds a space or a control byte", name);
			return -1;
		}
		if (*p != '$')
			continue;
		bool known = false;
		for (const char *const *var = redirect_vars; *var && !known; var++)
			known = strncmp(p, *var, strlen(*var)) == 0;
		if (!known) {
			cfg_error(sec, "%s: \"%s\" is no variable (only $PATH, $QUERY, $HOST)",
				  name, p);
			return -1;
		}
	}
	return 0;
}

static int check_fallback(cfg_t *sec, const char *name, const char *v)
{
	const char *why = strcmp(v, "off") == 0 ? NULL :
			  strpbrk(v, "*?[") ? "holds a wildcard" : location_pattern_problem(v);

	if (why) {
		cfg_error(sec, "%s: \"%s\" %s", name, v, why);
		return -1;
	}
	return 0;
}

static char **copy_list(struct site_set *set, cfg_t *sec, const char *name, size_t *n)
{
	*n = cfg_size(sec, name);
	char **l = site_alloc(set, (*n + 1) * sizeof(*l));
	for (size_t i = 0; l && i < *n; i++)
		if (!(l[i] = site_strdup(set, cfg_getnstr(sec, name, (unsigned)i))))
			return NULL;
	return l;
}

static int set_index(struct site_set *set, cfg_t *sec, const char *name, struct site_opts *o)
{
	return (o->index = copy_list(set, sec, name, &o->nindex)) ? 0 : -1;
}

static int set_headers(struct site_set *set, cfg_t *sec, const char *name, struct site_opts *o)
{
	return (o->headers = copy_list(set, sec, name, &o->nheaders)) ? 0 : -1;
}

static int set_expires(struct site_set *set, cfg_t *sec, const char *name, struct site_opts *o)
{
	const char *v = cfg_getstr(sec, name);

	(void)set;
	if (strcmp(v, "off") == 0 || site_parse_duration(v, &o->expires) < 0)
		o->expires = -1;
	return 0;
}

static int set_redirect(struct site_set *set, cfg_t *sec, const char *name, struct site_opts *o)
{
	const char *v = cfg_getstr(sec, name);
	char *end;

	o->redirect_status = 0;
	o->redirect = NULL;
	if (strcmp(v, "off") == 0)
		return 0;
	o->redirect_status = (int)strtol(v, &end, 10);
	return (o->redirect = site_strdup(set, end + strspn(end, " "))) ? 0 : -1;
}

static int set_fallback(struct site_set *set, cfg_t *sec, const char *name, struct site_opts *o)
{
	const char *v = cfg_getstr(sec, name);

	o->fallback = NULL;
	return strcmp(v, "off") == 0 || (o->fallback = site_strdup(set, v)) ? 0 : -1;
}

static int set_bool(struct site_set *set, cfg_t *sec, const char *name, struct site_opts *o,
		    size_t offset)
{
	(void)set;
	*(bool *)((char *)o + offset) = cfg_getbool(sec, name);
	return 0;
}

static int set_str(struct site_set *set, cfg_t *sec, const char *name, struct site_opts *o,
		   size_t offset)
{
	char *v = site_strdup(set, cfg_getstr(sec, name));

	*(char **)((char *)o + offset) = v;
	return v ? 0 : -1;
}

static void print_list(FILE *f, const char *name, char *const *l, size_t n, const char *ind)
{
	fprintf(f, "%s%s = {", ind, name);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", \"" : "\"", f);
		for (const char *p = l[i]; *p; p++)
			fprintf(f, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
		fputc('"', f);
	}
	fputs("}\n", f);
}

static void print_index(FILE *f, const char *name, const struct site_opts *o, const char *ind)
{
	print_list(f, name, o->index, o->nindex, ind);
}

static void print_headers(FILE *f, const char *name, const struct site_opts *o,
			  const char *ind)
{
	print_list(f, name, o->headers, o->nheaders, ind);
}

static void print_expires(FILE *f, const char *name, const struct site_opts *o,
			  const char *ind)
{
	if (o->expires < 0)
		fprintf(f, "%s%s = \"off\"\n", ind, name);
	else
		fprintf(f, "%s%s = \"%lds\"\n", ind, name, o->expires);
}

static void print_redirect(FILE *f, const char *name, const struct site_opts *o,
			   const char *ind)
{
	if (o->redirect_status)
		fprintf(f, "%s%s = \"%d %s\"\n", ind, name, o->redirect_status, o->redirect);
	else
		fprintf(f, "%s%s = \"off\"\n", ind, name);
}

static void print_bool(FILE *f, const char *name, const struct site_opts *o, const char *ind,
		       size_t offset)
{
	fprintf(f, "%s%s = %s\n", ind, name, *(const bool *)((const char *)o + offset) ?
		"true" : "false");
}

static void print_str(FILE *f, const char *name, const struct site_opts *o, const char *ind,
		      size_t offset)
{
	const char *v = *(char *const *)((const char *)o + offset);

	fprintf(f, "%s%s = \"%s\"\n", ind, name, v ? v : "off");
}

/* The generic rows: set and print by the field's offset (set and print are then NULL). */
#define BOOL_ROW(name, scope, field) \
	{ scope, CFG_BOOL(name, cfg_false, CFGF_NODEFAULT), NULL, NULL, NULL, \
	  offsetof(struct site_opts, field) }
#define STR_ROW(name, scope, field, check) \
	{ scope, CFG_STR(name, NULL, CFGF_NODEFAULT), check, NULL, NULL, \
	  offsetof(struct site_opts, field) }

/* content_policy_load() sets the content options of a scope, all four at once. */
static int set_content(struct site_set *set, cfg_t *sec, const char *name, struct site_opts *o)
{
	(void)set;
	(void)sec;
	(void)name;
	(void)o;
	return 0;
}

static void print_precompressed(FILE *f, const char *name, const struct site_opts *o,
				const char *ind)
{
	fprintf(f, "%s%s = %s\n", ind, name, o->content->precompressed ? "true" : "false");
}

/* One entry per status: the effective pages, however the entries grouped them. */
static void print_error_page(FILE *f, const char *name, const struct site_opts *o,
			     const char *ind)
{
	const char *sep = "";

	fprintf(f, "%s%s = {", ind, name);
	for (int st = ERROR_PAGE_MIN; st <= ERROR_PAGE_MAX; st++) {
		const char *uri = error_pages_find(o->content->error_pages, st);
		if (uri) {
			fprintf(f, "%s\"%d %s\"", sep, st, uri);
			sep = ", ";
		}
	}
	fputs("}\n", f);
}

static void print_auth_basic(FILE *f, const char *name, const struct site_opts *o,
			     const char *ind)
{
	const struct auth_basic *a = o->content->auth;

	fprintf(f, "%s%s = \"%s\"\n", ind, name, a ? a->realm : "off");
}

static void print_auth_file(FILE *f, const char *name, const struct site_opts *o,
			    const char *ind)
{
	const struct auth_basic *a = o->content->auth;

	fprintf(f, "%s%s = \"%s\"\n", ind, name, a ? a->file : "off");
}

static const struct site_option table[] = {
	{SITE_ALL, CFG_STR_LIST("index", NULL, CFGF_NODEFAULT), check_index, set_index,
	 print_index, 0},
	BOOL_ROW("directory_listing", SITE_ALL, directory_listing),
	{SITE_ALL, CFG_STR_LIST("headers", NULL, CFGF_NODEFAULT), check_header, set_headers,
	 print_headers, 0},
	{SITE_ALL, CFG_STR("expires", NULL, CFGF_NODEFAULT), check_expires, set_expires,
	 print_expires, 0},
	{SITE_ALL, CFG_STR("redirect", NULL, CFGF_NODEFAULT), check_redirect, set_redirect,
	 print_redirect, 0},
	{SITE_ALL, CFG_STR("fallback", NULL, CFGF_NODEFAULT), check_fallback, set_fallback,
	 NULL, offsetof(struct site_opts, fallback)},
	/* The top level declares these itself (CONTENT_OPTS, with defaults). */
	{SITE_ALL, CFG_BOOL("precompressed", cfg_false, CFGF_NODEFAULT), NULL, set_content,
	 print_precompressed, 0},
	{SITE_ALL, CFG_STR_LIST("error_page", NULL, CFGF_NODEFAULT), content_check_error_page,
	 set_content, print_error_page, 0},
	{SITE_ALL, CFG_STR("auth_basic", NULL, CFGF_NODEFAULT), content_check_realm, set_content,
	 print_auth_basic, 0},
	{SITE_ALL, CFG_STR("auth_basic_file", NULL, CFGF_NODEFAULT), content_check_auth_file,
	 set_content, print_auth_file, 0},
};
#define NROWS (sizeof(table) / sizeof(table[0]))

static const struct site_option *row(const char *name)
{
	for (size_t i = 0; i < NROWS; i++)
		if (strcmp(table[i].opt.name, name) == 0)
			return &table[i];
	return NULL;
}

/* libconfuse calls it as each statement is read: cfg->line is the statement's. */
static int validate(cfg_t *sec, cfg_opt_t *opt)
{
	const struct site_option *r = row(opt->name);

	if (!r || !r->check)
		return 0;
	for (unsigned i = 0; i < cfg_opt_size(opt); i++)
		if (r->check(sec, opt->name, cfg_opt_getnstr(opt, i)) < 0)
			return -1;
	return 0;
}

bool site_options_has(const char *name)
{
	return row(name) != NULL;
}

size_t site_options_count(void)
{
	return NROWS;
}

size_t site_options_append(unsigned scope, const cfg_opt_t *skip, cfg_opt_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < NROWS; i++) {
		bool skipped = false;
		for (const cfg_opt_t *s = skip; s && s->name && !skipped; s++)
			skipped = strcmp(s->name, table[i].opt.name) == 0;
		if (!(table[i].scope & scope) || skipped)
			continue;
		out[n] = table[i].opt;
		out[n].validcb = validate;
		n++;
	}
	return n;
}

void site_opts_defaults(struct site_opts *o)
{
	static char *index[] = {"index.html", NULL};

	memset(o, 0, sizeof(*o));
	o->index = index;
	o->nindex = 1;
	o->expires = -1;
}

int site_options_apply(struct site_set *set, cfg_t *sec, unsigned scope, struct site_opts *o)
{
	for (size_t i = 0; i < NROWS; i++) {
		const struct site_option *r = &table[i];
		const char *name = r->opt.name;
		int rc;

		if (!(r->scope & scope) || cfg_size(sec, name) == 0)
			continue;
		if (r->set)
			rc = r->set(set, sec, name, o);
		else if (r->opt.type == CFGT_BOOL)
			rc = set_bool(set, sec, name, o, r->offset);
		else
			rc = set_str(set, sec, name, o, r->offset);
		if (rc < 0)
			return -1;
		/* A string row set to "off" is unset again. */
		if (!r->set && r->opt.type == CFGT_STR &&
		    strcmp(*(char **)((char *)o + r->offset), "off") == 0)
			*(char **)((char *)o + r->offset) = NULL;
	}
	return 0;
}

void site_options_print(FILE *f, unsigned scope, const struct site_opts *o, const char *indent)
{
	for (size_t i = 0; i < NROWS; i++) {
		const struct site_option *r = &table[i];

		if (!(r->scope & scope))
			continue;
		if (r->print)
			r->print(f, r->opt.name, o, indent);
		else if (r->opt.type == CFGT_BOOL)
			print_bool(f, r->opt.name, o, indent, r->offset);
		else
			print_str(f, r->opt.name, o, indent, r->offset);
	}
}
