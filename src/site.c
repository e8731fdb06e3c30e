/* SPDX-License-Identifier: ISC */
/*
 * site: sites and their lookup table. The table maps a key to a site: exact names under
 * their own key, "*.example.org" under "example.org" marked wild. A name is looked up
 * exactly, then as a wildcard at each of its dots from the left, which tries the longest
 * suffix first: "a.b.example.org" finds "*.b.example.org" before "*.example.org".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "location.h"
#include "site.h"

struct site_slot {
	const char *key;	/* NULL: empty */
	size_t len;
	bool wild;
	const struct site *site;
};

struct site_mem {
	struct site_mem *next;
	max_align_t data[];
};

void *site_alloc(struct site_set *set, size_t size)
{
	struct site_mem *m = calloc(1, sizeof(*m) + size);

	if (!m)
		return NULL;
	m->next = set->mem;
	set->mem = m;
	return m->data;
}

char *site_strdup(struct site_set *set, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = site_alloc(set, n);

	return p ? memcpy(p, s, n) : NULL;
}

struct site *site_add(struct site_set *set)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 4;
		struct site *s = realloc(set->sites, cap * sizeof(*s));
		if (!s)
			return NULL;
		set->sites = s;
		set->cap = cap;
	}
	struct site *s = &set->sites[set->n];
	memset(s, 0, sizeof(*s));
	s->id = (unsigned)set->n++;
	s->log_fd = -1;
	return s;
}

/* FNV-1a: the keys are short and the table is built once per configuration. */
static uint32_t hash(const char *p, size_t n, bool wild)
{
	uint32_t h = wild ? 2166136261u ^ 0x2a : 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static struct site_slot *probe(const struct site_set *set, const char *key, size_t len,
			       bool wild)
{
	for (size_t i = hash(key, len, wild) & set->mask;; i = (i + 1) & set->mask) {
		struct site_slot *sl = &set->slots[i];
		if (!sl->key || (sl->len == len && sl->wild == wild &&
				 memcmp(sl->key, key, len) == 0))
			return sl;
	}
}

static int add_name(struct site_set *set, const struct site *s, const char *name,
		    size_t *which, char *err, size_t errlen)
{
	bool wild = strncmp(name, "*.", 2) == 0;
	char key[HOST_NAME_MAX_LEN + 2];
	ssize_t n = host_normalize(name + (wild ? 2 : 0), strlen(name) - (wild ? 2 : 0), key,
				   sizeof(key));

	if (n <= 0 || strchr(name, ':')) {
		snprintf(err, errlen, "\"%s\" is not a host name (nor \"*.\" and one)", name);
		*which = s->id;
		return -1;
	}
	struct site_slot *sl = probe(set, key, (size_t)n, wild);
	if (sl->key) {
		snprintf(err, errlen, "\"%s\" is already a name of server \"%s\"", name,
			 sl->site->name);
		*which = s->id;
		return -1;
	}
	if (!(sl->key = site_strdup(set, key)))
		return -1;
	sl->len = (size_t)n;
	sl->wild = wild;
	sl->site = s;
	return 0;
}

int site_set_index(struct site_set *set, size_t *which, char *err, size_t errlen)
{
	size_t names = 0, size = 16;

	for (size_t i = 1; i < set->n; i++)
		names += 1 + set->sites[i].naliases;
	while (size < names * 2)
		size *= 2;
	free(set->slots);
	if (!(set->slots = calloc(size, sizeof(*set->slots)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	set->mask = size - 1;
	for (size_t i = 1; i < set->n; i++) {
		const struct site *s = &set->sites[i];
		if (add_name(set, s, s->name, which, err, errlen) < 0)
			return -1;
		for (size_t a = 0; a < s->naliases; a++)
			if (add_name(set, s, s->aliases[a], which, err, errlen) < 0)
				return -1;
	}
	return 0;
}

const struct site *site_lookup(const struct site_set *set, const char *key, size_t len)
{
	if (len && set->slots) {
		const struct site_slot *sl = probe(set, key, len, false);
		if (sl->key)
			return sl->site;
		for (size_t i = 0; i < len; i++) {
			if (key[i] != '.')
				continue;
			sl = probe(set, key + i + 1, len - i - 1, true);
			if (sl->key)
				return sl->site;
		}
	}
	return &set->sites[set->default_site];
}

const struct location *site_location(const struct site *s, const char *path, size_t len)
{
	for (size_t i = 0; i < s->nlocs; i++)
		if (location_match(s->locs[i].pattern, s->locs[i].glob, path, len))
			return &s->locs[i];
	return NULL;
}

void site_sort_locations(struct site *s)
{
	/* Insertion sort: stable, and a site has a handful of locations. */
	for (size_t i = 1; i < s->nlocs; i++) {
		struct location l = s->locs[i];
		size_t j = i;
		for (; j > 0 && location_compare(l.pattern, s->locs[j - 1].pattern) < 0; j--)
			s->locs[j] = s->locs[j - 1];
		s->locs[j] = l;
	}
}

void site_set_free(struct site_set *set)
{
	while (set->mem) {
		struct site_mem *m = set->mem;
		set->mem = m->next;
		free(m);
	}
	free(set->sites);
	free(set->slots);
	memset(set, 0, sizeof(*set));
}
