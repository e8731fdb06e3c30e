/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the pure parsers of the content options: htpasswd lines and files,
 * the strict base64 decoder of Basic credentials, and error_page entries. The file
 * parser gets each table entry whole and then as the same lines with CRLF endings and
 * without a final newline, which must not change the answer.
 */
#include <stdlib.h>

#include "../../src/base64.c"
#include "../../src/error_pages.c"
#include "../../src/htpasswd.c"
#include "tap.h"

#define BCRYPT "$2y$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"
#define SHA512 "$6$salt$IxDD3jeSOb5eB1CX5LBsqZFVkJdido3OUILO5Ifz5iwMuTS4XMS130MTSuDDl3aCI6WouIL9AjRbLCelDCy.g."
#define SHA256 "$5$salt$Gcm6FsVtF/Qa77ZKD.iwsJlCVPY0XSMgLJL0Hnww/c1"

struct line_case {
	const char *in;
	int want;		/* 1 entry, 0 skipped, -1 error */
	const char *name, *hash, *err;
};

static const struct line_case lines[] = {
	{ "alice:" BCRYPT, 1, "alice", BCRYPT, NULL },
	{ "bob:" SHA512, 1, "bob", SHA512, NULL },
	{ "carol:" SHA256 "\r", 1, "carol", SHA256, NULL },
	{ "d:$2b$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui", 1, "d",
	  "$2b$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui", NULL },
	{ "", 0, NULL, NULL, NULL },
	{ "   \t", 0, NULL, NULL, NULL },
	{ "# a comment: with colons", 0, NULL, NULL, NULL },
	{ "  # indented comment", 0, NULL, NULL, NULL },
	{ "\r", 0, NULL, NULL, NULL },
	{ "nocolon", -1, NULL, NULL, "expected \"user:hash\"" },
	{ ":" SHA512, -1, NULL, NULL, "user name is empty" },
	{ "a b:" SHA512, -1, NULL, NULL, "blank or a control" },
	{ "dave:$apr1$abcdefgh$0123456789abcdef012345", -1, NULL, NULL, "$apr1$" },
	{ "eve:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", -1, NULL, NULL, "is not bcrypt" },
	{ "eve:$1$salt$hash", -1, NULL, NULL, "is not bcrypt" },
	{ "eve:abcdefghijklm", -1, NULL, NULL, "is not bcrypt" },
	{ "eve:", -1, NULL, NULL, "is not bcrypt" },
	{ "eve:" SHA512 ":comment", -1, NULL, NULL, "second ':'" },
	{ "eve:" SHA512 " trailing", -1, NULL, NULL, "a blank" },
	{ "eve:$6$\x01", -1, NULL, NULL, "control character" },
};

static void line_tests(void)
{
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const struct line_case *t = &lines[i];
		const char *name = NULL, *hash = NULL;
		size_t nl = 0, hl = 0;
		char err[256] = "";
		int r = htpasswd_line(t->in, strlen(t->in), &name, &nl, &hash, &hl, err, sizeof(err));

		is_int(r, t->want, "line \"%s\": %d", t->in, t->want);
		if (t->want == 1)
			ok(nl == strlen(t->name) && memcmp(name, t->name, nl) == 0 &&
			   hl == strlen(t->hash) && memcmp(hash, t->hash, hl) == 0,
			   "line \"%s\": user and hash", t->in);
		if (t->err && !ok(strstr(err, t->err) != NULL, "line \"%s\": says \"%s\"", t->in,
				  t->err))
			printf("#   said \"%s\"\n", err);
	}
}

struct file_case {
	const char *in;
	int want;		/* users, or -1 */
	int bad_line;
	const char *err;
};

static const struct file_case files[] = {
	{ "", 0, 0, NULL },
	{ "alice:" BCRYPT "\n", 1, 0, NULL },
	{ "# users\n\nalice:" BCRYPT "\nbob:" SHA512 "\ncarol:" SHA256 "\n", 3, 0, NULL },
	{ "alice:" BCRYPT "\nalice:" SHA512 "\n", -1, 2, "given twice" },
	{ "alice:" BCRYPT "\n\n# x\ngarbage\nbob:" SHA512 "\n", -1, 4, "expected" },
	{ "a:" BCRYPT "\nb:$apr1$x$y\n", -1, 2, "$apr1$" },
};

/* The same text with CRLF line ends, and without its final newline. */
static char *variant(const char *in, bool crlf, bool last_nl)
{
	size_t n = strlen(in);
	char *out = malloc(2 * n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\n' && crlf)
			*o++ = '\r';
		*o++ = in[i];
	}
	if (!last_nl && o > out && o[-1] == '\n')
		o -= crlf ? 2 : 1;
	*o = '\0';
	return out;
}

