/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for virtual hosts and locations: the Host key (host.c), the site table
 * (site.c), location patterns (location.c) and redirect substitution (http_site.c).
 * Every Host value is also sent through the request parser in a whole request fed byte
 * by byte and split at every point: what a site sees must not depend on how the head
 * was cut.
 */
#include <stdlib.h>

#include "../../src/host.c"
#include "../../src/location.c"
#include "../../src/site.c"
#include "http_parse.h"
#include "http_site.h"
#include "tap.h"

static const struct { const char *in; const char *key; } hosts[] = {
	{"example.org", "example.org"},
	{"Example.ORG", "example.org"},
	{"example.org:8080", "example.org"},
	{"example.org.", "example.org"},
	{"EXAMPLE.org.:80", "example.org"},
	{"example.org:", "example.org"},
	{"127.0.0.1:22", "127.0.0.1"},
	{"[::1]:8080", "[::1]"},
	{"[FE80::1]", "[fe80::1]"},
	{"a_b-c.example", "a_b-c.example"},
	{"", ""},
	{"a:99999", NULL},
	{"a:65536", NULL},
	{"a:65535", "a"},
	{"a:8o", NULL},
	{"a:123456", NULL},
	{"a b", NULL},
	{"user@a", NULL},
	{"a/b", NULL},
	{"::1", NULL},
	{"fe80::1", NULL},
	{"[::1", NULL},
	{"[]", NULL},
	{"[1.2.3.4]", NULL},
	{".example", NULL},
	{"a..example", NULL},
	{".", NULL},
	{"a.:", "a"},
	{"%41", NULL},
	{"a!b", NULL},
	{":80", NULL},
};

/* A 64-byte label, and a 254-byte name: both over the limits. */
static void long_names(void)
{
	char name[300], key[HOST_NAME_MAX_LEN + 2];

	memset(name, 'a', 63);
	is_int(host_normalize(name, 63, key, sizeof(key)), 63, "a 63-byte label is a name");
	memset(name, 'a', 64);
	is_int(host_normalize(name, 64, key, sizeof(key)), -400, "a 64-byte label is refused");
	for (size_t i = 0; i < 253; i++)
		name[i] = i % 2 ? '.' : 'a';
	is_int(host_normalize(name, 253, key, sizeof(key)), 253, "a 253-byte name is a name");
	name[253] = '.';
	is_int(host_normalize(name, 254, key, sizeof(key)), 253, "its final dot is dropped");
	name[253] = 'a';
	is_int(host_normalize(name, 254, key, sizeof(key)), -400, "a 254-byte name is refused");
}

/* The request parser's Host, for a head fed in two pieces split at `at` (0: bytewise). */
static bool parsed_host(const char *head, size_t len, size_t at, struct http_str *host)
{
	static struct http_field fields[16];
	const struct http_limits lim = { 1024, 4096, 16 };
	struct http_scan scan = HTTP_SCAN_INIT;
	struct http_request req = { .fields = fields };
	ssize_t r = 0;

	if (at == 0) {
		for (size_t k = 1; k <= len && r == 0; k++)
			r = http_parse_head(head, k, &lim, &scan, &req);
	} else {
		r = http_parse_head(head, at, &lim, &scan, &req);
		if (r == 0)
			r = http_parse_head(head, len, &lim, &scan, &req);
	}
	*host = req.host;
	return r > 0;
}

static void host_table(void)
{
	char key[HOST_NAME_MAX_LEN + 2], head[512];

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		const char *in = hosts[i].in, *want = hosts[i].key;
		ssize_t n = host_normalize(in, strlen(in), key, sizeof(key));

		if (want)
			is_str(n >= 0 ? key : "(refused)", want, "Host \"%s\" is key \"%s\"", in, want);
		else
			is_int(n, -400, "Host \"%s\" is refused", in);

		/* The same value in a whole request, split at every byte. */
		int len = snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", in);
		bool same = true;
		for (size_t at = 0; at < (size_t)len; at++) {
			struct http_str h;
			char k2[HOST_NAME_MAX_LEN + 2];
			if (!parsed_host(head, (size_t)len, at, &h)) {
				/* The parser refused it: then the key must be a refusal too. */
				same &= !want || !in[0];
				continue;
			}
			ssize_t m = host_normalize(h.p ? h.p : "", h.p ? h.len : 0, k2, sizeof(k2));
			same &= want ? m == n && strcmp(k2, key) == 0 : m == -400;
		}
		ok(same, "Host \"%s\" through the parser, split at every byte", in);
	}
	long_names();
}

static struct site *add(struct site_set *set, const char *name, const char *alias)
{
	struct site *s = site_add(set);

	s->name = site_strdup(set, name);
	s->naliases = alias ? 1 : 0;
	s->aliases = site_alloc(set, 2 * sizeof(char *));
	if (alias)
		s->aliases[0] = site_strdup(set, alias);
	return s;
}

static const char *lookup(const struct site_set *set, const char *host)
{
	char key[HOST_NAME_MAX_LEN + 2];
	ssize_t n = host_normalize(host, strlen(host), key, sizeof(key));

	if (n < 0)
		return "(refused)";
	const struct site *s = site_lookup(set, key, (size_t)n);
	return s->name[0] ? s->name : "(default)";
}

