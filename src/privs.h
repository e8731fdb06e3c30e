/* SPDX-License-Identifier: ISC */
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
 * In a generation leader: switch to conf->user/group (with its supplementary groups) and
 * empty the bounding set when running as root, drop every capability in any case, set
 * NO_NEW_PRIVS, and verify that no capability is left. -1 with err set.
 */
int privs_drop(const struct config *conf, char *err, size_t errlen);

/*
 * In the master, once the listeners, pid file and logs are open: keep only what reloads
 * need (as root: bind below 1024, setuid/setgid/setpcap for leaders, kill; otherwise at
 * most CAP_NET_BIND_SERVICE), in the bounding set too, and set NO_NEW_PRIVS. -1 with err.
 */
int privs_limit_master(char *err, size_t errlen);

#endif
