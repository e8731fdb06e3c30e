/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for forwarded: the client address from Forwarded / X-Forwarded-For past
 * trusted proxies. The trusted set is 10.0.0.0/8, 127.0.0.1 and 2001:db8:f::/48; every
 * case names the peer, the field lines, the address expected and why it was chosen.
 * Since field lines of one name are one list (RFC 9110 section 5.3), each value is also
 * cut into two lines at each of its list commas, and must give the same answer.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "../../src/addr.c"
#include "../../src/forwarded.c"
#include "tap.h"

#define XFF FORWARDED_XFF
#define FWD FORWARDED_RFC7239

static const struct { int family; const char *addr; unsigned prefix; } trusted_set[] = {
	{ AF_INET, "10.0.0.0", 8 },
	{ AF_INET, "127.0.0.1", 32 },
	{ AF_INET6, "2001:db8:f::", 48 },
};

static unsigned trusted_calls;

static bool trusted(const struct sockaddr *sa, void *arg)
{
	(void)arg;
	trusted_calls++;
	for (size_t i = 0; i < sizeof(trusted_set) / sizeof(trusted_set[0]); i++) {
		uint8_t net[16];
		const uint8_t *a;
		unsigned p = trusted_set[i].prefix;

		if (sa->sa_family != trusted_set[i].family)
			continue;
		inet_pton(trusted_set[i].family, trusted_set[i].addr, net);
		a = sa->sa_family == AF_INET ? (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr
					     : ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(a, net, p / 8) == 0 &&
		    (p % 8 == 0 || ((a[p / 8] ^ net[p / 8]) & (0xff00 >> (p % 8))) == 0))
			return true;
	}
	return false;
}

/* "a.b.c.d:port" or "[v6]:port". */
static const char *A(const struct sockaddr_storage *ss, socklen_t len)
{
	static char ring[4][ADDR_TEXT_MAX];
	static unsigned k;
	char *b = ring[k++ % 4];

	/* The length is part of the answer: only the family's own counts as an address. */
	if ((ss->ss_family == AF_INET && len == sizeof(struct sockaddr_in)) ||
	    (ss->ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6)))
		return addr_format_port((const struct sockaddr *)ss, b, sizeof(ring[0]));
	snprintf(b, sizeof(ring[0]), "<family %d, length %u>", ss->ss_family, (unsigned)len);
	return b;
}

/* The peer "a.b.c.d" or "v6", port 40000. */
static socklen_t peer_addr(const char *text, struct sockaddr_storage *ss)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, text, &a4) == 1)
		return addr_sockaddr4(ss, &a4, 40000);
	if (inet_pton(AF_INET6, text, &a6) == 1)
		return addr_sockaddr6(ss, &a6, 40000);
	abort();
}

#define MAXL 4
struct fwd_case {
	const char *name;
	enum forwarded_field which;
	const char *peer;
	const char *lines[MAXL];	/* "Name: value" */
	const char *want;
	enum forwarded_result why;
};

/* Field lines from "Name: value" strings. */
static unsigned fields_of(const char *const *lines, struct http_field *f)
{
	unsigned n = 0;

	for (; n < MAXL && lines[n]; n++) {
		const char *colon = strchr(lines[n], ':');

		f[n] = (struct http_field){ lines[n], (size_t)(colon - lines[n]), colon + 2,
					     strlen(colon + 2) };
	}
	return n;
}

#define L(...) { __VA_ARGS__ }

