/* SPDX-License-Identifier: ISC */
/*
 * config_check: the master's identity is its own (root, or the user that started it);
 * the workers' is the configured user and group with that user's supplementary groups
 * when started as root (privs.c initgroups), the starting user's otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config_check.h"

struct who {
	uid_t uid;
	gid_t gid;
	gid_t groups[NGROUPS_MAX];
	int ngroups;
};

struct run {
	const struct config *conf;
	config_problem_fn *problem;
	void *arg;
	int n;
};

static void report(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report(struct run *r, const char *fmt, ...)
{
	char msg[1024];
	int used = snprintf(msg, sizeof(msg), "%s: ", r->conf->file);
	va_list ap;

	va_start(ap, fmt);
	if (used > 0 && (size_t)used < sizeof(msg))
		vsnprintf(msg + used, sizeof(msg) - (size_t)used, fmt, ap);
	va_end(ap);
	r->problem(r->arg, msg);
	r->n++;
}

/* want: R_OK, W_OK, X_OK or'ed; judged by the owner, group or other bits, like the kernel. */
static bool may(const struct who *w, const struct stat *st, int want)
{
	mode_t bits = st->st_mode;
	bool member = st->st_gid == w->gid;

	for (int i = 0; i < w->ngroups && !member; i++)
		member = w->groups[i] == st->st_gid;
	if (st->st_uid == w->uid)
		bits >>= 6;
	else if (member)
		bits >>= 3;
	return ((int)bits & want) == want;
}

static void self(struct who *w)
{
	w->uid = geteuid();
	w->gid = getegid();
	w->ngroups = getgroups(NGROUPS_MAX, w->groups);
	if (w->ngroups < 0)
		w->ngroups = 0;
}

/* The workers' ids; false (and reported) when the user or the group does not exist. */
static bool worker(struct run *r, struct who *w)
{
	const struct config *conf = r->conf;
	struct passwd *pw;
	struct group *gr;
	bool found = true;

	if (geteuid() != 0) {
		self(w);
		return true;
	}
	if (!(pw = getpwnam(conf->user))) {
		report(r, "user \"%s\" does not exist", conf->user);
		found = false;
	} else if (pw->pw_uid == 0) {
		report(r, "user \"%s\" is root: the workers never run as root", conf->user);
		found = false;
	}
	if (!(gr = getgrnam(conf->group))) {
		report(r, "group \"%s\" does not exist", conf->group);
		found = false;
	}
	if (!found)
		return false;
	w->uid = pw->pw_uid;
	w->gid = gr->gr_gid;
	w->ngroups = NGROUPS_MAX;
	if (getgrouplist(pw->pw_name, gr->gr_gid, w->groups, &w->ngroups) < 0)
		w->ngroups = 0;
	return true;
}

/* Every directory from "/" down to and including dir must be searchable by w. */
static bool can_enter(struct run *r, const struct who *w, const char *what, const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	size_t len = strlen(dir);

	if (len >= sizeof(path))
		return true;	/* the open will say what is wrong with it */
	memcpy(path, dir, len + 1);
	for (size_t i = 0; i <= len; i++) {
		if (i > 0 && ((path[i] != '/' && path[i] != '\0') || path[i - 1] == '/'))
			continue;
		char saved = path[i];
		const char *prefix = "/";
		if (i > 0) {
			path[i] = '\0';
			prefix = path;
		}
		if (stat(prefix, &st) < 0) {
			report(r, "%s %s: %s", what, prefix, strerror(errno));
			return false;
		}
		if (!S_ISDIR(st.st_mode)) {
			report(r, "%s %s: not a directory", what, prefix);
			return false;
		}
		if (!may(w, &st, X_OK)) {
			report(r, "%s %s: uid %u cannot enter it (mode %04o, owner %u:%u)", what,
			       prefix, (unsigned)w->uid, (unsigned)(st.st_mode & 07777),
			       (unsigned)st.st_uid, (unsigned)st.st_gid);
			return false;
		}
		path[i] = saved;
	}
	return true;
}

