# SPDX-License-Identifier: ISC
"""The seed's laboratory models as MPMs: iterative, fork (one process per connection),
thread (one thread per connection) and sigio (signal-driven I/O). Each serves GET and
HEAD, 10 concurrent clients x 10 requests, keep-alive, pipelining and a large file through
a small receive window, finishes a request in flight on SIGTERM and leaves no process.
fork's max_children and thread's max_threads hold clients in the listen backlog (seen in
/proc/net/tcp) rather than refusing them; sigio holds 200 connections at once and still
serves everything when the realtime signal queue overflows (RLIMIT_SIGPENDING lowered,
inherited by the server), logging the fallback to a full poll."""

import hashlib
import os
import resource
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from mhd import (NotApplicable, Server, accept_queue, children_of, descendants_of, done,
                 exchange, is_, ok, per_mpm, read_response, skip_all, wait_for)

# The laboratory models are tested here; a production MPM has a test file of its own.
LAB = {
    "iterative": True, "fork": True, "thread": True, "sigio": True,
    "prefork": NotApplicable("a production MPM: test_prefork_strategies.py"),
    "worker": NotApplicable("a production MPM: test_worker.py"),
    "event": NotApplicable("a production MPM: test_event.py"),
    "uring": NotApplicable("a production MPM: test_uring.py"),
}
MPMS = [m for m, _ in per_mpm(LAB, "laboratory model")]
if not MPMS:
    skip_all("none of the laboratory MPMs is built")

BIG = os.urandom(2 << 20)
FILES = {"index.html": "<h1>lab</h1>\n", "a.txt": "abc\n", "big.bin": BIG}
for i in range(5):
    FILES["p%d.txt" % i] = "pipelined %d\n" % i * (i + 1)


def body_of(name):
    v = FILES[name]
    return v if isinstance(v, bytes) else v.encode()


def start(mpm, section=None, sigpending=None):
    s = Server(mpm=mpm, files=FILES, extra="keepalive_timeout = 5\n",
               mpm_section="%s {\n%s\n}" % (mpm, section) if section else None)
    if sigpending is None:
        return s, s.start()
    saved = resource.getrlimit(resource.RLIMIT_SIGPENDING)
    resource.setrlimit(resource.RLIMIT_SIGPENDING, (sigpending, saved[1]))
    try:
        return s, s.start()
    finally:
        resource.setrlimit(resource.RLIMIT_SIGPENDING, saved)


def get(port, path, timeout=20.0):
    c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        c.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path).encode())
        return read_response(c.makefile("rb"))
    finally:
        c.close()


