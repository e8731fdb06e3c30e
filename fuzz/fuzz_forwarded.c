/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for forwarded. Input: byte 0 picks the field read (bit 0: Forwarded,
 * else X-Forwarded-For) and the peer (bit 1: IPv6; the rest: its last byte), byte 1 is
 * the trusted set (an address is trusted when bit (sum of its bytes % 8) is set), then
 * field values one per line; a line starting with '!' is sent under the other field's
 * name and must change nothing.
 *
 * Beyond ASan/UBSan it checks the one-pass walk against the rule as written: the entries
 * (found by the module's own element parsers) walked right to left, naively. And what
 * the answer promises: an untrusted peer is the client; a "client" entry is untrusted; a
 * "left-most" one is trusted. For X-Forwarded-For, the lines joined by commas into one
 * give the same answer. Any breach abort()s.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>

#include "../src/addr.c"
#include "../src/forwarded.c"

#define MAXF 16
#define MAXE 4096

static void check(bool cond)
{
	if (!cond)
		abort();
}

static bool trusted(const struct sockaddr *sa, void *arg)
{
	uint8_t mask = *(const uint8_t *)arg;
	const uint8_t *a;
	size_t n;
	unsigned sum = 0;

	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		n = 4;
	} else {
		check(sa->sa_family == AF_INET6);
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		sum += a[i];
	return mask >> (sum % 8) & 1;
}

struct entry {
	struct sockaddr_storage ss;
	socklen_t len;
};

static struct entry entries[MAXE];

/* The entries of one value, in order, as the module's parsers find them. */
static size_t entries_of(enum forwarded_field which, const char *s, size_t n, size_t ne)
{
	size_t i = 0;

	while (i < n && ne < MAXE) {
		if (which == FORWARDED_RFC7239) {
			while (i < n && (is_ows(s[i]) || s[i] == ','))
				i++;
			if (i == n)
				break;
			entries[ne].len = rfc7239_element(s, n, &i, &entries[ne].ss);
			ne++;
			continue;
		}
		/* X-Forwarded-For: split here, independently of xff_value(). */
		const char *comma = memchr(s + i, ',', n - i);
		size_t end = comma ? (size_t)(comma - s) : n, a = i, b = end;

		while (a < b && is_ows(s[a]))
			a++;
		while (b > a && is_ows(s[b - 1]))
			b--;
		if (b > a) {
			entries[ne].len = xff_entry(s + a, b - a, &entries[ne].ss);
			ne++;
		}
		i = end + 1;
	}
	return ne;
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t al,
		      const struct sockaddr_storage *b, socklen_t bl)
{
	return al == bl && memcmp(a, b, al) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > (1 << 16))
		return 0;

	enum forwarded_field which = data[0] & 1 ? FORWARDED_RFC7239 : FORWARDED_XFF;
	enum forwarded_field other = which == FORWARDED_XFF ? FORWARDED_RFC7239 : FORWARDED_XFF;
	uint8_t mask = data[1];
	struct sockaddr_storage peer, out, want;
	socklen_t plen, olen, wlen;
	struct http_field f[MAXF];
	unsigned nf = 0;
	const char *s = (const char *)data + 2, *end = (const char *)data + size;

	if (data[0] & 2) {
		struct in6_addr a6 = { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = data[0] } };

		plen = addr_sockaddr6(&peer, &a6, 40000);
	} else {
		struct in_addr a4 = { htonl(0x0a000000u | data[0]) };

		plen = addr_sockaddr4(&peer, &a4, 40000);
	}

	while (s <= end && nf < MAXF) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		enum forwarded_field w = which;

		if (s < e && *s == '!') {
			w = other;
			s++;
		}
		f[nf].name = forwarded_field_name(w);
		f[nf].name_len = strlen(f[nf].name);
		f[nf].value = s;
		f[nf].value_len = (size_t)(e - s);
		nf++;
		s = e + 1;
	}

	enum forwarded_result r = forwarded_client(which, f, nf, (struct sockaddr *)&peer, plen,
						   trusted, &mask, &out, &olen);

	/* The rule as written: right to left over the entries of the field read. */
	size_t ne = 0;
	enum forwarded_result why;

	for (unsigned i = 0; i < nf; i++)
		if (f[i].name == forwarded_field_name(which))
			ne = entries_of(which, f[i].value, f[i].value_len, ne);
	if (ne == MAXE)
		return 0;	/* the reference's table is full: no verdict */
	want = peer;
	wlen = plen;
	if (!trusted((struct sockaddr *)&peer, &mask)) {
		why = FORWARDED_PEER;
	} else if (ne == 0) {
		why = FORWARDED_NONE;
	} else {
		why = FORWARDED_LEFTMOST;
		for (size_t i = ne; i-- > 0;) {
			if (entries[i].len == 0) {
				why = FORWARDED_STOPPED;
				break;
			}
			want = entries[i].ss;
			wlen = entries[i].len;
			if (!trusted((struct sockaddr *)&want, &mask)) {
				why = FORWARDED_CLIENT;
				break;
			}
		}
	}
	check(r == why);
	check(same_addr(&out, olen, &want, wlen));
	check(r != FORWARDED_CLIENT || !trusted((struct sockaddr *)&out, &mask));
	check(r != FORWARDED_LEFTMOST || trusted((struct sockaddr *)&out, &mask));

	/* X-Forwarded-For lines are one list: joined by commas, the same answer. */
	if (which == FORWARDED_XFF) {
		static char joined[1 << 17];
		size_t jl = 0;
		struct http_field g;
		struct sockaddr_storage out2;
		socklen_t olen2;

		for (unsigned i = 0; i < nf; i++) {
			if (f[i].name != forwarded_field_name(which))
				continue;
			if (jl)
				joined[jl++] = ',';
			memcpy(joined + jl, f[i].value, f[i].value_len);
			jl += f[i].value_len;
		}
		g = (struct http_field){ "X-Forwarded-For", 15, joined, jl };
		check(forwarded_client(which, &g, 1, (struct sockaddr *)&peer, plen, trusted, &mask,
				       &out2, &olen2) == r);
		check(same_addr(&out, olen, &out2, olen2));
	}
	return 0;
}
