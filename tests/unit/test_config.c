/* SPDX-License-Identifier: ISC */
/*
 * test_config: config_load() on temporary files: the exact "FILE:LINE: problem" message for
 * each class of error (unknown option, bad values of the core options, a cross-option
 * limit, an unknown MPM, a bad value in an MPM section, a file that cannot be read), and a
 * valid file whose relative paths are resolved against the file's directory. MPM_DIR is
 * the build tree's mpm/.libs: the modules are loaded for real.
 *
 * MPM options: the core's validation of an option table (mpm_options.c) on a module made
 * here, then every built MPM's section, its defaults and its cross-option checks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "../../src/config.c"
#include "../../src/mpm_load.c"
#include "../../src/mpm_options.c"

static char dir[64];		/* the temporary directory, made absolute by mkdtemp */
static char file[128];		/* dir/minihttpd.conf */
static char err[1024];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* Loads text as the config file; NULL (with err set) on error. */
static struct config *load(const char *text)
{
	write_file(file, text);
	return config_load(file, NULL, err, sizeof(err));
}

static __attribute__((format(printf, 3, 4))) void expect_error(const char *text, const char *name,
							      const char *fmt, ...)
{
	char want[1024];
	va_list ap;
	struct config *conf = load(text);

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	ok(conf == NULL, "%s: refused", name);
	is_str(err, want, "%s: message", name);
	config_free(conf);
}

/* "event, prefork, worker": the modules built in MPM_DIR, sorted, as the message lists them. */
static void built_modules(char *out, size_t cap)
{
	char names[64][64];
	size_t n = 0, used = 0;
	DIR *d = opendir(MPM_DIR);
	struct dirent *e;

	out[0] = '\0';
	while (d && (e = readdir(d)) && n < 64) {
		size_t len = strlen(e->d_name);
		if (len > 3 && len < 64 && strcmp(e->d_name + len - 3, ".so") == 0)
			snprintf(names[n++], sizeof(names[0]), "%.*s", (int)(len - 3), e->d_name);
	}
	if (d)
		closedir(d);
	qsort(names, n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "", names[i]);
}

