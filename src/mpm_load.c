/* SPDX-License-Identifier: ISC */
/*
 * mpm_load: dlopen of MPM modules. A module that fails to load is kept in the set with the
 * loader's message, so that naming it in the config gives that message rather than a
 * vague "not found".
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpm_load.h"

static struct mpm_handle *load_one(const char *dir, const char *file)
{
	struct mpm_handle *h = calloc(1, sizeof(*h));
	size_t flen = strlen(file);

	if (!h)
		return NULL;
	if (asprintf(&h->path, "%s/%s", dir, file) < 0) {
		free(h);
		return NULL;
	}
	h->name = strndup(file, flen - 3);
	h->dl = dlopen(h->path, RTLD_NOW | RTLD_LOCAL);
	if (!h->dl) {
		h->error = strdup(dlerror());
		return h;
	}
	const struct mpm_module *m = dlsym(h->dl, MPM_SYMBOL);
	if (!m) {
		if (asprintf(&h->error, "%s: no symbol %s: not a minihttpd MPM",
			     h->path, MPM_SYMBOL) < 0)
			h->error = NULL;
	} else if (m->abi_version != MPM_ABI_VERSION) {
		if (asprintf(&h->error, "%s: MPM ABI version %u, this minihttpd needs %u",
			     h->path, m->abi_version, MPM_ABI_VERSION) < 0)
			h->error = NULL;
	} else if (!m->name || strcmp(m->name, h->name) != 0 || !m->run) {
		if (asprintf(&h->error, "%s: module calls itself \"%s\" or has no run()",
			     h->path, m->name ? m->name : "") < 0)
			h->error = NULL;
	} else {
		h->mod = m;
	}
	return h;
}

static int by_name(const void *a, const void *b)
{
	const struct mpm_handle *x = *(struct mpm_handle *const *)a;
	const struct mpm_handle *y = *(struct mpm_handle *const *)b;

	return strcmp(x->name, y->name);
}

int mpm_scan(const char *dir, struct mpm_set *set, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	set->h = NULL;
	set->n = 0;
	if (!d) {
		snprintf(err, errlen, "mpm_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len <= 3 || strcmp(e->d_name + len - 3, ".so") != 0)
			continue;
		struct mpm_handle **nh = realloc(set->h, (set->n + 1) * sizeof(*nh));
		if (!nh)
			break;
		set->h = nh;
		struct mpm_handle *h = load_one(dir, e->d_name);
		if (h)
			set->h[set->n++] = h;
	}
	closedir(d);
	qsort(set->h, set->n, sizeof(*set->h), by_name);
	return 0;
}

struct mpm_handle *mpm_find(const struct mpm_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->h[i]->name, name) == 0)
			return set->h[i];
	return NULL;
}

void mpm_list(const struct mpm_set *set, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < set->n && used < cap; i++) {
		if (!set->h[i]->mod)
			continue;
		int n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "",
				 set->h[i]->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (!out[0])
		snprintf(out, cap, "none");
}

void mpm_handle_free(struct mpm_handle *h)
{
	if (!h)
		return;
	if (h->dl)
		dlclose(h->dl);
	free(h->path);
	free(h->error);
	free(h->name);
	free(h);
}

void mpm_set_release(struct mpm_set *set, struct mpm_handle *keep)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->h[i] != keep)
			mpm_handle_free(set->h[i]);
	free(set->h);
	set->h = NULL;
	set->n = 0;
}
