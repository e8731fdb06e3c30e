/* SPDX-License-Identifier: ISC */
/*
 * minihttpd: command line. The config is loaded and validated before anything else, so
 * `-t`, `-S` and a normal start judge a file by exactly the same code.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "config_check.h"
#include "control.h"
#include "inetd.h"
#include "log.h"
#include "master.h"
#include "scoreboard.h"
#include "status.h"
#include "stderr_msg.h"

#define EXIT_NOT_RUNNING 3	/* as LSB init scripts' "status" says it */

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif
#ifndef MPM_DIR
#define MPM_DIR "/usr/local/lib/minihttpd/mpm"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: minihttpd [-F | -t [-q] | -T | -S | -s signal | -i] [-f file] [-m dir] | -V | -h\n"
		"  -f file  configuration file (default " SYSCONFDIR "/minihttpd.conf)\n"
		"  -F       stay in the foreground, log to stderr as well as syslog\n"
		"  -i       serve the one connection on standard input and exit (inetd,\n"
		"           systemd Accept=yes)\n"
		"  -t       test the configuration and what it needs of the system, and exit\n"
		"  -q       with -t: print only the problems\n"
		"  -T       test as -t, then print the effective configuration (every server\n"
		"           and location, includes spliced in, defaults filled in)\n"
		"  -S       print the running server's status (its scoreboard) and exit\n"
		"  -s signal  stop, reload or reopen (the access log) the running server; reload\n"
		"           and reopen wait for its verdict: 0 once the new generation serves\n"
		"  -m dir   load MPM modules from dir, overriding mpm_dir\n"
		"  -V, --version  print the version and build settings\n"
		"  -h, --help     print this help\n");
}

static void print_problem(void *arg, const char *msg)
{
	stderr_msg(LOG_ERR, "%s", msg);
}

/* The pid in the config's pid file: > 0, 0 when there is no file, -1 on another error. */
static long read_pid(const struct config *conf)
{
	char line[32] = "";
	char *end;
	long pid;
	FILE *f = fopen(conf->pid_file, "re");

	if (!f) {
		if (errno == ENOENT)
			return 0;
		stderr_msg(LOG_ERR, "pid file %s: %s", conf->pid_file, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	errno = 0;
	pid = strtol(line, &end, 10);
	if (errno || end == line || (*end && *end != '\n') || pid <= 0) {
		stderr_msg(LOG_ERR, "pid file %s holds no pid", conf->pid_file);
		return -1;
	}
	return pid;
}

/*
 * -S: the text form of the status page, from the scoreboard of the master named by the
 * pid file, mapped read-only through the descriptor the master keeps open.
 */
static int show_status(const struct config *conf)
{
	const struct scoreboard *sb;
	struct sb_snapshot snap;
	unsigned nslots;
	char err[512];
	long pid;
	int rc;

	if (!conf->pid_file[0]) {
		stderr_msg(LOG_ERR, "pid_file is \"\" in %s: the running server cannot "
			"be found", conf->file);
		return 1;
	}
	pid = read_pid(conf);
	if (pid == 0) {
		stderr_msg(LOG_NOTICE, "not running (no pid file %s)", conf->pid_file);
		return EXIT_NOT_RUNNING;
	}
	if (pid < 0)
		return 1;
	rc = sb_attach((pid_t)pid, &sb, &nslots, err, sizeof(err));
	if (rc == -ESRCH || rc == -ENOENT) {
		stderr_msg(LOG_NOTICE, "not running (stale pid file %s: %s)",
			conf->pid_file, err);
		return EXIT_NOT_RUNNING;
	}
	if (rc < 0) {
		stderr_msg(LOG_ERR, "%s", err);
		return 1;
	}
	if (sb_snapshot(sb, nslots, &snap) < 0) {
		stderr_msg(LOG_ERR, "out of memory");
		return 1;
	}
	struct status_view v = {
		.snap = &snap,
		.server = PACKAGE_NAME "/" PACKAGE_VERSION,
		.now = time(NULL),
	};
	rc = status_render(stdout, &v, STATUS_TEXT);
	sb_snapshot_free(&snap);
	if (rc < 0 || fflush(stdout) != 0) {
		stderr_msg(LOG_ERR, "writing the status: %s", strerror(errno));
		return 1;
	}
	return 0;
}

/* -s: the master named by the pid file judges; its verdict is the exit status. */
static int signal_master(const struct config *conf, const char *action)
{
	long pid;

	if (!conf->pid_file[0]) {
		stderr_msg(LOG_ERR, "pid_file is \"\" in %s: the running server cannot be found",
			   conf->file);
		return 1;
	}
	pid = read_pid(conf);
	if (pid == 0) {
		stderr_msg(LOG_ERR, "%s: not running (no pid file %s)", action, conf->pid_file);
		return EXIT_NOT_RUNNING;
	}
	if (pid < 0)
		return 1;
	return control_send((pid_t)pid, action);
}

int main(int argc, char **argv)
{
	struct master_opts opts = { .conf_path = SYSCONFDIR "/minihttpd.conf" };
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	bool test_only = false, status = false, quiet = false, inetd = false, dump = false;
	const char *action = NULL;
	struct config *conf;
	char err[1024];
	int ch;

	inetd_guard_stdio();
	while ((ch = getopt_long(argc, argv, "f:Fim:tTqSs:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': opts.conf_path = optarg; break;
		case 'F': opts.foreground = true; break;
		case 'i': inetd = true; break;
		case 'm': opts.mpm_dir = optarg; break;
		case 't': test_only = true; break;
		case 'T': test_only = dump = true; break;
		case 'q': quiet = true; break;
		case 'S': status = true; break;
		case 's': action = optarg; break;
		case 'V':
			printf("minihttpd %s\nconfiguration file: %s/minihttpd.conf\n"
			       "MPM directory: %s\n", PACKAGE_VERSION, SYSCONFDIR, MPM_DIR);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (quiet && !test_only) ||
	    (status + test_only + opts.foreground + (action != NULL) + inetd) > 1 ||
	    (action && !control_known(action))) {
		usage(stderr);
		return 2;
	}
	if (inetd)
		return inetd_main(opts.conf_path, opts.mpm_dir);
	conf = config_load(opts.conf_path, opts.mpm_dir, err, sizeof(err));
	if (!conf) {
		stderr_msg(LOG_ERR, "%s", err);
		if (test_only)
			stderr_msg(LOG_ERR, "configuration file %s test failed", opts.conf_path);
		return 1;
	}
	if (status) {
		int rc = show_status(conf);
		config_free(conf);
		return rc;
	}
	if (action) {
		int rc = signal_master(conf, action);
		config_free(conf);
		return rc;
	}
	/* -t exits at once; a start becomes the master, which should not keep NSS caches. */
	if ((test_only ? config_check(conf, true, print_problem, NULL) :
	     config_check_apart(conf, true, print_problem, NULL, NULL, 0)) > 0) {
		if (test_only)
			stderr_msg(LOG_ERR, "configuration file %s test failed", conf->file);
		config_free(conf);
		return 1;
	}
	if (dump) {
		config_print(conf, stdout);
		config_free(conf);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (test_only) {
		if (!quiet)
			printf("minihttpd: the configuration file %s syntax is ok\n"
			       "minihttpd: configuration file %s test is successful (mpm %s)\n",
			       conf->file, conf->file, conf->mpm);
		config_free(conf);
		return 0;
	}
	log_role(LOG_MASTER, 0);
	log_open(conf->syslog_ident, conf->syslog_facility, opts.foreground);
	return master_run(&opts, conf);
}
