# SPDX-License-Identifier: ISC
"""A pipelined request that arrives while a large response is being written is read and
answered, on every MPM: one connection asks for a large file and reads it slowly (a
small receive window keeps the server waiting to write), and sends GET /small.txt at
one phase of that response: before its first byte, after 10% and 50% of it, just
before its end, and after it. Edge-triggered drivers (event's trigger = "edge", sigio)
once consumed the request's readiness edge while waiting to write and then trusted an
earlier "the socket was drained": the request was never read (issue 19, item 1)."""

import hashlib
import os
import socket

from mhd import Server, clean_log, done, is_, ok, per_mpm, read_response

BIG = os.urandom(16 << 20)
SMALL = b"small answer\n"
FILES = {"big.bin": BIG, "small.txt": SMALL}
# (tag, mpm section) for each way an MPM can drive a connection.
MPMS = {
    "event": [("event level", 'event {\n processes = 1\n trigger = "level"\n}'),
              ("event edge", 'event {\n processes = 1\n trigger = "edge"\n}')],
    "sigio": [("sigio", "sigio {\n processes = 1\n}")],
    "prefork": [("prefork", "prefork {\n start_servers = 2\n min_spare_servers = 1\n}")],
    "worker": [("worker", "worker {\n processes = 1\n threads_per_process = 2\n}")],
    "thread": [("thread", None)],
    "fork": [("fork", None)],
    "iterative": [("iterative", None)],
    # The proactor: completions instead of readiness, the same contract (http_conn.h).
    "uring": [("uring", None)],
}
# Bytes of the first body read before the second request is sent; None: before the head.
PHASES = [("before the first byte", None), ("after 10%", len(BIG) // 10),
          ("after 50%", len(BIG) // 2), ("just before the end", len(BIG) - 65536),
          ("after the end", len(BIG))]
# Longer than the wait for the second answer: a lost request shows as a timeout.
KEEPALIVE = 30
ANSWER_WAIT = 8.0
CHUNK = 16384


def read_exactly(f, n, h):
    """Reads n body bytes in small chunks into hash h; returns how many were missing."""
    while n > 0:
        b = f.read1(min(CHUNK, n))
        if not b:
            break
        h.update(b)
        n -= len(b)
    return n


def one_phase(port, tag, phase, at):
    c = socket.socket()
    # A small window: the server waits to write for most of the response.
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.settimeout(ANSWER_WAIT)
    try:
        c.connect(("127.0.0.1", port))
        f = c.makefile("rb")
        c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        second = b"GET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n"
        if at is None:
            c.sendall(second)
        r = read_response(f, head_only=True)
        if not (r and r.status == 200 and r.header("content-length") == str(len(BIG))):
            return ok(False, "%s: %s: the large response's head" % (tag, phase),
                      r and (r.status, r.headers))
        h = hashlib.sha256()
        missing = read_exactly(f, at or 0, h)
        if at is not None:
            c.sendall(second)
        missing += read_exactly(f, len(BIG) - (at or 0), h)
        got = missing == 0 and h.digest() == hashlib.sha256(BIG).digest()
        r2 = read_response(f)
        return ok(got and r2 is not None and r2.status == 200 and r2.body == SMALL,
                  "%s: second request sent %s is answered" % (tag, phase),
                  "large body %s; second answer %r" %
                  ("intact" if got else "%d bytes missing or corrupt" % missing,
                   r2 and (r2.status, r2.body)))
    except OSError as e:
        return ok(False, "%s: second request sent %s is answered" % (tag, phase),
                  "%s (no answer within %.0f s)" % (e, ANSWER_WAIT))
    finally:
        c.close()


def main():
    for mpm, variants in per_mpm(MPMS, "pipelined request during a large response"):
        for tag, section in variants:
            s = Server(mpm=mpm, files=FILES, mpm_section=section,
                       extra='keepalive_timeout = %d\naccess_log = "off"' % KEEPALIVE)
            started, err = s.start()
            if not ok(started, "%s: starts" % tag, err):
                continue
            for phase, at in PHASES:
                one_phase(s.port, tag, phase, at)
            ok(s.stop(), "%s: stops cleanly" % tag)
            clean_log(s, tag)
    done()


main()
