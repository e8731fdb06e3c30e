/* SPDX-License-Identifier: ISC */
/*
 * config: the one option table of minihttpd.conf (minihttpd.conf(5) documents it), parsed
 * with libconfuse and converted into struct config.
 *
 * MPM sections are not known here: each module in mpm_dir brings its own section, named
 * after it, so the table is built after scanning mpm_dir. The directory can itself be set
 * in the file, anywhere in it: a lexical scan finds it first (scan_mpm_dir), and a file
 * where the scan finds none is parsed a second time if the mpm_dir libconfuse read, as far
 * as parsing got, differs from the one scanned.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "mpm_load.h"
#include "mpm_options.h"
#include "location.h"
#include "site_options.h"

#ifndef MPM_DIR
#define MPM_DIR "/usr/local/lib/minihttpd/mpm"
#endif

/* libconfuse parses in the master's main thread only (its lexer is global), so these are safe. */
static char *errbuf;
static size_t errcap;
static char *confdir;	/* the directory relative paths are resolved against */
/* The file being parsed: it is parsed from memory, so libconfuse knows no file name. */
static const char *parsing;

/*
 * The text libconfuse parses is the file with its includes spliced in, so its line
 * numbers are mapped back: a segment per stretch of one file's lines, in order.
 */
struct segment {
	int start;		/* first line of the parsed text in this segment */
	const char *file;
	int first;		/* that line's number in file */
};
static struct segment *segs;
static size_t nsegs;
static char **files;		/* the names segments point to */
static size_t nfiles;

/* Where each `server` and `location` block opens, in the order they are written. */
enum { SEC_SERVER, SEC_LOCATION, SEC_KINDS };
static int *sec_lines[SEC_KINDS];
static size_t nsec_lines[SEC_KINDS], sec_closed[SEC_KINDS];
/* And per parsed section: its opening line (in the parsed text). */
static struct { cfg_t *sec; int line; } *opened;
static size_t nopened;

static void where(int line, const char **file, int *fline)
{
	*file = parsing ? parsing : "(config)";
	*fline = line;
	for (size_t i = 0; i < nsegs && segs[i].start <= line; i++) {
		*file = segs[i].file;
		*fline = segs[i].first + (line - segs[i].start);
	}
}

static const char *where_file(int line)
{
	const char *f;
	int l;

	where(line, &f, &l);
	return f;
}

static int where_line(int line)
{
	const char *f;
	int l;

	where(line, &f, &l);
	return l;
}

/* "FILE:LINE" arguments for a line of the parsed text (0: the main file, not in it). */
#define AT(line) where_file(line), where_line(line)

static void on_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];
	const char *file;
	int line;

	if (errbuf[0])
		return;		/* the first error is the one worth reading */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* libconfuse's words for a second `server "x"` or a second `location "/x"`. */
	if (strncmp(msg, "found duplicate title '", 23) == 0 && msg[strlen(msg) - 1] == '\'') {
		char title[400];
		snprintf(title, sizeof(title), "%.*s", (int)strlen(msg) - 24, msg + 23);
		snprintf(msg, sizeof(msg), "\"%s\" is given twice: a server's name, or a location's "
			 "pattern in the same block", title);
	}
	/* An option of the file's top level inside a section: its "}" came too late. */
	if (cfg && cfg->name && strcmp(cfg->name, "root") != 0 &&
	    strncmp(msg, "no such option", 14) == 0) {
		size_t used = strlen(msg);
		snprintf(msg + used, sizeof(msg) - used, " in section \"%s\" (is its \"}\" "
			 "missing above this line?)", cfg->name);
	}
	where(cfg ? cfg->line : 0, &file, &line);
	if (line > 0)
		snprintf(errbuf, errcap, "%s:%d: %s", file, line, msg);
	else
		snprintf(errbuf, errcap, "%s: %s", file, msg);
}

static char *absolute(const char *path)
{
	char *out;

	if (path[0] == '/' || path[0] == '\0')
		return strdup(path);
	if (asprintf(&out, "%s/%s", confdir, path) < 0)
		return NULL;
	return out;
}

int config_check_word(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		      const char *const *words)
{
	char list[256] = "";
	size_t used = 0;

	for (const char *const *w = words; *w; w++) {
		if (strcmp(value, *w) == 0)
			return 0;
		int n = snprintf(list + used, sizeof(list) - used, "%s%s",
				 used ? ", " : "", *w);
		if (n > 0 && (size_t)n < sizeof(list) - used)
			used += (size_t)n;
	}
	cfg_error(cfg, "%s: \"%s\" is not one of %s", opt->name, value, list);
	return -1;
}

/*
 * "ADDR:PORT" or "ADDR:PORT proxy_protocol" (nginx's spelling) into *la; -1 with err.
 * la->text is the address alone, which names the listener in logs.
 */
static int parse_listen(const char *text, struct listen_addr *la, char *err, size_t errlen)
{
	const char *sp = strchr(text, ' ');
	size_t alen = sp ? (size_t)(sp - text) : strlen(text);

	memset(la, 0, sizeof(*la));
	if (!(la->text = strndup(text, alen))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (addr_parse_hostport(la->text, &la->ss, &la->len, err, errlen) < 0)
		return -1;
	for (const char *p = sp; p && *p;) {
		size_t n;
		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == 14 && strncmp(p, "proxy_protocol", n) == 0)
			la->proxy_protocol = true;
		else if (n > 0) {
			snprintf(err, errlen, "\"%s\": \"%.*s\" is not a listener option (known: "
				 "proxy_protocol)", text, (int)n, p);
			return -1;
		}
		p += n;
	}
	return 0;
}

static int check_listen(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	struct listen_addr la;
	char err[512];
	int rc = parse_listen(*(const char **)value, &la, err, sizeof(err));

	free(la.text);
	if (rc < 0) {
		cfg_error(cfg, "listen: %s", err);
		return -1;
	}
	return 0;
}

static int check_dir(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	char *path = absolute(*(const char **)value);
	struct stat st;
	int rc = 0;

	if (!path)
		return -1;
	if (stat(path, &st) < 0) {
		cfg_error(cfg, "%s: %s: %s", opt->name, path, strerror(errno));
		rc = -1;
	} else if (!S_ISDIR(st.st_mode)) {
		cfg_error(cfg, "%s: %s: not a directory", opt->name, path);
		rc = -1;
	}
	free(path);
	return rc;
}

static int check_positive(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	if (*(long *)value < 1 || *(long *)value > INT_MAX) {
		cfg_error(cfg, "%s: must be a positive number", opt->name);
		return -1;
	}
	return 0;
}

static int check_size(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	if (*(long *)value < 256 || *(long *)value > 1024 * 1024) {
		cfg_error(cfg, "%s: must be between 256 and 1048576 bytes", opt->name);
		return -1;
	}
	return 0;
}

static int check_nonneg(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	if (*(long *)value < 0) {
		cfg_error(cfg, "%s: must not be negative", opt->name);
		return -1;
	}
	return 0;
}

