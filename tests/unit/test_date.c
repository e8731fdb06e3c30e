/* SPDX-License-Identifier: ISC */
/*
 * test_date: IMF-fixdate formatting and the three HTTP-date forms, checked against the
 * C library's gmtime_r/timegm, which http_date.c deliberately does not use.
 */
#include <stdlib.h>
#include <time.h>

#include "tap.h"
#include "../../src/http_date.c"

static bool parse(const char *s, time_t *t)
{
	return http_date_parse(s, strlen(s), t);
}

static void check_format(time_t t, const char *want)
{
	char out[HTTP_DATE_LEN + 1];

	http_date_format(t, out);
	is_str(out, want, "format %lld", (long long)t);
}

static void check_parse(const char *s, long long want)
{
	time_t t = 0;

	if (ok(parse(s, &t), "parses \"%s\"", s))
		is_int(t, want, "  value of \"%s\"", s);
}

static void check_invalid(const char *s)
{
	time_t t;

	ok(!parse(s, &t), "refuses \"%s\"", s);
}

/* The current year, from the C library. */
static int this_year(void)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	return tm.tm_year + 1900;
}

static void test_format(void)
{
	check_format(0, "Thu, 01 Jan 1970 00:00:00 GMT");
	check_format(784111777, "Sun, 06 Nov 1994 08:49:37 GMT");
	check_format(-1, "Wed, 31 Dec 1969 23:59:59 GMT");
	check_format(951782400, "Tue, 29 Feb 2000 00:00:00 GMT");
	check_format(951868800, "Wed, 01 Mar 2000 00:00:00 GMT");
	check_format(4107542399LL, "Sun, 28 Feb 2100 23:59:59 GMT");
	check_format(2147483648LL, "Tue, 19 Jan 2038 03:14:08 GMT");
	check_format(253402300799LL, "Fri, 31 Dec 9999 23:59:59 GMT");
	check_format(253402300800LL, "Fri, 31 Dec 9999 23:59:59 GMT");	/* clamped */
	check_format(-62167219200LL, "Sat, 01 Jan 0000 00:00:00 GMT");
	check_format(-62167219201LL, "Sat, 01 Jan 0000 00:00:00 GMT");	/* clamped */

	/* Against strftime in the C locale over a spread of times, both sides of 1970. */
	int bad = 0;
	unsigned seed = 12345;
	for (int i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		long long t = (long long)(seed % 2000000000u) * ((i & 3) + 1) - 4000000000LL;
		time_t tt = (time_t)t;
		struct tm tm;
		char want[64], got[HTTP_DATE_LEN + 1];

		gmtime_r(&tt, &tm);
		strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		http_date_format(tt, got);
		if (strcmp(want, got) != 0 && bad++ < 5)
			printf("# %lld: got %s want %s\n", t, got, want);
	}
	is_int(bad, 0, "format agrees with gmtime_r + strftime on 20000 times");
}

static void test_parse(void)
{
	/* The three forms of RFC 9110 section 5.6.7's example. */
	check_parse("Sun, 06 Nov 1994 08:49:37 GMT", 784111777);
	check_parse("Sunday, 06-Nov-94 08:49:37 GMT", 784111777);
	check_parse("Sun Nov  6 08:49:37 1994", 784111777);
	check_parse("Sun Nov 06 08:49:37 1994", 784111777);
	check_parse("Thu, 01 Jan 1970 00:00:00 GMT", 0);
	check_parse("Wed, 31 Dec 1969 23:59:59 GMT", -1);
	check_parse("Tue, 29 Feb 2000 00:00:00 GMT", 951782400);
	check_parse("Thu, 29 Feb 2024 12:00:00 GMT", 1709208000);
	check_parse("Fri, 31 Dec 9999 23:59:59 GMT", 253402300799LL);
	check_parse("Wednesday, 09-Sep-09 09:09:09 GMT", 1252487349);
	check_parse("Thu Jan  1 00:00:00 1970", 0);
	/* The grammar's leap second rolls over into the next minute. */
	check_parse("Sat, 31 Dec 2016 23:59:60 GMT", 1483228800);
	/* The day name is not checked against the date, as other servers do. */
	check_parse("Mon, 06 Nov 1994 08:49:37 GMT", 784111777);

	/* RFC 850 two-digit years: within 50 years ahead, else the previous century. */
	int y = this_year();
	char buf[64];
	struct tm tm = { .tm_mday = 1, .tm_mon = 0, .tm_year = y + 10 - 1900 };
	snprintf(buf, sizeof(buf), "Monday, 01-Jan-%02d 00:00:00 GMT", (y + 10) % 100);
	check_parse(buf, timegm(&tm));
	tm.tm_year = y - 40 - 1900;
	snprintf(buf, sizeof(buf), "Monday, 01-Jan-%02d 00:00:00 GMT", (y + 60) % 100);
	check_parse(buf, timegm(&tm));

	/* Round trips and agreement with timegm. */
	int bad = 0;
	unsigned seed = 777;
	for (int i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		time_t t = (time_t)((long long)seed * 3 - 4000000000LL), back;
		char s[HTTP_DATE_LEN + 1];
		struct tm tm2;

		http_date_format(t, s);
		gmtime_r(&t, &tm2);
		if ((!http_date_parse(s, HTTP_DATE_LEN, &back) || back != t || timegm(&tm2) != back) &&
		    bad++ < 5)
			printf("# round trip of %lld failed (%s)\n", (long long)t, s);
	}
	is_int(bad, 0, "format/parse round trip and timegm agree on 20000 times");
}

