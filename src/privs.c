/* SPDX-License-Identifier: ISC */
/*
 * privs: the order matters. Groups first (setgroups needs privilege, and setgid may reset
 * the group list on some systems), then the gid, then the uid; with all uids non-zero and
 * without PR_SET_KEEPCAPS the kernel clears the permitted and effective sets. The bounding
 * set is emptied before the uid changes (that needs CAP_SETPCAP), whatever is left (an
 * unprivileged start with ambient capabilities) is cleared with libcap, and the leader
 * refuses to run if anything remains.
 */
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "privs.h"

/*
 * What a reload needs in the master: binding a new port below 1024, switching the next
 * generation's leader to the configured ids and emptying its bounding set, and signalling
 * generations that run as another user. Files (config, logs, pid file) are opened as uid 0
 * without CAP_DAC_OVERRIDE, so by their owner's permission bits only.
 */
static const cap_value_t master_caps[] = {
	CAP_NET_BIND_SERVICE, CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_KILL,
};
#define NMASTER_CAPS (sizeof(master_caps) / sizeof(master_caps[0]))

static int no_caps_left(char *err, size_t errlen)
{
	cap_t caps = cap_get_proc();
	cap_t none = cap_init();
	int same;

	if (!caps || !none) {
		snprintf(err, errlen, "cap_get_proc: %s", strerror(errno));
		cap_free(caps);
		cap_free(none);
		return -1;
	}
	same = cap_compare(caps, none) == 0;
	cap_free(caps);
	cap_free(none);
	if (!same) {
		snprintf(err, errlen, "capabilities are still held after dropping privileges");
		return -1;
	}
	return 0;
}

/* Drops from the bounding set every capability not in keep[0..n). */
static int limit_bound(const cap_value_t *keep, size_t n, char *err, size_t errlen)
{
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		bool kept = false;
		for (size_t i = 0; i < n; i++)
			kept |= keep[i] == c;
		if (kept || cap_get_bound(c) != 1)
			continue;
		if (cap_drop_bound(c) < 0) {
			snprintf(err, errlen, "cannot empty the capability bounding set: %s%s",
				 strerror(errno), errno == EPERM ? " (CAP_SETPCAP is missing)" : "");
			return -1;
		}
	}
	return 0;
}

/*
 * Sets the permitted and effective sets to caps[0..n) and the inheritable set to empty.
 * Nothing is called when that is already so: a master started without capabilities, or
 * a leader whose uid change cleared them, then runs where capset(2) is refused (a system
 * call filter such as SystemCallFilter=~@privileged).
 */
static int set_proc_caps(const cap_value_t *caps, int n, char *err, size_t errlen)
{
	cap_t c = cap_init();
	cap_t cur = cap_get_proc();
	int rc = -1;

	if (c && cur && (n == 0 || (cap_set_flag(c, CAP_PERMITTED, n, caps, CAP_SET) == 0 &&
				    cap_set_flag(c, CAP_EFFECTIVE, n, caps, CAP_SET) == 0)))
		rc = cap_compare(c, cur) == 0 ? 0 : cap_set_proc(c);
	if (rc < 0 && errno == EPERM)
		snprintf(err, errlen, "cannot drop the capabilities not needed (capset: %s): "
			 "a system call filter refuses capset(2) (SystemCallFilter=~@privileged?); "
			 "allow it, or start with no more capabilities than the master keeps "
			 "(minihttpd(8), PRIVILEGES)", strerror(errno));
	else if (rc < 0)
		snprintf(err, errlen, "capset: %s", strerror(errno));
	cap_free(c);
	cap_free(cur);
	return rc;
}

static int switch_user(const struct config *conf, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(conf->user);
	struct group *gr = getgrnam(conf->group);

	if (!pw) {
		snprintf(err, errlen, "user \"%s\" does not exist", conf->user);
		return -1;
	}
	if (!gr) {
		snprintf(err, errlen, "group \"%s\" does not exist", conf->group);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user \"%s\" is root: refusing to serve as root", conf->user);
		return -1;
	}
	if (initgroups(pw->pw_name, gr->gr_gid) < 0 ||
	    setresgid(gr->gr_gid, gr->gr_gid, gr->gr_gid) < 0) {
		snprintf(err, errlen, "group %s: %s", conf->group, strerror(errno));
		return -1;
	}
	if (limit_bound(NULL, 0, err, errlen) < 0)
		return -1;
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		snprintf(err, errlen, "user %s: %s", conf->user, strerror(errno));
		return -1;
	}
	return 0;
}

int privs_drop(const struct config *conf, char *err, size_t errlen)
{
	if (geteuid() == 0 && switch_user(conf, err, errlen) < 0)
		return -1;
	if (set_proc_caps(NULL, 0, err, errlen) < 0)
		return -1;
	if (cap_reset_ambient() < 0 && errno != EINVAL) {
		snprintf(err, errlen, "cap_reset_ambient: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	/* Core dumps stay possible after the uid change, for post-mortems of a crash. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return no_caps_left(err, errlen);
}

int privs_limit_master(char *err, size_t errlen)
{
	/* Started unprivileged, only a port below 1024 can still be of use. */
	size_t wanted = geteuid() == 0 ? NMASTER_CAPS : 1;
	cap_value_t have[NMASTER_CAPS];
	int n = 0;
	cap_t cur = cap_get_proc();

	if (!cur) {
		snprintf(err, errlen, "cap_get_proc: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < wanted; i++) {
		cap_flag_value_t v = CAP_CLEAR;
		cap_get_flag(cur, master_caps[i], CAP_PERMITTED, &v);
		if (v == CAP_SET)
			have[n++] = master_caps[i];
	}
	cap_flag_value_t setpcap = CAP_CLEAR;
	cap_get_flag(cur, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
	cap_free(cur);
	if (setpcap == CAP_SET && limit_bound(have, (size_t)n, err, errlen) < 0)
		return -1;
	/* Without inheritable capabilities the ambient set empties too. */
	if (set_proc_caps(have, n, err, errlen) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	return 0;
}
