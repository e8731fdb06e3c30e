/* SPDX-License-Identifier: ISC */
/*
 * mpm_options: the core's side of a module's option table (struct mpm_option, mpm.h).
 * It turns the table into the module's libconfuse section, refuses a bad value while the
 * file is read ("FILE:LINE: option: problem", through the parser's error function) and
 * fills the module's conf struct from the parsed section. Modules never see libconfuse.
 */
#ifndef MINIHTTPD_MPM_OPTIONS_H
#define MINIHTTPD_MPM_OPTIONS_H

#include <confuse.h>
#include <stddef.h>

#include "mpm_load.h"

/*
 * Writes at out one CFG_SEC per usable module of set that has options (room for set->n)
 * and returns how many, or -1 when out of memory. The value callbacks look their table
 * entry up in set, so set must stay loaded while the file is parsed. Free them with
 * mpm_options_sections_free() once cfg_init() has copied them.
 */
int mpm_options_sections(const struct mpm_set *set, cfg_opt_t *out);
void mpm_options_sections_free(cfg_opt_t *secs, size_t n);

/*
 * The conf struct of m (NULL when it has no conf_size) from its section of the parsed
 * root, with m->check() passed: 0, or -1 after cfg_error() (or with nothing reported when
 * out of memory). Release it with free().
 */
int mpm_options_conf(const struct mpm_module *m, cfg_t *root, void **conf);

#endif
