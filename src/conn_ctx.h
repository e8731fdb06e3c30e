/* SPDX-License-Identifier: ISC */
/*
 * conn_ctx: the connection engine's context, one per generation, built by its leader
 * before it forks (engine.c) and shared read-only by every worker. The core's own:
 * MPMs see only the opaque pointer, so this header may change without their ABI.
 */
#ifndef MINIHTTPD_CONN_CTX_H
#define MINIHTTPD_CONN_CTX_H

#include <stdbool.h>

#include "access_log.h"
#include "climit.h"
#include "config.h"
#include "http_parse.h"
#include "http_static.h"

struct conn_ctx {
	const struct config *conf;
	struct static_ctx st;		/* the top level's: site_st[0] */
	struct docroot root;	/* st.root; each process follows it on its own */
	struct static_ctx *site_st;	/* per site of conf->sites, by site id */
	struct docroot *site_root;	/* the server blocks' roots, by site id (0: root) */
	struct http_limits limits;
	struct access_sink access;	/* the access log */
	struct access_sink *site_access;	/* per site id: its own access_log, else access */
	char server[48];	/* the Server field */
	struct climit *climit;	/* max_connections_per_client, shared by the generation; NULL: off */
};

#endif
