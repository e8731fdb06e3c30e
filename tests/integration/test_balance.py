# SPDX-License-Identifier: ISC
"""Balance: the MPMs whose processes share the listeners and each hold many connections
must spread a burst over them. A burst of N connections (each sends part of a request
head, so that TCP_DEFER_ACCEPT hands it over, and stays) goes to two processes; neither
may hold more than its MPM's bound. event keeps issue 19's 60%: its accept bursts are
bounded by the room under a process's share (worker_share_room()). uring's multishot
accept cannot be bounded so, and the kernel gives every connection to the first process
armed, busy or not (one process took the whole burst): 80%. sigio signals every process
and they race to accept: 80%."""

import resource
import socket

from mhd import (NotApplicable, Server, done, ok, per_mpm, request, sockets_of, wait_for,
                 workers_of)

N = 1500
HEAD = b"GET / HTTP/1.1\r\nHost: t\r\n"

BOUND = {
    "event": 0.6,
    "uring": 0.8,
    "sigio": 0.8,
    "worker": NotApplicable("a process holds at most its threads' connections"),
    "thread": NotApplicable("one process"),
    "prefork": NotApplicable("a connection per process"),
    "iterative": NotApplicable("a connection per process"),
    "fork": NotApplicable("a connection per process"),
}


def main():
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < N + 100:
        ok(True, "# SKIP open-file limit %d is below %d" % (soft, N + 100))
        done()
    for mpm, bound in per_mpm(BOUND, "a burst spread over two processes"):
        s = Server(mpm=mpm, mpm_section="%s {\n processes = 2\n}" % mpm,
                   extra='header_timeout = 60\naccess_log = "off"')
        started, err = s.start()
        if not ok(started, "%s: starts with two processes" % mpm, err):
            continue
        r = request(s.port, "/")
        ok(r is not None and r.status == 200, "%s: serves" % mpm)
        ok(wait_for(lambda: len(workers_of(s)) == 2, 10), "%s: two processes" % mpm,
           workers_of(s))
        ws = workers_of(s)
        base = {p: sockets_of(p) for p in ws}
        held = lambda: sum(sockets_of(p) - base[p] for p in ws)
        conns = []
        for _ in range(N):
            c = socket.create_connection(("127.0.0.1", s.port))
            c.sendall(HEAD)
            conns.append(c)
        ok(wait_for(lambda: held() >= N, 30), "%s: %d connections held" % (mpm, N),
           "held %d" % held())
        counts = {p: sockets_of(p) - base[p] for p in ws}
        ok(len(counts) == 2 and max(counts.values()) <= bound * N,
           "%s: spread over both processes (neither more than %d%%)" % (mpm, bound * 100),
           "connections per process: %s" % counts)
        for c in conns:
            c.close()
        ok(s.stop(), "%s: stops" % mpm)
    done()


main()
