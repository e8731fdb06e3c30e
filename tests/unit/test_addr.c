/* SPDX-License-Identifier: ISC */
/*
 * test_addr: listen addresses (every host form, port edges, what is refused and how it is
 * reported), address blocks (prefix edges for IPv4 and IPv6, host bits, the IPv4-mapped
 * form), matching IPv4 and IPv4-mapped peers against both kinds of block, the text logs
 * show for clients and listeners, socket address equality and the per-client key.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/un.h>

#include "tap.h"
#include "../../src/addr.c"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SA(ss) ((const struct sockaddr *)&(ss))

/* A peer as accept() would give it: IPv6 when the text has a ':', else IPv4. */
static struct sockaddr_storage peer(const char *text, unsigned port)
{
	struct sockaddr_storage ss = {0};

	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, text, &s6->sin6_addr) != 1)
			abort();
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, text, &s4->sin_addr) != 1)
			abort();
	}
	return ss;
}

static struct sockaddr_storage unix_peer(const char *path)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_un *un = (struct sockaddr_un *)&ss;

	un->sun_family = AF_UNIX;
	snprintf(un->sun_path, sizeof(un->sun_path), "%s", path);
	return ss;
}

struct hostport_case {
	const char *text;
	int family;		/* 0: refused */
	const char *host;	/* inet_ntop of the parsed address */
	unsigned port;
};

static const struct hostport_case hostport_cases[] = {
	{"0.0.0.0:8080", AF_INET, "0.0.0.0", 8080},
	{"127.0.0.1:80", AF_INET, "127.0.0.1", 80},
	{"*:80", AF_INET, "0.0.0.0", 80},
	{"192.0.2.1:1", AF_INET, "192.0.2.1", 1},
	{"192.0.2.1:65535", AF_INET, "192.0.2.1", 65535},
	{"[::1]:80", AF_INET6, "::1", 80},
	{"[::]:8080", AF_INET6, "::", 8080},
	{"[2001:db8::1]:443", AF_INET6, "2001:db8::1", 443},
	{"[::ffff:192.0.2.1]:80", AF_INET6, "::ffff:192.0.2.1", 80},
	{"[fe80::1:2:3:4]:65535", AF_INET6, "fe80::1:2:3:4", 65535},
	/* The longest text an IPv6 address can be written in. */
	{"[0000:0000:0000:0000:0000:ffff:255.255.255.255]:80", AF_INET6, "::ffff:255.255.255.255",
	 80},
	{"", 0, NULL, 0},
	{":80", 0, NULL, 0},
	{"8080", 0, NULL, 0},
	{"127.0.0.1", 0, NULL, 0},
	{"127.0.0.1:", 0, NULL, 0},
	{"127.0.0.1:0", 0, NULL, 0},
	{"127.0.0.1:65536", 0, NULL, 0},
	{"127.0.0.1:-80", 0, NULL, 0},
	{"127.0.0.1:80x", 0, NULL, 0},
	{"127.0.0.1:http", 0, NULL, 0},
	{"127.0.0.256:80", 0, NULL, 0},
	{"127.1:80", 0, NULL, 0},
	{"localhost:80", 0, NULL, 0},
	{"**:80", 0, NULL, 0},
	{"::1:80", 0, NULL, 0},
	{"[::1]", 0, NULL, 0},
	{"[::1]80", 0, NULL, 0},
	{"[::1:80", 0, NULL, 0},
	{"::1]:80", 0, NULL, 0},
	{"[]:80", 0, NULL, 0},
	{"[*]:80", 0, NULL, 0},
	{"[127.0.0.1]:80", 0, NULL, 0},
	{"[::1%lo]:80", 0, NULL, 0},
	{"[1111:2222:3333:4444:5555:6666:7777:8888:9999]:80", 0, NULL, 0},
};