/* Seconds kept in an int: past INT_MAX the cast would turn a long wait into none. */
static int check_nonneg_int(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	if (*(long *)value > INT_MAX) {
		cfg_error(cfg, "%s: must be from 0 to %d", opt->name, INT_MAX);
		return -1;
	}
	return check_nonneg(cfg, opt, value);
}

static int check_per_client(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	if (*(long *)value < 0 || *(long *)value > 1000000) {
		cfg_error(cfg, "%s: must be from 0 (no limit) to 1000000", opt->name);
		return -1;
	}
	return 0;
}

static const struct { const char *name; int value; } facilities[] = {
	{"daemon", LOG_DAEMON}, {"user", LOG_USER}, {"local0", LOG_LOCAL0},
	{"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
	{"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
	{"local7", LOG_LOCAL7},
};

static int facility_value(const char *name)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcmp(name, facilities[i].name) == 0)
			return facilities[i].value;
	return -1;
}

static int check_facility(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	static const char *const names[] = {"daemon", "user", "local0", "local1", "local2",
		"local3", "local4", "local5", "local6", "local7", NULL};
	return config_check_word(cfg, opt, *(const char **)value, names);
}

static int check_log_format(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	struct log_format f;
	char why[128];

	if (log_format_compile(&f, *(const char **)value, why, sizeof(why)) < 0) {
		cfg_error(cfg, "%s: %s", opt->name, why);
		return -1;
	}
	return 0;
}

/* A size in bytes, with an optional k or m suffix: "64k". -1 when it is not one. */
static long long parse_size(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	if (*end == 'k' || *end == 'K')
		v *= 1024, end++;
	else if (*end == 'm' || *end == 'M')
		v *= 1024 * 1024, end++;
	return *end ? -1 : v;
}

static int check_log_buffer(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	long long v = parse_size(*(const char **)value);

	if (v != 0 && (v < LOG_LINE_MAX || v > 16 * 1024 * 1024)) {
		cfg_error(cfg, "%s: \"%s\" is not 0 or a size from %dk to 16m", opt->name,
			  *(const char **)value, LOG_LINE_MAX / 1024);
		return -1;
	}
	return 0;
}

static int check_hidden_files(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	static const char *const names[] = {"deny", "allow", NULL};
	return config_check_word(cfg, opt, *(const char **)value, names);
}

/* In the order of enum static_etag. */
static const char *const etag_words[] = {"mtime-size", "inode-mtime-size", "off", NULL};

static int check_etag(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	return config_check_word(cfg, opt, *(const char **)value, etag_words);
}

static int check_client_header(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	static const char *const names[] = {"x-forwarded-for", "forwarded", NULL};
	return config_check_word(cfg, opt, *(const char **)value, names);
}

static int check_file_cache(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	static const char *const names[] = {"auto", "on", "off", NULL};
	return config_check_word(cfg, opt, *(const char **)value, names);
}

static int check_index(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	const char *name = *(const char **)value;

	if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		cfg_error(cfg, "index: \"%s\" must be a plain file name", name);
		return -1;
	}
	return 0;
}

/*
 * status_path, health_path: compared byte for byte with the request's path, still
 * percent-encoded: so no '%'.
 */
static int check_status_path(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	const char *path = *(const char **)value;
	bool valid = path[0] == '/';

	if (!path[0])
		return 0;
	for (const char *p = path; *p && valid; p++)
		valid = *p > ' ' && *p < 0x7f && !strchr("?#%", *p);
	if (!valid) {
		cfg_error(cfg, "%s: \"%s\" must be \"\" (off) or a path starting with "
			  "\"/\", without spaces, '?', '#' or '%%'", opt->name, path);
		return -1;
	}
	return 0;
}

/* status_allow, trusted_proxies: address blocks. */
static int check_status_allow(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	struct addr_net net;
	char err[512];

	if (addr_parse_cidr(*(const char **)value, &net, err, sizeof(err)) < 0) {
		cfg_error(cfg, "%s: %s", opt->name, err);
		return -1;
	}
	return 0;
}

/* The content options' checks take one value as a string (content_policy.h). */
static int check_error_page(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	return content_check_error_page(cfg, opt->name, *(const char **)value);
}

static int check_realm(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	return content_check_realm(cfg, opt->name, *(const char **)value);
}

static int check_auth_file(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	return content_check_auth_file(cfg, opt->name, *(const char **)value);
}

/* The mpm check needs the scanned set; set once per parse attempt. */
static const struct mpm_set *scanned;
static const char *scanned_dir;

static int check_mpm(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	const char *name = *(const char **)value;
	struct mpm_handle *h = mpm_find(scanned, name);
	char list[256];

	if (h && h->mod)
		return 0;
	if (h) {
		cfg_error(cfg, "mpm: cannot use \"%s\": %s", name, h->error);
		return -1;
	}
	mpm_list(scanned, list, sizeof(list));
	cfg_error(cfg, "mpm: no module \"%s\" in %s (available: %s)", name, scanned_dir, list);
	return -1;
}

#define CORE_OPTS \
	CFG_STR_LIST("listen", "{0.0.0.0:8080}", CFGF_NONE), \
	CFG_INT("listen_backlog", 511, CFGF_NONE), \
	CFG_STR("document_root", "/var/www/minihttpd", CFGF_NONE), \
	CFG_STR_LIST("index", "{index.html}", CFGF_NONE), \
	CFG_BOOL("follow_symlinks", cfg_false, CFGF_NONE), \
	CFG_BOOL("directory_listing", cfg_false, CFGF_NONE), \
	CFG_STR("hidden_files", "deny", CFGF_NONE), \
	CFG_STR("default_type", "application/octet-stream", CFGF_NONE), \
	CFG_STR("mime_types", "/etc/mime.types", CFGF_NONE), \
	CFG_BOOL("server_tokens", cfg_true, CFGF_NONE), \
	CFG_STR("mpm", "event", CFGF_NONE), \
	CFG_STR("mpm_dir", MPM_DIR, CFGF_NONE), \
	CFG_STR("pid_file", "/run/minihttpd/minihttpd.pid", CFGF_NONE), \
	CFG_STR("user", "www-data", CFGF_NONE), \
	CFG_STR("group", "www-data", CFGF_NONE), \
	CFG_STR("syslog_ident", "minihttpd", CFGF_NONE), \
	CFG_STR("syslog_facility", "daemon", CFGF_NONE), \
	CFG_STR("access_log", "stderr", CFGF_NONE), \
	CFG_STR("access_log_format", "combined", CFGF_NONE), \
	CFG_STR("access_log_buffer", "0", CFGF_NONE), \
	CFG_STR("file_cache", "auto", CFGF_NONE), \
	CFG_STR("etag", "mtime-size", CFGF_NONE), \
	CFG_INT("header_timeout", 20, CFGF_NONE), \
	CFG_INT("keepalive_timeout", 5, CFGF_NONE), \
	CFG_INT("send_timeout", 60, CFGF_NONE), \
	CFG_INT("graceful_timeout", 30, CFGF_NONE), \
	CFG_INT("shutdown_delay", 0, CFGF_NONE), \
	CFG_INT("max_request_line", 8190, CFGF_NONE), \
	CFG_INT("max_header_size", 16384, CFGF_NONE), \
	CFG_INT("max_header_fields", 100, CFGF_NONE), \
	CFG_INT("max_keepalive_requests", 1000, CFGF_NONE), \
	CFG_INT("max_body_size", 1048576, CFGF_NONE), \
	CFG_INT("max_workers", 1024, CFGF_NONE), \
	CFG_INT("max_connections_per_client", 0, CFGF_NONE), \
	CFG_STR("status_path", "", CFGF_NONE), \
	CFG_STR_LIST("status_allow", "{\"127.0.0.1\", \"::1\"}", CFGF_NONE), \
	CFG_STR("health_path", "", CFGF_NONE), \
	CFG_BOOL("health_log", cfg_false, CFGF_NONE), \
	CFG_STR_LIST("trusted_proxies", "{}", CFGF_NONE), \
	CFG_STR("client_address_header", "x-forwarded-for", CFGF_NONE), \
	CFG_STR("metrics_path", "", CFGF_NONE), \
	CONTENT_OPTS