static void test_errors(void)
{
	char mods[512], path[256];

	expect_error("document_root = \"htdocs\"\nfoo = 1\n", "unknown option",
		     "%s:2: no such option 'foo'", file);
	expect_error("document_root = \"htdocs\"\nlisten = {\"1.2.3.4\"}\n", "listen without port",
		     "%s:2: listen: \"1.2.3.4\" is not host:port (IPv4, [IPv6] or *, port 1-65535)",
		     file);
	expect_error("document_root = \"htdocs\"\nlisten = {\"127.0.0.1:0\"}\n", "listen port 0",
		     "%s:2: listen: \"127.0.0.1:0\" is not host:port (IPv4, [IPv6] or *, port "
		     "1-65535)", file);
	expect_error("document_root = \"htdocs\"\nlisten = {\"[::1:80\"}\n", "listen bad IPv6",
		     "%s:2: listen: \"[::1:80\" is not host:port (IPv4, [IPv6] or *, port 1-65535)",
		     file);
	expect_error("document_root = \"htdocs\"\nlisten = {\"0.0.0.0:8080\", \"*:8080\"}\n",
		     "listen twice", "%s:2: listen: \"*:8080\" is given twice", file);
	expect_error("document_root = \"htdocs\"\nlisten = {\"127.0.0.1:80 proxy\"}\n",
		     "listen option unknown", "%s:2: listen: \"127.0.0.1:80 proxy\": \"proxy\" is "
		     "not a listener option (known: proxy_protocol)", file);
	expect_error("document_root = \"htdocs\"\nlisten = {\"*:80 proxy_protocol\", "
		     "\"0.0.0.0:80\"}\n", "listen twice, one with proxy_protocol",
		     "%s:2: listen: \"0.0.0.0:80\" is given twice", file);
	expect_error("document_root = \"htdocs\"\ntrusted_proxies = {\"10.0.0.0/8\", \"x\"}\n",
		     "trusted_proxies bad block", "%s:2: trusted_proxies: \"x\" is not an "
		     "address or address/prefix (IPv4 or IPv6)", file);
	expect_error("document_root = \"htdocs\"\nclient_address_header = \"x-real-ip\"\n",
		     "bad client_address_header", "%s:2: client_address_header: \"x-real-ip\" is not "
		     "one of x-forwarded-for, forwarded", file);
	expect_error("document_root = \"htdocs\"\netag = \"inode\"\n", "bad etag",
		     "%s:2: etag: \"inode\" is not one of mtime-size, inode-mtime-size, off", file);
	expect_error("document_root = \"htdocs\"\nhealth_path = \"healthz\"\n", "bad health_path",
		     "%s:2: health_path: \"healthz\" must be \"\" (off) or a path starting with "
		     "\"/\", without spaces, '?', '#' or '%%'", file);
	expect_error("document_root = \"htdocs\"\nshutdown_delay = -1\n", "negative shutdown_delay",
		     "%s:2: shutdown_delay: must not be negative", file);
	expect_error("document_root = \"htdocs\"\nstatus_allow = {\"::1\", \"10.0.0.0/33\"}\n",
		     "status_allow bad prefix", "%s:2: status_allow: \"10.0.0.0/33\" is not an "
		     "address or address/prefix (IPv4 or IPv6)", file);
	expect_error("listen = {\"127.0.0.1:8080\"}\ndocument_root = \"nope\"\n",
		     "missing document root", "%s:2: document_root: %s/nope: No such file or directory",
		     file, dir);
	expect_error("document_root = \"minihttpd.conf\"\n", "document root is a file",
		     "%s:1: document_root: %s/minihttpd.conf: not a directory", file, dir);
	expect_error("document_root = \"htdocs\"\nindex = {\"index.html\", \"a/b\"}\n",
		     "index with a slash", "%s:2: index: \"a/b\" must be a plain file name", file);
	expect_error("document_root = \"htdocs\"\nindex = {\"..\"}\n", "index ..",
		     "%s:2: index: \"..\" must be a plain file name", file);
	built_modules(mods, sizeof(mods));
	ok(strstr(mods, "prefork") != NULL, "MPM_DIR holds prefork (%s)", mods);
	expect_error("document_root = \"htdocs\"\nmpm = \"nope\"\n", "unknown mpm",
		     "%s:2: mpm: no module \"nope\" in %s (available: %s)", file, MPM_DIR, mods);
	expect_error("document_root = \"htdocs\"\nsyslog_facility = \"kern\"\n", "bad syslog_facility",
		     "%s:2: syslog_facility: \"kern\" is not one of daemon, user, local0, local1, "
		     "local2, local3, local4, local5, local6, local7", file);
	expect_error("document_root = \"htdocs\"\naccess_log_format = \"%h %Z\"\n",
		     "bad access_log_format",
		     "%s:2: access_log_format: unknown directive %%Z at column 4", file);
	expect_error("document_root = \"htdocs\"\naccess_log_buffer = 100\n",
		     "bad access_log_buffer",
		     "%s:2: access_log_buffer: \"100\" is not 0 or a size from 8k to 16m", file);
	expect_error("document_root = \"htdocs\"\n\nhidden_files = \"hide\"\n", "bad hidden_files",
		     "%s:3: hidden_files: \"hide\" is not one of deny, allow", file);
	expect_error("document_root = \"htdocs\"\nhidden_files = \"Allow\"\n",
		     "hidden_files is case-sensitive",
		     "%s:2: hidden_files: \"Allow\" is not one of deny, allow", file);
	expect_error("document_root = \"htdocs\"\nfile_cache = \"yes\"\n",
		     "bad file_cache",
		     "%s:2: file_cache: \"yes\" is not one of auto, on, off", file);
	expect_error("document_root = \"htdocs\"\nheader_timeout = -1\n", "negative header_timeout",
		     "%s:2: header_timeout: must be a positive number", file);
	expect_error("document_root = \"htdocs\"\n\nsend_timeout = 0\n", "zero send_timeout",
		     "%s:3: send_timeout: must be a positive number", file);
	expect_error("document_root = \"htdocs\"\nkeepalive_timeout = -5\n", "negative keepalive_timeout",
		     "%s:2: keepalive_timeout: must not be negative", file);
	expect_error("document_root = \"htdocs\"\nkeepalive_timeout = 2147483648\n",
		     "keepalive_timeout past an int", "%s:2: keepalive_timeout: must be from 0 to "
		     "2147483647", file);
	expect_error("document_root = \"htdocs\"\nmax_connections_per_client = -1\n",
		     "negative max_connections_per_client",
		     "%s:2: max_connections_per_client: must be from 0 (no limit) to 1000000", file);
	expect_error("document_root = \"htdocs\"\n\nmax_connections_per_client = 1000001\n",
		     "max_connections_per_client too large",
		     "%s:3: max_connections_per_client: must be from 0 (no limit) to 1000000", file);
	expect_error("document_root = \"htdocs\"\nmax_header_size = 100\n", "max_header_size too small",
		     "%s:2: max_header_size: must be between 256 and 1048576 bytes", file);
	expect_error("document_root = \"htdocs\"\nmax_request_line = 400\n\nmax_header_size = 300\n",
		     "max_header_size < max_request_line",
		     "%s:4: max_header_size (300) is smaller than max_request_line (400)", file);
	expect_error("document_root = \"htdocs\"\nmax_header_size = 300\nmax_request_line = 400\n",
		     "max_request_line > max_header_size, set last",
		     "%s:3: max_header_size (300) is smaller than max_request_line (400)", file);
	expect_error("document_root = \"htdocs\"\nmpm = \"prefork\"\nprefork {\n"
		     "  start_servers = 0\n}\n", "prefork start_servers = 0",
		     "%s:4: start_servers: \"0\" is not 1..4096", file);
	expect_error("document_root = \"htdocs\"\nheader_timeout = 5\nheader_timeout = 0\n"
		     "foo = 1\n", "the first error is reported",
		     "%s:3: header_timeout: must be a positive number", file);
	expect_error("document_root = \"htdocs\"\nlisten = {\"127.0.0.1:80\" \n", "syntax error",
		     "%s:2: \"listen = {\" is not closed: a \"}\" is missing", file);

	snprintf(path, sizeof(path), "%s/absent.conf", dir);
	struct config *conf = config_load(path, NULL, err, sizeof(err));
	ok(conf == NULL, "missing file: refused");
	snprintf(path, sizeof(path), "%s/absent.conf: No such file or directory", dir);
	is_str(err, path, "missing file: message");
}

