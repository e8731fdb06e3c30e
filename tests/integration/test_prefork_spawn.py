# SPDX-License-Identifier: ISC
"""prefork's leader grows the pool as Apache's idle server maintenance does: while fewer
than min_spare_servers children are idle it forks 1, 2, 4 ... (up to 32) children a
second, one tick after another, so a burst that needs many children gets them in a few
seconds (issue 19 item 8: it forked at most min_spare_servers - idle a second).

With start_servers = min_spare_servers = 1 and more held connections than max_servers
(32), every child is busy as soon as it starts, and the number of children goes
1, 2, 4, 8, 16, 32, each step one tick after the previous."""

import socket
import threading
import time

from mhd import Server, clean_log, done, is_, ok, read_response, wait_for, workers_of

HOLDERS = 40
MAX = 32
DOUBLING = [1, 2, 4, 8, 16, 32]
PLATEAU = 0.4   # seconds a count must last to be a step (a tick forks its batch at once)


class Holder:
    """A keep-alive connection that sends one request and stays open once answered, so
    the child that takes it stays busy."""

    def __init__(self, port, release):
        self.answered = False
        self.release = release
        self.thread = threading.Thread(target=self.run, args=(port,))
        self.thread.start()

    def run(self, port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                r = read_response(s.makefile("rb"))
                self.answered = bool(r and r.status == 200)
                self.release.wait(60)
        except OSError:
            pass


def steps(samples):
    """The counts that lasted PLATEAU seconds or more, in order."""
    out, start = [], 0
    for i in range(1, len(samples) + 1):
        if i == len(samples) or samples[i][1] != samples[start][1]:
            if samples[i - 1][0] - samples[start][0] >= PLATEAU or i == len(samples):
                if not out or out[-1] != samples[start][1]:
                    out.append(samples[start][1])
            start = i
    return out


for strategy in ("none", "passfd"):
    t = strategy
    s = Server(mpm="prefork", extra="keepalive_timeout = 60",
               mpm_section='prefork {\n accept = "%s"\n start_servers = 1\n'
               ' min_spare_servers = 1\n max_spare_servers = %d\n max_servers = %d\n}'
               % (strategy, MAX, MAX))
    started, err = s.start()
    ok(started, "%s: starts" % t, err)
    if not started:
        continue
    ok(wait_for(lambda: len(workers_of(s)) == 1, 10), "%s: one child" % t, workers_of(s))
    release = threading.Event()
    holders = [Holder(s.port, release) for _ in range(HOLDERS)]
    # Sampled every 20 ms until 32 children, or for at most 15 s: doubling needs 5 ticks
    # (about 5 s); forking min_spare_servers - idle a second would need 31 s.
    samples, began = [], time.monotonic()
    while time.monotonic() - began < 15:
        samples.append((time.monotonic(), len(workers_of(s))))
        if samples[-1][1] >= MAX:
            break
        time.sleep(0.02)
    took = samples[-1][0] - began
    ok(samples[-1][1] == MAX, "%s: %d children within 15 s of a burst (%.1f s)"
       % (t, MAX, took), "children %d after %.1f s" % (samples[-1][1], took))
    is_(steps(samples), DOUBLING, "%s: the pool doubles one tick after another" % t)
    ok(wait_for(lambda: sum(h.answered for h in holders) == MAX, 15),
       "%s: %d held connections answered, one per child" % (t, MAX),
       sum(h.answered for h in holders))
    ok(len(workers_of(s)) <= MAX, "%s: never above max_servers" % t, workers_of(s))
    release.set()
    for h in holders:
        h.thread.join(60)
    ok(s.stop(), "%s: clean stop" % t)
    clean_log(s, t)

done()
