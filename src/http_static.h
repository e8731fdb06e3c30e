/* SPDX-License-Identifier: ISC */
/*
 * http_static: answers GET and HEAD for files under the document root (RFC 9110 sections
 * 8, 13 and 14): path resolution that never leaves the root, directory redirects and index
 * files, MIME types, validators (Last-Modified, ETag), conditional requests and ranges,
 * precompressed siblings chosen by Accept-Encoding (section 12.5.3), error pages.
 * It opens files but does no socket I/O: the engine sends what the reply names.
 */
#ifndef MINIHTTPD_HTTP_STATIC_H
#define MINIHTTPD_HTTP_STATIC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "docroot.h"
#include "http_parse.h"
#include "http_response.h"
#include "mime.h"

/* What the ETag is made of (the etag option): the default agrees across replicas. */
enum static_etag { ETAG_MTIME_SIZE, ETAG_INODE_MTIME_SIZE, ETAG_OFF };

struct static_ctx {
	struct docroot *root;		/* the document root, followed when retargeted */
	char *const *index;		/* index file names, tried in order */
	size_t nindex;
	bool follow_symlinks;		/* may symlinks lead out of the root */
	bool directory_listing;		/* list a directory that has no index file */
	bool hidden_files;		/* serve and list names starting with '.' */
	const char *default_type;	/* for unknown extensions */
	const struct mime_table *mime;
	enum static_etag etag;
};

/*
 * Percent-decodes a request path once, refuses NUL and other control bytes and encoded
 * '/' or '\', and resolves "." and ".." segments without ever climbing above the root.
 * Writes the result relative to the root, without a leading '/', NUL-terminated ("" for
 * the root itself), and sets *dir when the path ended in '/'. Returns the length, or
 * -400 for a path to refuse.
 */
ssize_t static_path_clean(const char *path, size_t len, char *out, size_t cap, bool *dir);

/*
 * Whether a cleaned path (static_path_clean()) names a hidden file: one of its components
 * starts with '.', other than a leading ".well-known" (RFC 8615), which is public.
 */
bool static_path_hidden(const char *path, size_t len);

struct content_policy;

/*
 * Fills reply for a GET or HEAD of req->path. Never fails: errors become error replies.
 * A hidden path is 404, as if it did not exist, unless ctx->hidden_files. pol (NULL:
 * none) says whether precompressed siblings are served.
 */
void static_serve(const struct static_ctx *ctx, const struct content_policy *pol,
		  const struct http_request *req, struct http_reply *reply);

/*
 * Replaces the body of reply (an error) by the file at uri, a path under the root as a
 * request would name it, keeping reply's status and other header lines; the page is
 * looked up as a plain GET, so it never has an error page of its own. false (reply
 * unchanged) when it cannot be served as a 200.
 */
bool static_error_page(const struct static_ctx *ctx, const char *uri, struct http_reply *reply);

#endif
