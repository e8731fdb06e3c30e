/* SPDX-License-Identifier: ISC */
/*
 * proxy_proto: the PROXY protocol header, v1 and v2 (see proxy_proto.h).
 *
 * The first byte decides the version: 'P' can only start v1's "PROXY ", CR only v2's
 * signature; anything else is refused at once. From there every check runs as soon as
 * the bytes it looks at are there, in the order of those bytes, so a prefix of a header
 * is either "need more" or already answered as the whole will be.
 */
#include "proxy_proto.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"

static const uint8_t v2_signature[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};
static const char v1_signature[] = "PROXY ";
#define V1_SIG_LEN (sizeof(v1_signature) - 1)

enum v1_family { V1_TCP4, V1_TCP6, V1_UNKNOWN };
static const char *const v1_families[] = { "TCP4", "TCP6", "UNKNOWN" };

/*
 * The family word at s[0..len): its family, -1 while it may still become one, or
 * -PROXY_ERR_V1_FAMILY. The word ends at a space or CR; complete says one was seen.
 */
static int v1_family(const char *s, size_t len, bool complete)
{
	for (int f = 0; f < 3; f++) {
		size_t flen = strlen(v1_families[f]);

		if (complete ? len == flen && memcmp(s, v1_families[f], flen) == 0
			     : len <= flen && memcmp(s, v1_families[f], len) == 0)
			return complete ? f : -1;
	}
	return -PROXY_ERR_V1_FAMILY;
}

/* One v1 address of the announced family into *ss: 0 or -error. */
static int v1_address(const char *s, size_t len, enum v1_family fam,
		      struct sockaddr_storage *ss, socklen_t *sl)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (fam == V1_TCP4) {
		if (addr_wire_v4(s, len, &a4)) {
			*sl = addr_sockaddr4(ss, &a4, 0);
			return 0;
		}
		return addr_wire_v6(s, len, &a6) ? -PROXY_ERR_V1_MISMATCH : -PROXY_ERR_V1_ADDRESS;
	}
	if (addr_wire_v6(s, len, &a6)) {
		*sl = addr_sockaddr6(ss, &a6, 0);
		return 0;
	}
	return addr_wire_v4(s, len, &a4) ? -PROXY_ERR_V1_MISMATCH : -PROXY_ERR_V1_ADDRESS;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* "SRC DST SPORT DPORT" in s[0..len) (the line after the family word and its space). */
static int v1_fields(const char *s, size_t len, enum v1_family fam, struct proxy_header *h)
{
	const char *f[4];
	size_t fl[4], i = 0;
	uint16_t sport, dport;
	int r;

	for (int k = 0; k < 4; k++) {
		f[k] = s + i;
		while (i < len && s[i] != ' ')
			i++;
		fl[k] = (size_t)(s + i - f[k]);
		if (fl[k] == 0 || (k < 3 && i == len))
			return -PROXY_ERR_V1_FIELDS;
		if (k < 3)
			i++;
	}
	if (i != len)
		return -PROXY_ERR_V1_FIELDS;
	if ((r = v1_address(f[0], fl[0], fam, &h->src, &h->src_len)) < 0 ||
	    (r = v1_address(f[1], fl[1], fam, &h->dst, &h->dst_len)) < 0)
		return r;
	if (!addr_wire_port(f[2], fl[2], &sport) || !addr_wire_port(f[3], fl[3], &dport))
		return -PROXY_ERR_V1_PORT;
	set_port(&h->src, sport);
	set_port(&h->dst, dport);
	return 0;
}

static ssize_t parse_v1(const char *s, size_t len, struct proxy_header *h)
{
	size_t w = V1_SIG_LEN, cr;
	int fam, r;

	if (memcmp(s, v1_signature, len < V1_SIG_LEN ? len : V1_SIG_LEN) != 0)
		return -PROXY_ERR_SIGNATURE;
	/* No family is 8 bytes long: looking further would only find a longer wrong one. */
	while (w < len && w < V1_SIG_LEN + 8 && s[w] != ' ' && s[w] != '\r' && s[w] != '\n')
		w++;
	fam = v1_family(s + V1_SIG_LEN, w - V1_SIG_LEN, w < len);
	if (fam < -1)
		return fam;
	if (fam == -1)
		return 0;

	/* The CR must come by byte 106 for the LF to be the 107th. */
	size_t lim = len < PROXY_V1_MAX - 1 ? len : PROXY_V1_MAX - 1;

	for (cr = w; cr < lim && s[cr] != '\r' && s[cr] != '\n'; cr++)
		;
	if (cr == lim)
		return lim == PROXY_V1_MAX - 1 ? -PROXY_ERR_V1_CRLF : 0;
	if (s[cr] == '\n')
		return -PROXY_ERR_V1_CRLF;
	if (cr + 1 == len)
		return 0;
	if (s[cr + 1] != '\n')
		return -PROXY_ERR_V1_CRLF;

	memset(h, 0, sizeof(*h));
	h->version = 1;
	h->command = PROXY_CMD_PROXY;
	/* UNKNOWN: whatever follows up to the CRLF is ignored, as the specification says. */
	if (fam != V1_UNKNOWN) {
		if (s[w] != ' ')
			return -PROXY_ERR_V1_FIELDS;
		if ((r = v1_fields(s + w + 1, cr - w - 1, (enum v1_family)fam, h)) < 0)
			return r;
	}
	return (ssize_t)(cr + 2);
}