static void site_table(void)
{
	struct site_set set = {0};
	char err[256];
	size_t which = 0;

	add(&set, "", NULL);
	add(&set, "example.org", "www.example.org");
	add(&set, "wild", "*.example.org");
	add(&set, "deeper", "*.b.example.org");
	add(&set, "exact-b", "x.b.example.org");
	is_int(site_set_index(&set, &which, err, sizeof(err)), 0, "the names index");
	is_str(lookup(&set, "example.org"), "example.org", "an exact name");
	is_str(lookup(&set, "WWW.Example.org.:8080"), "example.org", "an alias, any case, port, dot");
	is_str(lookup(&set, "a.example.org"), "wild", "a wildcard");
	is_str(lookup(&set, "a.a.example.org"), "wild", "a wildcard covers deeper names");
	is_str(lookup(&set, "a.b.example.org"), "deeper", "the longest wildcard first");
	is_str(lookup(&set, "x.b.example.org"), "exact-b", "an exact name before any wildcard");
	is_str(lookup(&set, "b.example.org"), "wild", "*.b.example.org is not b.example.org");
	is_str(lookup(&set, "example.com"), "(default)", "no match: the default server");
	is_str(lookup(&set, ""), "(default)", "no Host: the default server");
	is_str(lookup(&set, "org"), "(default)", "a suffix alone is no match");
	set.default_site = 2;
	is_str(lookup(&set, "nothing"), "wild", "default = true moves the default");

	add(&set, "again", "WWW.example.org");
	is_int(site_set_index(&set, &which, err, sizeof(err)), -1, "a name given twice");
	is_int((long long)which, 5, "names the site that repeats it");
	ok(strstr(err, "example.org") != NULL, "and the name: %s", err);
	site_set_free(&set);

	/* A hundred sites, as the performance goal has them. */
	add(&set, "", NULL);
	char name[64];
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "site%d.example", i);
		add(&set, name, NULL);
	}
	is_int(site_set_index(&set, &which, err, sizeof(err)), 0, "100 sites index");
	bool all = true;
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "SITE%d.example", i);
		const char *got = lookup(&set, name);
		all &= strncasecmp(got, name, strlen(name)) == 0;
	}
	ok(all, "each of 100 sites is found by its name");
	site_set_free(&set);
}

static void patterns(void)
{
	static const char *const bad[] = {"x", "", "/a//b", "/a/../b", "/a/./b", "/a/..",
		"/a/.", "/a\\b", "/a[b", "/a\tb", NULL};
	static const char *const good[] = {"/", "/a", "/a/", "/assets/*", "/*.css", "/a[bc]/",
		"/.well-known/*", NULL};

	for (const char *const *p = bad; *p; p++)
		ok(location_pattern_problem(*p) != NULL, "\"%s\" can never match", *p);
	for (const char *const *p = good; *p; p++)
		ok(location_pattern_problem(*p) == NULL, "\"%s\" can match", *p);

	static const struct { const char *pattern, *path; bool match; } m[] = {
		{"/old", "/old", true}, {"/old", "/old/x", true}, {"/old", "/older", false},
		{"/old/", "/old/x", true}, {"/old/", "/old", false}, {"/", "/anything", true},
		{"/assets/*", "/assets/a/b.css", true}, {"/assets/*", "/assets", false},
		{"/assets/*", "/assets/", true}, {"/*.css", "/a/b.css", true},
		{"/*.css", "/a/b.js", false}, {"/a?c", "/abc", true}, {"/a[bc]d", "/acd", true},
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		is_int(location_match(m[i].pattern, location_is_glob(m[i].pattern), m[i].path,
				      strlen(m[i].path)), m[i].match, "\"%s\" %s \"%s\"",
		       m[i].pattern, m[i].match ? "matches" : "does not match", m[i].path);

	/* Most specific first: the longest literal beginning; prefix before glob; literals. */
	struct site s = {0};
	struct location locs[] = {
		{.pattern = "/"}, {.pattern = "/*.css"}, {.pattern = "/assets/*"},
		{.pattern = "/assets/"}, {.pattern = "/assets/img/*"}, {.pattern = "/assets/*.css"},
	};
	for (size_t i = 0; i < sizeof(locs) / sizeof(locs[0]); i++)
		locs[i].glob = location_is_glob(locs[i].pattern);
	s.locs = locs;
	s.nlocs = sizeof(locs) / sizeof(locs[0]);
	site_sort_locations(&s);
	static const struct { const char *path, *want; } pick[] = {
		{"/assets/img/a.png", "/assets/img/*"}, {"/assets/a.css", "/assets/*.css"},
		{"/assets/a.js", "/assets/"}, {"/b.css", "/*.css"}, {"/b.js", "/"},
	};
	for (size_t i = 0; i < sizeof(pick) / sizeof(pick[0]); i++) {
		const struct location *l = site_location(&s, pick[i].path, strlen(pick[i].path));
		is_str(l ? l->pattern : "(none)", pick[i].want, "%s goes to %s", pick[i].path,
		       pick[i].want);
	}
}

static void redirects(void)
{
	char url[256];
	struct http_str q = {"a=1&b=2", 7}, none = {NULL, 0};

	http_site_redirect_url("https://x.example/new/$PATH?$QUERY", "a b/c%", &q, "h", url,
			       sizeof(url));
	is_str(url, "https://x.example/new/a%20b/c%25?a=1&b=2", "$PATH encoded, $QUERY as sent");
	http_site_redirect_url("https://$HOST/$PATH$QUERY", "", &none, "h.example", url,
			       sizeof(url));
	is_str(url, "https://h.example/", "$HOST, an empty $PATH and $QUERY");
	is_int(http_site_redirect_url("$PATH", "abcdef", &none, "", url, 4), -1,
	       "a URL that does not fit");
}

int main(void)
{
	host_table();
	site_table();
	patterns();
	redirects();
	return done_testing();
}
