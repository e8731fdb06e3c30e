/* SPDX-License-Identifier: ISC */
/*
 * stderr_msg: the journal check is made once per process; stderr does not change under it.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "stderr_msg.h"

static bool stderr_is_journal(void)
{
	static int known = -1;
	const char *env;
	unsigned long long dev, ino;
	struct stat st;

	if (known >= 0)
		return known;
	known = 0;
	env = getenv("JOURNAL_STREAM");
	if (env && sscanf(env, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
		known = 1;
	return known;
}

void stderr_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	if (stderr_is_journal())
		fprintf(stderr, "<%d>", prio);
	fputs("minihttpd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