static const struct { const char *opt; cfg_validate_callback2_t fn; } checks[] = {
	{"listen", check_listen},
	{"listen_backlog", check_positive},
	{"document_root", check_dir},
	{"index", check_index},
	{"hidden_files", check_hidden_files},
	{"mpm", check_mpm},
	{"mpm_dir", check_dir},
	{"syslog_facility", check_facility},
	{"access_log_format", check_log_format},
	{"access_log_buffer", check_log_buffer},
	{"file_cache", check_file_cache},
	{"etag", check_etag},
	{"header_timeout", check_positive},
	{"keepalive_timeout", check_nonneg_int},
	{"send_timeout", check_positive},
	{"graceful_timeout", check_positive},
	{"shutdown_delay", check_nonneg_int},
	{"max_request_line", check_size},
	{"max_header_size", check_size},
	{"max_header_fields", check_positive},
	{"max_keepalive_requests", check_positive},
	{"max_body_size", check_nonneg},
	{"max_workers", check_positive},
	{"max_connections_per_client", check_per_client},
	{"status_path", check_status_path},
	{"status_allow", check_status_allow},
	{"health_path", check_status_path},
	{"trusted_proxies", check_status_allow},
	{"client_address_header", check_client_header},
	{"metrics_path", check_status_path},
	{"error_page", check_error_page},
	{"auth_basic", check_realm},
	{"auth_basic_file", check_auth_file},
};

/*
 * libconfuse calls validate_func2 callbacks only for values set through its API; while
 * parsing it calls the validate_func of an option once its statement is read (so
 * cfg->line is that statement's). Every value of the option goes through its check.
 */
static int check_line[sizeof(checks) / sizeof(checks[0])];	/* where each was set last */

static int validate(cfg_t *cfg, cfg_opt_t *opt)
{
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (strcmp(checks[i].opt, opt->name) != 0)
			continue;
		check_line[i] = cfg->line;
		for (unsigned n = 0; n < cfg_opt_size(opt); n++) {
			long num;
			const char *str;
			int rc;
			if (opt->type == CFGT_INT) {
				num = cfg_opt_getnint(opt, n);
				rc = checks[i].fn(cfg, opt, &num);
			} else {
				str = cfg_opt_getnstr(opt, n);
				rc = checks[i].fn(cfg, opt, &str);
			}
			if (rc != 0)
				return -1;
		}
	}
	return 0;
}

/* For errors across options, found after parsing: the line to fix, 0 if not in the file. */
static int line_of(const char *name)
{
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (strcmp(checks[i].opt, name) == 0)
			return check_line[i];
	return 0;
}

/*
 * libconfuse 3.3 (Debian 12) miscounts lines after every comment (two extra lines per
 * '#' or '//' comment, one per block comment) and cannot parse a comment inside a list
 * (upstream issue #150). So comments are blanked out here, newlines kept, and the text
 * is parsed from memory: line numbers in errors are then the file's own.
 */
static char *read_uncommented(const char *file)
{
	FILE *f = fopen(file, "re");
	char *text = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	FILE *mem = open_memstream(&text, &len);
	int c, quote = 0;
	while (mem && (c = getc(f)) != EOF) {
		if (quote) {
			putc(c, mem);
			if (c == '\\' && (c = getc(f)) != EOF)
				putc(c, mem);
			else if (c == quote)
				quote = 0;
			continue;
		}
		int next = c == '#' || c == '/' ? getc(f) : EOF;
		if (c == '#' || (c == '/' && next == '/')) {
			if (c == '#' && next != EOF)
				ungetc(next, f);
			while ((c = getc(f)) != EOF && c != '\n')
				;
			if (c == '\n')
				putc('\n', mem);
			continue;
		}
		if (c == '/' && next == '*') {
			int prev = 0;
			putc(' ', mem);
			while ((c = getc(f)) != EOF && !(prev == '*' && c == '/')) {
				if (c == '\n')
					putc('\n', mem);
				prev = c;
			}
			continue;
		}
		if (next != EOF)
			ungetc(next, f);
		if (c == '"' || c == '\'')
			quote = c;
		putc(c, mem);
	}
	fclose(f);
	if (!mem || fclose(mem) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/*
 * libconfuse reads the options after an unclosed "prefork {" as the section's, so the
 * error lands on a valid line further down ("no such option"), and it accepts a section
 * left open at the end of the file. Braces are matched here first: a "{" never closed is
 * reported as such, at its own line. The outermost one is named, as it is the one that
 * swallowed the rest of the file. Stray "}" are left to libconfuse.
 */
static bool unclosed_brace(const char *text, int *line, char *name, size_t namelen)
{
	enum { DEPTH = 8 };
	struct brace { int line; const char *word; size_t len; bool list; } open[DEPTH];
	int depth = 0, cur = 1;
	char quote = 0;

	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			cur++;
		if (quote) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == quote)
				quote = 0;
			continue;
		}
		if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == '{') {
			/* The word before it: a section's name, or the option of a list ("x = {"). */
			const char *e = p;
			bool list = false;
			while (e > text && strchr(" \t\r\n=", e[-1]))
				list |= *--e == '=';
			const char *b = e;
			while (b > text && !strchr(" \t\r\n=}{", b[-1]))
				b--;
			if (depth < DEPTH)
				open[depth] = (struct brace){ cur, b, (size_t)(e - b), list };
			depth++;
		} else if (*p == '}' && depth > 0) {
			depth--;
		}
	}
	if (depth == 0)
		return false;
	*line = open[0].line;
	snprintf(name, namelen, "%.*s%s", (int)open[0].len, open[0].word,
		 open[0].list ? " =" : "");
	return true;
}