/* The address block's size for a v2 PROXY family byte; 0 when there is none to read. */
static size_t v2_address_size(uint8_t fam)
{
	switch (fam) {
	case 0x11: case 0x12:	/* TCP, UDP over IPv4 */
		return 2 * 4 + 2 * 2;
	case 0x21: case 0x22:	/* TCP, UDP over IPv6 */
		return 2 * 16 + 2 * 2;
	case 0x31: case 0x32:	/* UNIX stream, datagram */
		return 2 * 108;
	default:
		return 0;
	}
}

static ssize_t parse_v2(const uint8_t *b, size_t len, struct proxy_header *h)
{
	size_t total, need, p;
	int cmd;
	uint8_t fam;

	if (memcmp(b, v2_signature, len < 12 ? len : 12) != 0)
		return -PROXY_ERR_SIGNATURE;
	if (len < 13)
		return 0;
	if (b[12] >> 4 != 2)
		return -PROXY_ERR_V2_VERSION;
	cmd = b[12] & 0x0f;
	if (cmd != PROXY_CMD_LOCAL && cmd != PROXY_CMD_PROXY)
		return -PROXY_ERR_V2_COMMAND;
	if (len < 14)
		return 0;
	/* LOCAL: the specification says the family is ignored, so it is not checked. */
	fam = b[13];
	if (cmd == PROXY_CMD_PROXY && (fam >> 4 > 3 || (fam & 0x0f) > 2))
		return -PROXY_ERR_V2_FAMILY;
	if (len < 16)
		return 0;
	total = 16 + ((size_t)b[14] << 8 | b[15]);
	if (total > PROXY_V2_MAX)
		return -PROXY_ERR_V2_TOO_LONG;
	need = cmd == PROXY_CMD_PROXY ? v2_address_size(fam) : 0;
	if (total - 16 < need)
		return -PROXY_ERR_V2_LENGTH;
	if (len < total)
		return 0;

	memset(h, 0, sizeof(*h));
	h->version = 2;
	h->command = (enum proxy_command)cmd;
	/* LOCAL, and the UNSPEC family or transport: the block means nothing to the server. */
	if (need == 0)
		return (ssize_t)total;
	/* TLVs are skipped, but each must fit in the header, as a well-formed one does. */
	for (p = 16 + need; p < total; p += 3 + ((size_t)b[p + 1] << 8 | b[p + 2]))
		if (total - p < 3 || total - p - 3 < ((size_t)b[p + 1] << 8 | b[p + 2]))
			return -PROXY_ERR_V2_TLV;

	const uint8_t *a = b + 16;
	uint16_t sport, dport;

	if (fam == 0x11) {
		struct in_addr s4, d4;

		memcpy(&s4, a, 4);
		memcpy(&d4, a + 4, 4);
		sport = (uint16_t)(a[8] << 8 | a[9]);
		dport = (uint16_t)(a[10] << 8 | a[11]);
		h->src_len = addr_sockaddr4(&h->src, &s4, sport);
		h->dst_len = addr_sockaddr4(&h->dst, &d4, dport);
	} else if (fam == 0x21) {
		struct in6_addr s6, d6;

		memcpy(&s6, a, 16);
		memcpy(&d6, a + 16, 16);
		sport = (uint16_t)(a[32] << 8 | a[33]);
		dport = (uint16_t)(a[34] << 8 | a[35]);
		h->src_len = addr_sockaddr6(&h->src, &s6, sport);
		h->dst_len = addr_sockaddr6(&h->dst, &d6, dport);
	}
	/* UDP and UNIX: a receiver may treat them as UNSPEC; no address then. */
	return (ssize_t)total;
}

ssize_t proxy_parse(const void *buf, size_t len, struct proxy_header *h)
{
	const uint8_t *b = buf;

	if (len == 0)
		return 0;
	if (b[0] == (uint8_t)v1_signature[0])
		return parse_v1(buf, len, h);
	if (b[0] == v2_signature[0])
		return parse_v2(b, len, h);
	return -PROXY_ERR_SIGNATURE;
}

const char *proxy_error_text(int err)
{
	switch (err) {
	case PROXY_ERR_SIGNATURE:	return "no PROXY protocol signature";
	case PROXY_ERR_V1_CRLF:		return "v1 line not ended by CRLF within 107 bytes";
	case PROXY_ERR_V1_FAMILY:	return "v1 family not TCP4, TCP6 or UNKNOWN";
	case PROXY_ERR_V1_FIELDS:	return "v1 fields not \"SRC DST SPORT DPORT\"";
	case PROXY_ERR_V1_ADDRESS:	return "v1 address does not parse";
	case PROXY_ERR_V1_PORT:		return "v1 port not 0-65535";
	case PROXY_ERR_V1_MISMATCH:	return "v1 address not of the announced family";
	case PROXY_ERR_V2_VERSION:	return "v2 version not 2";
	case PROXY_ERR_V2_COMMAND:	return "v2 command neither LOCAL nor PROXY";
	case PROXY_ERR_V2_FAMILY:	return "v2 unknown address family or transport";
	case PROXY_ERR_V2_TOO_LONG:	return "v2 header longer than 1040 bytes";
	case PROXY_ERR_V2_LENGTH:	return "v2 length shorter than the family's addresses";
	case PROXY_ERR_V2_TLV:		return "v2 TLV runs past the header";
	default:			return "unknown PROXY protocol error";
	}
}
