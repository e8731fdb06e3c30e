/* SPDX-License-Identifier: ISC */
/*
 * forwarded: the client address from Forwarded / X-Forwarded-For (see forwarded.h).
 *
 * The walk is defined right to left, but a Forwarded element can only be found left to
 * right (a comma may sit inside a quoted-string). So the fields are read once left to
 * right, and each entry updates the answer the walk would give if the list ended there:
 * an untrusted entry becomes the answer, an entry naming no address resets it to "the
 * next good one to its right, or the peer", a trusted entry changes nothing unless it is
 * that next good one. Linear in the fields' length, whatever a client stuffs in them.
 */
#include "forwarded.h"

#include <string.h>
#include <strings.h>

#include "addr.h"

enum walk_mode {
	WALK_START,	/* no entry yet */
	WALK_CHOSEN,	/* cand is the answer unless a later entry changes it */
	WALK_STOPPED,	/* the last entry named no address: the peer, unless one follows */
};

struct walk {
	forwarded_trusted_fn trusted;
	void *arg;
	enum walk_mode mode;
	enum forwarded_result why;
	struct sockaddr_storage cand;
	socklen_t cand_len;
};

/* One list entry: its address (len > 0), or len 0 for an entry naming none. */
static void walk_entry(struct walk *w, const struct sockaddr_storage *a, socklen_t len)
{
	if (len == 0) {
		w->mode = WALK_STOPPED;
		w->why = FORWARDED_STOPPED;
		return;
	}
	if (!w->trusted((const struct sockaddr *)a, w->arg)) {
		w->why = FORWARDED_CLIENT;
	} else if (w->mode == WALK_START) {
		w->why = FORWARDED_LEFTMOST;
	} else if (w->mode == WALK_STOPPED) {
		w->why = FORWARDED_STOPPED;
	} else {
		return;	/* a trusted hop to the right of the chosen one */
	}
	w->mode = WALK_CHOSEN;
	w->cand = *a;
	w->cand_len = len;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* An address, then nothing or ":" and what port() accepts; the address's length or 0. */
static socklen_t address_port(const char *s, size_t n, bool (*port)(const char *, size_t,
								     uint16_t *),
			      struct sockaddr_storage *ss)
{
	struct in_addr a4;
	struct in6_addr a6;
	uint16_t p = 0;
	const char *colon;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		size_t rest;

		if (!close || !addr_wire_v6(s + 1, (size_t)(close - s - 1), &a6))
			return 0;
		rest = n - (size_t)(close + 1 - s);
		if (rest > 0 && (close[1] != ':' || !port(close + 2, rest - 1, &p)))
			return 0;
		return addr_sockaddr6(ss, &a6, p);
	}
	colon = memchr(s, ':', n);
	if (!colon) {
		if (addr_wire_v4(s, n, &a4))
			return addr_sockaddr4(ss, &a4, 0);
		return 0;
	}
	if (!memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) {
		if (addr_wire_v4(s, (size_t)(colon - s), &a4) &&
		    port(colon + 1, n - (size_t)(colon + 1 - s), &p))
			return addr_sockaddr4(ss, &a4, p);
		return 0;
	}
	return 0;
}

/* X-Forwarded-For's port, when a proxy adds one: plain decimal. */
static bool xff_port(const char *s, size_t n, uint16_t *p)
{
	return addr_wire_port(s, n, p);
}

/* One X-Forwarded-For entry: a bare IPv6, or an IPv4 or "[IPv6]" with an optional port. */
static socklen_t xff_entry(const char *s, size_t n, struct sockaddr_storage *ss)
{
	struct in6_addr a6;
	socklen_t len = address_port(s, n, xff_port, ss);

	if (len == 0 && n > 0 && s[0] != '[' && addr_wire_v6(s, n, &a6))
		len = addr_sockaddr6(ss, &a6, 0);
	return len;
}

static void xff_value(struct walk *w, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t start, end;

		while (i < n && is_ows(s[i]))
			i++;
		start = i;
		while (i < n && s[i] != ',')
			i++;
		for (end = i; end > start && is_ows(s[end - 1]); end--)
			;
		if (end > start) {	/* empty list elements are allowed and mean nothing */
			struct sockaddr_storage ss;

			walk_entry(w, &ss, xff_entry(s + start, end - start, &ss));
		}
		i++;	/* the comma */
	}
}

static bool is_obfchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '.' || c == '_' || c == '-';
}

/* RFC 7239 node-port: port (1*5DIGIT, at most 65535) or obfport ("_" 1*(ALNUM . _ -)). */
static bool node_port(const char *s, size_t n, uint16_t *p)
{
	unsigned v = 0;

	if (n > 0 && s[0] == '_') {
		for (size_t i = 1; i < n; i++)
			if (!is_obfchar(s[i]))
				return false;
		*p = 0;
		return n > 1;
	}
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*p = (uint16_t)v;
	return true;
}

/* RFC 9110 tchar: what a token is made of. */
static bool is_tchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 9110 qdtext and the second byte of a quoted-pair, obs-text included. */
static bool is_qdtext(unsigned char c, bool escaped)
{
	return c == '\t' || c == ' ' || c == '!' || (c >= 0x23 && c <= 0x7e && c != '\\') ||
	       c >= 0x80 || (escaped && (c == '"' || c == '\\'));
}

