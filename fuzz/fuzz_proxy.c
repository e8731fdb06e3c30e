/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for proxy_proto. Beyond memory safety (ASan/UBSan), it checks what the
 * engine will rely on: the answer never depends on how the bytes were cut into reads
 * (every prefix answers "need more" or exactly what the whole answers, with the same
 * header), a header's length stays within the input and PROXY_HEADER_MAX, and a parsed
 * header says what its bytes say: a v1 line printed back from the result parses to the
 * same result, a v2 address block holds the result's addresses. Any breach abort()s.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../src/addr.c"
#include "../src/proxy_proto.c"

static void check(bool cond)
{
	if (!cond)
		abort();
}

static bool same_header(const struct proxy_header *a, const struct proxy_header *b)
{
	return a->version == b->version && a->command == b->command &&
	       a->src_len == b->src_len && a->dst_len == b->dst_len &&
	       memcmp(&a->src, &b->src, a->src_len) == 0 && memcmp(&a->dst, &b->dst, a->dst_len) == 0;
}

static const void *ip_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
					: (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* What a successful parse promises. */
static void check_header(const uint8_t *b, size_t n, const struct proxy_header *h)
{
	check(h->src_len == h->dst_len);
	check(h->src_len == 0 || h->src.ss_family == h->dst.ss_family);
	check(h->src_len == 0 ||
	      (h->src.ss_family == AF_INET && h->src_len == sizeof(struct sockaddr_in)) ||
	      (h->src.ss_family == AF_INET6 && h->src_len == sizeof(struct sockaddr_in6)));
	if (h->version == 1) {
		check(n <= PROXY_V1_MAX && memcmp(b, "PROXY ", 6) == 0);
		check(b[n - 2] == '\r' && b[n - 1] == '\n' && h->command == PROXY_CMD_PROXY);
		check(memchr(b, '\r', n - 2) == NULL && memchr(b, '\n', n - 1) == NULL);
		if (h->src_len == 0) {
			check(memcmp(b + 6, "UNKNOWN", 7) == 0);
			return;
		}
		/* Printed back canonically, the line parses to the same header. */
		char line[PROXY_V1_MAX + 64], s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
		struct proxy_header again;
		int fam6 = h->src.ss_family == AF_INET6;
		int len;

		inet_ntop(h->src.ss_family, ip_of(&h->src), s, sizeof(s));
		inet_ntop(h->dst.ss_family, ip_of(&h->dst), d, sizeof(d));
		len = snprintf(line, sizeof(line), "PROXY TCP%c %s %s %u %u\r\n", fam6 ? '6' : '4',
			       s, d, port_of(&h->src), port_of(&h->dst));
		check(proxy_parse(line, (size_t)len, &again) == len && same_header(h, &again));
		/* Strict IPv4 text has one spelling: the same bytes. */
		if (!fam6)
			check((size_t)len == n && memcmp(line, b, n) == 0);
		return;
	}
	check(h->version == 2 && n >= 16 && n <= PROXY_V2_MAX);
	check(n == 16 + ((size_t)b[14] << 8 | b[15]));
	check((b[12] & 0x0f) == h->command);
	if (h->src_len == 0)
		return;
	check(h->command == PROXY_CMD_PROXY && (b[13] == 0x11 || b[13] == 0x21));
	size_t al = b[13] == 0x11 ? 4 : 16;

	check(memcmp(b + 16, ip_of(&h->src), al) == 0);
	check(memcmp(b + 16 + al, ip_of(&h->dst), al) == 0);
	check(port_of(&h->src) == ((unsigned)b[16 + 2 * al] << 8 | b[17 + 2 * al]));
	check(port_of(&h->dst) == ((unsigned)b[18 + 2 * al] << 8 | b[19 + 2 * al]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header whole, part;
	ssize_t want = proxy_parse(data, size, &whole), r;

	check(want == 0 || (want < 0 && want >= -PROXY_ERR_V2_TLV) ||
	      (want > 0 && (size_t)want <= size && want <= PROXY_HEADER_MAX));
	check(want >= 0 || strcmp(proxy_error_text((int)-want), proxy_error_text(0)) != 0);
	if (want > 0)
		check_header(data, (size_t)want, &whole);

	/* Every prefix when short; else a data-derived cut and the header's own length. */
	size_t cut = size ? (data[0] * 131u + data[size - 1]) % (size + 1) : 0;
	ssize_t first = 0;

	for (size_t k = 0; k <= size; k++) {
		if (size > 300 && k != cut && k != size && (want <= 0 || k != (size_t)want))
			continue;
		r = proxy_parse(data, k, &part);
		check(r == 0 || r == want);
		check(!(want > 0 && k >= (size_t)want) || r == want);
		if (r > 0)
			check(same_header(&whole, &part));
		if (first == 0)
			first = r;
	}
	check(first == want || size > 300);
	return 0;
}
