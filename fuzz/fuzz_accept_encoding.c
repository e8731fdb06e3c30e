/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for accept_encoding. Input: byte 0 picks the codings available (its
 * low bits) and where the value is cut in two (the rest), then the field value. Beyond
 * ASan/UBSan it checks what the parser promises: the answer does not depend on the cut
 * or on feeding byte by byte; a chosen coding is available and has a q-value above 0; a
 * malformed field chooses identity. Any breach abort()s.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../src/accept_encoding.c"

static void check(bool cond)
{
	if (!cond)
		abort();
}

static bool same(const struct accept_encoding *a, const struct accept_encoding *b)
{
	return a->invalid == b->invalid && a->star == b->star &&
	       memcmp(a->q, b->q, sizeof(a->q)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;

	unsigned available = (unsigned)(data[0] & 0x0e);
	const char *v = (const char *)data + 1;
	size_t n = size - 1, cut = n ? (size_t)(data[0] >> 4) * n / 15 : 0;
	struct accept_encoding whole, split, bytes;

	ae_init(&whole);
	ae_feed(&whole, v, n);
	bool valid = ae_finish(&whole);

	ae_init(&split);
	ae_feed(&split, v, cut);
	ae_feed(&split, v + cut, n - cut);
	check(ae_finish(&split) == valid && same(&whole, &split));

	ae_init(&bytes);
	for (size_t i = 0; i < n; i++)
		ae_feed(&bytes, v + i, 1);
	check(ae_finish(&bytes) == valid && same(&whole, &bytes));

	for (int c = 0; c < AE_NCODINGS; c++)
		check(whole.q[c] == AE_Q_UNSET || whole.q[c] <= 1000);
	check(whole.star == AE_Q_UNSET || whole.star <= 1000);

	enum ae_coding got = ae_choose(&whole, available);
	check(got >= AE_IDENTITY && got < AE_NCODINGS);
	if (got != AE_IDENTITY) {
		uint16_t q = whole.q[got] != AE_Q_UNSET ? whole.q[got] : whole.star;
		check(valid && (available & 1u << got) && q > 0 && q <= 1000);
	}
	return 0;
}
