/* SPDX-License-Identifier: ISC */
/*
 * stderr_msg: what the command line (-t, -s, a start that fails) tells its user on
 * stderr, one "minihttpd: ..." line each. When systemd connects stderr to the journal
 * (JOURNAL_STREAM names stderr's device and inode), every line starts with sd-daemon(3)'s
 * "<N>" priority prefix, so the reason a start or a reload failed is logged at err and
 * `journalctl -p err` shows it, not only systemd's "Failed to start".
 */
#ifndef MINIHTTPD_STDERR_MSG_H
#define MINIHTTPD_STDERR_MSG_H

#include <syslog.h>	/* LOG_ERR ... LOG_DEBUG */

void stderr_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