static void test_hostport(void)
{
	for (size_t i = 0; i < N(hostport_cases); i++) {
		const struct hostport_case *c = &hostport_cases[i];
		struct sockaddr_storage ss;
		socklen_t len = 0;
		char host[INET6_ADDRSTRLEN] = "";
		int rc = addr_parse_hostport(c->text, &ss, &len, NULL, 0);

		if (!c->family) {
			ok(rc < 0, "hostport: \"%s\" is refused", c->text);
			continue;
		}
		if (!ok(rc == 0, "hostport: \"%s\" parses", c->text))
			continue;
		is_int(ss.ss_family, c->family, "  \"%s\": family", c->text);
		if (c->family == AF_INET) {
			const struct sockaddr_in *s4 = (const void *)&ss;
			inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
			is_int(ntohs(s4->sin_port), c->port, "  \"%s\": port", c->text);
			is_int(len, sizeof(*s4), "  \"%s\": length", c->text);
		} else {
			const struct sockaddr_in6 *s6 = (const void *)&ss;
			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
			is_int(ntohs(s6->sin6_port), c->port, "  \"%s\": port", c->text);
			is_int(len, sizeof(*s6), "  \"%s\": length", c->text);
		}
		is_str(host, c->host, "  \"%s\": address", c->text);
	}

	char err[256] = "";
	struct sockaddr_storage ss;
	socklen_t len;
	addr_parse_hostport("localhost:80", &ss, &len, err, sizeof(err));
	is_str(err, "\"localhost:80\" is not host:port (IPv4, [IPv6] or *, port 1-65535)",
	       "hostport: the error names the text and the forms");
	err[0] = '\0';
	addr_parse_hostport("[::1]:80", &ss, &len, err, sizeof(err));
	is_str(err, "", "hostport: no error text on success");
	char tiny[8];
	ok(addr_parse_hostport("x", &ss, &len, tiny, sizeof(tiny)) < 0 && strlen(tiny) == 7,
	   "hostport: the error is cut to the buffer");
}

struct cidr_case {
	const char *text;
	int family;		/* 0: refused */
	unsigned prefix;
	const char *net;	/* the block's address, host bits cleared */
};

static const struct cidr_case cidr_cases[] = {
	{"127.0.0.1", AF_INET, 32, "127.0.0.1"},
	{"10.0.0.0/8", AF_INET, 8, "10.0.0.0"},
	{"10.1.2.3/8", AF_INET, 8, "10.0.0.0"},
	{"10.255.255.255/9", AF_INET, 9, "10.128.0.0"},
	{"192.0.2.129/25", AF_INET, 25, "192.0.2.128"},
	{"192.0.2.7/31", AF_INET, 31, "192.0.2.6"},
	{"192.0.2.7/32", AF_INET, 32, "192.0.2.7"},
	{"255.255.255.255/0", AF_INET, 0, "0.0.0.0"},
	{"0.0.0.0/0", AF_INET, 0, "0.0.0.0"},
	{"1.2.3.4/00", AF_INET, 0, "0.0.0.0"},
	{"1.2.3.4/032", AF_INET, 32, "1.2.3.4"},
	{"::1", AF_INET6, 128, "::1"},
	{"::/0", AF_INET6, 0, "::"},
	{"ffff::/0", AF_INET6, 0, "::"},
	{"2001:db8::/32", AF_INET6, 32, "2001:db8::"},
	{"2001:db8:ffff::1/33", AF_INET6, 33, "2001:db8:8000::"},
	{"2001:db8::1/127", AF_INET6, 127, "2001:db8::"},
	{"2001:db8::1/128", AF_INET6, 128, "2001:db8::1"},
	/* IPv4 blocks written mapped become IPv4 blocks; shorter prefixes stay IPv6. */
	{"::ffff:192.0.2.0/120", AF_INET, 24, "192.0.2.0"},
	{"::ffff:192.0.2.9", AF_INET, 32, "192.0.2.9"},
	{"::ffff:10.0.0.0/96", AF_INET, 0, "0.0.0.0"},
	{"::ffff:10.0.0.0/95", AF_INET6, 95, "::fffe:0:0"},
	{"::ffff:0:0/104", AF_INET, 8, "0.0.0.0"},
	{"", 0, 0, NULL},
	{"x", 0, 0, NULL},
	{"/8", 0, 0, NULL},
	{"1.2.3.4/", 0, 0, NULL},
	{"1.2.3.4/33", 0, 0, NULL},
	{"1.2.3.4/100", 0, 0, NULL},
	{"::1/129", 0, 0, NULL},
	{"::1/1280", 0, 0, NULL},
	{"1.2.3.4/ab", 0, 0, NULL},
	{"1.2.3.4/-1", 0, 0, NULL},
	{"1.2.3.4/+8", 0, 0, NULL},
	{"1.2.3.4/ 8", 0, 0, NULL},
	{"1.2.3.4 /8", 0, 0, NULL},
	{"1.2.3.4/8/8", 0, 0, NULL},
	{"1.2.3.4/0008", 0, 0, NULL},
	{"1.2.3.4/0x8", 0, 0, NULL},
	{"1.2.3", 0, 0, NULL},
	{"1.2.3.4:80", 0, 0, NULL},
	{"[::1]", 0, 0, NULL},
	{"localhost", 0, 0, NULL},
	{"*", 0, 0, NULL},
};