static bool push(void **arr, size_t *n, size_t size)
{
	void *p = realloc(*arr, (*n + 1) * size);

	if (!p)
		return false;
	*arr = p;
	(*n)++;
	return true;
}

static bool add_segment(int start, const char *file, int first)
{
	if (!push((void **)&segs, &nsegs, sizeof(*segs)))
		return false;
	segs[nsegs - 1] = (struct segment){ start, file, first };
	return true;
}

static bool word_at(const char *text, const char *p, const char *word)
{
	size_t n = strlen(word);

	return (p == text || strchr(" \t\r\n{}", p[-1])) && strncmp(p, word, n) == 0 &&
	       (p[n] == ' ' || p[n] == '\t' || p[n] == '"' || p[n] == '=');
}

#define INCLUDE_DEPTH 8

/* A directory of the glob that does not exist names nothing; one unreadable is an error. */
static int glob_error(const char *path, int err)
{
	(void)path;
	return err != ENOENT && err != ENOTDIR;
}

static int expand(const char *file, int depth, FILE *out, int *oline);

/* `include "GLOB"` at line fline of file: the files it names, in sorted order. */
static int include_glob(const char *file, int fline, const char *pattern, int depth, FILE *out,
			int *oline)
{
	char *path = absolute(pattern);
	glob_t g;
	int rc = 0;

	if (!path)
		return -1;
	int grc = glob(path, 0, glob_error, &g);
	if (grc == GLOB_NOMATCH && !strpbrk(path, "*?[")) {
		snprintf(errbuf, errcap, "%s:%d: include: %s: %s", file, fline, path,
			 strerror(ENOENT));
		rc = -1;
	} else if (grc != 0 && grc != GLOB_NOMATCH) {
		snprintf(errbuf, errcap, "%s:%d: include: %s: cannot be read", file, fline, path);
		rc = -1;
	} else if (grc == 0 && depth >= INCLUDE_DEPTH) {
		snprintf(errbuf, errcap, "%s:%d: include: more than %d levels deep (does a file "
			 "include itself?)", file, fline, INCLUDE_DEPTH);
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && grc == 0 && i < g.gl_pathc; i++) {
		fputc('\n', out);
		(*oline)++;
		rc = expand(g.gl_pathv[i], depth + 1, out, oline);
		fputc('\n', out);
		(*oline)++;
		if (rc == 0 && !add_segment(*oline, file, fline))
			rc = -1;
	}
	if (grc == 0)
		globfree(&g);
	free(path);
	return rc;
}

/*
 * Writes file's text, comments blanked (read_uncommented()), to out with each top-level
 * `include "GLOB"` replaced by the files it names, recording the segments of the line map
 * and where each server and location block opens. *oline: out's current line.
 */
