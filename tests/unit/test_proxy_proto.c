/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for proxy_proto: the PROXY protocol header, v1 and v2. The cases are the
 * specification's examples and limits (HAProxy's doc/proxy-protocol.txt) and each way a
 * header can be bad. Every input is also fed in every prefix: a balancer's header may
 * arrive in pieces, and the answer must not depend on how it was cut.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "../../src/addr.c"
#include "../../src/proxy_proto.c"
#include "tap.h"

#define LEN (-1000)	/* the expected answer is the input's length */
#define NONE "-"	/* no address: the connection's own endpoints stay */

/* "a.b.c.d:port" or "[v6]:port" of a filled address, NONE for length 0. */
static const char *A(const struct sockaddr_storage *ss, socklen_t len)
{
	static char ring[4][ADDR_TEXT_MAX];
	static unsigned k;
	char *b = ring[k++ % 4];

	if (len == 0)
		return NONE;
	/* The length is part of the answer: only the family's own counts as an address. */
	if ((ss->ss_family == AF_INET && len == sizeof(struct sockaddr_in)) ||
	    (ss->ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6)))
		return addr_format_port((const struct sockaddr *)ss, b, sizeof(ring[0]));
	snprintf(b, sizeof(ring[0]), "<family %d, length %u>", ss->ss_family, (unsigned)len);
	return b;
}

static bool same_header(const struct proxy_header *a, const struct proxy_header *b)
{
	return a->version == b->version && a->command == b->command &&
	       a->src_len == b->src_len && a->dst_len == b->dst_len &&
	       memcmp(&a->src, &b->src, a->src_len) == 0 && memcmp(&a->dst, &b->dst, a->dst_len) == 0;
}

/*
 * Every prefix answers "need more" or what the whole answers, the first answer met byte
 * by byte is the whole's (with the same header), and a prefix holding the whole header
 * is already answered.
 */
static bool prefixes_agree(const char *in, size_t len)
{
	struct proxy_header whole, part;
	ssize_t want = proxy_parse(in, len, &whole), first = 0;

	for (size_t k = 0; k <= len; k++) {
		ssize_t r = proxy_parse(in, k, &part);

		if (first == 0 && r != 0) {
			first = r;
			if (r > 0 && !same_header(&whole, &part)) {
				printf("#   prefix %zu: another header\n", k);
				return false;
			}
		}
		if ((r != 0 && r != want) || (want > 0 && k >= (size_t)want && r != want)) {
			printf("#   prefix %zu: got %zd, want %zd\n", k, r, want);
			return false;
		}
	}
	return first == want;
}

struct pp_case {
	const char *name;
	const char *in;
	size_t len;		/* from sizeof: v2 inputs hold NULs */
	ssize_t want;		/* LEN, 0 or -PROXY_ERR_x */
	int version;
	enum proxy_command command;
	const char *src, *dst;
};
#define OK1(name, in, src, dst) { name, in, sizeof(in) - 1, LEN, 1, PROXY_CMD_PROXY, src, dst }
#define OK2(name, in, cmd, src, dst) { name, in, sizeof(in) - 1, LEN, 2, cmd, src, dst }
#define BAD(name, in, want) { name, in, sizeof(in) - 1, want, 0, 0, NULL, NULL }

/* The v2 signature and the usual fixed parts; one escape per literal, so none runs on. */
#define SIG "\r\n\r\n" "\0" "\r\nQUIT\n"
#define V2_PROXY "\x21"
#define V2_LOCAL "\x20"
#define TCP4 "\x11"
#define TCP6 "\x21"
/* 192.0.2.1:56789 -> 198.51.100.17:443 */
#define ADDR4 "\xc0" "\x00" "\x02" "\x01" "\xc6" "\x33" "\x64" "\x11" "\xdd" "\xd5" "\x01" "\xbb"
/* [2001:db8::1]:1234 -> [2001:db8::2]:80 */
#define ADDR6 "\x20" "\x01" "\x0d" "\xb8" "\0\0\0\0\0\0\0\0\0\0\0" "\x01" \
	"\x20" "\x01" "\x0d" "\xb8" "\0\0\0\0\0\0\0\0\0\0\0" "\x02" "\x04" "\xd2" "\0" "\x50"
