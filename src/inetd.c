/* SPDX-License-Identifier: ISC */
/*
 * inetd: one connection, one process. Under inetd the client's socket is fd 0, 1 and 2
 * at once, so the order below matters: the socket leaves stdout and stderr before
 * anything can print, it is moved to a descriptor of its own (closing it then really
 * closes the connection), and only then is the engine run. Errors are logged where the
 * config says, and also written to stderr, which by then is never the client.
 *
 * What does not apply: the pid file, the scoreboard (the status page and the metrics
 * answer 503), the master's reloads and max_connections_per_client, whose table would be
 * this process's own and count this one connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access_log.h"
#include "config.h"
#include "engine.h"
#include "http_conn.h"
#include "inetd.h"
#include "log.h"
#include "privs.h"
#include "stderr_msg.h"

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void inetd_guard_stdio(void)
{
	struct stat st;
	int null;

	if (fstat(0, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	if (!same_file(0, 1) && !same_file(0, 2))
		return;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return;
	for (int fd = 1; fd <= 2; fd++)
		if (same_file(0, fd))
			dup2(null, fd);
	close(null);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Logs msg, and echoes it to stderr when a person may read that: a terminal, a pipe, a
 * file. A socket there is the journal (systemd's StandardError=journal), which syslog
 * reaches already; the client's socket was replaced by inetd_guard_stdio().
 */
static int fail(const char *fmt, ...)
{
	char msg[1200];
	struct stat st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_ERR, "%s", msg);
	if (fstat(2, &st) == 0 && !S_ISSOCK(st.st_mode))
		stderr_msg(LOG_ERR, "%s", msg);
	return 1;
}

/* What a character device on fd 0 is, the usual mistake named. */
static const char *char_device(const struct stat *st)
{
	struct stat null;

	if (isatty(0))
		return "a terminal";
	if (stat("/dev/null", &null) == 0 && S_ISCHR(null.st_mode) && null.st_rdev == st->st_rdev)
		return "/dev/null";
	return "a character device";
}

/* NULL when fd 0 is a connected stream socket (its peer then in *peer), else what it is. */
static const char *stdin_problem(struct sockaddr_storage *peer, socklen_t *len)
{
	struct stat st;
	int type = 0, listening = 0;
	socklen_t optlen = sizeof(type);

	if (fstat(0, &st) < 0)
		return "closed";
	if (S_ISCHR(st.st_mode))
		return char_device(&st);
	if (S_ISFIFO(st.st_mode))
		return "a pipe";
	if (S_ISREG(st.st_mode))
		return "a regular file";
	if (S_ISDIR(st.st_mode))
		return "a directory";
	if (!S_ISSOCK(st.st_mode))
		return "not a socket";
	if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &optlen) < 0 || type != SOCK_STREAM)
		return type == SOCK_DGRAM ? "a datagram socket (inetd.conf says dgram?)"
					  : "a socket of another type than stream";
	optlen = sizeof(listening);
	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) == 0 && listening)
		return "a listening socket (inetd.conf says wait, or the systemd socket "
		       "Accept=no?)";
	*len = sizeof(*peer);
	if (getpeername(0, (struct sockaddr *)peer, len) < 0)
		return errno == ENOTCONN ? "an unconnected socket"
					 : "a socket whose peer cannot be read";
	return NULL;
}

/*
 * Moves the connection from fd 0 to a close-on-exec descriptor of its own, non-blocking
 * as the engine wants it, and puts /dev/null in its place. Returns it, or -1.
 */
static int take_connection(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int flags = fd >= 0 ? fcntl(fd, F_GETFL) : -1;

	if (fd < 0 || null < 0 || flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    dup2(null, 0) < 0) {
		if (fd >= 0)
			close(fd);
		if (null >= 0)
			close(null);
		return -1;
	}
	close(null);
	return fd;
}

/*
 * One worker of a generation of its own, as a blocking MPM's child is: no scoreboard, no
 * MPM to ask (one connection, no bound), no stop pipe; SIGTERM (systemd stopping the
 * socket unit) drains the connection as it does in a pool's child.
 */
static void serve(struct engine *eng, int fd, const struct sockaddr *peer, socklen_t len)
{
	struct mpm_env env = { .engine = eng };
	struct worker *w;

	pool_child_signals();
	w = worker_begin(&env, -1);
	worker_serve(w, fd, peer, len);
	worker_end(w);
}

int inetd_main(const char *conf_path, const char *mpm_dir)
{
	struct sockaddr_storage peer;
	socklen_t peerlen = 0;
	struct engine eng;
	struct config *conf;
	const char *problem;
	char err[1024];
	int fd, access_fd;

	signal(SIGPIPE, SIG_IGN);
	/* The config's defaults, until it is read. */
	log_open("minihttpd", LOG_DAEMON, false);
	log_role(LOG_INETD, 0);
	conf = config_load(conf_path, mpm_dir, err, sizeof(err));
	if (!conf)
		return fail("-i: %s", err);
	log_open(conf->syslog_ident, conf->syslog_facility, false);

	problem = stdin_problem(&peer, &peerlen);
	if (problem) {
		fail("-i: standard input is %s, not a connected stream socket: -i is for inetd "
		     "(stream tcp nowait) or a systemd socket with Accept=yes", problem);
		config_free(conf);
		return 1;
	}
	fd = take_connection();
	if (fd < 0) {
		fail("-i: taking the connection from standard input: %m");
		config_free(conf);
		return 1;
	}
	/*
	 * Opened as the starting user, like the master does, before privileges go. Standard
	 * output and error are the connection: a log meant for them goes to syslog, and
	 * without a syslog socket nowhere, never to stderr as in the master.
	 */
	const char *target = conf->access_log;
	if (strcmp(target, "stdout") == 0 || strcmp(target, "stderr") == 0)
		target = "syslog";
	if (strcmp(target, "syslog") == 0 && !log_syslog_reachable())
		target = "off";
	access_fd = access_log_open_target(target, err, sizeof(err));
	if (access_fd == -2 || access_log_open_sites(conf, err, sizeof(err)) < 0 ||
	    privs_drop(conf, err, sizeof(err)) < 0 ||
	    engine_init(&eng, conf, NULL, access_fd, NULL, -1, err, sizeof(err)) < 0) {
		fail("-i: %s", err);
		close(fd);
		if (access_fd >= 0)
			close(access_fd);
		config_free(conf);
		return 1;
	}
	access_log_sink(&eng.http.access, access_fd, target, &conf->access_log_format,
			conf->access_log_buffer);
	serve(&eng, fd, (const struct sockaddr *)&peer, peerlen);
	engine_free(&eng);
	if (access_fd >= 0)
		close(access_fd);
	config_free(conf);
	return 0;
}
