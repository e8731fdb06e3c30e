/* SPDX-License-Identifier: ISC */
/*
 * test_config: config_load() on temporary files: the exact "FILE:LINE: problem" message for
 * each class of error (unknown option, bad values of the core options, a cross-option
 * limit, an unknown MPM, a bad value in an MPM section, a file that cannot be read), and a
 * valid file whose relative paths are resolved against the file's directory. MPM_DIR is
 * the build tree's mpm/.libs: the modules are loaded for real.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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
	expect_error("document_root = \"htdocs\"\naccess_log_format = \"json\"\n",
		     "bad access_log_format",
		     "%s:2: access_log_format: \"json\" is not one of common, combined", file);
	expect_error("document_root = \"htdocs\"\nheader_timeout = -1\n", "negative header_timeout",
		     "%s:2: header_timeout: must be a positive number", file);
	expect_error("document_root = \"htdocs\"\n\nsend_timeout = 0\n", "zero send_timeout",
		     "%s:3: send_timeout: must be a positive number", file);
	expect_error("document_root = \"htdocs\"\nkeepalive_timeout = -5\n", "negative keepalive_timeout",
		     "%s:2: keepalive_timeout: must not be negative", file);
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
	is_int(conf->access_log_format, LOG_FORMAT_COMMON, "access_log_format common");
	is_int(conf->header_timeout, 7, "header_timeout");
	is_int(conf->keepalive_timeout, 5, "keepalive_timeout default");
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
	if (chdir(cwd) < 0)
		perror("chdir back");
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
	test_unreadable();
	nftw(dir, rm, 8, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