/* As root, the check runs in a child that has become nobody: root reads every file. */
static void test_unreadable(void)
{
	char want[256];
	int fds[2];

	write_file(file, "document_root = \"htdocs\"\n");
	chmod(file, 0);
	snprintf(want, sizeof(want), "%s: Permission denied", file);
	if (geteuid() != 0) {
		struct config *conf = config_load(file, NULL, err, sizeof(err));
		ok(conf == NULL, "unreadable file: refused");
		is_str(err, want, "unreadable file: message");
		config_free(conf);
		return;
	}
	if (pipe(fds) < 0) {
		perror("pipe");
		exit(2);
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		struct config *conf = config_load(file, NULL, err, sizeof(err));
		if (write(fds[1], conf ? "(loaded)" : err, strlen(conf ? "(loaded)" : err)) < 0)
			_exit(4);
		_exit(0);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], err, sizeof(err) - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "unreadable file: checked as nobody");
	is_str(err, want, "unreadable file: message");
}

static void test_valid(void)
{
	char want[256], cwd[512];
	struct config *conf;

	write_file(file, "# a comment\n"
		   "listen = {\"127.0.0.1:8080\", \"[::1]:8081\"}\n"
		   "document_root = \"htdocs\"\n"
		   "index = {\"index.htm\", \"default.html\"}\n"
		   "pid_file = \"run/minihttpd.pid\"\n"
		   "access_log = \"logs/access.log\"\n"
		   "access_log_format = \"common\"\n"
		   "file_cache = \"off\"\n"
		   "mime_types = \"conf/mime.types\"\n"
		   "mpm = \"prefork\"\n"
		   "header_timeout = 7\n"
		   "max_request_line = 300\nmax_header_size = 300\n"
		   "prefork {\n  start_servers = 3\n}\n");
	if (!getcwd(cwd, sizeof(cwd)) || chdir(dir) < 0) {
		perror("chdir");
		exit(2);
	}
	/* A relative name: the file's own directory, not the cwd, anchors relative paths. */
	conf = config_load("minihttpd.conf", NULL, err, sizeof(err));
	if (chdir("/") < 0) {
		perror("chdir");
		exit(2);
	}
	ok(conf != NULL, "valid file loads (%s)", conf ? "" : err);
	if (!conf)
		return;
	is_str(conf->file, file, "file is absolute");
	snprintf(want, sizeof(want), "%s/htdocs", dir);
	is_str(conf->document_root, want, "relative document_root resolved against the file");
	snprintf(want, sizeof(want), "%s/run/minihttpd.pid", dir);
	is_str(conf->pid_file, want, "relative pid_file resolved");
	snprintf(want, sizeof(want), "%s/logs/access.log", dir);
	is_str(conf->access_log, want, "relative access_log resolved");
	snprintf(want, sizeof(want), "%s/conf/mime.types", dir);
	is_str(conf->mime_types, want, "relative mime_types resolved");
	is_str(conf->mpm_dir, MPM_DIR, "mpm_dir defaults to MPM_DIR");
	is_str(conf->mpm, "prefork", "mpm");
	ok(conf->mpm_handle && conf->mpm_handle->mod &&
	   strcmp(conf->mpm_handle->mod->name, "prefork") == 0, "the prefork module is loaded");
	ok(conf->mpm_conf != NULL, "the prefork section is configured");
	is_int(conf->nlisten, 2, "two listen addresses");
	is_int(conf->listen[0].ss.ss_family, AF_INET, "first is IPv4");
	is_int(ntohs(((struct sockaddr_in *)&conf->listen[0].ss)->sin_port), 8080, "port 8080");
	is_int(conf->listen[1].ss.ss_family, AF_INET6, "second is IPv6");
	is_int(conf->nindex, 2, "two index names");
	is_str(conf->index[1], "default.html", "index order kept");
	is_int(conf->access_log_format.nops, 13, "access_log_format common, compiled");
	is_int(conf->file_cache, FILE_CACHE_OFF, "file_cache off");
	is_int(conf->header_timeout, 7, "header_timeout");
	is_int(conf->keepalive_timeout, 5, "keepalive_timeout default");
	ok(!conf->hidden_files, "hidden_files defaults to deny");
	is_int(conf->max_header_size, 300, "max_header_size equal to max_request_line is fine");
	config_free(conf);

	write_file(file, "document_root = \"/\"\naccess_log = \"off\"\nmime_types = \"\"\n");
	conf = config_load(file, NULL, err, sizeof(err));
	ok(conf != NULL, "absolute document_root, access_log off (%s)", conf ? "" : err);
	if (conf) {
		is_str(conf->document_root, "/", "absolute document_root kept");
		is_str(conf->access_log, "off", "access_log \"off\" is not a path");
		is_str(conf->mime_types, "", "mime_types \"\" stays empty (built-in table)");
	}
	config_free(conf);
	write_file(file, "document_root = \"htdocs\"\naccess_log = \"syslog\"\n");
	conf = config_load(file, NULL, err, sizeof(err));
	ok(conf && strcmp(conf->access_log, "syslog") == 0, "access_log \"syslog\" is not a path");
	config_free(conf);
	write_file(file, "document_root = \"htdocs\"\n");
	conf = config_load(file, NULL, err, sizeof(err));
	ok(conf && conf->nproxy_listen == 0 && !conf->listen[0].proxy_protocol &&
	   conf->ntrusted_proxies == 0 && conf->client_address_header == CLIENT_HEADER_XFF &&
	   conf->etag == 0 && conf->shutdown_delay == 0 && conf->health_path_len == 0 &&
	   !conf->health_log, "fleet options default: no PROXY, no trusted proxy, X-Forwarded-For, "
	   "etag mtime-size, no delay, no health path");
	config_free(conf);
	write_file(file, "document_root = \"htdocs\"\n"
		   "listen = {\"127.0.0.1:8080  proxy_protocol\", \"127.0.0.1:8081\"}\n"
		   "trusted_proxies = {\"10.0.0.0/8\", \"::1\"}\n"
		   "client_address_header = \"forwarded\"\netag = \"off\"\nshutdown_delay = 5\n"
		   "health_path = \"/healthz\"\nhealth_log = true\n");
	conf = config_load(file, NULL, err, sizeof(err));
	ok(conf != NULL, "fleet options load (%s)", conf ? "" : err);
	if (conf) {
		ok(conf->listen[0].proxy_protocol && !conf->listen[1].proxy_protocol &&
		   conf->nproxy_listen == 1, "proxy_protocol on the first listener only");
		is_str(conf->listen[0].text, "127.0.0.1:8080", "the listener's text is its address");
		is_int(conf->ntrusted_proxies, 2, "two trusted blocks");
		is_int(conf->trusted_proxies[0].prefix, 8, "10.0.0.0/8");
		is_int(conf->client_address_header, CLIENT_HEADER_FORWARDED, "forwarded");
		is_int(conf->etag, 2, "etag off");
		is_int(conf->shutdown_delay, 5, "shutdown_delay");
		is_str(conf->health_path, "/healthz", "health_path");
		ok(conf->health_log, "health_log");
	}
	config_free(conf);
	write_file(file, "document_root = \"htdocs\"\nhidden_files = \"allow\"\n");
	conf = config_load(file, NULL, err, sizeof(err));
	ok(conf && conf->hidden_files, "hidden_files = \"allow\"");
	config_free(conf);
	write_file(file, "document_root = \"htdocs\"\nhidden_files = \"deny\"\n");
	conf = config_load(file, NULL, err, sizeof(err));
	ok(conf && !conf->hidden_files, "hidden_files = \"deny\"");
	config_free(conf);
	if (chdir(cwd) < 0)
		perror("chdir back");
}