/* A file the master opens (or creates) for writing, by w. */
static void can_write(struct run *r, const struct who *w, const char *what, const char *file)
{
	char *dir = strdup(file);
	struct statvfs vfs;
	struct stat st;
	char *slash;

	if (!dir)
		return;
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	if (!can_enter(r, w, what, dir))
		goto out;
	if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) {
		report(r, "%s %s: %s is on a read-only file system", what, file, dir);
		goto out;
	}
	if (stat(file, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			report(r, "%s %s: is a directory", what, file);
		else if (!may(w, &st, W_OK))
			report(r, "%s %s: uid %u cannot write it (mode %04o, owner %u:%u)", what,
			       file, (unsigned)w->uid, (unsigned)(st.st_mode & 07777),
			       (unsigned)st.st_uid, (unsigned)st.st_gid);
		goto out;
	}
	if (errno != ENOENT) {
		report(r, "%s %s: %s", what, file, strerror(errno));
		goto out;
	}
	if (stat(dir, &st) == 0 && !may(w, &st, W_OK | X_OK))
		report(r, "%s %s: cannot be created: uid %u cannot write %s (mode %04o, "
		       "owner %u:%u)", what, file, (unsigned)w->uid, dir, (unsigned)(st.st_mode & 07777),
		       (unsigned)st.st_uid, (unsigned)st.st_gid);
out:
	free(dir);
}

int config_check(const struct config *conf, bool with_pid_file, config_problem_fn *problem,
		 void *arg)
{
	struct run r = { .conf = conf, .problem = problem, .arg = arg };
	struct who master, workers;

	self(&master);
	if (conf->access_log[0] == '/')
		can_write(&r, &master, "access_log", conf->access_log);
	if (with_pid_file && conf->pid_file[0])
		can_write(&r, &master, "pid_file", conf->pid_file);
	for (size_t i = 1; i < conf->sites.n; i++) {
		const struct site *s = &conf->sites.sites[i];
		if (s->access_log && s->access_log[0] == '/')
			can_write(&r, &master, "access_log", s->access_log);
	}
	if (worker(&r, &workers)) {
		can_enter(&r, &workers, "document_root", conf->document_root);
		for (size_t i = 1; i < conf->sites.n; i++)
			can_enter(&r, &workers, "document_root", conf->sites.sites[i].document_root);
	}
	return r.n;
}

struct relay {
	config_problem_fn *problem;
	void *arg;
	char *first;
	size_t firstlen;
};

static void relay_problem(void *arg, const char *msg)
{
	struct relay *r = arg;

	r->problem(r->arg, msg);
	if (r->first && r->firstlen && !r->first[0])
		snprintf(r->first, r->firstlen, "%s", msg);
}

int config_check_apart(const struct config *conf, bool with_pid_file,
		       config_problem_fn *problem, void *arg, char *first, size_t firstlen)
{
	struct relay r = { problem, arg, first, firstlen };
	int p[2], status;
	pid_t pid;

	if (first && firstlen)
		first[0] = '\0';
	fflush(NULL);
	if (pipe2(p, O_CLOEXEC) < 0)
		return config_check(conf, with_pid_file, relay_problem, &r);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return config_check(conf, with_pid_file, relay_problem, &r);
	}
	if (pid == 0) {
		char msg[1024] = "";
		struct relay c = { problem, arg, msg, sizeof(msg) };
		int n = config_check(conf, with_pid_file, relay_problem, &c);
		ssize_t w = write(p[1], msg, strlen(msg));
		(void)w;
		_exit(n > 255 ? 255 : n);
	}
	close(p[1]);
	size_t used = 0;
	ssize_t got;
	char msg[1024];
	while (used < sizeof(msg) - 1 &&
	       ((got = read(p[0], msg + used, sizeof(msg) - 1 - used)) > 0 ||
		(got < 0 && errno == EINTR)))
		if (got > 0)
			used += (size_t)got;
	msg[used] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (first && firstlen)
		snprintf(first, firstlen, "%s", msg);
	if (!WIFEXITED(status)) {
		if (first && firstlen && !first[0])
			snprintf(first, firstlen, "%s: the configuration check died", conf->file);
		return 1;
	}
	return WEXITSTATUS(status);
}
