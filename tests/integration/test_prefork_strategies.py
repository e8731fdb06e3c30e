# SPDX-License-Identifier: ISC
"""prefork's accept strategies (none, mutex, passfd) over real sockets: concurrent clients
with and without keep-alive on two listeners, children killed with SIGKILL replaced (the
mutex one recovers a lock whose holder died), the pool growing under held connections and
shrinking back when they close, a second listener not starved while the pool is saturated,
max_requests_per_child recycling a child, and a clean stop."""

import os
import re
import signal
import socket
import threading

from mhd import (Server, accept_queue, clean_log, done, free_port, is_, ok, read_response,
                 request, wait_for, workers_of)

BODY = b"<h1>hello</h1>\n"
CLIENTS, REQUESTS = 20, 25


def get(sock_file, sock, port, keep_alive):
    sock.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n" %
                  (port, "" if keep_alive else "Connection: close\r\n")).encode())
    return read_response(sock_file)


def client(ports, n, keep_alive, results):
    """n requests, on one keep-alive connection or on a fresh one each; counts good answers."""
    good = 0
    try:
        if keep_alive:
            with socket.create_connection(("127.0.0.1", ports[0]), timeout=15) as s:
                f = s.makefile("rb")
                for _ in range(n):
                    r = get(f, s, ports[0], True)
                    good += bool(r and r.status == 200 and r.body == BODY)
        else:
            for i in range(n):
                port = ports[i % len(ports)]
                with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
                    r = get(s.makefile("rb"), s, port, False)
                    good += bool(r and r.status == 200 and r.body == BODY)
    except OSError as e:
        results.append(("error", repr(e)))
    results.append(good)