static int expand(const char *file, int depth, FILE *out, int *oline)
{
	char *name = strdup(file);

	if (!name || !push((void **)&files, &nfiles, sizeof(*files))) {
		free(name);
		return -1;
	}
	files[nfiles - 1] = name;
	char *text = read_uncommented(name);
	int line, fline = 1, braces = 0, rc = 0;
	char open_name[64], quote = 0;

	if (!text) {
		snprintf(errbuf, errcap, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (unclosed_brace(text, &line, open_name, sizeof(open_name))) {
		snprintf(errbuf, errcap, "%s:%d: \"%s {\" is not closed: a \"}\" is missing",
			 name, line, open_name);
		free(text);
		return -1;
	}
	if (!add_segment(*oline, name, 1)) {
		free(text);
		return -1;
	}
	for (const char *p = text; *p && rc == 0; p++) {
		if (*p == '\n') {
			fline++;
			(*oline)++;
		}
		if (quote) {
			if (*p == '\\' && p[1])
				fputc(*p++, out);
			else if (*p == quote)
				quote = 0;
			fputc(*p, out);
			continue;
		}
		if (*p == '"' || *p == '\'')
			quote = *p;
		else if (*p == '{')
			braces++;
		else if (*p == '}')
			braces--;
		for (int k = 0; k < SEC_KINDS; k++)
			if (word_at(text, p, k == SEC_SERVER ? "server" : "location")) {
				if (!push((void **)&sec_lines[k], &nsec_lines[k], sizeof(int)))
					rc = -1;
				else
					sec_lines[k][nsec_lines[k] - 1] = *oline;
			}
		if (braces == 0 && word_at(text, p, "include")) {
			/* include "GLOB", or include = "GLOB" as libconfuse's options read. */
			const char *q = p + 7 + strspn(p + 7, " \t");
			if (*q == '=')
				q += 1 + strspn(q + 1, " \t");
			const char *e = *q == '"' ? strchr(q + 1, '"') : NULL;
			if (!e || e == q + 1 || memchr(q, '\n', (size_t)(e - q))) {
				snprintf(errbuf, errcap, "%s:%d: include: expected a quoted file name "
					 "or glob: include \"conf.d/*.conf\"", name, fline);
				rc = -1;
				break;
			}
			char *pattern = strndup(q + 1, (size_t)(e - q - 1));
			rc = pattern ? include_glob(name, fline, pattern, depth, out, oline) : -1;
			free(pattern);
			p = e;
			continue;
		}
		fputc(*p, out);
	}
	free(text);
	return rc;
}

static void text_state_free(void)
{
	free(segs);
	segs = NULL;
	nsegs = 0;
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	files = NULL;
	nfiles = 0;
	for (int k = 0; k < SEC_KINDS; k++) {
		free(sec_lines[k]);
		sec_lines[k] = NULL;
		nsec_lines[k] = sec_closed[k] = 0;
	}
	free(opened);
	opened = NULL;
	nopened = 0;
}

/* The opening line of a parsed server or location section (in the parsed text). */
static int opened_at(const cfg_t *sec)
{
	for (size_t i = 0; i < nopened; i++)
		if (opened[i].sec == sec)
			return opened[i].line;
	return 0;
}

/* As cfg_error(), at the parsed text's line. */
static void error_at(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void error_at(int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (errbuf[0])
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(errbuf, errcap, "%s:%d: %s", AT(line), msg);
}

/* libconfuse calls it on the parent as each server or location block closes. */
static int section_closed(cfg_t *parent, cfg_opt_t *opt)
{
	int kind = strcmp(opt->name, "server") == 0 ? SEC_SERVER : SEC_LOCATION;
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
	size_t k = sec_closed[kind]++;
	int line = k < nsec_lines[kind] ? sec_lines[kind][k] : parent->line;

	if (!push((void **)&opened, &nopened, sizeof(*opened)))
		return -1;
	opened[nopened - 1].sec = sec;
	opened[nopened - 1].line = line;
	if (kind == SEC_LOCATION) {
		const char *why = location_pattern_problem(cfg_title(sec));
		if (why) {
			error_at(line, "location \"%s\" can never match: it %s", cfg_title(sec), why);
			return -1;
		}
	} else if (cfg_size(sec, "document_root") == 0) {
		error_at(line, "server \"%s\": document_root is required", cfg_title(sec));
		return -1;
	}
	return 0;
}

static int check_server_opt(cfg_t *sec, cfg_opt_t *opt)
{
	const char *v = cfg_opt_size(opt) ? cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1) : "";

	if (strcmp(opt->name, "document_root") == 0)
		return check_dir(sec, opt, &v);
	if (strcmp(opt->name, "access_log") == 0 && strcmp(v, "off") != 0 && v[0] != '/' &&
	    !v[0]) {
		cfg_error(sec, "access_log: \"\" is not \"off\" or a file");
		return -1;
	}
	return 0;
}

/* The option arrays of server and location blocks; free() both after cfg_init(). */
static int site_sections(cfg_opt_t *top, size_t *ntop, const cfg_opt_t *core,
			 cfg_opt_t **srv_out, cfg_opt_t **loc_out)
{
	size_t rows = site_options_count();
	cfg_opt_t *loc = calloc(rows + 1, sizeof(*loc));
	cfg_opt_t *srv = calloc(rows + 6, sizeof(*srv));

	*srv_out = srv;
	*loc_out = loc;
	if (!loc || !srv)
		return -1;
	size_t n = site_options_append(SITE_LOCATION, NULL, loc);
	loc[n] = (cfg_opt_t)CFG_END();
	cfg_opt_t location = CFG_SEC("location", loc, CFGF_MULTI | CFGF_TITLE |
				     CFGF_NO_TITLE_DUPES);
	location.validcb = section_closed;

	n = 0;
	srv[n++] = (cfg_opt_t)CFG_STR_LIST("aliases", "{}", CFGF_NONE);
	srv[n++] = (cfg_opt_t)CFG_STR("document_root", NULL, CFGF_NODEFAULT);
	srv[n - 1].validcb = check_server_opt;
	srv[n++] = (cfg_opt_t)CFG_STR("access_log", NULL, CFGF_NODEFAULT);
	srv[n - 1].validcb = check_server_opt;
	srv[n++] = (cfg_opt_t)CFG_BOOL("default", cfg_false, CFGF_NONE);
	n += site_options_append(SITE_SERVER, NULL, srv + n);
	srv[n++] = location;
	srv[n] = (cfg_opt_t)CFG_END();

	*ntop += site_options_append(SITE_TOP, core, top + *ntop);
	top[(*ntop)++] = location;
	cfg_opt_t server = CFG_SEC("server", srv, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
	server.validcb = section_closed;
	top[(*ntop)++] = server;
	return 0;
}

/* Parses file with the core options plus one section per usable module of set. */
static int parse_with(const char *file, const struct mpm_set *set, const char *dir,
		      cfg_t **out)
{
	static cfg_opt_t core[] = { CORE_OPTS, CFG_END() };
	size_t ncore = sizeof(core) / sizeof(core[0]) - 1, ntop;
	cfg_opt_t *opts = calloc(ncore + site_options_count() + 2 + set->n + 1, sizeof(*opts));
	cfg_opt_t *srv = NULL, *loc = NULL;
	int nsec;
	cfg_t *cfg;

	*out = NULL;
	if (!opts)
		return CFG_PARSE_ERROR;
	memcpy(opts, core, ncore * sizeof(*opts));
	ntop = ncore;
	if (site_sections(opts, &ntop, core, &srv, &loc) < 0 ||
	    (nsec = mpm_options_sections(set, opts + ntop)) < 0) {
		free(srv);
		free(loc);
		free(opts);
		return CFG_PARSE_ERROR;
	}
	opts[ntop + (size_t)nsec] = (cfg_opt_t)CFG_END();

	scanned = set;
	scanned_dir = dir;
	cfg = cfg_init(opts, CFGF_NONE);
	mpm_options_sections_free(opts + ntop, (size_t)nsec);
	free(srv);
	free(loc);
	free(opts);
	if (!cfg)
		return CFG_PARSE_ERROR;
	cfg_set_error_function(cfg, on_error);
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		cfg_set_validate_func(cfg, checks[i].opt, validate);

	errbuf[0] = '\0';
	memset(check_line, 0, sizeof(check_line));
	text_state_free();
	parsing = file;
	char *text = NULL;
	size_t len = 0;
	int rc, oline = 1;
	FILE *mem = open_memstream(&text, &len);
	if (!mem || expand(file, 0, mem, &oline) < 0)
		rc = CFG_PARSE_ERROR;
	else
		rc = CFG_SUCCESS;
	if (mem && fclose(mem) != 0)
		rc = CFG_PARSE_ERROR;
	if (rc == CFG_SUCCESS)
		rc = cfg_parse_buf(cfg, text);
	if (rc != CFG_SUCCESS && !errbuf[0])
		snprintf(errbuf, errcap, "%s: cannot be read", file);
	free(text);
	*out = cfg;
	return rc;
}

static char *strdup_list(cfg_t *cfg, const char *name, size_t *n, char ***out)
{
	*n = cfg_size(cfg, name);
	*out = calloc(*n + 1, sizeof(char *));
	if (!*out)
		return NULL;
	for (size_t i = 0; i < *n; i++)
		if (!((*out)[i] = strdup(cfg_getnstr(cfg, name, (unsigned)i))))
			return NULL;
	return (*out)[0] ? (*out)[0] : (char *)"";
}

/*
 * o->content for section sec (opened at line of the parsed text), o->content holding the
 * parent's: kept when sec sets no content option, else a policy of sec's own that
 * inherits the rest. -1 with errbuf set (errbuf empty: out of memory).
 */
static int build_content(struct config *conf, cfg_t *sec, int line, struct site_opts *o)
{
	struct content_policy *p;

	if (!content_policy_set_in(sec))
		return 0;
	if (!push((void **)&conf->policies, &conf->npolicies, sizeof(*conf->policies)))
		return -1;
	conf->policies[conf->npolicies - 1] = NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return -1;
	if (content_policy_load(sec, o->content, AT(line), p, errbuf, errcap) < 0) {
		free(p);
		return -1;
	}
	conf->policies[conf->npolicies - 1] = p;
	o->content = p;
	return 0;
}

/* The locations of sec (a server's, or the top level's) into s, from s's own options. */
static int build_locations(struct config *conf, cfg_t *sec, struct site *s)
{
	struct site_set *set = &conf->sites;

	s->nlocs = cfg_size(sec, "location");
	if (!(s->locs = site_alloc(set, (s->nlocs + 1) * sizeof(*s->locs))))
		return -1;
	for (size_t i = 0; i < s->nlocs; i++) {
		cfg_t *ls = cfg_getnsec(sec, "location", (unsigned)i);
		struct location *l = &s->locs[i];
		int line = opened_at(ls);

		l->pattern = site_strdup(set, cfg_title(ls));
		l->file = site_strdup(set, where_file(line));
		l->line = where_line(line);
		if (!l->pattern || !l->file)
			return -1;
		l->glob = location_is_glob(l->pattern);
		l->opts = s->opts;
		if (site_options_apply(set, ls, SITE_LOCATION, &l->opts) < 0 ||
		    build_content(conf, ls, line, &l->opts) < 0)
			return -1;
	}
	site_sort_locations(s);
	return 0;
}

/* The top level as site 0, then one site per server block, inheriting the top level. */
static int build_sites(cfg_t *cfg, struct config *conf)
{
	struct site_set *set = &conf->sites;
	struct site *top = site_add(set);
	char err[512];
	size_t which;
	int default_line = 0;

	if (!top || !(top->name = site_strdup(set, "")) ||
	    !(top->document_root = site_strdup(set, conf->document_root)))
		return -1;
	top->is_default = true;
	site_opts_defaults(&top->opts);
	top->opts.content = &conf->content;
	if (site_options_apply(set, cfg, SITE_TOP, &top->opts) < 0 ||
	    build_locations(conf, cfg, top) < 0)
		return -1;
	for (unsigned i = 0; i < cfg_size(cfg, "server"); i++) {
		cfg_t *sec = cfg_getnsec(cfg, "server", i);
		int line = opened_at(sec);
		struct site *s = site_add(set);
		if (!s)
			return -1;
		s->name = site_strdup(set, cfg_title(sec));
		s->file = site_strdup(set, where_file(line));
		s->line = where_line(line);
		s->document_root = absolute(cfg_getstr(sec, "document_root"));
		if (!s->name || !s->file || !s->document_root)
			return -1;
		/* Owned by the set from here. */
		char *root = site_strdup(set, s->document_root);
		free(s->document_root);
		if (!(s->document_root = root))
			return -1;
		if (cfg_size(sec, "access_log")) {
			const char *al = cfg_getstr(sec, "access_log");
			/* The targets access_log takes; a file name is made absolute. */
			bool word = strcmp(al, "off") == 0 || strcmp(al, "syslog") == 0 ||
				    strcmp(al, "stdout") == 0 || strcmp(al, "stderr") == 0;
			char *abs = word ? strdup(al) : absolute(al);
			s->access_log = abs ? site_strdup(set, abs) : NULL;
			free(abs);
			if (!s->access_log)
				return -1;
		}
		s->naliases = cfg_size(sec, "aliases");
		if (!(s->aliases = site_alloc(set, (s->naliases + 1) * sizeof(char *))))
			return -1;
		for (size_t a = 0; a < s->naliases; a++)
			if (!(s->aliases[a] = site_strdup(set, cfg_getnstr(sec, "aliases",
									    (unsigned)a))))
				return -1;
		if (cfg_getbool(sec, "default")) {
			if (default_line) {
				snprintf(errbuf, errcap, "%s:%d: server \"%s\": default = true is "
					 "already set at %s:%d", AT(line), s->name, AT(default_line));
				return -1;
			}
			default_line = line;
			set->sites[0].is_default = false;
			s->is_default = true;
			set->default_site = s->id;
		}
		s->opts = set->sites[0].opts;
		if (site_options_apply(set, sec, SITE_SERVER, &s->opts) < 0 ||
		    build_content(conf, sec, line, &s->opts) < 0 ||
		    build_locations(conf, sec, s) < 0)
			return -1;
	}
	if (site_set_index(set, &which, err, sizeof(err)) < 0) {
		if (!strcmp(err, "out of memory"))
			return -1;
		snprintf(errbuf, errcap, "%s:%d: server \"%s\": %s", set->sites[which].file,
			 set->sites[which].line, set->sites[which].name, err);
		return -1;
	}
	return 0;
}

/* Two of the engine's own paths that are one: the one it checks first would hide the other. */
static int paths_clash(const char *na, const char *a, const char *nb, const char *b)
{
	int la, lb;

	if (!a[0] || strcmp(a, b) != 0)
		return 0;
	la = line_of(na);
	lb = line_of(nb);
	snprintf(errbuf, errcap, "%s:%d: %s and %s are both \"%s\"",
		 AT(la > lb ? la : lb), na, nb, a);
	return -1;
}

/* Copies the parsed values into conf; -1 with errbuf set on a cross-option problem. */
static int convert(cfg_t *cfg, struct config *conf)
{
	conf->nlisten = cfg_size(cfg, "listen");
	if (conf->nlisten == 0) {
		snprintf(errbuf, errcap, "%s:%d: listen: at least one address is needed",
			 AT(line_of("listen")));
		return -1;
	}
	conf->listen = calloc(conf->nlisten, sizeof(*conf->listen));
	if (!conf->listen)
		return -1;
	for (size_t i = 0; i < conf->nlisten; i++) {
		struct listen_addr *la = &conf->listen[i];
		char err[512];
		if (parse_listen(cfg_getnstr(cfg, "listen", (unsigned)i), la, err,
				 sizeof(err)) < 0)
			return -1;
		conf->nproxy_listen += la->proxy_protocol;
		for (size_t j = 0; j < i; j++) {
			const struct listen_addr *o = &conf->listen[j];
			if (addr_equal((const struct sockaddr *)&o->ss, o->len,
				       (const struct sockaddr *)&la->ss, la->len)) {
				snprintf(errbuf, errcap, "%s:%d: listen: \"%s\" is given twice",
					 AT(line_of("listen")), la->text);
				return -1;
			}
			if (addr_overlap((const struct sockaddr *)&o->ss,
					 (const struct sockaddr *)&la->ss)) {
				snprintf(errbuf, errcap, "%s:%d: listen: \"%s\" overlaps \"%s\" (a "
					 "wildcard address covers the other on the same port)",
					 AT(line_of("listen")), la->text, o->text);
				return -1;
			}
		}
	}
	conf->listen_backlog = (int)cfg_getint(cfg, "listen_backlog");
	if (!(conf->document_root = absolute(cfg_getstr(cfg, "document_root"))))
		return -1;
	if (!strdup_list(cfg, "index", &conf->nindex, &conf->index))
		return -1;
	conf->follow_symlinks = cfg_getbool(cfg, "follow_symlinks");
	conf->directory_listing = cfg_getbool(cfg, "directory_listing");
	conf->hidden_files = strcmp(cfg_getstr(cfg, "hidden_files"), "allow") == 0;
	conf->default_type = strdup(cfg_getstr(cfg, "default_type"));
	conf->mime_types = absolute(cfg_getstr(cfg, "mime_types"));
	conf->server_tokens = cfg_getbool(cfg, "server_tokens");
	conf->mpm = strdup(cfg_getstr(cfg, "mpm"));
	conf->mpm_dir = absolute(cfg_getstr(cfg, "mpm_dir"));
	conf->pid_file = absolute(cfg_getstr(cfg, "pid_file"));
	conf->user = strdup(cfg_getstr(cfg, "user"));
	conf->group = strdup(cfg_getstr(cfg, "group"));
	conf->syslog_ident = strdup(cfg_getstr(cfg, "syslog_ident"));
	conf->syslog_facility = facility_value(cfg_getstr(cfg, "syslog_facility"));
	const char *al = cfg_getstr(cfg, "access_log");
	conf->access_log = strcmp(al, "off") == 0 || strcmp(al, "syslog") == 0 ||
			   strcmp(al, "stdout") == 0 || strcmp(al, "stderr") == 0 ?
		strdup(al) : absolute(al);
	/* Both were checked when read. */
	log_format_compile(&conf->access_log_format, cfg_getstr(cfg, "access_log_format"),
			   errbuf, errcap);
	conf->access_log_buffer = (size_t)parse_size(cfg_getstr(cfg, "access_log_buffer"));
	const char *fc = cfg_getstr(cfg, "file_cache");
	conf->file_cache = fc[1] == 'n' ? FILE_CACHE_ON : fc[1] == 'f' ? FILE_CACHE_OFF :
			   FILE_CACHE_AUTO;
	for (conf->etag = 0; strcmp(etag_words[conf->etag], cfg_getstr(cfg, "etag")) != 0;
	     conf->etag++)
		;
	conf->header_timeout = (int)cfg_getint(cfg, "header_timeout");
	conf->keepalive_timeout = (int)cfg_getint(cfg, "keepalive_timeout");
	conf->send_timeout = (int)cfg_getint(cfg, "send_timeout");
	conf->graceful_timeout = (int)cfg_getint(cfg, "graceful_timeout");
	conf->shutdown_delay = (int)cfg_getint(cfg, "shutdown_delay");
	conf->max_request_line = (size_t)cfg_getint(cfg, "max_request_line");
	conf->max_header_size = (size_t)cfg_getint(cfg, "max_header_size");
	conf->max_header_fields = (unsigned)cfg_getint(cfg, "max_header_fields");
	conf->max_keepalive_requests = (unsigned)cfg_getint(cfg, "max_keepalive_requests");
	conf->max_body_size = cfg_getint(cfg, "max_body_size");
	conf->max_workers = (unsigned)cfg_getint(cfg, "max_workers");
	conf->max_connections_per_client = (unsigned)cfg_getint(cfg, "max_connections_per_client");
	conf->status_path = strdup(cfg_getstr(cfg, "status_path"));
	conf->status_path_len = conf->status_path ? strlen(conf->status_path) : 0;
	conf->nstatus_allow = cfg_size(cfg, "status_allow");
	conf->status_allow = calloc(conf->nstatus_allow + 1, sizeof(*conf->status_allow));
	for (size_t i = 0; conf->status_allow && i < conf->nstatus_allow; i++)
		addr_parse_cidr(cfg_getnstr(cfg, "status_allow", (unsigned)i),
				&conf->status_allow[i], NULL, 0);
	conf->health_path = strdup(cfg_getstr(cfg, "health_path"));
	conf->health_path_len = conf->health_path ? strlen(conf->health_path) : 0;
	conf->health_log = cfg_getbool(cfg, "health_log");
	conf->ntrusted_proxies = cfg_size(cfg, "trusted_proxies");
	conf->trusted_proxies = calloc(conf->ntrusted_proxies + 1, sizeof(*conf->trusted_proxies));
	for (size_t i = 0; conf->trusted_proxies && i < conf->ntrusted_proxies; i++)
		addr_parse_cidr(cfg_getnstr(cfg, "trusted_proxies", (unsigned)i),
				&conf->trusted_proxies[i], NULL, 0);
	conf->client_address_header = strcmp(cfg_getstr(cfg, "client_address_header"),
					     "forwarded") == 0 ? CLIENT_HEADER_FORWARDED :
					     CLIENT_HEADER_XFF;
	conf->metrics_path = strdup(cfg_getstr(cfg, "metrics_path"));
	conf->metrics_path_len = conf->metrics_path ? strlen(conf->metrics_path) : 0;
	int realm_line = line_of("auth_basic"), file_line = line_of("auth_basic_file");
	if (content_policy_load(cfg, NULL, conf->file, realm_line > file_line ? realm_line : file_line,
				&conf->content, errbuf, errcap) < 0)
		return -1;
	if (conf->max_header_size < conf->max_request_line) {
		/* At the later of the two: the one the reader changed last. */
		int a = line_of("max_header_size"), b = line_of("max_request_line");
		snprintf(errbuf, errcap, "%s:%d: max_header_size (%zu) is smaller than "
			 "max_request_line (%zu)", AT(a > b ? a : b), conf->max_header_size,
			 conf->max_request_line);
		return -1;
	}
	if (!conf->default_type || !conf->mime_types || !conf->mpm || !conf->mpm_dir ||
	    !conf->pid_file || !conf->user || !conf->group || !conf->syslog_ident ||
	    !conf->access_log || !conf->status_path || !conf->status_allow ||
	    !conf->health_path || !conf->trusted_proxies ||
	    !conf->metrics_path)
		return -1;
	if (paths_clash("health_path", conf->health_path, "status_path",
			conf->status_path) < 0 ||
	    paths_clash("metrics_path", conf->metrics_path, "status_path",
			conf->status_path) < 0 ||
	    paths_clash("metrics_path", conf->metrics_path, "health_path",
			conf->health_path) < 0)
		return -1;
	return build_sites(cfg, conf);
}

/*
 * The value of a top-level `mpm_dir = "..."` in text (the last one, as libconfuse keeps),
 * or NULL. A lexical scan, because it must run before the MPM sections are known:
 * libconfuse's CFGF_IGNORE_UNKNOWN loses its way after an unknown empty section.
 * Comments and strings are skipped as libconfuse reads them; braces give the depth.
 */
static char *scan_mpm_dir(const char *t)
{
	char *found = NULL;
	int depth = 0;

	while (*t) {
		if (*t == '#' || (t[0] == '/' && t[1] == '/')) {
			t += strcspn(t, "\n");
		} else if (t[0] == '/' && t[1] == '*') {
			const char *end = strstr(t + 2, "*/");
			t = end ? end + 2 : t + strlen(t);
		} else if (*t == '"' || *t == '\'') {
			char q = *t++;
			while (*t && *t != q)
				t += t[0] == '\\' && t[1] ? 2 : 1;
			t += *t ? 1 : 0;
		} else if (*t == '{' || *t == '}') {
			depth += *t++ == '{' ? 1 : -1;
		} else if (depth == 0 && strncmp(t, "mpm_dir", 7) == 0 &&
			   !(isalnum((unsigned char)t[7]) || t[7] == '_')) {
			const char *v = t + 7 + strspn(t + 7, " \t");
			t += 7;
			if (*v != '=')
				continue;
			v += 1 + strspn(v + 1, " \t");
			if (*v != '"' && *v != '\'')
				continue;
			size_t n = strcspn(v + 1, *v == '"' ? "\"\\\n" : "'\\\n");
			if (v[1 + n] != *v)
				continue;
			free(found);
			found = strndup(v + 1, n);
			t = v + 2 + n;
		} else {
			const char *w = t;
			while (isalnum((unsigned char)*t) || *t == '_')
				t++;
			t += t == w ? 1 : 0;
		}
	}
	return found;
}

/*
 * The file's mpm_dir, absolute, or NULL: read before the MPM sections are known, so
 * that a file setting it after them is not judged by the default directory's modules.
 */
static char *declared_mpm_dir(const char *file)
{
	char *text = NULL, *found = NULL, *dir;
	size_t len = 0;
	int oline = 1;
	FILE *mem = open_memstream(&text, &len);

	text_state_free();
	parsing = file;
	if (mem && expand(file, 0, mem, &oline) == 0 && fclose(mem) == 0) {
		mem = NULL;
		found = scan_mpm_dir(text);
	}
	if (mem)
		fclose(mem);
	free(text);
	text_state_free();
	errbuf[0] = '\0';
	dir = found ? absolute(found) : NULL;
	free(found);
	return dir;
}

struct config *config_load(const char *path, const char *mpm_dir_override,
			   char *err, size_t errlen)
{
	struct config *conf = calloc(1, sizeof(*conf));
	struct mpm_set set = {0};
	cfg_t *cfg = NULL;
	char *dir = NULL;
	int rc;

	errbuf = err;
	errcap = errlen;
	err[0] = '\0';
	if (!conf)
		goto oom;
	conf->file = realpath(path, NULL);
	if (!conf->file) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	confdir = strdup(conf->file);
	if (!confdir)
		goto oom;
	*strrchr(confdir, '/') = '\0';
	if (!confdir[0])
		strcpy(confdir, "/");

	char *declared = mpm_dir_override ? NULL : declared_mpm_dir(conf->file);
	dir = declared ? declared : strdup(mpm_dir_override ? mpm_dir_override : MPM_DIR);
	for (int attempt = 0; dir; attempt++) {
		char scan_err[256];

		if (mpm_scan(dir, &set, scan_err, sizeof(scan_err)) < 0)
			set.n = 0;
		rc = parse_with(conf->file, &set, dir, &cfg);
		/* Where the scan found none, the module set follows the mpm_dir that parsing saw. */
		char *file_dir = cfg && !declared ? absolute(cfg_getstr(cfg, "mpm_dir")) : NULL;
		if (attempt == 0 && !mpm_dir_override && file_dir && strcmp(file_dir, dir) != 0) {
			free(dir);
			dir = file_dir;
			cfg_free(cfg);
			cfg = NULL;
			mpm_set_release(&set, NULL);
			continue;
		}
		free(file_dir);
		break;
	}
	if (!dir)
		goto oom;
	if (rc != CFG_SUCCESS || !cfg) {
		if (!err[0])
			snprintf(err, errlen, "%s: cannot be parsed", conf->file);
		goto fail;
	}
	if (convert(cfg, conf) < 0) {
		if (!err[0])
			goto oom;
		goto fail;
	}
	free(conf->mpm_dir);
	conf->mpm_dir = strdup(dir);

	struct mpm_handle *h = mpm_find(&set, conf->mpm);
	if (!h || !h->mod) {
		char list[256];
		mpm_list(&set, list, sizeof(list));
		snprintf(err, errlen, "%s: mpm: no module \"%s\" in %s (available: %s)",
			 conf->file, conf->mpm, dir, list);
		goto fail;
	}
	/* Owned from here, so that config_free() frees the module's conf struct. */
	conf->mpm_handle = h;
	mpm_set_release(&set, h);
	if (mpm_options_conf(h->mod, cfg, &conf->mpm_conf) < 0) {
		if (!err[0])
			goto oom;
		goto fail;
	}
	conf->parsed = cfg;
	free(dir);
	free(confdir);
	confdir = NULL;
	text_state_free();
	return conf;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
fail:
	if (cfg)
		cfg_free(cfg);
	mpm_set_release(&set, NULL);
	free(dir);
	free(confdir);
	confdir = NULL;
	text_state_free();
	config_free(conf);
	return NULL;
}

void config_free(struct config *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; i < conf->nlisten; i++)
		free(conf->listen[i].text);
	free(conf->listen);
	for (size_t i = 0; conf->index && conf->index[i]; i++)
		free(conf->index[i]);
	free(conf->index);
	free(conf->mpm_conf);
	if (conf->mpm_handle)
		mpm_handle_free(conf->mpm_handle);
	free(conf->file);
	free(conf->document_root);
	free(conf->default_type);
	free(conf->mime_types);
	free(conf->mpm);
	free(conf->mpm_dir);
	free(conf->pid_file);
	free(conf->user);
	free(conf->group);
	free(conf->syslog_ident);
	free(conf->access_log);
	free(conf->status_path);
	free(conf->status_allow);
	site_set_free(&conf->sites);
	if (conf->parsed)
		cfg_free(conf->parsed);
	free(conf->health_path);
	free(conf->trusted_proxies);
	free(conf->metrics_path);
	content_policy_free(&conf->content);
	for (size_t i = 0; i < conf->npolicies; i++) {
		if (conf->policies[i])
			content_policy_free(conf->policies[i]);
		free(conf->policies[i]);
	}
	free(conf->policies);
	free(conf);
}

static void print_locations(FILE *f, const struct site *s, const char *indent)
{
	char inner[16];

	snprintf(inner, sizeof(inner), "%s\t", indent);
	for (size_t i = 0; i < s->nlocs; i++) {
		const struct location *l = &s->locs[i];
		fprintf(f, "%slocation \"%s\" {\t# %s:%d\n", indent, l->pattern, l->file, l->line);
		site_options_print(f, SITE_LOCATION, &l->opts, inner);
		fprintf(f, "%s}\n", indent);
	}
}

void config_print(const struct config *conf, FILE *f)
{
	const struct site_set *set = &conf->sites;

	fprintf(f, "# minihttpd -T: the effective configuration of %s, its includes spliced "
		"in and every default filled in\n", conf->file);
	for (cfg_opt_t *o = conf->parsed->opts; o->name; o++)
		if (o->type != CFGT_SEC && !site_options_has(o->name))
			cfg_opt_print(o, f);
	site_options_print(f, SITE_TOP, &set->sites[0].opts, "");
	cfg_opt_t *mpm = cfg_getopt(conf->parsed, conf->mpm);
	if (mpm)
		cfg_opt_print(mpm, f);
	print_locations(f, &set->sites[0], "");
	for (size_t i = 1; i < set->n; i++) {
		const struct site *s = &set->sites[i];
		fprintf(f, "server \"%s\" {\t# %s:%d\n\taliases = {", s->name, s->file, s->line);
		for (size_t a = 0; a < s->naliases; a++)
			fprintf(f, "%s\"%s\"", a ? ", " : "", s->aliases[a]);
		fprintf(f, "}\n\tdocument_root = \"%s\"\n\taccess_log = \"%s\"\n\tdefault = %s\n",
			s->document_root, s->access_log ? s->access_log : conf->access_log,
			s->is_default ? "true" : "false");
		site_options_print(f, SITE_SERVER, &s->opts, "\t");
		print_locations(f, s, "\t");
		fputs("}\n", f);
	}
}