static void test_invalid(void)
{
	time_t t;

	ok(!http_date_parse(NULL, 0, &t), "refuses NULL");
	check_invalid("");
	check_invalid("Sun, 06 Nov 1994 08:49:37 gmt");
	check_invalid("Sun, 06 Nov 1994 08:49:37 UTC");
	check_invalid("Sun, 06 Nov 1994 08:49:37 +0000");
	check_invalid("sun, 06 Nov 1994 08:49:37 GMT");
	check_invalid("Sun, 06 nov 1994 08:49:37 GMT");
	check_invalid("Sun, 06 Foo 1994 08:49:37 GMT");
	check_invalid("Xyz, 06 Nov 1994 08:49:37 GMT");
	check_invalid("Sun 06 Nov 1994 08:49:37 GMT");
	check_invalid("Sun,  6 Nov 1994 08:49:37 GMT");
	check_invalid("Sun, 6 Nov 1994 08:49:37 GMT");
	check_invalid("Sun, 06 Nov 94 08:49:37 GMT");
	check_invalid("Sun, 06 Nov 1994 08:49:37 GMT ");
	check_invalid(" Sun, 06 Nov 1994 08:49:37 GMT");
	check_invalid("Sun, 06 Nov 1994 08:49:37");
	check_invalid("Sun, 06 Nov 1994 8:49:37 GMT");
	check_invalid("Sun, 06 Nov 1994 08-49-37 GMT");
	check_invalid("Sun, 32 Nov 1994 08:49:37 GMT");
	check_invalid("Sun, 31 Nov 1994 08:49:37 GMT");
	check_invalid("Sun, 00 Nov 1994 08:49:37 GMT");
	check_invalid("Sun, 29 Feb 1900 08:49:37 GMT");
	check_invalid("Sun, 29 Feb 1999 08:49:37 GMT");
	check_invalid("Sun, 06 Nov 1994 24:00:00 GMT");
	check_invalid("Sun, 06 Nov 1994 08:60:00 GMT");
	check_invalid("Sun, 06 Nov 1994 08:49:61 GMT");
	check_invalid("Sun, 06 Nov 1994 0x:49:37 GMT");
	check_invalid("Sun, 06 Nov 19a4 08:49:37 GMT");
	check_invalid("Sun, -6 Nov 1994 08:49:37 GMT");
	check_invalid("Sunday, 06-Nov-1994 08:49:37 GMT");
	check_invalid("Sunday, 06 Nov 94 08:49:37 GMT");
	check_invalid("Sunday, 06-Nov-94 08:49:37 UTC");
	check_invalid("Sundae, 06-Nov-94 08:49:37 GMT");
	check_invalid("Sun, 06-Nov-94 08:49:37 GMT");
	check_invalid("Sunday 06-Nov-94 08:49:37 GMT");
	check_invalid("Sun Nov 6 08:49:37 1994");
	check_invalid("Sun Nov  6 08:49:37 94");
	check_invalid("Sun Nov  6 08:49:37 1994 GMT");
	check_invalid("Sun Nov 31 08:49:37 1994");
	check_invalid("Sun  Nov 6 08:49:37 1994");
	check_invalid("1994-11-06T08:49:37Z");
	check_invalid("784111777");
	/* A length check alone must not let an embedded NUL through. */
	ok(!http_date_parse("Sun, 06 Nov 1994 08:49:37 G\0T", HTTP_DATE_LEN, &t),
	   "refuses an embedded NUL");
}

int main(void)
{
	test_format();
	test_parse();
	test_invalid();
	return done_testing();
}
