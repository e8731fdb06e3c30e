/*
 * access_log: one line per response in Common or Combined Log Format, appended to the
 * file the master opened (O_APPEND keeps lines whole across processes) or sent to syslog
 * at LOG_INFO. Errors writing it are reported once, not once per request.
 */
#ifndef MINIHTTPD_ACCESS_LOG_H
#define MINIHTTPD_ACCESS_LOG_H

#include <stdint.h>
#include <sys/socket.h>

#include "http_parse.h"

struct conn_ctx;

/* req is NULL when the request could not be parsed; bytes counts the body only. */
void access_log_write(const struct conn_ctx *ctx, const struct sockaddr *peer,
		      const struct http_request *req, int status, uint64_t bytes);

#endif
