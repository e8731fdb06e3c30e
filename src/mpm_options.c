/* SPDX-License-Identifier: ISC */
/*
 * mpm_options: builds each module's config section from its option table, validates the
 * values as libconfuse reads them, and fills the module's conf struct.
 *
 * A value callback gets the section (whose name is the module's) and the option, not the
 * table: it finds its entry by those two names in the module set being parsed. Values
 * are checked as they are read, so an error names the option's own line. A module's
 * check() runs on the whole struct after parsing, when only the section's line is known:
 * the line that closes it, where every option has been read.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mpm_options.h"

/* libconfuse parses in the master's main thread only (config.c), so this is safe. */
static const struct mpm_set *parsed_set;

long mpm_cpu_count(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

static const struct mpm_option *entry(cfg_t *sec, const cfg_opt_t *opt)
{
	for (size_t i = 0; parsed_set && i < parsed_set->n; i++) {
		const struct mpm_module *m = parsed_set->h[i]->mod;
		if (!m || !m->options || strcmp(m->name, sec->name) != 0)
			continue;
		for (const struct mpm_option *o = m->options; o->name; o++)
			if (strcmp(o->name, opt->name) == 0)
				return o;
	}
	cfg_error(sec, "%s: no such option in %s", opt->name, sec->name);
	return NULL;
}

static int parse_int(cfg_t *sec, cfg_opt_t *opt, const char *value, void *result)
{
	const struct mpm_option *o = entry(sec, opt);
	char *end;
	long v;

	if (!o)
		return -1;
	if (o->allow_auto && strcmp(value, "auto") == 0) {
		*(long *)result = 0;
		return 0;
	}
	errno = 0;
	v = strtol(value, &end, 0);
	if (errno || end == value || *end || v < o->min || v > o->max) {
		cfg_error(sec, "%s: \"%s\" is not %s%ld..%ld", o->name, value,
			  o->allow_auto ? "\"auto\" or " : "", o->min, o->max);
		return -1;
	}
	*(long *)result = v;
	return 0;
}

/* -T: "auto" stays "auto" (0 would be refused when the output is read back). */
static void print_auto(cfg_opt_t *opt, unsigned int index, FILE *fp)
{
	long v = cfg_opt_getnint(opt, index);

	if (v == 0)
		fputs("\"auto\"", fp);
	else
		fprintf(fp, "%ld", v);
}

static int parse_word(cfg_t *sec, cfg_opt_t *opt, const char *value, void *result)
{
	const struct mpm_option *o = entry(sec, opt);

	if (!o || config_check_word(sec, opt, value, o->words) < 0)
		return -1;
	*(const char **)result = value;
	return 0;
}

/* The table as a libconfuse option array, CFG_END() included. */
static cfg_opt_t *section_options(const struct mpm_option *table)
{
	size_t n = 0;

	while (table[n].name)
		n++;
	cfg_opt_t *opts = calloc(n + 1, sizeof(*opts));
	for (size_t i = 0; opts && i < n; i++) {
		const struct mpm_option *o = &table[i];
		cfg_opt_t int_opt = CFG_INT_CB(o->name, o->def, CFGF_NONE, parse_int);
		cfg_opt_t word_opt = CFG_STR_CB(o->name, o->words ? o->words[o->def] : NULL,
						CFGF_NONE, parse_word);
		opts[i] = o->type == MPM_OPT_WORD ? word_opt : int_opt;
		if (o->type == MPM_OPT_INT && o->allow_auto)
			opts[i].pf = print_auto;
	}
	if (opts)
		opts[n] = (cfg_opt_t)CFG_END();
	return opts;
}

int mpm_options_sections(const struct mpm_set *set, cfg_opt_t *out)
{
	int n = 0;

	parsed_set = set;
	for (size_t i = 0; i < set->n; i++) {
		const struct mpm_module *m = set->h[i]->mod;
		if (!m || !m->options)
			continue;
		cfg_opt_t *opts = section_options(m->options);
		if (!opts) {
			mpm_options_sections_free(out, (size_t)n);
			return -1;
		}
		out[n++] = (cfg_opt_t)CFG_SEC(m->name, opts, CFGF_NONE);
	}
	return n;
}

void mpm_options_sections_free(cfg_opt_t *secs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(secs[i].subopts);
}

static int word_index(const char *const *words, const char *word)
{
	for (int i = 0; words[i]; i++)
		if (strcmp(words[i], word) == 0)
			return i;
	return 0;	/* not reached: parse_word let only these through */
}

int mpm_options_conf(const struct mpm_module *m, cfg_t *root, void **conf)
{
	cfg_t *sec = m->options ? cfg_getsec(root, m->name) : NULL;
	char msg[256];

	*conf = NULL;
	if (!m->conf_size)
		return 0;
	char *c = calloc(1, m->conf_size);
	if (!c)
		return -1;
	for (const struct mpm_option *o = m->options; o && o->name; o++) {
		if (o->type == MPM_OPT_WORD) {
			int v = sec ? word_index(o->words, cfg_getstr(sec, o->name)) : (int)o->def;
			memcpy(c + o->offset, &v, sizeof(v));
		} else {
			long v = sec ? cfg_getint(sec, o->name) : o->def;
			memcpy(c + o->offset, &v, sizeof(v));
		}
	}
	msg[0] = '\0';
	/*
	 * A section the file does not have is libconfuse's default one, made before the root
	 * had its error function and with no line: its error is then reported at the file.
	 */
	if (sec && !sec->errfunc)
		cfg_set_error_function(sec, root->errfunc);
	if (m->check && m->check(c, msg, sizeof(msg)) < 0) {
		cfg_error(sec ? sec : root, "%s", msg[0] ? msg : "invalid configuration");
		free(c);
		return -1;
	}
	*conf = c;
	return 0;
}