static void test_cidr(void)
{
	for (size_t i = 0; i < N(cidr_cases); i++) {
		const struct cidr_case *c = &cidr_cases[i];
		struct addr_net net;
		char text[INET6_ADDRSTRLEN] = "";
		int rc = addr_parse_cidr(c->text, &net, NULL, 0);

		if (!c->family) {
			ok(rc < 0, "cidr: \"%s\" is refused", c->text);
			continue;
		}
		if (!ok(rc == 0, "cidr: \"%s\" parses", c->text))
			continue;
		is_int(net.family, c->family, "  \"%s\": family", c->text);
		is_int(net.prefix, c->prefix, "  \"%s\": prefix", c->text);
		inet_ntop(net.family, net.addr, text, sizeof(text));
		is_str(text, c->net, "  \"%s\": block", c->text);
		if (net.family == AF_INET) {
			static const uint8_t zero[12];
			ok(memcmp(net.addr + 4, zero, sizeof(zero)) == 0,
			   "  \"%s\": nothing past the IPv4 address", c->text);
		}
	}

	char err[256] = "";
	struct addr_net net;
	addr_parse_cidr("10.0.0.0/33", &net, err, sizeof(err));
	is_str(err, "\"10.0.0.0/33\" is not an address or address/prefix (IPv4 or IPv6)",
	       "cidr: the error names the text and the forms");
}

struct match_case {
	const char *nets[3];	/* NULL-terminated */
	const char *peer;
	bool want;
};

static const struct match_case match_cases[] = {
	{{"127.0.0.1", "::1"}, "127.0.0.1", true},
	{{"127.0.0.1", "::1"}, "::1", true},
	{{"127.0.0.1", "::1"}, "::ffff:127.0.0.1", true},
	{{"127.0.0.1", "::1"}, "127.0.0.2", false},
	{{"127.0.0.1", "::1"}, "::2", false},
	{{"127.0.0.1", "::1"}, "::127.0.0.1", false},	/* IPv4-compatible is not mapped */
	{{"10.0.0.0/8"}, "10.255.1.2", true},
	{{"10.0.0.0/8"}, "::ffff:10.255.1.2", true},
	{{"10.0.0.0/8"}, "11.0.0.1", false},
	{{"10.0.0.0/8"}, "::ffff:11.0.0.1", false},
	{{"10.0.0.0/9"}, "10.127.255.255", true},
	{{"10.0.0.0/9"}, "10.128.0.0", false},
	{{"10.1.2.3/8"}, "10.9.9.9", true},
	{{"192.0.2.7/32"}, "192.0.2.7", true},
	{{"192.0.2.7/32"}, "192.0.2.6", false},
	{{"192.0.2.7/31"}, "192.0.2.6", true},
	{{"0.0.0.0/0"}, "198.51.100.7", true},
	{{"0.0.0.0/0"}, "::ffff:198.51.100.7", true},
	{{"0.0.0.0/0"}, "::1", false},
	{{"::/0"}, "2001:db8::1", true},
	{{"::/0"}, "10.0.0.1", false},
	{{"::/0"}, "::ffff:10.0.0.1", false},
	{{"2001:db8::/32"}, "2001:db8:1::5", true},
	{{"2001:db8::/32"}, "2001:db9::1", false},
	{{"2001:db8::/32"}, "10.0.0.1", false},
	{{"2001:db8::1/128"}, "2001:db8::1", true},
	{{"2001:db8::1/128"}, "2001:db8::2", false},
	{{"2001:db8::/127"}, "2001:db8::1", true},
	{{"::ffff:192.0.2.0/120"}, "192.0.2.200", true},
	{{"::ffff:192.0.2.0/120"}, "::ffff:192.0.2.200", true},
	{{"::ffff:192.0.2.0/120"}, "192.0.3.1", false},
	{{"::ffff:0:0/95"}, "::ffff:192.0.2.1", false},	/* an IPv6 block: no IPv4 peer */
	{{"::ffff:0:0/95"}, "::fffe:1:2", true},
	{{NULL}, "127.0.0.1", false},
};

