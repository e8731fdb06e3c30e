/* SPDX-License-Identifier: ISC */
/*
 * config: reads minihttpd.conf with libconfuse into an immutable struct config. Every
 * error is reported as "FILE:LINE: problem" and leaves nothing half-applied: the caller
 * keeps its old config until config_load() returns a complete new one. Runtime code reads
 * only the struct; nothing outside this file calls cfg_get*, except mpm_options.c on the
 * MPM's section.
 */
#ifndef MINIHTTPD_CONFIG_H
#define MINIHTTPD_CONFIG_H

#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "content_policy.h"
#include "log_format.h"
#include "site.h"

struct addr_net;
struct mpm_handle;

struct listen_addr {
	char *text;			/* the address as written: "0.0.0.0:8080", "[::1]:80" */
	struct sockaddr_storage ss;
	socklen_t len;
	bool proxy_protocol;		/* "ADDR:PORT proxy_protocol": a PROXY header first */
};

/* Which field a trusted proxy's client address is read from (client_address_header). */
enum client_header { CLIENT_HEADER_XFF, CLIENT_HEADER_FORWARDED };

/* auto: on where a worker holds many connections (event loops), off where it holds one. */
enum file_cache_mode { FILE_CACHE_AUTO, FILE_CACHE_ON, FILE_CACHE_OFF };

struct config {
	char *file;			/* absolute path of the file read */

	struct listen_addr *listen;
	size_t nlisten;
	int listen_backlog;
	size_t nproxy_listen;		/* of listen, those with proxy_protocol */

	struct addr_net *trusted_proxies;	/* peers whose client_address_header is believed */
	size_t ntrusted_proxies;
	enum client_header client_address_header;

	char *document_root;		/* absolute */
	char **index;
	size_t nindex;
	bool follow_symlinks;
	bool directory_listing;
	bool hidden_files;		/* serve names starting with '.' (hidden_files = "allow") */
	char *default_type;
	char *mime_types;		/* "" when none */
	bool server_tokens;		/* version in the Server field */

	char *mpm;
	char *mpm_dir;
	char *pid_file;			/* "" when none */
	char *user;
	char *group;

	char *syslog_ident;
	int syslog_facility;		/* LOG_DAEMON ... */
	char *access_log;		/* "off", "syslog", "stdout", "stderr" or an absolute path */
	struct log_format access_log_format;	/* compiled */
	size_t access_log_buffer;	/* bytes per thread; 0: one write per line */
	enum file_cache_mode file_cache;
	int etag;			/* enum static_etag (http_static.h) */

	int header_timeout;		/* seconds for a whole request head */
	int keepalive_timeout;		/* idle seconds between requests */
	int send_timeout;		/* seconds without progress while sending */
	int graceful_timeout;		/* seconds a stopping generation may take */
	int shutdown_delay;		/* seconds from SIGTERM to stopping, health 503 meanwhile */

	size_t max_request_line;
	size_t max_header_size;
	unsigned max_header_fields;
	unsigned max_keepalive_requests;
	long long max_body_size;	/* request body the server reads to discard */
	unsigned max_workers;		/* scoreboard slots; fixed at start */
	unsigned max_connections_per_client;	/* per client address in a generation; 0: no limit */

	struct content_policy content;	/* the default server's (content_policy.h) */
	/* The policies of the server and location blocks that set a content option of
	 * their own (site_opts.content of the others points at their parent's). */
	struct content_policy **policies;
	size_t npolicies;

	char *status_path;		/* the status page, "" when off */
	size_t status_path_len;		/* 0 when off: the engine compares it first */
	struct addr_net *status_allow;	/* who may read it */
	size_t nstatus_allow;
	char *metrics_path;		/* Prometheus metrics (status_allow applies), "" when off */
	size_t metrics_path_len;

	char *health_path;		/* 200 "ok", 503 while stopping; "" when off */
	size_t health_path_len;
	bool health_log;		/* health checks in the access log */

	struct mpm_handle *mpm_handle;	/* the loaded module of `mpm` */
	void *mpm_conf;			/* its section as its conf struct (mpm_options.h) */

	struct site_set sites;		/* the top level (sites[0]) and the server blocks */
	cfg_t *parsed;			/* the parsed file, for -T */
};

/*
 * Loads and validates path (made absolute), including loading the MPM it names from
 * mpm_dir (or from mpm_dir_override when not NULL). On error returns NULL and writes
 * "FILE:LINE: problem" into err.
 */
struct config *config_load(const char *path, const char *mpm_dir_override,
			   char *err, size_t errlen);
void config_free(struct config *conf);

/* minihttpd -T: every option, server and location with its effective value. */
void config_print(const struct config *conf, FILE *f);

/* For CFG_STR options with a fixed set of words: -1 and an error naming them otherwise. */
int config_check_word(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		      const char *const *words);

#endif