/* The longest node kept: "[IPv6]:port" needs 53; a longer one names no address anyway. */
#define NODE_MAX 64

/*
 * A forwarded-pair's value (token or quoted-string) at s[*i..n), unquoted into val when
 * it is not NULL (vlen set; more than NODE_MAX bytes: SIZE_MAX). False if malformed.
 */
static bool pair_value(const char *s, size_t n, size_t *i, char *val, size_t *vlen)
{
	size_t k = *i, out = 0;

	if (k < n && s[k] == '"') {
		for (k++;; k++) {
			bool esc = false;

			if (k == n)
				return false;
			if (s[k] == '"')
				break;
			if (s[k] == '\\') {
				if (++k == n)
					return false;
				esc = true;
			}
			if (!is_qdtext((unsigned char)s[k], esc))
				return false;
			if (val && out < NODE_MAX)
				val[out] = s[k];
			out++;
		}
		k++;	/* the closing quote */
	} else {
		size_t start = k;

		while (k < n && is_tchar(s[k]))
			k++;
		if (k == start)
			return false;
		out = k - start;
		if (val)
			memcpy(val, s + start, out < NODE_MAX ? out : NODE_MAX);
	}
	*i = k;
	if (vlen)
		*vlen = out <= NODE_MAX ? out : SIZE_MAX;
	return true;
}

/*
 * One forwarded-element at s[*i..n): its for= node's address, or 0 when it has none or
 * is malformed. *i is left on the comma ending it (or at n): after a malformed element,
 * the next comma outside a quoted-string, so the elements after it still count.
 */
static socklen_t rfc7239_element(const char *s, size_t n, size_t *i,
				 struct sockaddr_storage *ss)
{
	char node[NODE_MAX];
	size_t k = *i, nlen = SIZE_MAX;
	bool has_for = false, ok = true;

	while (ok && k < n && s[k] != ',' && !is_ows(s[k])) {
		size_t name = k;
		bool is_for;

		if (s[k] == ';') {	/* pairs are optional: ";;" and a leading ';' are fine */
			k++;
			continue;
		}
		while (k < n && is_tchar(s[k]))
			k++;
		is_for = k - name == 3 && strncasecmp(s + name, "for", 3) == 0;
		if (k == name || k == n || s[k] != '=' || (is_for && has_for)) {
			ok = false;
			break;
		}
		k++;
		ok = pair_value(s, n, &k, is_for ? node : NULL, is_for ? &nlen : NULL);
		has_for |= is_for;
		if (ok && k < n && s[k] != ';' && s[k] != ',' && !is_ows(s[k]))
			ok = false;
	}
	while (ok && k < n && is_ows(s[k]))
		k++;
	if (ok && k < n && s[k] != ',')
		ok = false;
	if (!ok) {
		bool quoted = false;

		for (k = *i; k < n && (quoted || s[k] != ','); k++) {
			if (s[k] == '"')
				quoted = !quoted;
			else if (quoted && s[k] == '\\' && k + 1 < n)
				k++;
		}
		*i = k;
		return 0;
	}
	*i = k;
	if (nlen == SIZE_MAX)	/* no for=, or a node too long to be an address */
		return 0;
	/* "unknown" and "_obfuscated" are nodenames that name no address: 0, as garbage. */
	return address_port(node, nlen, node_port, ss);
}

static void rfc7239_value(struct walk *w, const char *s, size_t n)
{
	size_t i = 0;

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len;

		while (i < n && (is_ows(s[i]) || s[i] == ','))
			i++;	/* empty list elements are allowed and mean nothing */
		if (i == n)
			return;
		len = rfc7239_element(s, n, &i, &ss);
		walk_entry(w, &ss, len);
	}
}

const char *forwarded_field_name(enum forwarded_field which)
{
	return which == FORWARDED_RFC7239 ? "Forwarded" : "X-Forwarded-For";
}

enum forwarded_result forwarded_client(enum forwarded_field which,
				       const struct http_field *fields, unsigned nfields,
				       const struct sockaddr *peer, socklen_t peerlen,
				       forwarded_trusted_fn trusted, void *arg,
				       struct sockaddr_storage *out, socklen_t *outlen)
{
	const char *name = forwarded_field_name(which);
	size_t name_len = strlen(name);
	struct walk w = { .trusted = trusted, .arg = arg, .mode = WALK_START };

	if (!trusted(peer, arg)) {
		w.why = FORWARDED_PEER;
	} else {
		for (unsigned f = 0; f < nfields; f++) {
			const struct http_field *fl = &fields[f];

			if (fl->name_len != name_len || strncasecmp(fl->name, name, name_len) != 0)
				continue;
			if (which == FORWARDED_RFC7239)
				rfc7239_value(&w, fl->value, fl->value_len);
			else
				xff_value(&w, fl->value, fl->value_len);
		}
		if (w.mode == WALK_START)
			w.why = FORWARDED_NONE;
	}
	if (w.mode == WALK_CHOSEN) {
		*out = w.cand;
		*outlen = w.cand_len;
	} else {
		memset(out, 0, sizeof(*out));
		memcpy(out, peer, peerlen <= sizeof(*out) ? peerlen : sizeof(*out));
		*outlen = peerlen <= sizeof(*out) ? peerlen : sizeof(*out);
	}
	return w.why;
}
