/*
 * access_log: one line per response in Common or Combined Log Format, appended to the
 * file the master opened (O_APPEND keeps lines whole across processes) or sent to syslog
 * at LOG_INFO. Errors writing it are reported once, not once per request.
 */
#ifndef MINIHTTPD_ACCESS_LOG_H
#define MINIHTTPD_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http_parse.h"

struct conn_ctx;
struct config;

/*
 * Opens the config's access log file for appending, as the caller's user (the master,
 * or `-i` before it drops privileges), so workers never need write access to it.
 * Returns the fd, -1 when access_log is not a file, -2 with err set on failure.
 */
int access_log_open(const struct config *conf, char *err, size_t errlen);

/*
 * Opens the access_log of each server block that has one into its site's log_fd. Called
 * by each generation's leader in its own copy of the config, before it drops privileges
 * (so every generation, a SIGUSR1 one included, opens them anew), and by `-i`.
 */
int access_log_open_sites(struct config *conf, char *err, size_t errlen);

/* req is NULL when the request could not be parsed; bytes counts the body only. */
void access_log_write(const struct conn_ctx *ctx, const struct sockaddr *peer,
		      const struct http_request *req, int status, uint64_t bytes);

#endif