#define FFFF "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

static const struct pp_case cases[] = {
	/* v1, valid: the specification's example and its longest lines */
	OK1("v1 spec example", "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
	    "192.168.0.1:56324", "192.168.0.11:443"),
	OK1("v1 longest TCP4 (56)", "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
	    "255.255.255.255:65535", "255.255.255.255:65535"),
	OK1("v1 longest TCP6 (104)", "PROXY TCP6 " FFFF " " FFFF " 65535 65535\r\n",
	    "[" FFFF "]:65535", "[" FFFF "]:65535"),
	OK1("v1 UNKNOWN short form", "PROXY UNKNOWN\r\n", NONE, NONE),
	OK1("v1 UNKNOWN worst case (107)", "PROXY UNKNOWN " FFFF " " FFFF " 65535 65535\r\n",
	    NONE, NONE),
	OK1("v1 UNKNOWN ignores the rest", "PROXY UNKNOWN what \x01 ever \xff\r\n", NONE, NONE),
	OK1("v1 zero addresses and ports", "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n",
	    "0.0.0.0:0", "0.0.0.0:0"),
	OK1("v1 TCP6 compressed", "PROXY TCP6 2001:db8::1 ::1 1 65535\r\n",
	    "[2001:db8::1]:1", "[::1]:65535"),
	OK1("v1 TCP6 upper case", "PROXY TCP6 2001:DB8::A 2001:db8::b 80 8080\r\n",
	    "[2001:db8::a]:80", "[2001:db8::b]:8080"),
	OK1("v1 TCP6 four digits with zeros", "PROXY TCP6 2001:0db8:0000::0001 ::2 80 81\r\n",
	    "[2001:db8::1]:80", "[::2]:81"),
	OK1("v1 TCP6 v4-mapped", "PROXY TCP6 ::ffff:10.0.0.1 ::ffff:10.0.0.2 80 81\r\n",
	    "[::ffff:10.0.0.1]:80", "[::ffff:10.0.0.2]:81"),

	/* v1, incomplete */
	BAD("empty", "", 0),
	BAD("P", "P", 0),
	BAD("PROXY", "PROXY", 0),
	BAD("PROXY and space", "PROXY ", 0),
	BAD("half a family", "PROXY TC", 0),
	BAD("UNKNOWN without CRLF", "PROXY UNKNOWN", 0),
	BAD("half the addresses", "PROXY TCP4 1.2.3.4", 0),
	BAD("CR awaiting LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", 0),
	BAD("105 bytes without CR", "PROXY UNKNOWN " FFFF " " FFFF " 65535 65535", 0),

	/* signature */
	BAD("an HTTP request", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", -PROXY_ERR_SIGNATURE),
	BAD("a TLS hello", "\x16" "\x03" "\x01" "\x02" "\0", -PROXY_ERR_SIGNATURE),
	BAD("lower case proxy", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_SIGNATURE),
	BAD("PROX then space", "PROX TCP4", -PROXY_ERR_SIGNATURE),
	BAD("no space after PROXY", "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_SIGNATURE),
	BAD("PROXY CRLF", "PROXY\r\n", -PROXY_ERR_SIGNATURE),
	BAD("leading space", " PROXY TCP4", -PROXY_ERR_SIGNATURE),
	BAD("a leading CRLF", "\r\nPROXY TCP4", -PROXY_ERR_SIGNATURE),
	BAD("NUL", "\0", -PROXY_ERR_SIGNATURE),

	/* v1 line end */
	BAD("106 bytes without CR", "PROXY UNKNOWN " FFFF " " FFFF " 65535 655350",
	    -PROXY_ERR_V1_CRLF),
	BAD("108-byte line", "PROXY UNKNOWN " FFFF " " FFFF " 65535 655350\r\n",
	    -PROXY_ERR_V1_CRLF),
	BAD("bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", -PROXY_ERR_V1_CRLF),
	BAD("bare LF after UNKNOWN", "PROXY UNKNOWN\n", -PROXY_ERR_V1_CRLF),
	BAD("CR CR LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", -PROXY_ERR_V1_CRLF),
	BAD("bare CR inside", "PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n", -PROXY_ERR_V1_CRLF),
	BAD("bare CR in UNKNOWN's rest", "PROXY UNKNOWN a\rb\r\n", -PROXY_ERR_V1_CRLF),

	/* v1 family */
	BAD("TCP5", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_FAMILY),
	BAD("lower case tcp4", "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_FAMILY),
	BAD("UDP4", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_FAMILY),
	BAD("TCP46", "PROXY TCP46 1.2.3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_FAMILY),
	BAD("TCP alone", "PROXY TCP 1.2.3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_FAMILY),
	BAD("no family", "PROXY \r\n", -PROXY_ERR_V1_FAMILY),
	BAD("two spaces", "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_FAMILY),
	BAD("UNKNOWNX", "PROXY UNKNOWNX\r\n", -PROXY_ERR_V1_FAMILY),
	BAD("family refused before the CRLF", "PROXY TCPX", -PROXY_ERR_V1_FAMILY),

	/* v1 fields */
	BAD("TCP4 alone", "PROXY TCP4\r\n", -PROXY_ERR_V1_FIELDS),
	BAD("TCP4 and space", "PROXY TCP4 \r\n", -PROXY_ERR_V1_FIELDS),
	BAD("three fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", -PROXY_ERR_V1_FIELDS),
	BAD("five fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", -PROXY_ERR_V1_FIELDS),
	BAD("double space", "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", -PROXY_ERR_V1_FIELDS),
	BAD("trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", -PROXY_ERR_V1_FIELDS),
	BAD("tab separator", "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", -PROXY_ERR_V1_FIELDS),

	/* v1 addresses */
	BAD("three octets", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("five octets", "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("octet 256", "PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("leading zero", "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("leading zero, last octet", "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n",
	    -PROXY_ERR_V1_ADDRESS),
	BAD("empty octet", "PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("trailing dot", "PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("hex octet", "PROXY TCP4 0x1.2.3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("a name", "PROXY TCP4 localhost 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("bad destination", "PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("IPv6 triple colon", "PROXY TCP6 2001:db8:::1 ::1 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("IPv6 two double colons", "PROXY TCP6 1::2::3 ::1 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("IPv6 bad digit", "PROXY TCP6 2001:db8::g ::1 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("IPv6 five digits", "PROXY TCP6 12345::1 ::1 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("IPv6 nine groups", "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("IPv6 bracketed", "PROXY TCP6 [::1] ::1 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("IPv6 with zone", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", -PROXY_ERR_V1_ADDRESS),
	BAD("address before port", "PROXY TCP4 1.2.3 5.6.7.8 99999 2\r\n", -PROXY_ERR_V1_ADDRESS),

	/* v1 ports */
	BAD("port 65536", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", -PROXY_ERR_V1_PORT),
	BAD("port leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n", -PROXY_ERR_V1_PORT),
	BAD("port 00", "PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n", -PROXY_ERR_V1_PORT),
	BAD("port with sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", -PROXY_ERR_V1_PORT),
	BAD("negative port", "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", -PROXY_ERR_V1_PORT),
	BAD("port not digits", "PROXY TCP4 1.2.3.4 5.6.7.8 8a 2\r\n", -PROXY_ERR_V1_PORT),
	BAD("port overflowing", "PROXY TCP4 1.2.3.4 5.6.7.8 4294967377 2\r\n", -PROXY_ERR_V1_PORT),
	BAD("bad destination port", "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", -PROXY_ERR_V1_PORT),

	/* v1 family and address */
	BAD("TCP4 with IPv6", "PROXY TCP4 ::1 ::1 1 2\r\n", -PROXY_ERR_V1_MISMATCH),
	BAD("TCP6 with IPv4", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", -PROXY_ERR_V1_MISMATCH),
	BAD("TCP4 with one IPv6", "PROXY TCP4 1.2.3.4 ::1 1 2\r\n", -PROXY_ERR_V1_MISMATCH),

	/* v2, valid */
	OK2("v2 TCP4", SIG V2_PROXY TCP4 "\0" "\x0c" ADDR4, PROXY_CMD_PROXY,
	    "192.0.2.1:56789", "198.51.100.17:443"),
	OK2("v2 TCP6", SIG V2_PROXY TCP6 "\0" "\x24" ADDR6, PROXY_CMD_PROXY,
	    "[2001:db8::1]:1234", "[2001:db8::2]:80"),
	OK2("v2 LOCAL", SIG V2_LOCAL "\0" "\0" "\0", PROXY_CMD_LOCAL, NONE, NONE),
	OK2("v2 LOCAL skips an address", SIG V2_LOCAL TCP4 "\0" "\x0c" ADDR4, PROXY_CMD_LOCAL,
	    NONE, NONE),
	OK2("v2 LOCAL ignores the family", SIG V2_LOCAL "\xff" "\0" "\x02" "ab", PROXY_CMD_LOCAL,
	    NONE, NONE),
	OK2("v2 UNSPEC", SIG V2_PROXY "\0" "\0" "\0", PROXY_CMD_PROXY, NONE, NONE),
	OK2("v2 UNSPEC skips its block", SIG V2_PROXY "\0" "\0" "\x03" "abc", PROXY_CMD_PROXY,
	    NONE, NONE),
	OK2("v2 UDP4 as UNSPEC", SIG V2_PROXY "\x12" "\0" "\x0c" ADDR4, PROXY_CMD_PROXY,
	    NONE, NONE),
	OK2("v2 UDP6 as UNSPEC", SIG V2_PROXY "\x22" "\0" "\x24" ADDR6, PROXY_CMD_PROXY,
	    NONE, NONE),
	OK2("v2 TCP4 with TLVs", SIG V2_PROXY TCP4 "\0" "\x1a" ADDR4
	    "\x04" "\0" "\x02" "xy" "\x02" "\0" "\x06" "a.test", PROXY_CMD_PROXY,
	    "192.0.2.1:56789", "198.51.100.17:443"),
	OK2("v2 TCP4 with an empty TLV", SIG V2_PROXY TCP4 "\0" "\x0f" ADDR4 "\x04" "\0" "\0",
	    PROXY_CMD_PROXY, "192.0.2.1:56789", "198.51.100.17:443"),
	OK2("v2 TCP6 with a CRC32C TLV (not checked)", SIG V2_PROXY TCP6 "\0" "\x2b" ADDR6
	    "\x03" "\0" "\x04" "\x12" "\x34" "\x56" "\x78", PROXY_CMD_PROXY,
	    "[2001:db8::1]:1234", "[2001:db8::2]:80"),

	/* v2, incomplete */
	BAD("v2 first byte", "\r", 0),
	BAD("v2 signature only", SIG, 0),
	BAD("v2 up to the command", SIG V2_PROXY, 0),
	BAD("v2 up to the family", SIG V2_PROXY TCP4, 0),
	BAD("v2 half the length", SIG V2_PROXY TCP4 "\0", 0),
	BAD("v2 address one short", SIG V2_PROXY TCP4 "\0" "\x0c" "\xc0" "\0" "\x02" "\x01"
	    "\xc6" "\x33" "\x64" "\x11" "\xdd" "\xd5" "\x01", 0),
	BAD("v2 TLV not all there", SIG V2_PROXY TCP4 "\0" "\x10" ADDR4 "\x04" "\0" "\x01", 0),

	/* v2 signature */
	BAD("v2 signature, bad 2nd byte", "\r\r", -PROXY_ERR_SIGNATURE),
	BAD("v2 signature, bad 5th byte", "\r\n\r\n" "\x01", -PROXY_ERR_SIGNATURE),
	BAD("v2 signature, bad last byte", "\r\n\r\n" "\0" "\r\nQUIT\r", -PROXY_ERR_SIGNATURE),
	BAD("v2 signature, lower case", "\r\n\r\n" "\0" "\r\nquit\n", -PROXY_ERR_SIGNATURE),

	/* v2 version and command */
	BAD("v2 version 1", SIG "\x11" TCP4 "\0" "\x0c" ADDR4, -PROXY_ERR_V2_VERSION),
	BAD("v2 version 3", SIG "\x31", -PROXY_ERR_V2_VERSION),
	BAD("v2 version 0", SIG "\x01", -PROXY_ERR_V2_VERSION),
	BAD("v2 command 2", SIG "\x22" TCP4 "\0" "\x0c" ADDR4, -PROXY_ERR_V2_COMMAND),
	BAD("v2 command 15", SIG "\x2f", -PROXY_ERR_V2_COMMAND),

	/* v2 family */
	BAD("v2 family 4", SIG V2_PROXY "\x41" "\0" "\x0c" ADDR4, -PROXY_ERR_V2_FAMILY),
	BAD("v2 transport 3", SIG V2_PROXY "\x13" "\0" "\x0c" ADDR4, -PROXY_ERR_V2_FAMILY),
	BAD("v2 family 0xff", SIG V2_PROXY "\xff", -PROXY_ERR_V2_FAMILY),

	/* v2 length */
	BAD("v2 length 65535", SIG V2_PROXY TCP4 "\xff" "\xff", -PROXY_ERR_V2_TOO_LONG),
	BAD("v2 length 1025", SIG V2_PROXY TCP4 "\x04" "\x01", -PROXY_ERR_V2_TOO_LONG),
	BAD("v2 LOCAL length 1025", SIG V2_LOCAL "\0" "\x04" "\x01", -PROXY_ERR_V2_TOO_LONG),
	BAD("v2 TCP4 length 11", SIG V2_PROXY TCP4 "\0" "\x0b" ADDR4, -PROXY_ERR_V2_LENGTH),
	BAD("v2 TCP4 length 0", SIG V2_PROXY TCP4 "\0" "\0", -PROXY_ERR_V2_LENGTH),
	BAD("v2 TCP6 with an IPv4 block", SIG V2_PROXY TCP6 "\0" "\x0c" ADDR4,
	    -PROXY_ERR_V2_LENGTH),
	BAD("v2 UNIX length 215", SIG V2_PROXY "\x31" "\0" "\xd7", -PROXY_ERR_V2_LENGTH),

	/* v2 TLVs */
	BAD("v2 one byte after the addresses", SIG V2_PROXY TCP4 "\0" "\x0d" ADDR4 "\x04",
	    -PROXY_ERR_V2_TLV),
	BAD("v2 two bytes after the addresses", SIG V2_PROXY TCP4 "\0" "\x0e" ADDR4 "\x04" "\0",
	    -PROXY_ERR_V2_TLV),
	BAD("v2 TLV longer than the header", SIG V2_PROXY TCP4 "\0" "\x11" ADDR4
	    "\x04" "\0" "\x03" "xy", -PROXY_ERR_V2_TLV),
	BAD("v2 second TLV too long", SIG V2_PROXY TCP6 "\0" "\x2a" ADDR6
	    "\x04" "\0" "\x00" "\x05" "\0" "\x01", -PROXY_ERR_V2_TLV),
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pp_case *c = &cases[i];
		struct proxy_header h;
		ssize_t want = c->want == LEN ? (ssize_t)c->len : c->want;
		ssize_t r = proxy_parse(c->in, c->len, &h);

		is_int(r, want, "%s", c->name);
		if (r > 0 && want > 0) {
			is_int(h.version, c->version, "%s: version", c->name);
			is_int(h.command, c->command, "%s: command", c->name);
			is_str(A(&h.src, h.src_len), c->src, "%s: source", c->name);
			is_str(A(&h.dst, h.dst_len), c->dst, "%s: destination", c->name);
		}
		ok(prefixes_agree(c->in, c->len), "%s: every prefix", c->name);
	}
}

/* The request after a header is not the parser's: it answers the header's length. */
static void test_request_follows(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pp_case *c = &cases[i];
		char buf[PROXY_HEADER_MAX + sizeof(req)];
		struct proxy_header h;

		if (c->want != LEN)
			continue;
		memcpy(buf, c->in, c->len);
		memcpy(buf + c->len, req, sizeof(req) - 1);
		is_int(proxy_parse(buf, c->len + sizeof(req) - 1, &h), c->len,
		       "%s, then a request: the header's length", c->name);
		ok(prefixes_agree(buf, c->len + sizeof(req) - 1), "%s, then a request: every prefix",
		   c->name);
	}
}

/* A v2 header of 16 + alen bytes with the given family, its block filled with fill. */
static size_t v2(uint8_t *b, uint8_t cmd, uint8_t fam, size_t alen, uint8_t fill)
{
	memcpy(b, SIG, 12);
	b[12] = cmd;
	b[13] = fam;
	b[14] = (uint8_t)(alen >> 8);
	b[15] = (uint8_t)alen;
	memset(b + 16, fill, alen);
	return 16 + alen;
}

static void test_v2_sizes(void)
{
	uint8_t b[PROXY_HEADER_MAX + 64];
	struct proxy_header h;
	size_t n;

	n = v2(b, 0x21, 0x31, 216, 'u');
	is_int(proxy_parse(b, n, &h), 232, "v2 UNIX stream, 216 bytes of paths");
	is_int(h.src_len, 0, "v2 UNIX: no address used");
	ok(prefixes_agree((char *)b, n), "v2 UNIX: every prefix");
	n = v2(b, 0x21, 0x32, 216, 'u');
	is_int(proxy_parse(b, n, &h), 232, "v2 UNIX datagram");

	/* The longest accepted: addresses, then TLVs filling the rest exactly. */
	n = v2(b, 0x21, 0x11, 1024, 0);
	b[16 + 12] = 0x04;
	b[16 + 13] = (1024 - 12 - 3) >> 8;
	b[16 + 14] = (1024 - 12 - 3) & 0xff;
	is_int(proxy_parse(b, n, &h), PROXY_V2_MAX, "v2 at PROXY_V2_MAX, one long TLV");
	ok(prefixes_agree((char *)b, n), "v2 at PROXY_V2_MAX: every prefix");
	n = v2(b, 0x21, 0x11, 1024, 0);	/* 1012 bytes of empty NOOP-less TLVs: type 0, len 0 */
	b[16 + 1023] = 1;		/* the last one is cut: 1012 is no multiple of 3 */
	is_int(proxy_parse(b, n, &h), -PROXY_ERR_V2_TLV, "v2 many TLVs, the last one cut");
	n = v2(b, 0x20, 0x00, 1024, 0xee);
	is_int(proxy_parse(b, n, &h), PROXY_V2_MAX, "v2 LOCAL at PROXY_V2_MAX");
	is_int(proxy_parse(b, 16, &h), 0, "v2 LOCAL at PROXY_V2_MAX: waits for it");
	v2(b, 0x20, 0x00, 1025, 0);
	is_int(proxy_parse(b, 16, &h), -PROXY_ERR_V2_TOO_LONG,
	       "v2 one over: refused once the length is read");
}

static void test_error_texts(void)
{
	const char *unknown = proxy_error_text(0);

	for (int e = PROXY_ERR_SIGNATURE; e <= PROXY_ERR_V2_TLV; e++) {
		const char *t = proxy_error_text(e);
		bool distinct = t != unknown;

		for (int f = PROXY_ERR_SIGNATURE; f < e; f++)
			distinct = distinct && strcmp(t, proxy_error_text(f)) != 0;
		ok(distinct && strlen(t) < 60, "error %d has its own short text: %s", e, t);
	}
}

int main(void)
{
	test_cases();
	test_request_follows();
	test_v2_sizes();
	test_error_texts();
	return done_testing();
}
