/*
 * minihttpd: command line. The config is loaded and validated before anything else, so
 * `-t`, `-S` and a normal start judge a file by exactly the same code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "inetd.h"
#include "log.h"
#include "master.h"
#include "scoreboard.h"
#include "status.h"

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
		"usage: minihttpd [-F | -t | -S | -i] [-f file] [-m dir] | -V | -h\n"
		"  -f file  configuration file (default " SYSCONFDIR "/minihttpd.conf)\n"
		"  -F       stay in the foreground, log to stderr as well as syslog\n"
		"  -i       serve the one connection on standard input and exit (inetd,\n"
		"           systemd Accept=yes)\n"
		"  -t       test the configuration and exit\n"
		"  -S       print the running server's status (its scoreboard) and exit\n"
		"  -m dir   load MPM modules from dir, overriding mpm_dir\n"
		"  -V       print the version and build settings\n"
		"  -h       print this help\n");
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
		fprintf(stderr, "minihttpd: pid file %s: %s\n", conf->pid_file, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	errno = 0;
	pid = strtol(line, &end, 10);
	if (errno || end == line || (*end && *end != '\n') || pid <= 0) {
		fprintf(stderr, "minihttpd: pid file %s holds no pid\n", conf->pid_file);
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
		fprintf(stderr, "minihttpd: pid_file is \"\" in %s: the running server cannot "
			"be found\n", conf->file);
		return 1;
	}
	pid = read_pid(conf);
	if (pid == 0) {
		fprintf(stderr, "minihttpd: not running (no pid file %s)\n", conf->pid_file);
		return EXIT_NOT_RUNNING;
	}
	if (pid < 0)
		return 1;
	rc = sb_attach((pid_t)pid, &sb, &nslots, err, sizeof(err));
	if (rc == -ESRCH || rc == -ENOENT) {
		fprintf(stderr, "minihttpd: not running (stale pid file %s: %s)\n",
			conf->pid_file, err);
		return EXIT_NOT_RUNNING;
	}
	if (rc < 0) {
		fprintf(stderr, "minihttpd: %s\n", err);
		return 1;
	}
	if (sb_snapshot(sb, nslots, &snap) < 0) {
		fprintf(stderr, "minihttpd: out of memory\n");
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
		fprintf(stderr, "minihttpd: writing the status: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct master_opts opts = { .conf_path = SYSCONFDIR "/minihttpd.conf" };
	bool test_only = false, status = false, inetd = false;
	struct config *conf;
	char err[1024];
	int ch;

	inetd_guard_stdio();
	while ((ch = getopt(argc, argv, "f:Fim:tSVh")) != -1) {
		switch (ch) {
		case 'f': opts.conf_path = optarg; break;
		case 'F': opts.foreground = true; break;
		case 'i': inetd = true; break;
		case 'm': opts.mpm_dir = optarg; break;
		case 't': test_only = true; break;
		case 'S': status = true; break;
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
	if (optind != argc || (status && (test_only || opts.foreground)) ||
	    (inetd && (status || test_only || opts.foreground))) {
		usage(stderr);
		return 2;
	}
	if (inetd)
		return inetd_main(opts.conf_path, opts.mpm_dir);
	conf = config_load(opts.conf_path, opts.mpm_dir, err, sizeof(err));
	if (!conf) {
		fprintf(stderr, "minihttpd: %s\n", err);
		if (test_only)
			fprintf(stderr, "minihttpd: configuration file %s test failed\n",
				opts.conf_path);
		return 1;
	}
	if (status) {
		int rc = show_status(conf);
		config_free(conf);
		return rc;
	}
	if (test_only) {
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
