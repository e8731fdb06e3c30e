/* SPDX-License-Identifier: ISC */
/*
 * addr: inet_pton() and inet_ntop() do the address text; this file adds the forms around
 * it (brackets, ports, prefixes) and the one IPv4-mapped rule.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"

static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };	/* ::ffff:0:0/96 */

static int fail(const char *text, const char *forms, char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "\"%s\" is not %s", text, forms);
	return -1;
}

static int parse_hostport(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(text, ':');
	char *end;
	long port;

	if (!colon || colon == text)
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
		return -1;
	size_t hlen = (size_t)(colon - text);
	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		if (hlen < 3 || host[hlen - 1] != ']')
			return -1;
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		if (strcmp(host, "*") == 0)
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
	}
	return 0;
}

int addr_parse_hostport(const char *text, struct sockaddr_storage *ss, socklen_t *len,
			char *err, size_t errlen)
{
	if (parse_hostport(text, ss, len) < 0)
		return fail(text, "host:port (IPv4, [IPv6] or *, port 1-65535)", err, errlen);
	return 0;
}

static int parse_cidr(const char *text, struct addr_net *net)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max;

	memset(net, 0, sizeof(*net));
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, net->addr) == 1) {
		net->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, net->addr) == 1) {
		net->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	net->prefix = (uint8_t)max;
	if (slash) {
		const char *p = slash + 1;
		unsigned v = 0;
		/* Digits only: strtoul would take a sign, spaces and "0x". */
		if (!*p || strlen(p) > 3)
			return -1;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (v > max)
			return -1;
		net->prefix = (uint8_t)v;
	}
	/* An IPv4 block written mapped: matched as IPv4, as the peers it is meant for are. */
	if (net->family == AF_INET6 && net->prefix >= 96 &&
	    memcmp(net->addr, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(net->addr, net->addr + 12, 4);
		memset(net->addr + 4, 0, 12);
		net->family = AF_INET;
		net->prefix -= 96;
	}
	for (unsigned bit = net->prefix; bit < 128; bit++)
		net->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return 0;
}

int addr_parse_cidr(const char *text, struct addr_net *net, char *err, size_t errlen)
{
	if (parse_cidr(text, net) < 0)
		return fail(text, "an address or address/prefix (IPv4 or IPv6)", err, errlen);
	return 0;
}

/* sa's address as matched: 4 bytes for IPv4 and IPv4-mapped, else 16. 0 when not IP. */
static sa_family_t match_form(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(out, a->s6_addr + 12, 4);
			return AF_INET;
		}
		memcpy(out, a, 16);
		return AF_INET6;
	}
	return 0;
}

static bool prefix_equal(const uint8_t *net, const uint8_t *addr, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(net, addr, whole) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (net[whole] & mask) == (addr[whole] & mask);
}

bool addr_match(const struct addr_net *nets, size_t n, const struct sockaddr *sa)
{
	uint8_t addr[16];
	sa_family_t family = match_form(sa, addr);

	for (size_t i = 0; family && i < n; i++)
		if (nets[i].family == family && prefix_equal(nets[i].addr, addr, nets[i].prefix))
			return true;
	return false;
}

bool addr_equal(const struct sockaddr *a, socklen_t alen, const struct sockaddr *b,
		socklen_t blen)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

bool addr_overlap(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && (x->sin_addr.s_addr == htonl(INADDR_ANY) ||
						      y->sin_addr.s_addr == htonl(INADDR_ANY));
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port && (IN6_IS_ADDR_UNSPECIFIED(&x->sin6_addr) ||
							IN6_IS_ADDR_UNSPECIFIED(&y->sin6_addr));
	}
	return false;
}

const char *addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = NULL;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (!a || !inet_ntop(sa->sa_family, a, buf, (socklen_t)len))
		snprintf(buf, len, "-");
	return buf;
}

const char *addr_format_port(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *un = (const void *)sa;
		snprintf(buf, len, "%.*s", (int)sizeof(un->sun_path), un->sun_path);
	} else {
		snprintf(buf, len, "(unknown address)");
	}
	return buf;
}

bool addr_key(const struct sockaddr *sa, uint8_t key[16])
{
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return true;
	}
	if (sa->sa_family == AF_INET) {
		memcpy(key, v4mapped, sizeof(v4mapped));
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return true;
	}
	return false;
}

/* A decimal number without sign or leading zero, at most max; false if s is not one. */
static bool decimal(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

bool addr_wire_v4(const char *s, size_t len, struct in_addr *out)
{
	uint8_t b[4];
	size_t i = 0;

	for (int k = 0; k < 4; k++) {
		size_t start = i;
		unsigned v;

		while (i < len && s[i] != '.')
			i++;
		if (!decimal(s + start, i - start, 255, &v))
			return false;
		b[k] = (uint8_t)v;
		if (k < 3) {
			if (i == len)
				return false;
			i++;	/* the dot */
		}
	}
	if (i != len)
		return false;
	memcpy(&out->s_addr, b, 4);
	return true;
}

bool addr_wire_v6(const char *s, size_t len, struct in6_addr *out)
{
	char z[INET6_ADDRSTRLEN];

	/* inet_pton wants a C string; anything longer than the longest form is not one. */
	if (len == 0 || len >= sizeof(z) || memchr(s, '\0', len))
		return false;
	memcpy(z, s, len);
	z[len] = '\0';
	return inet_pton(AF_INET6, z, out) == 1;
}

bool addr_wire_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v;

	if (!decimal(s, len, 65535, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

socklen_t addr_sockaddr4(struct sockaddr_storage *ss, const struct in_addr *a, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr = *a;
	return sizeof(*sin);
}

socklen_t addr_sockaddr6(struct sockaddr_storage *ss, const struct in6_addr *a,
			    uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = *a;
	return sizeof(*sin6);
}
