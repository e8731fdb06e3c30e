/* SPDX-License-Identifier: ISC */
/*
 * http_date: HTTP-date formatting and parsing (RFC 9110 section 5.6.7).
 *
 * The calendar arithmetic is done here (days <-> civil date, proleptic Gregorian) rather
 * than with gmtime_r/timegm: glibc takes its global tz lock in both, even for UTC, and
 * Last-Modified is formatted on every file response by every worker thread. No locale
 * is consulted either, so the names are always the English ones the grammar requires.
 */
#include <stdint.h>
#include <string.h>

#include "http_date.h"

static const char wdays[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const wdays_long[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};
static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* The four-digit year field bounds what we can write: 0000-01-01 .. 9999-12-31 23:59:59. */
#define DATE_MIN (-62167219200LL)
#define DATE_MAX 253402300799LL

/* Howard Hinnant's days_from_civil: days since 1970-01-01, exact for any year. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

void http_date_format(time_t t, char out[HTTP_DATE_LEN + 1])
{
	int64_t s = t, y;
	unsigned m, d;

	if (s < DATE_MIN)
		s = DATE_MIN;
	if (s > DATE_MAX)
		s = DATE_MAX;
	int64_t days = (s >= 0 ? s : s - 86399) / 86400;
	unsigned secs = (unsigned)(s - days * 86400);
	civil_from_days(days, &y, &m, &d);

	memcpy(out, wdays[((days % 7) + 11) % 7], 3);	/* day 0 was a Thursday */
	memcpy(out + 3, ", ", 2);
	put2(out + 5, d);
	out[7] = ' ';
	memcpy(out + 8, months[m - 1], 3);
	out[11] = ' ';
	put2(out + 12, (unsigned)(y / 100));
	put2(out + 14, (unsigned)(y % 100));
	out[16] = ' ';
	put2(out + 17, secs / 3600);
	out[19] = ':';
	put2(out + 20, secs / 60 % 60);
	out[22] = ':';
	put2(out + 23, secs % 60);
	memcpy(out + 25, " GMT", 5);
}

/* n decimal digits exactly; *v gets their value. */
static bool digits(const char *s, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

static bool month_name(const char *s, unsigned *m)
{
	for (unsigned i = 0; i < 12; i++) {
		if (memcmp(s, months[i], 3) == 0) {
			*m = i + 1;
			return true;
		}
	}
	return false;
}

static bool short_wday(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (memcmp(s, wdays[i], 3) == 0)
			return true;
	return false;
}

/* "HH:MM:SS" */
static bool time_of_day(const char *s, unsigned *secs)
{
	unsigned h, mi, se;

	if (!digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &mi) || s[5] != ':' ||
	    !digits(s + 6, 2, &se))
		return false;
	/* 60 is the grammar's leap second; it lands on the next minute's :00. */
	if (h > 23 || mi > 59 || se > 60)
		return false;
	*secs = h * 3600 + mi * 60 + se;
	return true;
}

static bool civil_to_time(int64_t y, unsigned m, unsigned d, unsigned secs, time_t *out)
{
	static const unsigned char mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
		return false;
	*out = (time_t)(days_from_civil(y, m, d) * 86400 + secs);
	return true;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static bool parse_imf(const char *s, time_t *out)
{
	unsigned d, m, y, secs;

	if (!short_wday(s) || memcmp(s + 3, ", ", 2) != 0 || !digits(s + 5, 2, &d) ||
	    s[7] != ' ' || !month_name(s + 8, &m) || s[11] != ' ' || !digits(s + 12, 4, &y) ||
	    s[16] != ' ' || !time_of_day(s + 17, &secs) || memcmp(s + 25, " GMT", 4) != 0)
		return false;
	return civil_to_time(y, m, d, secs, out);
}

/* "Sun Nov  6 08:49:37 1994" (the day is "SP DIGIT" or two digits) */
static bool parse_asctime(const char *s, time_t *out)
{
	unsigned d, m, y, secs;

	if (!short_wday(s) || s[3] != ' ' || !month_name(s + 4, &m) || s[7] != ' ')
		return false;
	if (s[8] == ' ') {
		if (!digits(s + 9, 1, &d))
			return false;
	} else if (!digits(s + 8, 2, &d)) {
		return false;
	}
	if (s[10] != ' ' || !time_of_day(s + 11, &secs) || s[19] != ' ' || !digits(s + 20, 4, &y))
		return false;
	return civil_to_time(y, m, d, secs, out);
}

/* "Sunday, 06-Nov-94 08:49:37 GMT" */
static bool parse_rfc850(const char *s, size_t len, time_t *out)
{
	size_t n = 0;
	unsigned d, m, yy, secs;

	for (int i = 0; i < 7; i++) {
		size_t l = strlen(wdays_long[i]);
		if (len > l && memcmp(s, wdays_long[i], l) == 0) {
			n = l;
			break;
		}
	}
	if (n == 0 || len - n != 24)
		return false;
	s += n;
	if (memcmp(s, ", ", 2) != 0 || !digits(s + 2, 2, &d) || s[4] != '-' ||
	    !month_name(s + 5, &m) || s[8] != '-' || !digits(s + 9, 2, &yy) || s[11] != ' ' ||
	    !time_of_day(s + 12, &secs) || memcmp(s + 20, " GMT", 4) != 0)
		return false;

	/*
	 * RFC 9110 section 5.6.7: a two-digit year more than 50 years in the future means the
	 * most recent past year with those digits.
	 */
	int64_t now_y;
	unsigned now_m, now_d;
	time_t now = time(NULL);
	civil_from_days((now >= 0 ? now : now - 86399) / 86400, &now_y, &now_m, &now_d);
	int64_t y = now_y - now_y % 100 + yy;
	if (y > now_y + 50)
		y -= 100;
	return civil_to_time(y, m, d, secs, out);
}

bool http_date_parse(const char *s, size_t len, time_t *out)
{
	if (s == NULL)
		return false;
	if (len == HTTP_DATE_LEN)
		return parse_imf(s, out);
	if (len == 24)
		return parse_asctime(s, out);
	return parse_rfc850(s, len, out);
}
