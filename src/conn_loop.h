/*
 * conn_loop: the blocking MPMs' way to drive the connection engine: one connection,
 * one execution context, poll() on its socket until the connection ends, a deadline
 * passes, or the generation stops (then the connection is drained, not cut).
 */
#ifndef MINIHTTPD_CONN_LOOP_H
#define MINIHTTPD_CONN_LOOP_H

#include <stdbool.h>

#include "http_conn.h"

/* Serves fd (non-blocking, owned) until the connection ends. */
void conn_serve(const struct conn_ctx *ctx, int fd, const struct sockaddr *peer,
		socklen_t peerlen, struct sb_slot *slot, int stop_fd);

/*
 * Waits on the listeners (and stop_fd) and accepts one connection, non-blocking and
 * close-on-exec. Returns its fd, or -1 when the child must stop. Several listeners are
 * polled together so no child sleeps in accept() on one while another has clients.
 */
int conn_accept_any(const int *listeners, size_t n, int stop_fd,
		    struct sockaddr_storage *peer, socklen_t *peerlen);

/*
 * Call with every accept4() result, errno intact (event calls it too; episodes are
 * per thread). Logs a lack of descriptors or kernel memory once per episode (and its
 * end) and returns true when the caller must pause accepting.
 */
bool conn_accept_note(int fd);

#endif