/* ---- MPM option tables ---- */

/* A module of this test, for the generic validation: one option of each kind. */
struct test_conf {
	long count;
	long procs;
	int mode;
};

static const char *const test_modes[] = {"slow", "fast", NULL};

static const struct mpm_option test_options[] = {
	MPM_INT("count", 5, 1, 10, struct test_conf, count),
	MPM_INT_AUTO("procs", 1, 64, struct test_conf, procs),
	MPM_WORD("mode", 1, test_modes, struct test_conf, mode),
	{0}
};

static int test_check(void *conf, char *msg, size_t cap)
{
	struct test_conf *tc = conf;

	if (tc->procs == 0)
		tc->procs = 3;
	if (tc->mode == 0 && tc->count > 2) {
		snprintf(msg, cap, "count (%ld) is above 2 with mode = \"slow\"", tc->count);
		return -1;
	}
	return 0;
}

static const struct mpm_module test_module = {
	.abi_version = MPM_ABI_VERSION,
	.name = "testmod",
	.options = test_options,
	.conf_size = sizeof(struct test_conf),
	.check = test_check,
};

/* Parses section as the testmod section of a file: its struct, or NULL with err set. */
static struct test_conf *parse_test_section(const char *section)
{
	struct mpm_handle h = {.mod = &test_module, .name = (char *)"testmod"};
	struct mpm_handle *hs[] = {&h};
	struct mpm_set set = {.h = hs, .n = 1};
	char text[512];
	cfg_t *cfg;
	void *conf = NULL;