def concurrent(ports):
    results = []
    threads = [threading.Thread(target=client,
                                args=([ports[i % 2], ports[(i + 1) % 2]], REQUESTS, i % 2 == 0,
                                      results))
               for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    good = sum(r for r in results if isinstance(r, int))
    errors = [r for r in results if not isinstance(r, int)]
    return good, errors


class Holder:
    """A keep-alive connection that got one answer and stays open (its child is busy)."""

    def __init__(self, port):
        self.answered = False
        self.port = port
        self.sock = None
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        try:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            r = get(self.sock.makefile("rb"), self.sock, self.port, True)
            self.answered = bool(r and r.status == 200)
        except OSError:
            pass

    def close(self):
        self.thread.join(30)
        if self.sock:
            self.sock.close()


class Queued:
    """A client that sends a whole request at once and records when it is answered."""

    def __init__(self, port, name, order):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.sock.sendall(("GET /?c=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close"
                           "\r\n\r\n" % name).encode())
        self.thread = threading.Thread(target=self.run, args=(name, order))
        self.thread.start()

    def run(self, name, order):
        try:
            r = read_response(self.sock.makefile("rb"))
            if r and r.status == 200:
                order.append(name)
        except OSError:
            pass
        finally:
            self.sock.close()


for strategy in ("none", "mutex", "passfd"):
    t = strategy
    p2 = free_port()
    section = ('prefork {\n accept = "%s"\n start_servers = 2\n min_spare_servers = 2\n'
               ' max_spare_servers = 3\n max_servers = 12\n}' % strategy)
    s = Server(mpm="prefork", mpm_section=section, extra="keepalive_timeout = 30")
    s.listen = ["127.0.0.1:%d" % s.port, "127.0.0.1:%d" % p2]
    s.write_conf()
    started, err = s.start()
    ok(started, "%s: starts with two listeners" % t, err)
    if not started:
        continue
    ports = [s.port, p2]

    # Every answer right, with and without keep-alive, spread over both listeners.
    good, errors = concurrent(ports)
    is_(good, CLIENTS * REQUESTS, "%s: %d clients x %d requests all answered" %
        (t, CLIENTS, REQUESTS))
    is_(errors, [], "%s: no client saw an error" % t)

    # Only the second listener: no child sleeps on the first while it has clients.
    answers = [request(p2, "/", timeout=5) for _ in range(10)]
    ok(all(r.status == 200 for r in answers), "%s: second listener alone is served" % t)

    # Children killed with SIGKILL are replaced (for mutex, one of them held the lock).
    before = wait_for(lambda: workers_of(s) if len(workers_of(s)) >= 2 else None, 10)
    ok(before, "%s: at least two children before the kill" % t, workers_of(s))
    for pid in before or []:
        os.kill(pid, signal.SIGKILL)
    back = wait_for(lambda: len(workers_of(s)) >= 2 and not set(workers_of(s)) & set(before or []),
                    15)
    ok(back, "%s: killed children replaced by new ones" % t, workers_of(s))
    answers = [request(ports[i % 2], "/", timeout=5) for i in range(10)]
    ok(all(r.status == 200 for r in answers), "%s: serves after the kill" % t)

    # Spare sizing: 5 held connections make the pool grow to 5 busy + 2 spare (within
    # max_servers), then shrink to at most max_spare_servers once they close.
    holders = [Holder(ports[i % 2]) for i in range(5)]
    grown = wait_for(lambda: all(h.answered for h in holders) and len(workers_of(s)) >= 7, 20)
    ok(grown, "%s: pool grows to serve held connections and keep spares" % t,
       "children %d, answered %d" % (len(workers_of(s)), sum(h.answered for h in holders)))
    ok(len(workers_of(s)) <= 12, "%s: never above max_servers" % t, workers_of(s))
    for h in holders:
        h.close()
    shrunk = wait_for(lambda: len(workers_of(s)) <= 3, 20)
    ok(shrunk, "%s: pool shrinks back to max_spare_servers when idle" % t, workers_of(s))
    is_(request(s.port, "/").status, 200, "%s: serves after shrinking" % t)

    ok(s.stop(), "%s: clean stop, no process left" % t)
    clean_log(s, t)

    # Fairness under saturation: the only child is busy while 3 clients queue on the first
    # listener and 1 on the second; once it is free, the second listener's client is not
    # left for last (a scan always starting at the first listener would starve it).
    p2 = free_port()
    section = ('prefork {\n accept = "%s"\n start_servers = 1\n min_spare_servers = 1\n'
               ' max_spare_servers = 1\n max_servers = 1\n}' % strategy)
    s = Server(mpm="prefork", mpm_section=section, extra="keepalive_timeout = 30")
    s.listen = ["127.0.0.1:%d" % s.port, "127.0.0.1:%d" % p2]
    s.write_conf()
    started, err = s.start()
    ok(started, "%s: starts with one child and two listeners" % t, err)
    if started:
        held = Holder(s.port)
        ok(wait_for(lambda: held.answered, 10), "%s: the only child is held" % t)
        order = []
        queued = [Queued(port, name, order) for port, name in
                  ((s.port, "a1"), (s.port, "a2"), (s.port, "a3"), (p2, "b"))]
        ok(wait_for(lambda: accept_queue(s.port) == 3 and accept_queue(p2) == 1, 10),
           "%s: 3 + 1 clients wait in the two backlogs" % t,
           (accept_queue(s.port), accept_queue(p2)))
        held.close()
        for q in queued:
            q.thread.join(20)
        is_(sorted(order), ["a1", "a2", "a3", "b"], "%s: all four answered" % t)
        # The order of service is the access log's: the one child writes each line as it
        # finishes, while the clients' threads may notice their answers in any order.
        served = lambda: re.findall(r"c=(\w+)", open(os.path.join(s.dir, "access.log")).read())
        wait_for(lambda: len(served()) >= 4, 5)
        ok(served()[-1:] != ["b"], "%s: the second listener is not starved" % t, served())
        ok(s.stop(), "%s: clean stop after the fairness check" % t)

    # max_requests_per_child: one child, recycled after 3 connections.
    section = ('prefork {\n accept = "%s"\n start_servers = 1\n min_spare_servers = 1\n'
               ' max_spare_servers = 1\n max_servers = 1\n max_requests_per_child = 3\n}'
               % strategy)
    s = Server(mpm="prefork", mpm_section=section)
    started, err = s.start()
    ok(started, "%s: starts with one recycled child" % t, err)
    if started:
        first = wait_for(lambda: workers_of(s), 10)
        codes = [request(s.port, "/", timeout=10).status for _ in range(7)]
        is_(codes, [200] * 7, "%s: 7 connections answered across recycling" % t)
        ok(wait_for(lambda: workers_of(s) and not set(workers_of(s)) & set(first or []), 10),
           "%s: the child was replaced after max_requests_per_child" % t, workers_of(s))
        ok(s.stop(), "%s: clean stop after recycling" % t)
        clean_log(s, t + " recycling")

done()