def basics(s, mpm):
    r = get(s.port, "/")
    ok(r and r.status == 200 and r.body == b"<h1>lab</h1>\n", "%s: GET / serves index.html" % mpm)
    raw = exchange(s.port, b"HEAD /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    head, _, rest = raw.partition(b"\r\n\r\n")
    ok(head.startswith(b"HTTP/1.1 200 ") and b"\r\nContent-Length: 4" in head and rest == b"",
       "%s: HEAD has GET's Content-Length and no body" % mpm, raw[:200])

    def client(n):
        return sum(1 for i in range(10)
                   if (lambda r: r is not None and r.status == 200 and
                       r.body == body_of("p%d.txt" % ((n + i) % 5)))(
                           get(s.port, "/p%d.txt" % ((n + i) % 5))))
    with ThreadPoolExecutor(max_workers=10) as pool:
        good = sum(pool.map(client, range(10)))
    is_(good, 100, "%s: 10 concurrent clients x 10 requests all answered" % mpm)

    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    f = c.makefile("rb")
    got = []
    for i in range(3):
        c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        got.append(read_response(f))
    ok(all(r and r.status == 200 and r.body == b"abc\n" for r in got),
       "%s: 3 requests on one keep-alive connection" % mpm)
    c.sendall(b"".join(b"GET /p%d.txt HTTP/1.1\r\nHost: t\r\n\r\n" % i for i in range(5)))
    got = [read_response(f) for _ in range(5)]
    ok([r.body if r else None for r in got] == [body_of("p%d.txt" % i) for i in range(5)],
       "%s: 5 pipelined requests answered in order" % mpm)
    c.close()

    # A 2 MiB body through a 4 KiB receive window: sending resumes after every EAGAIN.
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.settimeout(20)
    c.connect(("127.0.0.1", s.port))
    c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    r = read_response(c.makefile("rb"))
    ok(r and r.status == 200 and hashlib.sha256(r.body).digest() == hashlib.sha256(BIG).digest(),
       "%s: 2 MiB through a 4 KiB receive window arrives intact" % mpm)
    c.close()


def graceful(s, mpm):
    """SIGTERM with a request half sent: it is still answered, then everything exits."""
    procs = descendants_of(s.pid)
    c = socket.create_connection(("127.0.0.1", s.port), timeout=15)
    c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n")
    # The connection is being served once nothing waits in the backlog any more.
    ok(wait_for(lambda: accept_queue(s.port) == 0, 5), "%s: the half request is accepted" % mpm)
    s.signal(signal.SIGTERM)
    ok(wait_for(lambda: "stopping gracefully" in s.stderr(), 5),
       "%s: the master begins stopping" % mpm)
    c.sendall(b"\r\n")
    f = c.makefile("rb")
    r = read_response(f)
    ok(r and r.status == 200 and r.body == b"abc\n",
       "%s: the request in flight is answered during the stop" % mpm)
    ok(f.read() == b"", "%s: ... and its connection then closes" % mpm)
    c.close()
    ok(s.proc.wait(15) == 0, "%s: the master exits 0" % mpm)
    left = [p for p in procs if os.path.exists("/proc/%d" % p)]
    ok(not left, "%s: no process is left" % mpm, left)
    s.pid = None


def held_in_backlog(s, mpm, cap, busy=None):
    """8 clients against a cap of `cap`: busy() (when given) reaches cap, the others wait
    in the listen backlog, and all are served once they finish their requests."""
    conns = []
    for _ in range(8):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=20)
        c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n")
        conns.append(c)
    busy = busy or (lambda: cap)
    seen = wait_for(lambda: busy() == cap and accept_queue(s.port) == 8 - cap, 10)
    ok(seen, "%s: %d clients served at the cap, %d wait in the backlog" % (mpm, cap, 8 - cap),
       "busy %d, backlog %d" % (busy(), accept_queue(s.port)))
    is_(busy(), cap, "%s: never more than %d at once" % (mpm, cap))
    for c in conns:
        c.sendall(b"\r\n")
    good = 0
    for c in conns:
        r = read_response(c.makefile("rb"))
        good += r is not None and r.status == 200 and r.body == b"abc\n"
        c.close()
    is_(good, 8, "%s: all 8 clients served, none refused" % mpm)


def refused(s, option):
    """A value out of range is refused with the file and line of the option."""
    with open(s.conf) as f:
        line = 1 + [i for i, l in enumerate(f) if l.strip().startswith(option)][0]
    started, err = s.start(expect_fail=True)
    ok(not started and "%s:%d: %s: " % (s.conf, line, option) in err,
       "%s: %s out of range is refused with FILE:LINE" % (s.mpm, option), err[-300:])


def many(s, tag, n):
    conns = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=20)
        conns.append(c)
    for c in conns:
        c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    good = 0
    for c in conns:
        r = read_response(c.makefile("rb"))
        good += r is not None and r.status == 200 and r.body == b"abc\n"
        c.close()
    is_(good, n, "%s: %d concurrent connections all served" % (tag, n))


for mpm in MPMS:
    s, (started, err) = start(mpm)
    ok(started, "%s: starts" % mpm, err)
    if not started:
        continue
    basics(s, mpm)
    graceful(s, mpm)