	snprintf(text, sizeof(text), "testmod {\n%s\n}\n", section);
	write_file(file, text);
	errbuf = err;
	errcap = sizeof(err);
	int rc = parse_with(file, &set, dir, &cfg);
	if (rc == CFG_SUCCESS && mpm_options_conf(&test_module, cfg, &conf) < 0 && !err[0])
		snprintf(err, sizeof(err), "out of memory");
	if (cfg)
		cfg_free(cfg);
	return conf;
}

static void test_option_table(void)
{
	static const struct {
		const char *name;
		const char *section;	/* the lines inside testmod { } (from line 2) */
		const char *error;	/* after "FILE:"; NULL: parses */
		long count, procs;
		int mode;
	} rows[] = {
		{"defaults filled", "", NULL, 5, 3, 1},
		{"values stored", "count = 10\nprocs = 64\nmode = \"fast\"", NULL, 10, 64, 1},
		{"lowest values", "count = 1\nprocs = 1", NULL, 1, 1, 1},
		{"word stored as its index", "mode = \"slow\"\ncount = 2", NULL, 2, 3, 0},
		{"auto where allowed: check() derives", "procs = auto", NULL, 5, 3, 1},
		{"quoted auto", "procs = \"auto\"", NULL, 5, 3, 1},
		{"hexadecimal", "count = 0x8", NULL, 8, 3, 1},
		{"above the range", "count = 11", "2: count: \"11\" is not 1..10", 0, 0, 0},
		{"below the range", "\ncount = 0", "3: count: \"0\" is not 1..10", 0, 0, 0},
		{"negative", "count = -1", "2: count: \"-1\" is not 1..10", 0, 0, 0},
		{"not a number", "count = many", "2: count: \"many\" is not 1..10", 0, 0, 0},
		{"trailing garbage", "count = \"4x\"", "2: count: \"4x\" is not 1..10", 0, 0, 0},
		{"auto not allowed", "count = auto", "2: count: \"auto\" is not 1..10", 0, 0, 0},
		{"out of range with auto", "procs = 65",
		 "2: procs: \"65\" is not \"auto\" or 1..64", 0, 0, 0},
		{"0 is not auto", "procs = 0", "2: procs: \"0\" is not \"auto\" or 1..64", 0, 0, 0},
		{"a bad word names the allowed ones", "mode = \"medium\"",
		 "2: mode: \"medium\" is not one of slow, fast", 0, 0, 0},
		{"a word is case-sensitive", "mode = \"Slow\"",
		 "2: mode: \"Slow\" is not one of slow, fast", 0, 0, 0},
		{"check() message at the closing line", "mode = \"slow\"\ncount = 4\n",
		 "5: count (4) is above 2 with mode = \"slow\"", 0, 0, 0},
		{"unknown option in the section", "counts = 1",
		 "2: no such option 'counts' in section \"testmod\" (is its \"}\" missing above "
		 "this line?)", 0, 0, 0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct test_conf *tc = parse_test_section(rows[i].section);
		char want[512];

		if (rows[i].error) {
			snprintf(want, sizeof(want), "%s:%s", file, rows[i].error);
			ok(tc == NULL, "option table, %s: refused", rows[i].name);
			is_str(err, want, "option table, %s: message", rows[i].name);
		} else {
			ok(tc != NULL, "option table, %s: parses (%s)", rows[i].name, tc ? "" : err);
			if (tc) {
				is_int(tc->count, rows[i].count, "option table, %s: count", rows[i].name);
				is_int(tc->procs, rows[i].procs, "option table, %s: procs", rows[i].name);
				is_int(tc->mode, rows[i].mode, "option table, %s: mode", rows[i].name);
			}
		}
		free(tc);
	}
}

/* What the module's struct holds for option o. */
static long field(const void *conf, const struct mpm_option *o)
{
	const char *at = (const char *)conf + o->offset;

	if (o->type == MPM_OPT_WORD) {
		int v;
		memcpy(&v, at, sizeof(v));
		return v;
	}
	long v;
	memcpy(&v, at, sizeof(v));
	return v;
}

/* value as the option would store it: a word's index, a number. */
static long stored(const struct mpm_option *o, const char *value)
{
	if (o->type == MPM_OPT_INT)
		return strtol(value, NULL, 0);
	for (long i = 0; o->words[i]; i++)
		if (strncmp(value + 1, o->words[i], strlen(o->words[i])) == 0 &&
		    value[1 + strlen(o->words[i])] == '"')
			return i;
	return -1;
}

/*
 * Every built MPM: a section setting each of its options parses and each value lands in
 * the field the table names (the rows avoid defaults where the options allow it); without
 * a section, every field holds its default and "auto" is derived.
 */
static void test_mpm_sections(void)
{
	static const struct {
		const char *mpm;
		const char *section;	/* "name = value" lines, every option of the module */
	} rows[] = {
		{"prefork", "accept = \"passfd\"\nstart_servers = 2\nmin_spare_servers = 1\n"
			    "max_spare_servers = 3\nmax_servers = 12\nmax_requests_per_child = 100"},
		{"worker", "processes = 2\nthreads_per_process = 8\naccept = \"mutex\"\n"
			   "queue_size = 16\nmax_requests_per_child = 50"},
		{"event", "processes = 3\nmax_connections = 500\ntrigger = \"edge\"\n"
			  "defer_accept = 0\nbackend = \"epoll\""},
		{"event", "processes = 1\nmax_connections = 20\ntrigger = \"level\"\n"
			  "defer_accept = 30\nbackend = \"select\""},
		{"fork", "max_children = 9"},
		{"thread", "max_threads = 7"},
		{"sigio", "processes = 2\nmax_connections = 64"},
		{"iterative", ""},
	};
	char text[1024];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *mpm = rows[i].mpm;
		struct config *conf;

		snprintf(text, sizeof(text), "document_root = \"htdocs\"\nmpm = \"%s\"\n%s%s%s%s", mpm,
			 rows[i].section[0] ? mpm : "", rows[i].section[0] ? " {\n" : "",
			 rows[i].section, rows[i].section[0] ? "\n}\n" : "");
		conf = load(text);
		ok(conf != NULL, "%s: its section parses (%s)", mpm, conf ? "" : err);
		if (!conf)
			continue;
		const struct mpm_module *m = conf->mpm_handle->mod;
		size_t nopts = 0, seen = 0;
		for (const struct mpm_option *o = m->options; o && o->name; o++)
			nopts++;
		ok((conf->mpm_conf != NULL) == (m->conf_size > 0), "%s: a conf struct when it has one",
		   mpm);
		for (const char *line = rows[i].section; *line; ) {
			const char *eq = strstr(line, " = "), *nl = strchr(line, '\n');
			size_t len = (size_t)(eq - line);
			char value[64];
			snprintf(value, sizeof(value), "%.*s", (int)((nl ? nl : eq + strlen(eq)) - eq - 3),
				 eq + 3);
			for (const struct mpm_option *o = m->options; o && o->name; o++)
				if (strlen(o->name) == len && strncmp(o->name, line, len) == 0) {
					seen++;
					is_int(field(conf->mpm_conf, o), stored(o, value), "%s: %s = %s stored",
					       mpm, o->name, value);
				}
			line = nl ? nl + 1 : line + strlen(line);
		}
		is_int(seen, nopts, "%s: the row sets every option of the table", mpm);
		config_free(conf);

		snprintf(text, sizeof(text), "document_root = \"htdocs\"\nmpm = \"%s\"\n", mpm);
		conf = load(text);
		ok(conf != NULL, "%s: loads with no section (%s)", mpm, conf ? "" : err);
		/* Freeing the first config may have unloaded the module: ask the new one. */
		m = conf ? conf->mpm_handle->mod : NULL;
		for (const struct mpm_option *o = m ? m->options : NULL; o && o->name; o++) {
			if (o->allow_auto)
				ok(field(conf->mpm_conf, o) > 0, "%s: %s \"auto\" is derived", mpm, o->name);
			else
				is_int(field(conf->mpm_conf, o), o->def, "%s: %s defaults to %ld", mpm,
				       o->name, o->def);
		}
		config_free(conf);
	}
}