static const struct fwd_case cases[] = {
	/* who is trusted */
	{ "untrusted peer: its fields are ignored", XFF, "203.0.113.9",
	  L("X-Forwarded-For: 192.0.2.1"), "203.0.113.9:40000", FORWARDED_PEER },
	{ "untrusted peer, Forwarded ignored", FWD, "203.0.113.9",
	  L("Forwarded: for=192.0.2.1"), "203.0.113.9:40000", FORWARDED_PEER },
	{ "trusted peer without the field", XFF, "10.0.0.1", L("Host: a"), "10.0.0.1:40000",
	  FORWARDED_NONE },
	{ "trusted peer, empty field", XFF, "10.0.0.1", L("X-Forwarded-For: "),
	  "10.0.0.1:40000", FORWARDED_NONE },
	{ "trusted peer, only empty elements", FWD, "10.0.0.1", L("Forwarded:  , ,"),
	  "10.0.0.1:40000", FORWARDED_NONE },
	{ "trusted IPv6 peer", XFF, "2001:db8:f::1", L("X-Forwarded-For: 192.0.2.1"),
	  "192.0.2.1:0", FORWARDED_CLIENT },

	/* X-Forwarded-For walk */
	{ "xff one client", XFF, "10.0.0.1", L("X-Forwarded-For: 192.0.2.1"), "192.0.2.1:0",
	  FORWARDED_CLIENT },
	{ "xff client then a trusted hop", XFF, "10.0.0.1",
	  L("X-Forwarded-For: 192.0.2.1, 10.0.0.2"), "192.0.2.1:0", FORWARDED_CLIENT },
	{ "xff spoofed entry left of the client", XFF, "10.0.0.1",
	  L("X-Forwarded-For: 198.51.100.1, 192.0.2.1, 10.0.0.2"), "192.0.2.1:0",
	  FORWARDED_CLIENT },
	{ "xff untrusted hop right of a trusted one", XFF, "10.0.0.1",
	  L("X-Forwarded-For: 10.0.0.5, 192.0.2.1"), "192.0.2.1:0", FORWARDED_CLIENT },
	{ "xff all trusted: the left-most", XFF, "10.0.0.1",
	  L("X-Forwarded-For: 10.0.0.3, 127.0.0.1, 10.0.0.2"), "10.0.0.3:0",
	  FORWARDED_LEFTMOST },
	{ "xff two lines are one list", XFF, "10.0.0.1",
	  L("X-Forwarded-For: 198.51.100.1", "X-Forwarded-For: 10.0.0.2, 192.0.2.1"),
	  "192.0.2.1:0", FORWARDED_CLIENT },
	{ "xff two lines, the client in the first", XFF, "10.0.0.1",
	  L("X-Forwarded-For: 192.0.2.1, 10.0.0.2", "Host: a", "x-forwarded-for: 10.0.0.3"),
	  "192.0.2.1:0", FORWARDED_CLIENT },
	{ "xff name in any case", XFF, "10.0.0.1", L("x-FORWARDED-for: 192.0.2.1"),
	  "192.0.2.1:0", FORWARDED_CLIENT },
	{ "xff empty elements", XFF, "10.0.0.1", L("X-Forwarded-For: , 192.0.2.1 ,, \t"),
	  "192.0.2.1:0", FORWARDED_CLIENT },
	{ "xff IPv6", XFF, "10.0.0.1", L("X-Forwarded-For: 2001:db8::1"), "[2001:db8::1]:0",
	  FORWARDED_CLIENT },
	{ "xff IPv6 bracketed with port", XFF, "10.0.0.1",
	  L("X-Forwarded-For: [2001:db8::1]:4711"), "[2001:db8::1]:4711", FORWARDED_CLIENT },
	{ "xff IPv6 bracketed", XFF, "10.0.0.1", L("X-Forwarded-For: [2001:db8::1]"),
	  "[2001:db8::1]:0", FORWARDED_CLIENT },
	{ "xff IPv4 with port", XFF, "10.0.0.1", L("X-Forwarded-For: 192.0.2.1:8080"),
	  "192.0.2.1:8080", FORWARDED_CLIENT },
	{ "xff trusted IPv6 hop", XFF, "10.0.0.1",
	  L("X-Forwarded-For: 192.0.2.1, 2001:db8:f::9"), "192.0.2.1:0", FORWARDED_CLIENT },
	{ "xff Forwarded is not read", XFF, "10.0.0.1",
	  L("Forwarded: for=192.0.2.7", "X-Forwarded-For: 192.0.2.1"), "192.0.2.1:0",
	  FORWARDED_CLIENT },
	{ "xff only Forwarded present", XFF, "10.0.0.1", L("Forwarded: for=192.0.2.7"),
	  "10.0.0.1:40000", FORWARDED_NONE },

	/* X-Forwarded-For garbage stops the walk at the last good address */
	{ "xff garbage between", XFF, "10.0.0.1",
	  L("X-Forwarded-For: 192.0.2.1, garbage, 10.0.0.2"), "10.0.0.2:0", FORWARDED_STOPPED },
	{ "xff garbage right-most", XFF, "10.0.0.1", L("X-Forwarded-For: 192.0.2.1, garbage"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "xff garbage left of the client", XFF, "10.0.0.1",
	  L("X-Forwarded-For: garbage, 192.0.2.1"), "192.0.2.1:0", FORWARDED_CLIENT },
	{ "xff unknown", XFF, "10.0.0.1", L("X-Forwarded-For: 192.0.2.1, unknown, 10.0.0.2"),
	  "10.0.0.2:0", FORWARDED_STOPPED },
	{ "xff leading zero", XFF, "10.0.0.1", L("X-Forwarded-For: 010.0.0.2"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "xff space instead of comma", XFF, "10.0.0.1",
	  L("X-Forwarded-For: 192.0.2.1 10.0.0.2"), "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "xff empty port", XFF, "10.0.0.1", L("X-Forwarded-For: 192.0.2.1:"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "xff port 65536", XFF, "10.0.0.1", L("X-Forwarded-For: 192.0.2.1:65536"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "xff IPv4 in brackets", XFF, "10.0.0.1", L("X-Forwarded-For: [192.0.2.1]"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "xff junk after brackets", XFF, "10.0.0.1", L("X-Forwarded-For: [::1]x"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "xff unclosed bracket", XFF, "10.0.0.1", L("X-Forwarded-For: [::1"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "xff a name", XFF, "10.0.0.1", L("X-Forwarded-For: client.example"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "xff garbage in a later line", XFF, "10.0.0.1",
	  L("X-Forwarded-For: 192.0.2.1", "X-Forwarded-For: 10.0.0.2, ???"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },

	/* Forwarded: RFC 7239's examples */
	{ "rfc7239 for proto by", FWD, "10.0.0.1",
	  L("Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43"), "192.0.2.60:0",
	  FORWARDED_CLIENT },
	{ "rfc7239 two hops", FWD, "10.0.0.1", L("Forwarded: for=192.0.2.43, for=198.51.100.17"),
	  "198.51.100.17:0", FORWARDED_CLIENT },
	{ "rfc7239 IPv6 and port, For in capitals", FWD, "10.0.0.1",
	  L("Forwarded: For=\"[2001:db8:cafe::17]:4711\""), "[2001:db8:cafe::17]:4711",
	  FORWARDED_CLIENT },
	{ "rfc7239 obfuscated", FWD, "10.0.0.1", L("Forwarded: for=\"_gazonk\""),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "rfc7239 unknown", FWD, "10.0.0.1", L("Forwarded: for=unknown"), "10.0.0.1:40000",
	  FORWARDED_STOPPED },

	/* Forwarded walk */
	{ "fwd client then trusted hop", FWD, "10.0.0.1",
	  L("Forwarded: for=192.0.2.1;proto=https, for=10.0.0.2"), "192.0.2.1:0",
	  FORWARDED_CLIENT },
	{ "fwd all trusted", FWD, "10.0.0.1", L("Forwarded: for=10.0.0.3, for=10.0.0.2"),
	  "10.0.0.3:0", FORWARDED_LEFTMOST },
	{ "fwd unknown between", FWD, "10.0.0.1",
	  L("Forwarded: for=192.0.2.1, for=unknown, for=10.0.0.2"), "10.0.0.2:0",
	  FORWARDED_STOPPED },
	{ "fwd obfuscated between", FWD, "10.0.0.1",
	  L("Forwarded: for=192.0.2.1, for=_hidden, for=10.0.0.2"), "10.0.0.2:0",
	  FORWARDED_STOPPED },
	{ "fwd two lines", FWD, "10.0.0.1",
	  L("Forwarded: for=198.51.100.1", "forwarded: for=192.0.2.1, for=10.0.0.2"),
	  "192.0.2.1:0", FORWARDED_CLIENT },
	{ "fwd X-Forwarded-For is not read", FWD, "10.0.0.1",
	  L("X-Forwarded-For: 192.0.2.7", "Forwarded: for=192.0.2.1"), "192.0.2.1:0",
	  FORWARDED_CLIENT },
	{ "fwd IPv4 and port", FWD, "10.0.0.1", L("Forwarded: for=\"192.0.2.1:8080\""),
	  "192.0.2.1:8080", FORWARDED_CLIENT },
	{ "fwd obfuscated port", FWD, "10.0.0.1", L("Forwarded: for=\"192.0.2.1:_abc-1.x\""),
	  "192.0.2.1:0", FORWARDED_CLIENT },
	{ "fwd IPv6 without port", FWD, "10.0.0.1", L("Forwarded: for=\"[2001:db8::1]\""),
	  "[2001:db8::1]:0", FORWARDED_CLIENT },
	{ "fwd port with leading zeros (1*5DIGIT)", FWD, "10.0.0.1",
	  L("Forwarded: for=\"[2001:db8::1]:00080\""), "[2001:db8::1]:80", FORWARDED_CLIENT },
	{ "fwd quoted-pairs", FWD, "10.0.0.1", L("Forwarded: for=\"\\1\\92.0.2.1\""),
	  "192.0.2.1:0", FORWARDED_CLIENT },
	{ "fwd quoted plain IPv4", FWD, "10.0.0.1", L("Forwarded: for=\"192.0.2.1\""),
	  "192.0.2.1:0", FORWARDED_CLIENT },
	{ "fwd empty pairs", FWD, "10.0.0.1", L("Forwarded: ;for=192.0.2.1;;proto=http;"),
	  "192.0.2.1:0", FORWARDED_CLIENT },
	{ "fwd OWS around commas", FWD, "10.0.0.1",
	  L("Forwarded:  for=192.0.2.1 ,\tfor=10.0.0.2 "), "192.0.2.1:0", FORWARDED_CLIENT },
	{ "fwd ; and , inside another quoted value", FWD, "10.0.0.1",
	  L("Forwarded: by=\"x;y,z\";for=192.0.2.1"), "192.0.2.1:0", FORWARDED_CLIENT },
	{ "fwd comma inside a quoted for, left", FWD, "10.0.0.1",
	  L("Forwarded: for=\"a,b\", for=192.0.2.1"), "192.0.2.1:0", FORWARDED_CLIENT },
	{ "fwd comma inside a quoted for, right", FWD, "10.0.0.1",
	  L("Forwarded: for=192.0.2.1, for=\"a, for=10.0.0.2\""), "10.0.0.1:40000",
	  FORWARDED_STOPPED },
	{ "fwd malformed element skipped to its comma", FWD, "10.0.0.1",
	  L("Forwarded: for=192.0.2.1, for=bad:x;\",\", for=10.0.0.2"), "10.0.0.2:0",
	  FORWARDED_STOPPED },
	{ "fwd a comma in quotes does not end a malformed element", FWD, "10.0.0.1",
	  L("Forwarded: x y=\"a, for=192.0.2.5;by=\", for=10.0.0.2\""), "10.0.0.1:40000",
	  FORWARDED_STOPPED },
	{ "fwd malformed element left of the client", FWD, "10.0.0.1",
	  L("Forwarded: junk, for=192.0.2.1"), "192.0.2.1:0", FORWARDED_CLIENT },

	/* Forwarded garbage */
	{ "fwd unquoted IPv6", FWD, "10.0.0.1", L("Forwarded: for=[2001:db8::1]"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd unquoted port", FWD, "10.0.0.1", L("Forwarded: for=192.0.2.1:80"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd quoted bare IPv6", FWD, "10.0.0.1", L("Forwarded: for=\"2001:db8::1\""),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd element without for", FWD, "10.0.0.1", L("Forwarded: proto=https;by=10.0.0.9"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd right-most element without for", FWD, "10.0.0.1",
	  L("Forwarded: for=192.0.2.1, proto=https"), "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd for twice", FWD, "10.0.0.1", L("Forwarded: for=192.0.2.1;for=192.0.2.2"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd space after ;", FWD, "10.0.0.1", L("Forwarded: for=192.0.2.1; proto=http"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd spaces around =", FWD, "10.0.0.1", L("Forwarded: for = 192.0.2.1"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd unterminated quote", FWD, "10.0.0.1", L("Forwarded: for=\"192.0.2.1"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd empty quoted", FWD, "10.0.0.1", L("Forwarded: for=\"\""), "10.0.0.1:40000",
	  FORWARDED_STOPPED },
	{ "fwd empty value", FWD, "10.0.0.1", L("Forwarded: for="), "10.0.0.1:40000",
	  FORWARDED_STOPPED },
	{ "fwd control byte in quotes", FWD, "10.0.0.1", L("Forwarded: for=\"192.0.2.1\x01\""),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd empty port", FWD, "10.0.0.1", L("Forwarded: for=\"[2001:db8::1]:\""),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd port 65536", FWD, "10.0.0.1", L("Forwarded: for=\"192.0.2.1:65536\""),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd port of six digits", FWD, "10.0.0.1", L("Forwarded: for=\"192.0.2.1:000080\""),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd lone underscore port", FWD, "10.0.0.1", L("Forwarded: for=\"192.0.2.1:_\""),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd junk after brackets", FWD, "10.0.0.1", L("Forwarded: for=\"[::1]x\""),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd junk after the value", FWD, "10.0.0.1", L("Forwarded: for=192.0.2.1 x"),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
	{ "fwd node longer than kept", FWD, "10.0.0.1",
	  L("Forwarded: for=\"192.0.2.1:_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""),
	  "10.0.0.1:40000", FORWARDED_STOPPED },
};

static enum forwarded_result run(const struct fwd_case *c, const struct http_field *f,
				 unsigned nf, const char **got)
{
	struct sockaddr_storage peer, out;
	socklen_t plen = peer_addr(c->peer, &peer), olen = 0;
	enum forwarded_result r;

	memset(&out, 0xa5, sizeof(out));
	r = forwarded_client(c->which, f, nf, (struct sockaddr *)&peer, plen, trusted, NULL,
			     &out, &olen);
	*got = A(&out, olen);
	return r;
}

/* Positions of the list commas of v: outside quoted-strings (Forwarded only has those). */
static bool list_comma(const char *v, size_t k)
{
	bool quoted = false;

	for (size_t i = 0; i < k; i++) {
		if (v[i] == '"')
			quoted = !quoted;
		else if (quoted && v[i] == '\\' && i + 1 < k)
			i++;
	}
	return v[k] == ',' && !quoted;
}

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fwd_case *c = &cases[i];
		struct http_field f[MAXL + 1];
		unsigned nf = fields_of(c->lines, f), cuts = 0, bad = 0;
		const char *got;

		is_int(run(c, f, nf, &got), c->why, "%s: why", c->name);
		is_str(got, c->want, "%s: address", c->name);

		/* Each line cut in two at each list comma: the same answer. */
		for (unsigned l = 0; l < nf; l++) {
			for (size_t k = 0; k < f[l].value_len; k++) {
				struct http_field g[MAXL + 1];
				const char *got2;

				if (!list_comma(f[l].value, k))
					continue;
				memcpy(g, f, sizeof(g[0]) * nf);
				g[l].value_len = k;
				memmove(g + l + 2, g + l + 1, sizeof(g[0]) * (nf - l - 1));
				g[l + 1] = (struct http_field){ f[l].name, f[l].name_len,
							      f[l].value + k + 1,
							      f[l].value_len - k - 1 };
				cuts++;
				if (run(c, g, nf + 1, &got2) != c->why || strcmp(got2, c->want) != 0) {
					printf("#   cut at %zu of line %u: got %s\n", k, l, got2);
					bad++;
				}
			}
		}
		if (cuts)
			ok(bad == 0, "%s: same at each of %u cuts", c->name, cuts);
	}
}

/* An untrusted peer's fields are not even read; a trusted one's walk stops early. */
static void test_trusted_calls(void)
{
	struct http_field f[2];
	struct sockaddr_storage peer, out;
	socklen_t plen, olen;
	static const char *const lines[] = { "X-Forwarded-For: 192.0.2.1, 10.0.0.2", NULL };

	fields_of(lines, f);
	plen = peer_addr("203.0.113.9", &peer);
	trusted_calls = 0;
	forwarded_client(XFF, f, 1, (struct sockaddr *)&peer, plen, trusted, NULL, &out, &olen);
	is_int(trusted_calls, 1, "untrusted peer: one question, about the peer");
	plen = peer_addr("10.0.0.1", &peer);
	trusted_calls = 0;
	forwarded_client(XFF, f, 1, (struct sockaddr *)&peer, plen, trusted, NULL, &out, &olen);
	is_int(trusted_calls, 3, "trusted peer: the peer and each entry");
}

/* Thousands of entries: one pass, the right answer. */
static void test_long_list(void)
{
	static char v[64 * 1024];
	size_t n = (size_t)snprintf(v, sizeof(v), "X-Forwarded-For: 192.0.2.1");
	const char *lines[] = { v, NULL };
	struct http_field f[2];
	struct sockaddr_storage peer, out;
	socklen_t plen = peer_addr("10.0.0.1", &peer), olen;
	enum forwarded_result r;

	while (n + 16 < sizeof(v))
		n += (size_t)snprintf(v + n, sizeof(v) - n, ", 10.%u.0.1", (unsigned)(n % 250));
	fields_of(lines, f);
	r = forwarded_client(XFF, f, 1, (struct sockaddr *)&peer, plen, trusted, NULL, &out, &olen);
	is_int(r, FORWARDED_CLIENT, "64 kB of trusted hops: the client left of them");
	is_str(A(&out, olen), "192.0.2.1:0", "64 kB of trusted hops: its address");
}

int main(void)
{
	test_cases();
	test_trusted_calls();
	test_long_list();
	is_str(forwarded_field_name(FORWARDED_RFC7239), "Forwarded", "field name, RFC 7239");
	is_str(forwarded_field_name(FORWARDED_XFF), "X-Forwarded-For", "field name, XFF");
	return done_testing();
}
