/* SPDX-License-Identifier: ISC */
/*
 * event_backend: the readiness notification under the event MPM, chosen per config
 * (redis ae.c style): epoll, poll or select behind one small ops table. Events and
 * results use epoll's vocabulary (EPOLLIN, EPOLLOUT, struct epoll_event with data.ptr);
 * poll and select are level-triggered only and ignore EPOLLEXCLUSIVE. wait() unblocks
 * sigmask only while waiting, as epoll_pwait. select refuses a descriptor >= FD_SETSIZE
 * (errno ERANGE), logging it once per process. evb_closing() must precede the close of
 * a registered descriptor: only epoll forgets a closed one by itself.
 */
#ifndef MINIHTTPD_EVENT_BACKEND_H
#define MINIHTTPD_EVENT_BACKEND_H

#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>

enum evb_kind { EVB_EPOLL, EVB_POLL, EVB_SELECT };

struct evb;

struct evb *evb_open(enum evb_kind kind);
int evb_add(struct evb *b, int fd, uint32_t events, void *ptr);
int evb_mod(struct evb *b, int fd, uint32_t events, void *ptr);
int evb_del(struct evb *b, int fd);
void evb_closing(struct evb *b, int fd);
int evb_wait(struct evb *b, struct epoll_event *ready, int max, int timeout_ms,
	     const sigset_t *sigmask);
void evb_close(struct evb *b);

#endif
