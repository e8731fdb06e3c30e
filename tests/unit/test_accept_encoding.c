/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for accept_encoding: each field value is parsed whole, then split at every
 * byte into two pieces and fed byte by byte; all three must give the same q-values and
 * the same choice, since where a buffer is cut must not change the answer.
 */
#include "../../src/accept_encoding.c"
#include "tap.h"

#define U AE_Q_UNSET
#define ALL (1u << AE_BR | 1u << AE_ZSTD | 1u << AE_GZIP)
#define GZ (1u << AE_GZIP)

struct ae_case {
	const char *in;
	bool valid;
	uint16_t identity, br, zstd, gzip, star;
	unsigned available;
	enum ae_coding want;
};

static const struct ae_case cases[] = {
	{ "", true, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "gzip", true, U, U, U, 1000, U, ALL, AE_GZIP },
	{ "gzip", true, U, U, U, 1000, U, 1u << AE_BR, AE_IDENTITY },
	{ "gzip, deflate, br", true, U, 1000, U, 1000, U, ALL, AE_BR },
	{ "gzip, deflate, br", true, U, 1000, U, 1000, U, GZ, AE_GZIP },
	{ "gzip, deflate, br, zstd", true, U, 1000, 1000, 1000, U, ALL, AE_BR },
	{ "br;q=0.5, gzip", true, U, 500, U, 1000, U, ALL, AE_GZIP },
	{ "br;q=0.5 , gzip;q=0.4", true, U, 500, U, 400, U, ALL, AE_BR },
	{ "GZIP;Q=1.000", true, U, U, U, 1000, U, ALL, AE_GZIP },
	{ "x-gzip", true, U, U, U, 1000, U, ALL, AE_GZIP },
	{ "gzip;q=0", true, U, U, U, 0, U, ALL, AE_IDENTITY },
	{ "gzip;q=0.000", true, U, U, U, 0, U, ALL, AE_IDENTITY },
	{ "gzip;q=0.001", true, U, U, U, 1, U, ALL, AE_GZIP },
	{ "gzip;q=0.5, identity", true, 1000, U, U, 500, U, ALL, AE_IDENTITY },
	{ "gzip, identity", true, 1000, U, U, 1000, U, ALL, AE_GZIP },
	{ "gzip;q=0.1, identity;q=0", true, 0, U, U, 100, U, ALL, AE_GZIP },
	{ "identity;q=0", true, 0, U, U, U, U, ALL, AE_IDENTITY },
	{ "*", true, U, U, U, U, 1000, ALL, AE_BR },
	{ "*", true, U, U, U, U, 1000, GZ, AE_GZIP },
	{ "*;q=0, gzip", true, U, U, U, 1000, 0, ALL, AE_GZIP },
	{ "*;q=0", true, U, U, U, U, 0, ALL, AE_IDENTITY },
	{ "br;q=0, *;q=0.3", true, U, 0, U, U, 300, ALL, AE_ZSTD },
	{ " ,, gzip ,\t, ", true, U, U, U, 1000, U, ALL, AE_GZIP },
	{ "gzip ; q=0.7", true, U, U, U, 700, U, ALL, AE_GZIP },
	{ "compress, deflate", true, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "gzipper, identityx, brr", true, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "verylongcodingname;q=0.2, gzip", true, U, U, U, 1000, U, ALL, AE_GZIP },
	{ "gzip;q=1, gzip;q=0", true, U, U, U, 0, U, ALL, AE_IDENTITY },
	/* Malformed: the whole field is ignored and identity is sent. */
	{ "gzip;q=1.5", false, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "gzip;q=0.0001", false, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "gzip;q=", false, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "gzip;q", false, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "gzip;", false, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "gzip;level=1", false, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "gzip;q=0.5;q=0.6", false, U, U, U, 500, U, ALL, AE_IDENTITY },
	{ "gzip;q = 0.5", false, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "gzip;q=.5", false, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "gzip;q=01", false, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "gzip br", false, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "gz\x01ip", false, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "\"gzip\"", false, U, U, U, U, U, ALL, AE_IDENTITY },
	{ "br, gzip;q=2", false, U, 1000, U, U, U, ALL, AE_IDENTITY },
};

static bool same(const struct accept_encoding *a, const struct accept_encoding *b)
{
	return a->invalid == b->invalid && a->star == b->star &&
	       memcmp(a->q, b->q, sizeof(a->q)) == 0;
}

static void check(const struct ae_case *t)
{
	struct accept_encoding whole, bytes, split;
	size_t n = strlen(t->in);
	bool v = (ae_init(&whole), ae_feed(&whole, t->in, n), ae_finish(&whole));

	is_int(v, t->valid, "\"%s\": %s", t->in, t->valid ? "valid" : "malformed");
	if (t->valid) {
		ok(whole.q[AE_IDENTITY] == t->identity && whole.q[AE_BR] == t->br &&
		   whole.q[AE_ZSTD] == t->zstd && whole.q[AE_GZIP] == t->gzip &&
		   whole.star == t->star, "\"%s\": q-values", t->in);
	}
	is_int(ae_choose(&whole, t->available), t->want, "\"%s\" with 0x%x: %s", t->in,
	       t->available, ae_name(t->want));

	ae_init(&bytes);
	for (size_t i = 0; i < n; i++)
		ae_feed(&bytes, t->in + i, 1);
	ae_finish(&bytes);
	bool all = same(&whole, &bytes);
	for (size_t k = 0; k <= n && all; k++) {
		ae_init(&split);
		ae_feed(&split, t->in, k);
		ae_feed(&split, t->in + k, n - k);
		ae_finish(&split);
		all = same(&whole, &split);
	}
	ok(all, "\"%s\": byte by byte and split at every byte, the same", t->in);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
	is_str(ae_suffix(AE_ZSTD), ".zst", "zstd's sibling is FILE.zst");
	is_str(ae_name(AE_ZSTD), "zstd", "and its Content-Encoding is zstd");
	return done_testing();
}