/* The "auto" values and the cross-option errors of the built MPMs, as they read. */
static void test_mpm_checks(void)
{
	struct config *conf;
	long cpus = mpm_cpu_count();

	conf = load("document_root = \"htdocs\"\nmpm = \"worker\"\n"
		    "worker {\n processes = auto\n threads_per_process = 6\n}\n");
	ok(conf != NULL, "worker: processes = auto loads (%s)", conf ? "" : err);
	if (conf) {
		const struct mpm_module *m = conf->mpm_handle->mod;
		is_int(m->query(conf->mpm_conf, MPM_Q_MAX_SLOTS), (cpus > 256 ? 256 : cpus) * 6,
		       "worker: auto processes are the CPUs we may run on, times the threads");
	}
	config_free(conf);
	conf = load("document_root = \"htdocs\"\nmpm = \"event\"\n");
	ok(conf != NULL, "event: loads with processes = auto by default (%s)", conf ? "" : err);
	if (conf)
		is_int(conf->mpm_handle->mod->query(conf->mpm_conf, MPM_Q_MAX_SLOTS), cpus,
		       "event: auto processes are the CPUs we may run on");
	config_free(conf);

	expect_error("document_root = \"htdocs\"\nmpm = \"prefork\"\nprefork {\n"
		     "  start_servers = 300\n}\n", "prefork start_servers > max_servers",
		     "%s:5: start_servers (300) exceeds max_servers (256)", file);
	expect_error("document_root = \"htdocs\"\nmpm = \"prefork\"\nprefork {\n"
		     "  min_spare_servers = 8\n  max_spare_servers = 7\n\n}\n",
		     "prefork max_spare_servers < min_spare_servers",
		     "%s:7: max_spare_servers (7) is below min_spare_servers (8)", file);
	expect_error("document_root = \"htdocs\"\nmpm = \"event\"\nevent {\n"
		     "  trigger = \"edge\"\n  backend = \"select\"\n}\n", "event edge without epoll",
		     "%s:6: trigger = \"edge\" needs backend = \"epoll\" (not \"select\")", file);
	expect_error("document_root = \"htdocs\"\nmpm = \"worker\"\nworker {\n"
		     "  accept = \"passfd\"\n}\n", "worker accept word",
		     "%s:4: accept: \"passfd\" is not one of mutex, queue", file);
	expect_error("document_root = \"htdocs\"\nmpm = \"event\"\nevent {\n"
		     "  processes = 0\n}\n", "event processes = 0",
		     "%s:4: processes: \"0\" is not \"auto\" or 1..4096", file);
	/* A section of a module the file does not use is still checked. */
	expect_error("document_root = \"htdocs\"\nmpm = \"event\"\nsigio {\n"
		     "  max_connections = 0\n}\n", "section of another MPM",
		     "%s:4: max_connections: \"0\" is not 1..1048576", file);
}

static int rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	char sub[128];

	snprintf(dir, sizeof(dir), "/tmp/test_config.XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0755) < 0) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(file, sizeof(file), "%s/minihttpd.conf", dir);
	snprintf(sub, sizeof(sub), "%s/htdocs", dir);
	if (mkdir(sub, 0755) < 0) {
		perror(sub);
		return 2;
	}
	test_errors();
	test_valid();
	test_option_table();
	test_mpm_sections();
	test_mpm_checks();
	test_unreadable();
	nftw(dir, rm, 8, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
