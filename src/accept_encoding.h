/* SPDX-License-Identifier: ISC */
/*
 * accept_encoding: the Accept-Encoding field (RFC 9110 section 12.5.3), read only far
 * enough to choose among the few content codings a precompressed sibling can have. Pure
 * and incremental: bytes may be fed in any pieces (several fields are one list: feed
 * ", " between them), nothing is allocated, no I/O, so it is unit-tested and fuzzed
 * directly.
 */
#ifndef MINIHTTPD_ACCEPT_ENCODING_H
#define MINIHTTPD_ACCEPT_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Identity first; the others in the server's order of preference when q-values tie. */
enum ae_coding { AE_IDENTITY, AE_BR, AE_ZSTD, AE_GZIP, AE_NCODINGS };

#define AE_Q_UNSET 0xffff	/* a coding the field does not name */

struct accept_encoding {
	uint16_t q[AE_NCODINGS];	/* qvalue in thousandths, or AE_Q_UNSET */
	uint16_t star;			/* "*", or AE_Q_UNSET */
	bool invalid;			/* malformed: nothing but identity is acceptable */

	/* Scan state between pieces. */
	uint8_t state;
	uint8_t tok_len;		/* bytes of the coding name so far (kept up to tok's size) */
	char tok[8];			/* lowercased; "identity" is the longest name we know */
	uint16_t qv;
	uint8_t qdigits;
};

void ae_init(struct accept_encoding *ae);
void ae_feed(struct accept_encoding *ae, const char *p, size_t n);
/* Ends the value; false when it was malformed (the whole field is then ignored). */
bool ae_finish(struct accept_encoding *ae);

/*
 * The coding to send among those in available (bit 1 << coding; identity is always
 * available): the highest q-value above 0; identity wins only with a higher q-value than
 * every other (unnamed, it counts as the lowest), and other ties go to the enum's order. Identity when nothing else is
 * acceptable, even if the field refused it: RFC 9110 lets the server ignore the field
 * rather than answer 406, as nginx does.
 */
enum ae_coding ae_choose(const struct accept_encoding *ae, unsigned available);

/* "br", "zstd", "gzip": the Content-Encoding value and the sibling's suffix (".br"...). */
const char *ae_name(enum ae_coding c);
const char *ae_suffix(enum ae_coding c);

#endif