if "iterative" in MPMS:
    s, (started, err) = start("iterative")
    worker = lambda: [p for p in descendants_of(s.pid) if not descendants_of(p)]
    ok(started and wait_for(lambda: len(worker()) == 1, 5), "iterative: one serving process")
    held_in_backlog(s, "iterative", 1)
    ok(s.stop(), "iterative: stops")

if "fork" in MPMS:
    s, (started, err) = start("fork", "max_children = 2")
    ok(started, "fork: starts with max_children = 2", err)
    # The listener accepts (into its backlog) before the leader runs.
    leader = (wait_for(lambda: descendants_of(s.pid), 10) or [0])[0]
    held_in_backlog(s, "fork", 2, lambda: len(descendants_of(leader)))
    ok(wait_for(lambda: descendants_of(leader) == [], 5),
       "fork: every per-connection child is reaped")
    ok(s.stop(), "fork: stops")

    refused(Server(mpm="fork", mpm_section="fork {\n max_children = 0\n}"), "max_children")

if "thread" in MPMS:
    s, (started, err) = start("thread", "max_threads = 2")
    ok(started, "thread: starts with max_threads = 2", err)
    # The serving process is the leader's child: right after start the leader may not have
    # forked it yet, and would then be the only (childless) descendant.
    proc = wait_for(lambda: [k for l in children_of(s.pid) for k in children_of(l)], 5)

    def threads():
        """The connection threads, which name themselves."""
        n = 0
        try:
            for tid in os.listdir("/proc/%d/task" % proc[0]):
                with open("/proc/%d/task/%s/comm" % (proc[0], tid)) as f:
                    n += f.read().strip() == "minihttpd conn"
        except OSError:
            return -1
        return n
    held_in_backlog(s, "thread", 2, threads)
    ok(wait_for(lambda: threads() == 0, 5), "thread: connection threads end with their clients")
    ok(s.stop(), "thread: stops")
    refused(Server(mpm="thread", mpm_section="thread {\n max_threads = 5000\n}"),
            "max_threads")

if "sigio" in MPMS:
    s, (started, err) = start("sigio")
    ok(started, "sigio: starts", err)
    many(s, "sigio", 200)
    # A signal, not the once-a-second scan of the listeners, brings each connection in.
    lat = []
    for _ in range(9):
        t0 = time.monotonic()
        get(s.port, "/a.txt")
        lat.append(time.monotonic() - t0)
    ok(sorted(lat)[4] < 0.25, "sigio: accepts are signal-driven (median %.3f s)"
       % sorted(lat)[4])
    ok("overflow" not in s.stderr(), "sigio: no overflow with the default queue",
       s.stderr()[-300:])
    ok(s.stop(), "sigio: stops")

    s, (started, err) = start("sigio", "processes = 2")
    ok(started and wait_for(lambda: len(descendants_of(s.pid)) == 3, 5),
       "sigio: processes = 2 starts two children", err)
    many(s, "sigio x2", 100)
    basics(s, "sigio x2")
    ok(s.stop(), "sigio x2: stops")

    # No realtime signal can be queued: every event becomes a SIGIO, and only the
    # fallback poll can serve.
    s, (started, err) = start("sigio", sigpending=0)
    ok(started, "sigio: starts with RLIMIT_SIGPENDING = 0", err)
    many(s, "sigio, queue always full", 50)
    basics(s, "sigio, queue always full")
    ok("realtime signal queue overflow" in s.stderr(),
       "sigio: the overflow and its fallback are logged", s.stderr()[-500:])
    ok(s.stop(), "sigio, queue always full: stops")

    # A queue of 4: signals and fallbacks mix.
    s, (started, err) = start("sigio", sigpending=4)
    ok(started, "sigio: starts with RLIMIT_SIGPENDING = 4", err)
    many(s, "sigio, queue of 4", 200)
    ok(s.stop(), "sigio, queue of 4: stops")

    refused(Server(mpm="sigio", mpm_section="sigio {\n processes = 100\n}"), "processes")
    refused(Server(mpm="sigio", mpm_section="sigio {\n max_connections = 0\n}"),
            "max_connections")

done()
