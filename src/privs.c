/*
 * privs: the order matters. Groups first (setgroups needs privilege, and setgid may reset
 * the group list on some systems), then the gid, then the uid; with all uids non-zero and
 * without PR_SET_KEEPCAPS the kernel clears the permitted and effective sets, and we then
 * clear the rest (bounding set, ambient) with libcap and refuse to run if anything is left.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "privs.h"

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

int privs_drop(const struct config *conf, char *err, size_t errlen)
{
	if (geteuid() == 0) {
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
			snprintf(err, errlen, "user \"%s\" is root: refusing to serve as root",
				 conf->user);
			return -1;
		}
		/* Supplementary groups are dropped before the bounding set loses CAP_SETPCAP. */
		if (initgroups(pw->pw_name, gr->gr_gid) < 0 ||
		    setresgid(gr->gr_gid, gr->gr_gid, gr->gr_gid) < 0) {
			snprintf(err, errlen, "group %s: %s", conf->group, strerror(errno));
			return -1;
		}
		for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
			if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) < 0) {
				snprintf(err, errlen, "cap_drop_bound: %s", strerror(errno));
				return -1;
			}
		if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
			snprintf(err, errlen, "user %s: %s", conf->user, strerror(errno));
			return -1;
		}
	}
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
	/*
	 * Binding new ports, switching the next generation's ids, signalling generations that
	 * run as another user, and opening logs and the pid file owned by others.
	 */
	static const cap_value_t keep[] = {
		CAP_NET_BIND_SERVICE, CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_KILL,
		CAP_DAC_OVERRIDE, CAP_CHOWN,
	};
	cap_t caps;

	if (geteuid() != 0)
		return 0;
	caps = cap_init();
	if (!caps) {
		snprintf(err, errlen, "cap_init: %s", strerror(errno));
		return -1;
	}
	if (cap_set_flag(caps, CAP_PERMITTED, sizeof(keep) / sizeof(keep[0]), keep, CAP_SET) ||
	    cap_set_flag(caps, CAP_EFFECTIVE, sizeof(keep) / sizeof(keep[0]), keep, CAP_SET) ||
	    cap_set_proc(caps) < 0) {
		snprintf(err, errlen, "cap_set_proc: %s", strerror(errno));
		cap_free(caps);
		return -1;
	}
	cap_free(caps);
	return 0;
}
