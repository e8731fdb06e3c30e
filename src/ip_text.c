/*
 * ip_text: strict IP address and port literals (see ip_text.h).
 */
#include "ip_text.h"

#include <arpa/inet.h>
#include <string.h>

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

bool ip_text_v4(const char *s, size_t len, struct in_addr *out)
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

bool ip_text_v6(const char *s, size_t len, struct in6_addr *out)
{
	char z[INET6_ADDRSTRLEN];

	/* inet_pton wants a C string; anything longer than the longest form is not one. */
	if (len == 0 || len >= sizeof(z) || memchr(s, '\0', len))
		return false;
	memcpy(z, s, len);
	z[len] = '\0';
	return inet_pton(AF_INET6, z, out) == 1;
}

bool ip_text_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v;

	if (!decimal(s, len, 65535, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

socklen_t ip_text_sockaddr4(struct sockaddr_storage *ss, const struct in_addr *a, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr = *a;
	return sizeof(*sin);
}

socklen_t ip_text_sockaddr6(struct sockaddr_storage *ss, const struct in6_addr *a,
			    uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = *a;
	return sizeof(*sin6);
}
