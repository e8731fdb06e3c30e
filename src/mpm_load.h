/* SPDX-License-Identifier: ISC */
/*
 * mpm_load: finds and loads MPM modules (dlopen), checking each one's ABI version.
 * The config loader scans mpm_dir to learn every module's name and option section, then
 * keeps the one the config names. Handles are reference-counted by the dynamic loader,
 * so the same module loaded by two generations' configs is mapped once.
 */
#ifndef MINIHTTPD_MPM_LOAD_H
#define MINIHTTPD_MPM_LOAD_H

#include <stddef.h>

#include "mpm.h"

struct mpm_handle {
	void *dl;
	const struct mpm_module *mod;	/* NULL when the file could not be used */
	char *path;
	char *error;			/* why it could not be used */
	char *name;			/* file name without ".so" */
};

struct mpm_set {
	struct mpm_handle **h;
	size_t n;
};

/* Loads every "*.so" in dir, sorted by name. -1 with err when dir cannot be read. */
int mpm_scan(const char *dir, struct mpm_set *set, char *err, size_t errlen);

/* The usable module called name, or NULL. */
struct mpm_handle *mpm_find(const struct mpm_set *set, const char *name);

/* "event, prefork, worker": the usable modules' names, for error messages. */
void mpm_list(const struct mpm_set *set, char *out, size_t cap);

/* Unloads every handle of the set except keep (which the caller now owns). */
void mpm_set_release(struct mpm_set *set, struct mpm_handle *keep);

void mpm_handle_free(struct mpm_handle *h);

#endif
