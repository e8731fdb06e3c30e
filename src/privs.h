/*
 * privs: privilege separation. The master keeps only the capabilities a reload needs;
 * a generation's leader, before it forks any worker or creates any thread, becomes the
 * configured user and group with no capability left and no way to gain one.
 */
#ifndef MINIHTTPD_PRIVS_H
#define MINIHTTPD_PRIVS_H

#include <stddef.h>

#include "config.h"

/*
 * In a generation leader: switch to conf->user/group when running as root (a no-op
 * otherwise), set NO_NEW_PRIVS, and verify that no capability is left. -1 with err set.
 */
int privs_drop(const struct config *conf, char *err, size_t errlen);

/* In the master, started as root: keep only what reloads need. -1 with err set. */
int privs_limit_master(char *err, size_t errlen);

#endif
