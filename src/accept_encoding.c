/* SPDX-License-Identifier: ISC */
/*
 * accept_encoding: a state machine over the field's bytes, so that where the pieces are
 * cut never changes the answer. Grammar (RFC 9110 sections 5.6.1, 12.4.2, 12.5.3):
 *   #( codings [ OWS ";" OWS "q=" qvalue ] ), codings = token (case-insensitive)
 * Anything else (another parameter, a qvalue above 1 or with four decimals) makes the
 * whole field malformed. A coding named twice takes its last q-value. "x-gzip" is gzip
 * (section 8.4.1.3).
 */
#include <string.h>

#include "accept_encoding.h"

enum {
	S_LIST,		/* before an element, or between them */
	S_TOKEN,
	S_AFTER_TOKEN,	/* OWS after the name */
	S_PARAM,	/* after ';' */
	S_Q,		/* after "q" */
	S_QV,		/* after "q=" */
	S_QV0,		/* "0" */
	S_QFRAC0,	/* "0." and digits */
	S_QV1,		/* "1" */
	S_QFRAC1,	/* "1." and zeros */
	S_AFTER_Q,	/* OWS after the qvalue */
	S_BAD,
};

static const char *const names[AE_NCODINGS] = { "identity", "br", "zstd", "gzip" };

void ae_init(struct accept_encoding *ae)
{
	memset(ae, 0, sizeof(*ae));
	for (int c = 0; c < AE_NCODINGS; c++)
		ae->q[c] = AE_Q_UNSET;
	ae->star = AE_Q_UNSET;
	ae->state = S_LIST;
}

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

/* The element just read gets q; a name we do not serve is skipped. */
static void commit(struct accept_encoding *ae, uint16_t q)
{
	size_t n = ae->tok_len;

	ae->state = S_LIST;
	if (n > sizeof(ae->tok))
		return;
	if (n == 1 && ae->tok[0] == '*') {
		ae->star = q;
		return;
	}
	if (n == 6 && memcmp(ae->tok, "x-gzip", 6) == 0) {
		ae->q[AE_GZIP] = q;
		return;
	}
	for (int c = 0; c < AE_NCODINGS; c++)
		if (strlen(names[c]) == n && memcmp(ae->tok, names[c], n) == 0)
			ae->q[c] = q;
}

static void step(struct accept_encoding *ae, char ch)
{
	unsigned char c = (unsigned char)ch;
	bool digit = c >= '0' && c <= '9';

	switch (ae->state) {
	case S_LIST:
		if (ows(ch) || ch == ',')
			return;
		if (!tchar(c))
			break;
		ae->state = S_TOKEN;
		ae->tok_len = 0;
		/* fall through */
	case S_TOKEN:
		if (tchar(c)) {
			if (ae->tok_len < sizeof(ae->tok))
				ae->tok[ae->tok_len] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
			if (ae->tok_len <= sizeof(ae->tok))
				ae->tok_len++;
			return;
		}
		/* fall through */
	case S_AFTER_TOKEN:
		if (ows(ch)) {
			ae->state = S_AFTER_TOKEN;
			return;
		}
		if (ch == ';') {
			ae->state = S_PARAM;
			return;
		}
		if (ch == ',') {
			commit(ae, 1000);
			return;
		}
		break;
	case S_PARAM:
		if (ows(ch))
			return;
		if (ch == 'q' || ch == 'Q') {
			ae->state = S_Q;
			return;
		}
		break;
	case S_Q:
		if (ch == '=') {
			ae->state = S_QV;
			return;
		}
		break;
	case S_QV:
		if (ch == '0' || ch == '1') {
			ae->qv = ch == '1' ? 1000 : 0;
			ae->qdigits = 0;
			ae->state = ch == '1' ? S_QV1 : S_QV0;
			return;
		}
		break;
	case S_QV0:
	case S_QV1:
		if (ch == '.') {
			ae->state = ae->state == S_QV1 ? S_QFRAC1 : S_QFRAC0;
			return;
		}
		/* fall through */
	case S_QFRAC0:
	case S_QFRAC1:
		if (digit && ae->qdigits < 3 && (ae->state == S_QFRAC0 ||
						 (ae->state == S_QFRAC1 && ch == '0'))) {
			static const uint16_t scale[3] = { 100, 10, 1 };
			ae->qv = (uint16_t)(ae->qv + (c - '0') * scale[ae->qdigits++]);
			return;
		}
		/* fall through */
	case S_AFTER_Q:
		if (ows(ch)) {
			ae->state = S_AFTER_Q;
			return;
		}
		if (ch == ',') {
			commit(ae, ae->qv);
			return;
		}
		break;
	default:
		return;
	}
	ae->state = S_BAD;
	ae->invalid = true;
}

void ae_feed(struct accept_encoding *ae, const char *p, size_t n)
{
	for (size_t i = 0; i < n && ae->state != S_BAD; i++)
		step(ae, p[i]);
}

bool ae_finish(struct accept_encoding *ae)
{
	switch (ae->state) {
	case S_TOKEN:
	case S_AFTER_TOKEN:
		commit(ae, 1000);
		break;
	case S_QV0:
	case S_QV1:
	case S_QFRAC0:
	case S_QFRAC1:
	case S_AFTER_Q:
		commit(ae, ae->qv);
		break;
	case S_LIST:
		break;
	default:
		ae->state = S_BAD;
		ae->invalid = true;
		break;
	}
	return !ae->invalid;
}

enum ae_coding ae_choose(const struct accept_encoding *ae, unsigned available)
{
	enum ae_coding best = AE_IDENTITY;
	unsigned bq = ae->q[AE_IDENTITY] == AE_Q_UNSET ? 0 : ae->q[AE_IDENTITY];

	if (ae->invalid)
		return AE_IDENTITY;
	for (int c = AE_IDENTITY + 1; c < AE_NCODINGS; c++) {
		unsigned q = ae->q[c] != AE_Q_UNSET ? ae->q[c] : ae->star != AE_Q_UNSET ? ae->star : 0;

		if (!(available & 1u << c) || q == 0)
			continue;
		if (q > bq || (q == bq && best == AE_IDENTITY)) {
			best = (enum ae_coding)c;
			bq = q;
		}
	}
	return best;
}

const char *ae_name(enum ae_coding c)
{
	return names[c];
}

const char *ae_suffix(enum ae_coding c)
{
	static const char *const suffix[AE_NCODINGS] = { "", ".br", ".zst", ".gz" };

	return suffix[c];
}
