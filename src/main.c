/*
 * minihttpd: command line. The config is loaded and validated before anything else, so
 * `-t` and a normal start judge a file by exactly the same code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "master.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif
#ifndef MPM_DIR
#define MPM_DIR "/usr/local/lib/minihttpd/mpm"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: minihttpd [-F] [-t] [-f file] [-m dir] | -V | -h\n"
		"  -f file  configuration file (default " SYSCONFDIR "/minihttpd.conf)\n"
		"  -F       stay in the foreground, log to stderr as well as syslog\n"
		"  -t       test the configuration and exit\n"
		"  -m dir   load MPM modules from dir, overriding mpm_dir\n"
		"  -V       print the version and build settings\n"
		"  -h       print this help\n");
}

int main(int argc, char **argv)
{
	struct master_opts opts = { .conf_path = SYSCONFDIR "/minihttpd.conf" };
	bool test_only = false;
	struct config *conf;
	char err[1024];
	int ch;

	while ((ch = getopt(argc, argv, "f:Fm:tVh")) != -1) {
		switch (ch) {
		case 'f': opts.conf_path = optarg; break;
		case 'F': opts.foreground = true; break;
		case 'm': opts.mpm_dir = optarg; break;
		case 't': test_only = true; break;
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
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	conf = config_load(opts.conf_path, opts.mpm_dir, err, sizeof(err));
	if (!conf) {
		fprintf(stderr, "minihttpd: %s\n", err);
		if (test_only)
			fprintf(stderr, "minihttpd: configuration file %s test failed\n",
				opts.conf_path);
		return 1;
	}
	if (test_only) {
		printf("minihttpd: the configuration file %s syntax is ok\n"
		       "minihttpd: configuration file %s test is successful (mpm %s)\n",
		       conf->file, conf->file, conf->mpm);
		config_free(conf);
		return 0;
	}
	openlog(conf->syslog_ident, LOG_PID | LOG_NDELAY | (opts.foreground ? LOG_PERROR : 0),
		conf->syslog_facility);
	return master_run(&opts, conf);
}