static void test_match(void)
{
	for (size_t i = 0; i < N(match_cases); i++) {
		const struct match_case *c = &match_cases[i];
		struct addr_net nets[3];
		size_t n = 0;
		char list[128] = "";

		for (; c->nets[n]; n++) {
			if (addr_parse_cidr(c->nets[n], &nets[n], NULL, 0) < 0)
				abort();
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 n ? "," : "", c->nets[n]);
		}
		struct sockaddr_storage p = peer(c->peer, 1234);
		is_int(addr_match(nets, n, SA(p)), c->want, "match: %s %s {%s}", c->peer,
		       c->want ? "in" : "not in", list);
	}
	struct addr_net any;
	addr_parse_cidr("0.0.0.0/0", &any, NULL, 0);
	struct sockaddr_storage u = unix_peer("/run/x.sock");
	ok(!addr_match(&any, 1, SA(u)), "match: a UNIX peer is in no block");
}

struct format_case {
	const char *addr;	/* NULL: a UNIX socket at path */
	const char *path;
	unsigned port;
	const char *want;	/* addr_format */
	const char *want_port;	/* addr_format_port */
};

static const struct format_case format_cases[] = {
	{"192.0.2.1", NULL, 80, "192.0.2.1", "192.0.2.1:80"},
	{"0.0.0.0", NULL, 8080, "0.0.0.0", "0.0.0.0:8080"},
	{"255.255.255.255", NULL, 65535, "255.255.255.255", "255.255.255.255:65535"},
	{"::1", NULL, 443, "::1", "[::1]:443"},
	{"::", NULL, 1, "::", "[::]:1"},
	{"2001:0db8:0000:0000:0000:0000:0000:0001", NULL, 80, "2001:db8::1", "[2001:db8::1]:80"},
	/* As the socket reported it: a log line does not fold a mapped client. */
	{"::ffff:192.0.2.1", NULL, 80, "::ffff:192.0.2.1", "[::ffff:192.0.2.1]:80"},
	{"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", NULL, 65535,
	 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
	{NULL, "/run/minihttpd.sock", 0, "-", "/run/minihttpd.sock"},
	{NULL, "", 0, "-", ""},
};

static void test_format(void)
{
	for (size_t i = 0; i < N(format_cases); i++) {
		const struct format_case *c = &format_cases[i];
		struct sockaddr_storage ss = c->addr ? peer(c->addr, c->port) : unix_peer(c->path);
		char buf[ADDR_TEXT_MAX];
		const char *name = c->addr ? c->addr : c->path;

		ok(addr_format(SA(ss), buf, sizeof(buf)) == buf, "format: %s: returns buf", name);
		is_str(buf, c->want, "format: %s", name);
		addr_format_port(SA(ss), buf, sizeof(buf));
		is_str(buf, c->want_port, "format with port: %s", name);
	}

	/* The longest of each kind fits ADDR_TEXT_MAX whole. */
	struct sockaddr_storage ss = {0};
	struct sockaddr_un *un = (struct sockaddr_un *)&ss;
	char buf[ADDR_TEXT_MAX];
	un->sun_family = AF_UNIX;
	memset(un->sun_path, 'a', sizeof(un->sun_path));
	addr_format_port(SA(ss), buf, sizeof(buf));
	is_int(strlen(buf), sizeof(un->sun_path), "format with port: a full sun_path, unterminated");

	ss.ss_family = AF_PACKET;
	addr_format(SA(ss), buf, sizeof(buf));
	is_str(buf, "-", "format: another family is \"-\"");
	addr_format_port(SA(ss), buf, sizeof(buf));
	is_str(buf, "(unknown address)", "format with port: another family");

	char small[8];
	struct sockaddr_storage v6 = peer("2001:db8::1", 80);
	addr_format(SA(v6), small, sizeof(small));
	is_str(small, "-", "format: a buffer too small gives \"-\", not a cut address");
}

static void test_equal(void)
{
	struct sockaddr_storage a = peer("192.0.2.1", 80), b = peer("192.0.2.1", 80),
		c = peer("192.0.2.1", 81), d = peer("192.0.2.2", 80),
		m = peer("::ffff:192.0.2.1", 80), e = peer("::1", 80), f = peer("::1", 80),
		g = peer("::2", 80), u = unix_peer("/a"), v = unix_peer("/a"), w = unix_peer("/b");
	socklen_t l4 = sizeof(struct sockaddr_in), l6 = sizeof(struct sockaddr_in6),
		lu = sizeof(struct sockaddr_un);

	/* Kernels may fill sin_zero or sin6_flowinfo differently: they do not count. */
	((struct sockaddr_in *)&b)->sin_zero[3] = 7;
	((struct sockaddr_in6 *)&f)->sin6_flowinfo = htonl(5);
	ok(addr_equal(SA(a), l4, SA(b), l4), "equal: same IPv4 address and port");
	ok(!addr_equal(SA(a), l4, SA(c), l4), "equal: another port");
	ok(!addr_equal(SA(a), l4, SA(d), l4), "equal: another address");
	ok(!addr_equal(SA(a), l4, SA(m), l6), "equal: IPv4 and its mapped form are two sockets");
	ok(addr_equal(SA(e), l6, SA(f), l6), "equal: same IPv6 address and port");
	ok(!addr_equal(SA(e), l6, SA(g), l6), "equal: another IPv6 address");
	ok(addr_equal(SA(u), lu, SA(v), lu), "equal: same UNIX path");
	ok(!addr_equal(SA(u), lu, SA(w), lu), "equal: another UNIX path");
	ok(!addr_equal(SA(u), lu, SA(v), lu - 1), "equal: UNIX addresses of other lengths");
}

static void test_key(void)
{
	struct sockaddr_storage a = peer("192.0.2.7", 1), a2 = peer("192.0.2.7", 2),
		m = peer("::ffff:192.0.2.7", 3), b = peer("192.0.2.8", 1),
		c = peer("::c000:207", 1), u = unix_peer("/a");
	uint8_t ka[16], ka2[16], km[16], kb[16], kc[16], ku[16];

	ok(addr_key(SA(a), ka) && addr_key(SA(a2), ka2) && addr_key(SA(m), km) &&
	   addr_key(SA(b), kb) && addr_key(SA(c), kc), "key: every IP address has one");
	ok(memcmp(ka, ka2, 16) == 0, "key: the port does not count");
	ok(memcmp(ka, km, 16) == 0, "key: IPv4 and its mapped form are one client");
	ok(memcmp(ka, kb, 16) != 0, "key: two IPv4 addresses are two clients");
	ok(memcmp(ka, kc, 16) != 0, "key: IPv4-compatible ::192.0.2.7 is another client");
	ok(!addr_key(SA(u), ku), "key: a UNIX peer has none");
}

int main(void)
{
	test_hostport();
	test_cidr();
	test_match();
	test_format();
	test_equal();
	test_key();
	return done_testing();
}