static void file_tests(void)
{
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const struct file_case *t = &files[i];

		for (int v = 0; v < 4; v++) {
			char *in = variant(t->in, v & 1, !(v & 2));
			struct htpasswd h;
			int line = 0;
			char err[256] = "";
			int r = htpasswd_parse(in, strlen(in), &h, &line, err, sizeof(err));

			if (t->want < 0) {
				ok(r < 0 && line == t->bad_line && strstr(err, t->err),
				   "file %zu (%s%s): error at line %d: %s", i, v & 1 ? "CRLF" : "LF",
				   v & 2 ? ", no last newline" : "", t->bad_line, t->err);
			} else {
				ok(r == 0 && h.n == (size_t)t->want, "file %zu (%s%s): %d users", i,
				   v & 1 ? "CRLF" : "LF", v & 2 ? ", no last newline" : "", t->want);
				if (r == 0 && t->want > 0)
					ok(htpasswd_find(&h, "alice", 5) && !htpasswd_find(&h, "alic", 4) &&
					   !htpasswd_find(&h, "alicex", 6),
					   "file %zu: found by exact name", i);
				if (r == 0)
					htpasswd_free(&h);
			}
			free(in);
		}
	}
}

struct b64_case {
	const char *in;
	const char *want;	/* NULL: refused */
};

static const struct b64_case b64[] = {
	{ "", "" },
	{ "Zg==", "f" },
	{ "Zm8=", "fo" },
	{ "Zm9v", "foo" },
	{ "Zm9vYg==", "foob" },
	{ "YWxpY2U6c2VjcmV0", "alice:secret" },
	{ "+/+/", "\xfb\xff\xbf" },
	{ "Zg", NULL },			/* padding required */
	{ "Zg=", NULL },
	{ "Zh==", NULL },		/* unused bits set: a second spelling of "f" */
	{ "Zm9=", NULL },
	{ "Zg==Zg==", NULL },		/* padding only at the end */
	{ "Zm 9v", NULL },
	{ "Zm9v\n", NULL },
	{ "Zm-v", NULL },		/* base64url is another alphabet */
	{ "====", NULL },
	{ "Z===", NULL },
};

static void base64_tests(void)
{
	for (size_t i = 0; i < sizeof(b64) / sizeof(b64[0]); i++) {
		unsigned char out[64];
		ssize_t n = base64_decode(b64[i].in, strlen(b64[i].in), out, sizeof(out));

		if (b64[i].want)
			ok(n == (ssize_t)strlen(b64[i].want) && memcmp(out, b64[i].want, (size_t)n) == 0,
			   "base64 \"%s\" decodes", b64[i].in);
		else
			is_int(n, -1, "base64 \"%s\" is refused", b64[i].in);
	}
	unsigned char small[2];
	is_int(base64_decode("Zm9v", 4, small, sizeof(small)), -1, "base64: no overflow of out");
}

static void error_page_tests(void)
{
	struct error_pages *ep = calloc(1, sizeof(*ep));
	char err[256];

	is_int(error_pages_add(ep, "404 /errors/404.html", err, sizeof(err)), 0, "404 entry");
	is_int(error_pages_add(ep, "500 502\t503 /errors/5xx.html", err, sizeof(err)), 0,
	       "several statuses, blanks of both kinds");
	is_int(error_pages_add(ep, "  599 400 /edge.html  ", err, sizeof(err)), 0, "400 and 599");
	is_int(error_pages_add(ep, "404 /later.html", err, sizeof(err)), 0, "a later entry");
	is_str(error_pages_find(ep, 404), "/later.html", "... wins");
	is_str(error_pages_find(ep, 502), "/errors/5xx.html", "502 found");
	is_str(error_pages_find(ep, 599), "/edge.html", "599 found");
	is_str(error_pages_find(ep, 400), "/edge.html", "400 found");
	ok(error_pages_find(ep, 501) == NULL, "501 has none");
	ok(error_pages_find(ep, 304) == NULL && error_pages_find(ep, 600) == NULL,
	   "outside 400-599: none");
	ok(error_pages_find(NULL, 404) == NULL, "no table: none");

	static const char *const bad[] = { "", "404", "/x", "304 /x", "600 /x", "40 /x",
		"4040 /x", "404x /x", "404 x", "404 /a /b", "404 /a?b", "404 /a#b", "399 /x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(error_pages_add(ep, bad[i], err, sizeof(err)), -1, "\"%s\" refused", bad[i]);
	error_pages_free(ep);
}

int main(void)
{
	line_tests();
	file_tests();
	base64_tests();
	error_page_tests();
	return done_testing();
}
