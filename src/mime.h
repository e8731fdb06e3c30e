/* SPDX-License-Identifier: ISC */
/*
 * mime: maps a file name's extension to a media type. Loaded once from a mime.types file
 * (Debian's /etc/mime.types format) when one is configured and readable, otherwise from a
 * built-in table; immutable afterwards, so threads may share it.
 */
#ifndef MINIHTTPD_MIME_H
#define MINIHTTPD_MIME_H

#include <stddef.h>

struct mime_table;

/* path may be NULL or unreadable: the built-in table is used then. NULL only on ENOMEM. */
struct mime_table *mime_load(const char *path);
void mime_free(struct mime_table *t);

/* The type for a file name (case-insensitive extension), or NULL when unknown. */
const char *mime_lookup(const struct mime_table *t, const char *name, size_t len);

#endif
