# SPDX-License-Identifier: ISC
"""A worker process that retires through max_requests_per_child finishes every connection
it accepted: 2 threads, a limit of 3, thousands of fresh connections from a few clients,
so that processes retire continually with connections in their hands (issue 19 item 2:
with accept = "queue" about 1% were reset before the acceptor closed the queue itself)."""

import socket
import threading
import time

from mhd import Server, clean_log, done, is_, ok, read_response

BODY = b"<h1>hello</h1>\n"
CLIENTS = 4
DEADLINE = 300.0    # seconds for all of a run; a run that needs longer fails


def client(port, n, end, failures, lock):
    for _ in range(n):
        if time.monotonic() > end:
            with lock:
                failures.append("deadline")
            return
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                r = read_response(s.makefile("rb"))
                good = r is not None and r.status == 200 and r.body == BODY
                why = None if good else "answer %r" % (r and r.status)
        except OSError as e:
            why = repr(e)
        if why:
            with lock:
                failures.append(why)


for strategy, total in (("queue", 5000), ("mutex", 2000)):
    t = strategy
    s = Server(mpm="worker", mpm_section='worker {\n accept = "%s"\n processes = 2\n'
               ' threads_per_process = 2\n max_requests_per_child = 3\n}' % strategy)
    started, err = s.start()
    ok(started, "%s: starts" % t, err)
    if not started:
        continue
    failures, lock = [], threading.Lock()
    end = time.monotonic() + DEADLINE
    threads = [threading.Thread(target=client,
                                args=(s.port, total // CLIENTS, end, failures, lock))
               for _ in range(CLIENTS)]
    began = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(DEADLINE + 30)
    took = time.monotonic() - began
    is_(len(failures), 0, "%s: %d fresh connections over processes retiring every 3, "
        "all answered (%.0f s)" % (t, total, took))
    if failures:
        print("#   first failures: %r" % failures[:5])
    ok(s.stop(), "%s: clean stop" % t)
    clean_log(s, t)

done()
