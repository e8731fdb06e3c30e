/* SPDX-License-Identifier: ISC */
/*
 * test_static: path cleaning, MIME lookup and static_serve against a temporary document
 * root: traversal attempts, symlinks in and out, redirects, index files, listings, every
 * conditional-request precedence case of RFC 9110 section 13.2.2 and every range case.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <ftw.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "../../src/http_static.c"
#include "../../src/log.c"

#define T0 784111777	/* Sun, 06 Nov 1994 08:49:37 GMT: every file's mtime */
#define LM0 "Sun, 06 Nov 1994 08:49:37 GMT"
#define S(x) ((struct http_str){ (x), strlen(x) })

static char base[64], root[128];
static struct static_ctx ctx;
static struct http_reply rep;
static char etag_hello[ETAG_MAX], etag_data[ETAG_MAX];

/* ---- fixtures ---- */

static void xwrite(const char *rel, const char *data, size_t len)
{
	char p[sizeof(root) + PATH_MAX];
	struct timespec ts[2] = { { T0, 0 }, { T0, 0 } };

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || futimens(fd, ts) < 0) {
		perror(p);
		exit(2);
	}
	close(fd);
}

static void xmkdir(const char *rel)
{
	char p[sizeof(root) + PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (mkdir(p, 0755) < 0) {
		perror(p);
		exit(2);
	}
}

static void xsymlink(const char *target, const char *rel)
{
	char p[sizeof(root) + PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (symlink(target, p) < 0) {
		perror(p);
		exit(2);
	}
}

static void etag_of(const char *rel, char *out)
{
	char p[sizeof(root) + PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	stat(p, &st);
	/* The default, etag = "mtime-size": nothing in it differs between replicas. */
	snprintf(out, ETAG_MAX, "\"%llx-%llx\"",
		 (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
		 (unsigned long long)st.st_mtim.tv_nsec, (unsigned long long)st.st_size);
}

static void setup(void)
{
	char p[PATH_MAX], data[100];

	strcpy(base, "/tmp/minihttpd-static-XXXXXX");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(p, sizeof(p), "%s/outside", base);
	if (mkdir(root, 0755) < 0 || mkdir(p, 0755) < 0) {
		perror("mkdir");
		exit(2);
	}
	snprintf(p, sizeof(p), "%s/outside/secret.txt", base);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "secret\n", 7) != 7) {
		perror(p);
		exit(2);
	}
	close(fd);

	for (int i = 0; i < 100; i++)
		data[i] = (char)('A' + i % 26);
	xwrite("hello.txt", "Hello, world!\n", 14);
	xwrite("data.bin", data, sizeof(data));
	xwrite("index.html", "<p>root</p>\n", 12);
	xwrite("empty.txt", "", 0);
	xwrite("unknown.zzz", "?", 1);
	xwrite("noext", "?", 1);
	xwrite("space name.txt", "space\n", 6);
	xwrite("secret.txt", "no\n", 3);
	snprintf(p, sizeof(p), "%s/secret.txt", root);
	chmod(p, 0);
	xmkdir("sub");
	xwrite("sub/index.html", "<p>sub</p>\n", 11);
	xwrite("sub/page.HTML", "<p>page</p>\n", 12);
	xmkdir("noindex");
	xwrite("noindex/a.txt", "a", 1);
	xwrite("noindex/<b&c>.txt", "b", 1);
	xwrite("noindex/.hidden", "h", 1);
	xmkdir("noindex/d");
	xmkdir(".git");
	xwrite(".git/config", "[core]\n", 7);
	xwrite(".htpasswd", "u:x\n", 4);
	xmkdir("a");
	xmkdir("a/.hidden");
	xwrite("a/.hidden/x", "x\n", 2);
	xwrite("a/visible", "v\n", 2);
	xmkdir(".well-known");
	xwrite(".well-known/x", "wk\n", 3);
	xwrite(".well-known/.x", "wkx\n", 4);
	xmkdir(".well-known/acme-challenge");
	xwrite(".well-known/acme-challenge/tok", "t\n", 2);
	xmkdir("idxdir");
	xwrite("idxdir/index.htm", "<p>htm</p>\n", 11);
	xmkdir("idxdir2");
	xmkdir("idxdir2/index.html");
	xmkdir("many");
	for (int i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "many/file-with-a-longish-name-%02d.txt", i);
		xwrite(p, "x", 1);
	}
	memset(p, '"', 80);
	p[80] = '\0';
	xmkdir(p);
	memset(p, 'a', 255);
	p[255] = '\0';
	xmkdir(p);
	p[255] = '/';
	memset(p + 256, 'a', 255);
	p[511] = '\0';
	xmkdir(p);
	xsymlink("hello.txt", "link-in");
	xsymlink("sub", "link-dir");
	xsymlink("sub/../hello.txt", "link-dotdot");
	xsymlink("../outside/secret.txt", "link-out");
	snprintf(p, sizeof(p), "%s/outside/secret.txt", base);
	xsymlink(p, "link-abs");
	xsymlink("/proc/self/root/etc/passwd", "link-magic");
	snprintf(p, sizeof(p), "%s/fifo", root);
	if (mkfifo(p, 0644) < 0) {
		perror("mkfifo");
		exit(2);
	}
	etag_of("hello.txt", etag_hello);
	etag_of("data.bin", etag_data);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void teardown(void)
{
	ok(nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0, "temporary tree removed");
}

/* ---- requests ---- */

static struct http_request req(enum http_method m, const char *target)
{
	struct http_request r = { 0 };
	const char *q = strchr(target, '?');

	r.method = m;
	r.version = 11;
	r.target = S(target);
	r.path = (struct http_str){ target, q ? (size_t)(q - target) : strlen(target) };
	if (q)
		r.query = S(q + 1);
	r.content_length = -1;
	return r;
}

static int serve_req(const struct http_request *r)
{
	if (rep.fd >= 0)
		close(rep.fd);
	reply_init(&rep);
	static_serve(&ctx, NULL, r, &rep);
	return rep.status;
}

static int get(const char *target)
{
	struct http_request r = req(HTTP_GET, target);

	return serve_req(&r);
}

/* The value of a header the handler added, or NULL. */
static const char *hdr(const char *name)
{
	static char val[REPLY_HDR_MAX];
	size_t nl = strlen(name);

	for (const char *p = rep.hdr, *end = rep.hdr + rep.hdr_len; p < end;) {
		const char *eol = strstr(p, "\r\n");
		if (eol == NULL)
			break;
		if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':' && p[nl + 1] == ' ') {
			size_t vl = (size_t)(eol - p) - nl - 2;
			memcpy(val, p + nl + 2, vl);
			val[vl] = '\0';
			return val;
		}
		p = eol + 2;
	}
	return NULL;
}

/* The body the engine would send. */
static const char *body(void)
{
	static char buf[4096];
	size_t n = rep.len < (off_t)sizeof(buf) - 1 ? (size_t)rep.len : sizeof(buf) - 1;

	if (rep.fd >= 0) {
		ssize_t r = pread(rep.fd, buf, n, rep.off);
		n = r < 0 ? 0 : (size_t)r;
	} else if (rep.body) {
		memcpy(buf, rep.body, n);
	} else {
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

/* ---- static_path_clean ---- */

static void clean_ok(const char *in, const char *want, bool want_dir)
{
	char out[256];
	bool dir = !want_dir;
	ssize_t n = static_path_clean(in, strlen(in), out, sizeof(out), &dir);

	if (ok(n >= 0 && (size_t)n == strlen(want) && strcmp(out, want) == 0 && dir == want_dir,
	       "clean \"%s\" -> \"%s\"%s", in, want, want_dir ? " (dir)" : ""))
		return;
	printf("#   got %zd \"%s\" dir=%d\n", n, n >= 0 ? out : "", dir);
}

static void clean_bad(const char *in, size_t len)
{
	char out[256];
	bool dir;

	is_int(static_path_clean(in, len, out, sizeof(out), &dir), -400, "clean refuses \"%s\"",
	       in);
}

static void test_clean(void)
{
	char out[8];
	bool dir;

	clean_ok("/", "", true);
	clean_ok("/a/b", "a/b", false);
	clean_ok("/a/b/", "a/b", true);
	clean_ok("//a///b//", "a/b", true);
	clean_ok("/a/./b", "a/b", false);
	clean_ok("/./a", "a", false);
	clean_ok("/a/../b", "b", false);
	clean_ok("/a/b/..", "a", true);
	clean_ok("/a/.", "a", true);
	clean_ok("/a/b/../../", "", true);
	clean_ok("/a/%2e%2e/b", "b", false);
	clean_ok("/a/.%2E/b", "b", false);
	clean_ok("/%2e", "", true);
	clean_ok("/%41%62", "Ab", false);
	clean_ok("/%25", "%", false);
	clean_ok("/%252e%252e/x", "%2e%2e/x", false);
	clean_ok("/a b%20c", "a b c", false);
	clean_ok("/caf%C3%A9", "caf\xc3\xa9", false);
	clean_ok("/...", "...", false);
	clean_ok("/..a/b..", "..a/b..", false);
	clean_ok("/.hidden", ".hidden", false);
	clean_ok("/a;b=c,d", "a;b=c,d", false);

	clean_bad("", 0);
	clean_bad("a/b", 3);
	clean_bad("/..", 3);
	clean_bad("/../etc/passwd", 14);
	clean_bad("/a/../../etc", 12);
	clean_bad("/a/../..", 8);
	clean_bad("/%2e%2e/etc", 11);
	clean_bad("/%2E%2e/x", 9);
	clean_bad("/.%2e/", 6);
	clean_bad("/a%2fb", 6);
	clean_bad("/a%2Fb", 6);
	clean_bad("/..%2fetc", 9);
	clean_bad("/a\\b", 4);
	clean_bad("/..\\etc", 7);
	clean_bad("/a%5cb", 6);
	clean_bad("/a%5Cb", 6);
	clean_bad("/a%00b", 6);
	clean_bad("/a\0b", 4);
	clean_bad("/a%0ab", 6);
	clean_bad("/a%0D%0Ab", 9);
	clean_bad("/a%7fb", 6);
	clean_bad("/a\x01", 3);
	clean_bad("/a%", 3);
	clean_bad("/a%4", 4);
	clean_bad("/a%zz", 5);
	clean_bad("/a%g0", 5);
	clean_bad("/a%%41", 6);

	is_int(static_path_clean("/abcd", 5, out, 4, &dir), -400, "clean refuses what does not fit");
	is_int(static_path_clean("/abc", 4, out, 4, &dir), 3, "clean fills cap exactly");
	is_str(out, "abc", "  with the NUL");
}

/* ---- mime ---- */

static void test_mime(void)
{
	struct mime_table *t = mime_load(NULL);
	char p[PATH_MAX];

	ok(t != NULL, "built-in MIME table");
	is_str(mime_lookup(t, "a.html", 6), "text/html", "html");
	is_str(mime_lookup(t, "A.HTM", 5), "text/html", "HTM, case-insensitive");
	is_str(mime_lookup(t, "x/y.CsS", 7), "text/css", "css in a subdirectory");
	is_str(mime_lookup(t, "app.mjs", 7), "text/javascript", "mjs");
	is_str(mime_lookup(t, "f.woff2", 7), "font/woff2", "woff2");
	is_str(mime_lookup(t, "m.wasm", 6), "application/wasm", "wasm");
	is_str(mime_lookup(t, "a.tar.gz", 8), "application/gzip", "last dot wins");
	is_str(mime_lookup(t, "a.json.exe", 10) == NULL ? "none" : "some", "none", "unknown ext");
	ok(mime_lookup(t, "dir.html/file", 13) == NULL, "a dot in a directory is no extension");
	ok(mime_lookup(t, "file.", 5) == NULL, "empty extension");
	ok(mime_lookup(t, "noext", 5) == NULL, "no extension");
	ok(mime_lookup(t, "", 0) == NULL, "empty name");
	is_str(mime_lookup(t, "a.html.png", 6), "text/html", "only len bytes are read");
	mime_free(t);

	t = mime_load("/nonexistent/mime.types");
	is_str(t ? mime_lookup(t, "a.png", 5) : NULL, "image/png", "unreadable file: built-in");
	mime_free(t);

	snprintf(p, sizeof(p), "%s/mime.types", base);
	FILE *f = fopen(p, "w");
	fputs("# comment line text/x-nope nope\n"
	      "text/x-one\tone ONEB # trailing text/x-no no\n"
	      "\n"
	      "   \t\n"
	      "notatype foo bar\n"
	      "application/x-two two one dotted.ext a/b\n"
	      "text/x-three three\r\n"
	      "application/x-bare\n"
	      "application/x-last last", f);
	fclose(f);
	t = mime_load(p);
	ok(t != NULL, "mime.types loaded");
	is_str(mime_lookup(t, "a.one", 5), "text/x-one", "file entry");
	is_str(mime_lookup(t, "a.oneb", 6), "text/x-one", "upper case in the file");
	is_str(mime_lookup(t, "a.two", 5), "application/x-two", "second line");
	is_str(mime_lookup(t, "a.three", 7), "text/x-three", "CRLF line");
	is_str(mime_lookup(t, "a.last", 6), "application/x-last", "last line without newline");
	ok(mime_lookup(t, "a.nope", 6) == NULL, "comment line ignored");
	ok(mime_lookup(t, "a.no", 4) == NULL, "trailing comment ignored");
	ok(mime_lookup(t, "a.foo", 5) == NULL, "line without a type ignored");
	ok(mime_lookup(t, "a.html", 6) == NULL, "file replaces the built-in table");
	mime_free(t);

	t = mime_load("/etc/mime.types");
	if (access("/etc/mime.types", R_OK) == 0) {
		is_str(mime_lookup(t, "x.PDF", 5), "application/pdf", "system mime.types: pdf");
		is_str(mime_lookup(t, "x.html", 6), "text/html", "system mime.types: html");
		is_str(mime_lookup(t, "x.sh", 4), "application/x-sh", "duplicates: first wins");
	} else {
		for (int i = 0; i < 3; i++)
			ok(1, "# SKIP no /etc/mime.types");
	}
	mime_free(t);
}

/* ---- static_serve ---- */

/* etag: the inode only when asked, no ETag at all when off (Last-Modified still validates). */
static void test_etag_modes(void)
{
	char p[PATH_MAX], want[ETAG_MAX];
	struct http_request r;
	struct stat st;

	snprintf(p, sizeof(p), "%s/hello.txt", root);
	stat(p, &st);
	ctx.etag = ETAG_INODE_MTIME_SIZE;
	snprintf(want, sizeof(want), "\"%llx-%llx-%llx\"", (unsigned long long)st.st_ino,
		 (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
		 (unsigned long long)st.st_mtim.tv_nsec, (unsigned long long)st.st_size);
	is_int(get("/hello.txt"), 200, "etag inode-mtime-size: GET");
	is_str(hdr("ETag"), want, "  ETag names the inode");
	r = req(HTTP_GET, "/hello.txt");
	r.if_none_match = S(etag_hello);
	is_int(serve_req(&r), 200, "  the default's tag does not match it");
	ctx.etag = ETAG_OFF;
	is_int(get("/hello.txt"), 200, "etag off: GET");
	ok(hdr("ETag") == NULL, "  no ETag");
	is_str(hdr("Last-Modified"), LM0, "  Last-Modified still");
	r = req(HTTP_GET, "/hello.txt");
	r.if_none_match = S(etag_hello);
	is_int(serve_req(&r), 200, "  no tag matches");
	r = req(HTTP_GET, "/hello.txt");
	r.if_none_match = S("*");
	is_int(serve_req(&r), 304, "  but \"*\" does");
	ok(hdr("ETag") == NULL, "  and its 304 has no ETag");
	ctx.etag = ETAG_MTIME_SIZE;
	is_int(get("/hello.txt"), 200, "etag mtime-size (default)");
	is_str(hdr("ETag"), etag_hello, "  ETag is mtime-size");
}

static void test_basic(void)
{
	char get_hdr[REPLY_HDR_MAX];
	struct http_request r;

	is_int(get("/hello.txt"), 200, "GET /hello.txt");
	is_str(hdr("Content-Type"), "text/plain; charset=utf-8", "  Content-Type with charset");
	is_str(hdr("Last-Modified"), LM0, "  Last-Modified");
	is_str(hdr("ETag"), etag_hello, "  ETag");
	is_str(hdr("Accept-Ranges"), "bytes", "  Accept-Ranges");
	ok(hdr("Content-Range") == NULL, "  no Content-Range");
	is_int(rep.len, 14, "  length");
	is_int(rep.off, 0, "  offset");
	ok(rep.fd >= 0 && !rep.no_body, "  body from the file");
	is_str(body(), "Hello, world!\n", "  body");
	memcpy(get_hdr, rep.hdr, rep.hdr_len);
	get_hdr[rep.hdr_len] = '\0';

	r = req(HTTP_HEAD, "/hello.txt");
	is_int(serve_req(&r), 200, "HEAD /hello.txt");
	ok(rep.no_body, "  no body");
	is_int(rep.len, 14, "  Content-Length as for GET");
	is_str(rep.hdr, get_hdr, "  same header fields as GET");

	is_int(get("/"), 200, "GET / serves the index");
	is_str(body(), "<p>root</p>\n", "  root index body");
	is_str(hdr("Content-Type"), "text/html; charset=utf-8", "  index type");
	is_int(get("/hello.txt?x=1"), 200, "query ignored for files");
	is_int(get("/space%20name.txt"), 200, "percent-encoded space");
	is_str(body(), "space\n", "  its body");
	is_int(get("/sub/page.HTML"), 200, "upper-case extension");
	is_str(hdr("Content-Type"), "text/html; charset=utf-8", "  is still text/html");
	is_int(get("/data.bin"), 200, "unknown extension");
	is_str(hdr("Content-Type"), "application/octet-stream", "  default type, no charset");
	is_int(get("/noext"), 200, "no extension");
	is_str(hdr("Content-Type"), "application/octet-stream", "  default type");
	ctx.default_type = NULL;
	is_int(get("/unknown.zzz"), 200, "no default type");
	ok(hdr("Content-Type") == NULL, "  no Content-Type at all");
	ctx.default_type = "application/octet-stream";
}

static void test_errors(void)
{
	struct http_request r;

	is_int(get("/missing"), 404, "missing file");
	is_str(hdr("Content-Type"), "text/html; charset=utf-8", "  error page type");
	ok(rep.fd < 0 && rep.len > 0 && strstr(body(), "404") != NULL, "  error page body");
	is_int(get("/missing/deeper"), 404, "missing directory");
	is_int(get("/hello.txt/"), 404, "a file with a trailing slash");
	is_int(get("/hello.txt/x"), 404, "a file used as a directory");
	is_int(get("/fifo"), 404, "a FIFO is not served (and does not block)");
	r = req(HTTP_HEAD, "/missing");
	is_int(serve_req(&r), 404, "HEAD of a missing file");
	ok(rep.no_body, "  no body");
	if (geteuid() == 0) {
		ok(1, "# SKIP unreadable file: running as root");
	} else {
		is_int(get("/secret.txt"), 403, "unreadable file");
	}
}

/* A request whose target is its own test name (targets are full of '%'). */
static void expect(const char *target, int status)
{
	is_int(get(target), status, "GET %s", target);
}

static void test_traversal(void)
{
	expect("/../hello.txt", 400);
	expect("/../root/hello.txt", 400);
	expect("/%2e%2e/root/hello.txt", 400);
	expect("/sub/../../root/hello.txt", 400);
	expect("/sub/%2e%2e/hello.txt", 200);
	is_str(body(), "Hello, world!\n", "  and finds the file");
	expect("/sub/./../hello.txt", 200);
	expect("/..%2froot/hello.txt", 400);
	expect("/sub%2findex.html", 400);
	expect("/..\\hello.txt", 400);
	expect("/sub%5c..%5chello.txt", 400);
	expect("/hello.txt%00.png", 400);
	expect("/hello%0a.txt", 400);
	expect("/hello.txt%", 400);
	expect("//hello.txt", 200);
	expect("/sub//index.html", 200);
	expect("/%2568ello.txt", 404);

	is_int(get("/link-in"), 200, "symlink inside the root");
	is_str(body(), "Hello, world!\n", "  target's body");
	is_str(hdr("Content-Type"), "application/octet-stream", "  type from the requested name");
	is_int(get("/link-dotdot"), 200, "symlink with .. that stays inside");
	is_int(get("/link-dir/"), 200, "symlink to a directory inside");
	is_str(body(), "<p>sub</p>\n", "  its index");
	is_int(get("/link-dir"), 301, "symlink to a directory without slash");
	is_int(get("/link-out"), 404, "relative symlink out of the root");
	is_int(get("/link-abs"), 404, "absolute symlink out of the root");
	is_int(get("/link-magic"), 404, "symlink through /proc magic");
	ctx.follow_symlinks = true;
	is_int(get("/link-out"), 200, "follow_symlinks: relative symlink out");
	is_str(body(), "secret\n", "  outside body");
	is_int(get("/link-abs"), 200, "follow_symlinks: absolute symlink out");
	is_int(get("/link-in"), 200, "follow_symlinks: symlink inside");
	is_int(get("/../outside/secret.txt"), 400, "follow_symlinks: .. still refused");
	ctx.follow_symlinks = false;
}

/* Without openat2 (ENOSYS): the component walk keeps the root, and refuses every symlink. */
static void test_no_openat2(void)
{
	no_openat2 = true;
	is_int(get("/hello.txt"), 200, "no openat2: a file");
	is_str(body(), "Hello, world!\n", "  its body");
	is_int(get("/sub/page.HTML"), 200, "no openat2: a file in a directory");
	is_int(get("//sub//index.html"), 200, "no openat2: empty segments");
	is_int(get("/"), 200, "no openat2: the root's index");
	is_str(body(), "<p>root</p>\n", "  its body");
	is_int(get("/sub"), 301, "no openat2: directory without slash");
	is_int(get("/sub/"), 200, "no openat2: a directory's index");
	is_str(body(), "<p>sub</p>\n", "  its body");
	is_int(get("/nope.txt"), 404, "no openat2: missing file");
	is_int(get("/sub/nope/x"), 404, "no openat2: missing directory");
	is_int(get("/hello.txt/x"), 404, "no openat2: a file as a directory");
	is_int(get("/fifo"), 404, "no openat2: a FIFO");
	is_int(get("/../outside/secret.txt"), 400, "no openat2: .. refused");
	is_int(get("/link-out"), 404, "no openat2: relative symlink out of the root");
	is_int(get("/link-abs"), 404, "no openat2: absolute symlink out of the root");
	is_int(get("/link-magic"), 404, "no openat2: symlink through /proc magic");
	is_int(get("/link-in"), 404, "no openat2: stricter: a symlink inside is refused too");
	is_int(get("/link-dir/"), 404, "no openat2: ... and a symlinked directory");
	is_int(get("/link-dir/index.html"), 404, "no openat2: ... also in the middle of a path");
	ctx.follow_symlinks = true;
	is_int(get("/link-out"), 200, "no openat2, follow_symlinks: symlink out");
	is_str(body(), "secret\n", "  outside body");
	is_int(get("/link-dir/index.html"), 200, "no openat2, follow_symlinks: symlinked dir");
	is_int(get("/../outside/secret.txt"), 400, "no openat2, follow_symlinks: .. refused");
	ctx.follow_symlinks = false;
	no_openat2 = false;
	is_int(get("/link-in"), 200, "openat2 again: a symlink inside is served");
}

/*
 * A seccomp filter answering ENOSYS to openat2, as systemd's may: the first request finds
 * out and falls back for good. Last, as the filter stays for the rest of the process.
 */
static void test_openat2_enosys(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(filter) / sizeof(filter[0]), filter };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		ok(1, "# SKIP cannot install a seccomp filter");
		return;
	}
	ok(syscall(SYS_openat2, -1, "", NULL, 0) < 0 && errno == ENOSYS,
	   "seccomp: openat2 now fails with ENOSYS");
	is_int(no_openat2, 0, "  the fallback is not on yet");
	is_int(get("/hello.txt"), 200, "openat2 ENOSYS: the request is served all the same");
	is_int(no_openat2, 1, "  and the fallback is on from now on");
	is_int(get("/link-out"), 404, "openat2 ENOSYS: a symlink out of the root is refused");
	is_int(get("/sub/"), 200, "openat2 ENOSYS: a directory's index");
}

static void test_directories(void)
{
	is_int(get("/sub"), 301, "directory without slash");
	is_str(hdr("Location"), "/sub/", "  Location");
	is_int(get("/sub?a=1&b"), 301, "with a query");
	is_str(hdr("Location"), "/sub/?a=1&b", "  Location keeps the query");
	is_int(get("/sub?"), 301, "with an empty query");
	is_str(hdr("Location"), "/sub/?", "  Location keeps the '?'");
	is_int(get("/s%75b"), 301, "encoded name");
	is_str(hdr("Location"), "/s%75b/", "  Location keeps the raw path");
	is_int(get("//sub"), 301, "leading double slash");
	is_str(hdr("Location"), "/sub/", "  Location is not a network-path reference");
	char target[1600] = "";
	for (int i = 0; i < 2; i++) {
		strcat(target, "/");
		for (int j = 0; j < 255; j++)
			strcat(target, "%61");
	}
	is_int(get(target), 414, "Location too long for the head");
	ok(hdr("Location") == NULL, "  no truncated Location");
	target[strlen(target) - 3 * 255 - 1] = '\0';
	is_int(get(target), 301, "long Location that fits");
	is_int((long long)strlen(hdr("Location")), 1 + 3 * 255 + 1, "  whole Location");
	is_int(get("/sub/."), 200, "\"/sub/.\" is the directory");
	is_int(get("/sub/"), 200, "directory with slash");
	is_str(body(), "<p>sub</p>\n", "  index.html");
	is_int(get("/idxdir/"), 200, "second index name");
	is_str(body(), "<p>htm</p>\n", "  index.htm");
	is_int(get("/idxdir2/"), 403, "index name that is a directory");
	is_int(get("/noindex/"), 403, "no index, no listing");

	ctx.directory_listing = true;
	is_int(get("/noindex/"), 200, "listing");
	const char *b = body();
	is_str(hdr("Content-Type"), "text/html; charset=utf-8", "  listing type");
	ok(rep.fd >= 0 && rep.len == (off_t)strlen(b), "  body from a memfd, sent as a file");
	ok(strstr(b, "<title>Index of /noindex/</title>") != NULL, "  title");
	ok(strstr(b, "<a href=\"a.txt\">a.txt</a>") != NULL, "  plain name");
	ok(strstr(b, "<a href=\"%3Cb%26c%3E.txt\">&lt;b&amp;c&gt;.txt</a>") != NULL,
	   "  escaped name");
	ok(strstr(b, "<a href=\"d/\">d/</a>") != NULL, "  subdirectory");
	ok(strstr(b, "hidden") == NULL, "  dot files left out");
	ok(strstr(b, "</html>\n") != NULL, "  complete page");
	ok(strstr(b, "<a href=\"%3Cb%26c%3E.txt\">") < strstr(b, "<a href=\"a.txt\">") &&
	   strstr(b, "<a href=\"a.txt\">") < strstr(b, "<a href=\"d/\">"), "  sorted by name");
	is_int(get("/many/"), 200, "long listing");
	b = body();
	ok(strstr(b, "-00.txt</a>") && strstr(b, "-39.txt</a>") && !strstr(b, "&hellip;") &&
	   strstr(b, "</ul></body></html>\n"), "  every entry, none left out");
	strcpy(target, "/");
	for (int i = 0; i < 80; i++)
		strcat(target, "%22");
	strcat(target, "/");
	is_int(get(target), 200, "listing of a deep, heavily escaped path");
	b = body();
	ok(strstr(b, "</title>") && strstr(b, "</ul></body></html>\n"), "  head and tail fit");
	ok(strstr(b, "Index of /&quot;") && strstr(b, "&quot;&quot;/</title>"),
	   "  title holds the whole path");
	is_int(get("/sub/"), 200, "listing does not hide an index");
	is_str(body(), "<p>sub</p>\n", "  index.html");
	ctx.directory_listing = false;
}

/* hidden_files: what a cleaned path's components make hidden, then what is served. */
static void test_hidden(void)
{
	static const struct { const char *path; bool hidden; } paths[] = {
		{ "", false }, { "a", false }, { "a.b", false }, { "a/b.", false },
		{ ".git", true }, { ".git/config", true }, { ".htpasswd", true },
		{ "a/.hidden/x", true }, { "a/b/.c", true }, { "a/..b", true },
		{ ".well-known", false }, { ".well-known/x", false },
		{ ".well-known/acme-challenge/t0k-_", false }, { ".well-known/.x", true },
		{ ".well-knownx", true }, { ".well-known.x/y", true }, { "x/.well-known/y", true },
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		is_int(static_path_hidden(paths[i].path, strlen(paths[i].path)), paths[i].hidden,
		       "hidden \"%s\"", paths[i].path);

	static const char *const denied[] = { "/.git/config", "/.htpasswd", "/a/.hidden/x",
		"/%2egit/config", "/a/%2Ehidden/x", "/.git/", "/a/.hidden/", "/.well-known/.x" };

	ok(!ctx.hidden_files, "hidden_files: deny unless set");
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		is_int(get(denied[i]), 404, "deny: %s is 404", denied[i]);
	is_int(get("/.well-known/x"), 200, "deny: /.well-known/x served");
	is_str(body(), "wk\n", "  its content");
	is_int(get("/.well-known/acme-challenge/tok"), 200, "deny: an ACME challenge served");
	is_int(get("/a/visible"), 200, "deny: a visible file beside hidden ones served");

	ctx.hidden_files = true;
	is_int(get("/.git/config"), 200, "allow: /.git/config served");
	is_str(body(), "[core]\n", "  its content");
	is_int(get("/.htpasswd"), 200, "allow: /.htpasswd served");
	is_int(get("/a/.hidden/x"), 200, "allow: /a/.hidden/x served");
	is_int(get("/%2egit/config"), 200, "allow: encoded dot served");
	is_int(get("/.well-known/.x"), 200, "allow: a dot file under /.well-known/ served");
	ctx.directory_listing = true;
	is_int(get("/a/"), 200, "allow: listing");
	ok(strstr(body(), "href=\".hidden/\"") && strstr(body(), "href=\"visible\"") &&
	   !strstr(body(), "href=\"./\"") && !strstr(body(), "href=\"../\""),
	   "  lists dot files, never . or ..");
	ctx.hidden_files = false;
	is_int(get("/a/"), 200, "deny: listing");
	ok(!strstr(body(), ".hidden") && strstr(body(), "href=\"visible\""),
	   "  leaves dot files out");
	ctx.directory_listing = false;
}

#define BIG_DIR_N 3000

/* The name of entry i of the big directory: varied lengths and bytes that need escaping. */
static void big_name(int i, char *out)
{
	static const char *const parts[] = { "a", "Z", "&", "<", ">", "\"", "'", " ", "%", "#",
		"?", "=", "+", ";", "\xc3\xa9", "~", "-", "_", "9", "\t" };
	unsigned h = (unsigned)i * 2654435761u;
	int n = snprintf(out, NAME_MAX, "%s", parts[h % 20]);

	/* A leading part from a hash, so that creation order is not the sorted order. */
	for (unsigned k = 0; k < (h >> 8) % 60; k++)
		n += snprintf(out + n, (size_t)(NAME_MAX - n), "%s", parts[(h >> 16) % 19 + k % 2]);
	snprintf(out + n, (size_t)(NAME_MAX - n), "#%d", i);
}

/* The whole body the engine would send, malloc'ed and NUL-terminated. */
static char *body_all(void)
{
	char *b = malloc((size_t)rep.len + 1);
	ssize_t n = rep.fd >= 0 ? pread(rep.fd, b, (size_t)rep.len, rep.off) : -1;

	b[n < 0 ? 0 : n] = '\0';
	return b;
}

/* Undoes the listing's HTML escaping of a link's text; NULL for an unknown entity. */
static char *html_unescape(const char *s, size_t n, char *out)
{
	static const char *const ents[][2] = { { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
		{ "&quot;", "\"" }, { "&#39;", "'" } };
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t k;

		if (s[i] != '&') {
			out[o++] = s[i++];
			continue;
		}
		for (k = 0; k < 5 && strncmp(s + i, ents[k][0], strlen(ents[k][0])) != 0; k++)
			;
		if (k == 5)
			return NULL;
		out[o++] = ents[k][1][0];
		i += strlen(ents[k][0]);
	}
	out[o] = '\0';
	return out;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 3,000 entries: each listed exactly once, sorted, its link and text escaped. */
static void test_big_listing(void)
{
	static char *want[BIG_DIR_N];
	char p[PATH_MAX], name[NAME_MAX + 1], text[NAME_MAX + 1], href[NAME_MAX + 1];
	size_t seen = 0, in_order = 0, href_ok = 0, found = 0;
	int files = 0;

	xmkdir("big");
	for (int i = 0; i < BIG_DIR_N; i++) {
		big_name(i, name);
		snprintf(p, sizeof(p), "big/%s", name);
		if (i % 100 == 7) {
			xmkdir(p);
		} else {
			xwrite(p, "x", 1);
			files++;
		}
		want[i] = strdup(name);
	}
	xwrite("big/.dotfile", "x", 1);
	qsort(want, BIG_DIR_N, sizeof(want[0]), cmp_str);

	ctx.directory_listing = true;
	is_int(get("/big/"), 200, "listing of %d entries", BIG_DIR_N);
	char *b = body_all(), *prev = NULL;

	ok(strstr(b, "</ul></body></html>\n") != NULL && strlen(b) == (size_t)rep.len,
	   "  the page is complete, its length as announced (%lld bytes)", (long long)rep.len);
	for (char *q = b; (q = strstr(q, "<li><a href=\"")) != NULL; seen++) {
		char *h = q + 13, *he = strchr(h, '"'), *t = he + 2, *te = strstr(t, "</a></li>");
		char *u = html_unescape(t, (size_t)(te - t), text);
		size_t hl = 0;

		q = te;
		if (!u)
			break;
		size_t tl = strlen(text);
		bool dir = tl && text[tl - 1] == '/';

		if (dir)
			text[--tl] = '\0';
		for (char *x = h; x < he; x++) {
			if (*x == '%' && he - x >= 3) {
				href[hl++] = (char)strtol((char[3]){ x[1], x[2], 0 }, NULL, 16);
				x += 2;
			} else {
				href[hl++] = *x;
			}
		}
		href[hl] = '\0';
		if (dir && hl && href[hl - 1] == '/')
			href[--hl] = '\0';
		if (seen < BIG_DIR_N && strcmp(text, want[seen]) == 0)
			found++;
		if (strcmp(href, text) == 0 && strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
		    "QRSTUVWXYZ0123456789-._~%/") == (size_t)(he - h))
			href_ok++;
		if (!prev || strcmp(prev, text) < 0)
			in_order++;
		free(prev);
		prev = strdup(text);
	}
	free(prev);
	is_int(seen, BIG_DIR_N, "  as many entries as names, the dot file left out");
	is_int(found, BIG_DIR_N, "  entry i is the i-th name in sorted order (each exactly once)");
	is_int(in_order, BIG_DIR_N, "  strictly increasing: no name twice");
	is_int(href_ok, BIG_DIR_N, "  every link percent-encodes to the same name");
	ok(strstr(b, "&lt;") && strstr(b, "&#39;") && strstr(b, "%C3%A9") && !strstr(b, "<a href=\".")
	   && strstr(b, "/\">"), "  escaped names, directories marked");
	ok(files > 0 && files < BIG_DIR_N, "  files and directories both listed");
	free(b);
	is_int(get("/big/?x"), 200, "listing again");
	is_int(rep.len > 0 && rep.fd >= 0, 1, "  a fresh page");
	struct http_request hr = req(HTTP_HEAD, "/big/");

	is_int(serve_req(&hr), 200, "HEAD of a listing");
	ok(rep.no_body && rep.len > 0, "  length announced, no body");
	ctx.directory_listing = false;
	for (int i = 0; i < BIG_DIR_N; i++)
		free(want[i]);
}

static void cond(const char *name, enum http_method m, int want, const char *im,
		 const char *ius, const char *inm, const char *ims)
{
	struct http_request r = req(m, "/hello.txt");

	if (im)
		r.if_match = S(im);
	if (ius)
		r.if_unmodified_since = S(ius);
	if (inm)
		r.if_none_match = S(inm);
	if (ims)
		r.if_modified_since = S(ims);
	is_int(serve_req(&r), want, "%s", name);
}

static void test_conditionals(void)
{
	char list[256], weak[ETAG_MAX + 2], future[HTTP_DATE_LEN + 1];
	const char *E = etag_hello;
	const char *before = "Sat, 05 Nov 1994 08:49:37 GMT";
	const char *after = "Mon, 07 Nov 1994 08:49:37 GMT";

	snprintf(weak, sizeof(weak), "W/%s", E);
	snprintf(list, sizeof(list), "\"a\", ,W/\"b\" ,%s", E);
	http_date_format(time(NULL) + 86400, future);

	/* If-Match: strong comparison. */
	cond("If-Match: own tag", HTTP_GET, 200, E, NULL, NULL, NULL);
	cond("If-Match: *", HTTP_GET, 200, "*", NULL, NULL, NULL);
	cond("If-Match: list containing the tag", HTTP_GET, 200, list, NULL, NULL, NULL);
	cond("If-Match: other tag", HTTP_GET, 412, "\"other\"", NULL, NULL, NULL);
	cond("If-Match: weak own tag fails strong comparison", HTTP_GET, 412, weak, NULL, NULL,
	     NULL);
	cond("If-Match: malformed", HTTP_GET, 412, "garbage", NULL, NULL, NULL);
	cond("If-Match: unterminated", HTTP_GET, 412, "\"abc", NULL, NULL, NULL);
	cond("If-Match: * in a list is malformed", HTTP_GET, 412, "*, \"x\"", NULL, NULL, NULL);
	cond("If-Match: empty", HTTP_GET, 412, "", NULL, NULL, NULL);
	snprintf(list, sizeof(list), "%s \"x\"", E);
	cond("If-Match: missing comma", HTTP_GET, 412, list, NULL, NULL, NULL);
	snprintf(list, sizeof(list), "%s, \"a b\"", E);
	cond("If-Match: space in a tag", HTTP_GET, 412, list, NULL, NULL, NULL);
	is_int(rep.len > 0 && rep.fd < 0, 1, "  412 is an error page");

	/* If-Unmodified-Since, only without If-Match. */
	cond("IUS: later", HTTP_GET, 200, NULL, after, NULL, NULL);
	cond("IUS: equal", HTTP_GET, 200, NULL, LM0, NULL, NULL);
	cond("IUS: earlier", HTTP_GET, 412, NULL, before, NULL, NULL);
	cond("IUS: invalid date ignored", HTTP_GET, 200, NULL, "yesterday", NULL, NULL);
	cond("IUS: RFC 850 earlier", HTTP_GET, 412, NULL, "Saturday, 05-Nov-94 08:49:37 GMT",
	     NULL, NULL);
	cond("IUS ignored when If-Match passes", HTTP_GET, 200, E, before, NULL, NULL);
	cond("If-Match fails whatever IUS says", HTTP_GET, 412, "\"x\"", after, NULL, NULL);

	/* If-None-Match: weak comparison. */
	cond("INM: own tag", HTTP_GET, 304, NULL, NULL, E, NULL);
	is_str(hdr("ETag"), E, "  304 has ETag");
	is_str(hdr("Last-Modified"), LM0, "  304 has Last-Modified");
	ok(hdr("Content-Type") == NULL && hdr("Accept-Ranges") == NULL, "  and no Content-Type");
	ok(rep.no_body && rep.fd < 0 && rep.len == 0, "  and no body");
	cond("INM: weak own tag", HTTP_GET, 304, NULL, NULL, weak, NULL);
	cond("INM: *", HTTP_GET, 304, NULL, NULL, "*", NULL);
	snprintf(list, sizeof(list), "\"a\", %s", weak);
	cond("INM: list", HTTP_GET, 304, NULL, NULL, list, NULL);
	cond("INM: other tag", HTTP_GET, 200, NULL, NULL, "\"other\"", NULL);
	cond("INM: malformed matches nothing", HTTP_GET, 200, NULL, NULL, "garbage", NULL);
	snprintf(list, sizeof(list), "%s, garbage", E);
	cond("INM: malformed list matches nothing", HTTP_GET, 200, NULL, NULL, list, NULL);
	cond("INM: empty list", HTTP_GET, 200, NULL, NULL, "", NULL);
	cond("INM: HEAD", HTTP_HEAD, 304, NULL, NULL, E, NULL);
	ok(rep.no_body, "  no body");

	/* If-Modified-Since, only without If-None-Match. */
	cond("IMS: equal", HTTP_GET, 304, NULL, NULL, NULL, LM0);
	is_str(hdr("ETag"), E, "  304 has ETag");
	cond("IMS: later", HTTP_GET, 304, NULL, NULL, NULL, after);
	cond("IMS: earlier", HTTP_GET, 200, NULL, NULL, NULL, before);
	cond("IMS: future date ignored", HTTP_GET, 200, NULL, NULL, NULL, future);
	cond("IMS: invalid date ignored", HTTP_GET, 200, NULL, NULL, NULL, "Sun, 06 Nov 1994");
	cond("IMS: RFC 850", HTTP_GET, 304, NULL, NULL, NULL, "Sunday, 06-Nov-94 08:49:37 GMT");
	cond("IMS: asctime", HTTP_GET, 304, NULL, NULL, NULL, "Sun Nov  6 08:49:37 1994");
	cond("IMS: HEAD", HTTP_HEAD, 304, NULL, NULL, NULL, after);
	cond("IMS ignored when INM does not match", HTTP_GET, 200, NULL, NULL, "\"x\"", after);
	cond("IMS does not rescue a matching INM", HTTP_GET, 304, NULL, NULL, E, before);

	/* Precedence between the steps. */
	cond("If-Match passes, INM matches: 304", HTTP_GET, 304, E, NULL, E, NULL);
	cond("If-Match fails before INM", HTTP_GET, 412, "\"x\"", NULL, E, NULL);
	cond("IUS fails before INM", HTTP_GET, 412, NULL, before, E, NULL);
	cond("IUS fails before IMS", HTTP_GET, 412, NULL, before, NULL, after);
	cond("all four pass", HTTP_GET, 200, E, NULL, "\"x\"", NULL);
}

static void range(const char *name, const char *target, const char *range_v,
		  const char *if_range, int want, const char *content_range, long long len)
{
	struct http_request r = req(HTTP_GET, target);

	if (range_v)
		r.range = S(range_v);
	if (if_range)
		r.if_range = S(if_range);
	is_int(serve_req(&r), want, "%s", name);
	if (content_range)
		is_str(hdr("Content-Range"), content_range, "  Content-Range");
	else
		ok(hdr("Content-Range") == NULL, "  no Content-Range");
	if (len >= 0)
		is_int(rep.len, len, "  length");
}

static void test_ranges(void)
{
	char weak[ETAG_MAX + 2];
	struct http_request r;

	range("bytes=0-0", "/data.bin", "bytes=0-0", NULL, 206, "bytes 0-0/100", 1);
	is_str(body(), "A", "  body");
	is_str(hdr("ETag"), etag_data, "  206 has ETag");
	is_str(hdr("Last-Modified"), LM0, "  206 has Last-Modified");
	is_str(hdr("Accept-Ranges"), "bytes", "  206 has Accept-Ranges");
	ok(hdr("Content-Type") != NULL, "  206 has Content-Type");
	range("bytes=10-19", "/data.bin", "bytes=10-19", NULL, 206, "bytes 10-19/100", 10);
	is_int(rep.off, 10, "  offset");
	is_str(body(), "KLMNOPQRST", "  body");
	range("open range", "/data.bin", "bytes=90-", NULL, 206, "bytes 90-99/100", 10);
	is_int(rep.off, 90, "  offset");
	range("suffix", "/data.bin", "bytes=-10", NULL, 206, "bytes 90-99/100", 10);
	is_str(body(), "MNOPQRSTUV", "  body");
	range("suffix longer than the file", "/data.bin", "bytes=-1000", NULL, 206,
	      "bytes 0-99/100", 100);
	range("last-pos past the end", "/data.bin", "bytes=50-1000", NULL, 206, "bytes 50-99/100",
	      50);
	range("last byte", "/data.bin", "bytes=99-99", NULL, 206, "bytes 99-99/100", 1);
	range("whole file as a range", "/data.bin", "bytes=0-", NULL, 206, "bytes 0-99/100", 100);
	range("unit is case-insensitive", "/data.bin", "BYTES=0-1", NULL, 206, "bytes 0-1/100", 2);
	range("empty list elements", "/data.bin", "bytes=,0-1, ", NULL, 206, "bytes 0-1/100", 2);
	range("huge last-pos", "/data.bin", "bytes=0-99999999999999999999999", NULL, 206,
	      "bytes 0-99/100", 100);

	range("first-pos = length", "/data.bin", "bytes=100-", NULL, 416, "bytes */100", -1);
	ok(rep.fd < 0 && rep.len > 0, "  416 is an error page");
	range("first-pos past the end", "/data.bin", "bytes=200-300", NULL, 416, "bytes */100", -1);
	range("huge first-pos", "/data.bin", "bytes=99999999999999999999-", NULL, 416,
	      "bytes */100", -1);
	range("suffix of 0", "/data.bin", "bytes=-0", NULL, 416, "bytes */100", -1);
	range("several unsatisfiable", "/data.bin", "bytes=200-,300-", NULL, 416, "bytes */100",
	      -1);

	range("several ranges: whole file", "/data.bin", "bytes=0-1,5-6", NULL, 200, NULL, 100);
	range("overlapping ranges: whole file", "/data.bin", "bytes=0-10,5-20", NULL, 200, NULL,
	      100);
	range("one satisfiable of several: whole file", "/data.bin", "bytes=0-1,500-", NULL, 200,
	      NULL, 100);
	range("last < first: ignored", "/data.bin", "bytes=5-1", NULL, 200, NULL, 100);
	range("not a range: ignored", "/data.bin", "bytes=abc", NULL, 200, NULL, 100);
	range("other unit: ignored", "/data.bin", "items=0-1", NULL, 200, NULL, 100);
	range("empty set: ignored", "/data.bin", "bytes=", NULL, 200, NULL, 100);
	range("no '=': ignored", "/data.bin", "bytes 0-1", NULL, 200, NULL, 100);
	range("space before '=': ignored", "/data.bin", "bytes =0-1", NULL, 200, NULL, 100);
	range("trailing junk: ignored", "/data.bin", "bytes=0-1x", NULL, 200, NULL, 100);
	range("three numbers: ignored", "/data.bin", "bytes=1-2-3", NULL, 200, NULL, 100);
	range("just '-': ignored", "/data.bin", "bytes=-", NULL, 200, NULL, 100);
	range("negative: ignored", "/data.bin", "bytes=--1", NULL, 200, NULL, 100);
	range("a bad spec spoils the set", "/data.bin", "bytes=0-1,x", NULL, 200, NULL, 100);

	r = req(HTTP_HEAD, "/data.bin");
	r.range = S("bytes=0-0");
	is_int(serve_req(&r), 200, "HEAD ignores Range");
	ok(rep.len == 100 && rep.no_body && hdr("Content-Range") == NULL, "  whole length, no body");

	snprintf(weak, sizeof(weak), "W/%s", etag_data);
	range("If-Range: own tag", "/data.bin", "bytes=0-0", etag_data, 206, "bytes 0-0/100", 1);
	range("If-Range: other tag", "/data.bin", "bytes=0-0", "\"x\"", 200, NULL, 100);
	range("If-Range: weak tag never matches", "/data.bin", "bytes=0-0", weak, 200, NULL, 100);
	range("If-Range: Last-Modified", "/data.bin", "bytes=0-0", LM0, 206, "bytes 0-0/100", 1);
	range("If-Range: other date", "/data.bin", "bytes=0-0", "Mon, 07 Nov 1994 08:49:37 GMT",
	      200, NULL, 100);
	range("If-Range: garbage", "/data.bin", "bytes=0-0", "garbage", 200, NULL, 100);
	range("If-Range: unsatisfiable range is ignored too", "/data.bin", "bytes=500-", "\"x\"",
	      200, NULL, 100);
	range("If-Range without Range", "/data.bin", NULL, etag_data, 200, NULL, 100);

	r = req(HTTP_GET, "/data.bin");
	r.range = S("bytes=0-0");
	r.if_none_match = S(etag_data);
	is_int(serve_req(&r), 304, "INM is evaluated before Range");
	r = req(HTTP_GET, "/data.bin");
	r.range = S("bytes=0-0");
	r.if_match = S("\"x\"");
	is_int(serve_req(&r), 412, "If-Match is evaluated before Range");
	r = req(HTTP_GET, "/data.bin");
	r.range = S("bytes=500-");
	r.if_match = S(etag_data);
	is_int(serve_req(&r), 416, "passing If-Match, unsatisfiable Range");

	range("empty file", "/empty.txt", NULL, NULL, 200, NULL, 0);
	range("empty file, bytes=0-", "/empty.txt", "bytes=0-", NULL, 416, "bytes */0", -1);
	range("empty file, bytes=0-0", "/empty.txt", "bytes=0-0", NULL, 416, "bytes */0", -1);
	range("empty file, bytes=-0", "/empty.txt", "bytes=-0", NULL, 416, "bytes */0", -1);
	range("empty file, bytes=-5: whole (empty) file", "/empty.txt", "bytes=-5", NULL, 200,
	      NULL, 0);
}

/* A modification time in the future is reported as now (RFC 9110 section 8.8.2.1). */
static void test_future_mtime(void)
{
	char p[PATH_MAX];
	time_t now = time(NULL), lm;
	struct timespec ts[2] = { { now + 3600, 0 }, { now + 3600, 0 } };
	struct http_request r;

	xwrite("future.txt", "f", 1);
	snprintf(p, sizeof(p), "%s/future.txt", root);
	utimensat(AT_FDCWD, p, ts, 0);
	is_int(get("/future.txt"), 200, "file from the future");
	ok(http_date_parse(hdr("Last-Modified"), HTTP_DATE_LEN, &lm) && lm >= now &&
	   lm <= time(NULL), "  Last-Modified is now, not later");

	/* A date that is "now" is no strong validator: If-Range cannot match it. */
	r = req(HTTP_GET, "/future.txt");
	r.range = S("bytes=0-0");
	r.if_range = S(hdr("Last-Modified"));
	is_int(serve_req(&r), 200, "  If-Range with a weak date: whole file");
}

int main(void)
{
	static struct docroot dr;
	char err[256];

	setup();
	if (docroot_open(&dr, root, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(2);
	}
	ctx.root = &dr;
	static char *const index[] = { "index.html", "index.htm" };
	ctx.index = index;
	ctx.nindex = 2;
	ctx.default_type = "application/octet-stream";
	ctx.mime = mime_load(NULL);
	rep.fd = -1;

	test_clean();
	test_mime();
	test_basic();
	test_etag_modes();
	test_errors();
	test_traversal();
	test_no_openat2();
	test_directories();
	test_big_listing();
	test_hidden();
	test_conditionals();
	test_ranges();
	test_future_mtime();
	test_openat2_enosys();

	if (rep.fd >= 0)
		close(rep.fd);
	docroot_close(&dr);
	mime_free((struct mime_table *)ctx.mime);
	teardown();
	return done_testing();
}
