/* SPDX-License-Identifier: ISC */
/*
 * config_check: what a loaded config asks of the system, checked without side effects
 * (nothing is created, bound or opened for writing), as `nginx -t` does: the user and
 * group exist, the access log and the pid file can be written where they are, the worker
 * user can enter the document root. `-t`, a start and every reload run it, so a file
 * that passes `-t` fails later only for what cannot be known beforehand (an address
 * another program holds, a disk that fills).
 *
 * Permissions are judged from the mode bits, as the kernel judges them for a process
 * without CAP_DAC_OVERRIDE: the master keeps no such capability (privs.c), and workers
 * have none. ACLs are not read.
 */
#ifndef MINIHTTPD_CONFIG_CHECK_H
#define MINIHTTPD_CONFIG_CHECK_H

#include <stdbool.h>

#include "config.h"

/* Called once per problem with "FILE: option: problem". */
typedef void config_problem_fn(void *arg, const char *msg);

/*
 * Checks conf; with with_pid_file, also that the pid file can be created (not on a
 * reload, which keeps the pid file it has). Returns the number of problems found.
 */
int config_check(const struct config *conf, bool with_pid_file, config_problem_fn *problem,
		 void *arg);

/*
 * The same in a child process, for a long-lived master: the user and group lookups make
 * the C library keep NSS caches for the life of the process that does them. Each problem
 * is reported from the child; the first is copied into first (may be NULL). Falls back
 * to checking in this process if it cannot fork.
 */
int config_check_apart(const struct config *conf, bool with_pid_file,
		       config_problem_fn *problem, void *arg, char *first, size_t firstlen);

#endif
