# SPDX-License-Identifier: ISC
"""The event MPM, level- and edge-triggered: many concurrent clients, pipelining, slow
readers and writers, large responses to a tiny receive window, deferred accept on and
off, accept paused (never refused) at max_connections, 2,000+ connections held at once
with the open-file limit raised by the MPM itself, its config errors, and a graceful stop
that finishes the response in flight."""

import hashlib
import os
import resource
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from mhd import (Server, accept_queue, clean_log, descendants_of, done, is_, ok, pid_alive,
                 read_response, skip_all, wait_for)

if not os.path.exists(os.path.join(os.environ.get("MINIHTTPD_MPM_DIR", ""), "event.so")):
    skip_all("event.so not built")

HARD = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
MANY = 2100
ROOM_FOR_MANY = HARD == resource.RLIM_INFINITY or HARD >= MANY + 200

BIG = os.urandom(4 << 20)
FILES = {"index.html": "<h1>event</h1>\n", "a.txt": "abc\n", "big.bin": BIG}
for i in range(10):
    FILES["p%d.txt" % i] = "pipelined %d\n" % i * (i + 1)


def start(trigger, keepalive=10, **opts):
    """A server whose processes inherit a soft open-file limit of 1024: only the MPM
    raising its own limit lets it hold more connections than that."""
    section = {"processes": 1, "trigger": '"%s"' % trigger}
    section.update(opts)
    body = "\n".join("\t%s = %s" % kv for kv in section.items())
    s = Server(mpm="event", files=FILES,
               extra="header_timeout = 2\nkeepalive_timeout = %d\naccess_log = \"off\""
               % keepalive,
               mpm_section="event {\n%s\n}" % body)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, HARD), HARD))
    try:
        started, err = s.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (HARD, HARD))
    return s, started, err


def workers(s):
    """The event processes: the only ones in the tree without children of their own."""
    return [p for p in descendants_of(s.pid) if not descendants_of(p)]


def get(port, path, timeout=10.0):
    """One request on its own connection."""
    c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        c.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" %
                   path).encode())
        return read_response(c.makefile("rb"))
    finally:
        c.close()


def body_of(name):
    v = FILES[name]
    return v if isinstance(v, bytes) else v.encode()


def concurrent_clients(s, tag):
    def client(n):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        f = c.makefile("rb")
        good = 0
        for i in range(5):
            name = "p%d.txt" % ((n + i) % 10)
            c.sendall(("GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % name).encode())
            r = read_response(f)
            good += r is not None and r.status == 200 and r.body == body_of(name)
        c.close()
        return good
    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(client, range(200)))
    is_(sum(results), 1000, "%s: 200 concurrent clients x 5 keep-alive requests" % tag)


def pipelining(s, tag):
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    reqs = "".join("GET /p%d.txt HTTP/1.1\r\nHost: t\r\n\r\n" % i for i in range(10))
    c.sendall(reqs.encode())
    f = c.makefile("rb")
    got = [read_response(f) for _ in range(10)]
    c.close()
    ok(all(r and r.status == 200 for r in got), "%s: 10 pipelined requests answered" % tag)
    ok([r.body for r in got if r] == [body_of("p%d.txt" % i) for i in range(10)],
       "%s: pipelined answers in order" % tag)


def read_body(f, r_len, h=None, chunk=65536, pause=0.0, until=None):
    """Reads r_len body bytes into hash h, sleeping pause between reads until until()
    holds; returns (hex digest, bytes missing)."""
    h = h or hashlib.sha256()
    left = r_len
    while left > 0:
        try:
            b = f.read1(min(chunk, left))
        except OSError:
            break
        if not b:
            break
        h.update(b)
        left -= len(b)
        if pause and (until is None or not until()):
            time.sleep(pause)
    return h.hexdigest(), left


def slow_reader(s, tag):
    """A client that reads 4 MiB slowly never stalls the one process serving others."""
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    c.settimeout(20)
    c.connect(("127.0.0.1", s.port))
    c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
    f = c.makefile("rb")
    r = read_response(f, head_only=True)
    is_(r and r.status, 200, "%s: slow reader gets its head" % tag)
    first = f.read(16384)
    # The server is now blocked on this client's full window: others must still be served.
    t0 = time.monotonic()
    others = [get(s.port, "/a.txt") for _ in range(20)]
    elapsed = time.monotonic() - t0
    ok(all(o and o.status == 200 and o.body == b"abc\n" for o in others),
       "%s: 20 other requests served while a reader stalls" % tag)
    ok(elapsed < 5, "%s: ... promptly (%.2f s)" % (tag, elapsed))
    digest, left = read_body(f, len(BIG) - len(first), hashlib.sha256(first), chunk=32768,
                             pause=0.002, until=lambda: time.monotonic() - t0 > 3)
    ok(left == 0 and digest == hashlib.sha256(BIG).hexdigest(),
       "%s: slow reader gets all of the body intact" % tag, "%d bytes missing" % left)
    c.close()


def tiny_window(s, tag):
    """sendfile resumes after every partial write, across pipelined large responses."""
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    c.settimeout(20)
    c.connect(("127.0.0.1", s.port))
    c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"
              b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
    f = c.makefile("rb")
    want = hashlib.sha256(BIG).hexdigest()
    for i in range(2):
        r = read_response(f, head_only=True)
        n = int(r.header("content-length")) if r else 0
        digest, left = read_body(f, n, chunk=4096)
        ok(r and r.status == 200 and n == len(BIG) and left == 0 and digest == want,
           "%s: 4 MiB through a 2 KiB receive buffer, response %d intact" % (tag, i + 1))
    r = read_response(f)
    ok(r and r.body == b"abc\n", "%s: the next pipelined response follows" % tag)
    c.close()


def slow_writers(s, tag):
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    req = b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    t0 = time.monotonic()
    for i in range(len(req)):
        c.send(req[i:i + 1])
        time.sleep(0.015)
    r = read_response(c.makefile("rb"))
    ok(r and r.status == 200 and r.body == b"abc\n",
       "%s: a head dribbled byte by byte within header_timeout is served (%.1f s)"
       % (tag, time.monotonic() - t0))
    c.close()

    # header_timeout bounds the whole head, however steadily bytes keep coming.
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    c.sendall(b"GET /a.txt HTTP/1.1\r\n")
    t0 = time.monotonic()
    data = b""
    try:
        while time.monotonic() - t0 < 8:
            try:
                c.send(b"X: y\r\n")
            except OSError:
                break
            c.settimeout(0.25)
            try:
                b = c.recv(4096)
            except socket.timeout:
                continue
            if not b:
                break
            data += b
    except OSError:
        pass
    elapsed = time.monotonic() - t0
    c.close()
    ok(data.startswith(b"HTTP/1.1 408 ") or data == b"",
       "%s: a head slower than header_timeout gets 408 or is closed" % tag, data[:80])
    ok(1.5 < elapsed < 6, "%s: ... after about header_timeout (%.1f s)" % (tag, elapsed))


def server_side_state(port, client_port):
    """The TCP state of the server's end of a connection (1 ESTABLISHED, 3 SYN_RECV)."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if (fields[1] == "0100007F:%04X" % port and
                    fields[2] == "0100007F:%04X" % client_port):
                return int(fields[3], 16)
    return None


def silent_client(s, tag, deferred):
    """defer_accept: the kernel holds a connection until its request arrives."""
    c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    cport = c.getsockname()[1]
    if deferred:
        ok(wait_for(lambda: server_side_state(s.port, cport) == 3, 2) and
           server_side_state(s.port, cport) == 3,
           "%s: a silent connection waits in the kernel (SYN_RECV)" % tag)
    else:
        ok(wait_for(lambda: server_side_state(s.port, cport) == 1 and
                    accept_queue(s.port) == 0, 2),
           "%s: defer_accept = 0: a silent connection is accepted at once" % tag)
    t0 = time.monotonic()
    c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    r = read_response(c.makefile("rb"))
    c.close()
    ok(r and r.body == b"abc\n" and time.monotonic() - t0 < 0.8,
       "%s: its request, once sent, is served at once (%.2f s)" % (tag, time.monotonic() - t0))


def max_connections(tag, trigger):
    # Answered connections idle until their turn to close: on a slow run, a keep-alive
    # expiry would free a place early and let two queued clients in on one close.
    s, started, err = start(trigger, keepalive=60, max_connections=10)
    ok(started, "%s: starts with max_connections = 10" % tag, err)
    if not started:
        return
    conns = [socket.create_connection(("127.0.0.1", s.port), timeout=15) for _ in range(30)]
    for c in conns:
        c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
    # Ten are answered and stay open (keep-alive) until their client closes; the rest wait.
    ok(wait_for(lambda: accept_queue(s.port) == 20, 5),
       "%s: accept paused at 10 connections, 20 queued (not refused)" % tag,
       "accept queue: %d" % accept_queue(s.port))
    # Each close lets exactly one queued client in: the process stays full, one episode.
    served = 0
    queued = []
    for i, c in enumerate(conns):
        try:
            r = read_response(c.makefile("rb"))
            served += r is not None and r.status == 200 and r.body == b"abc\n"
        except OSError:
            pass
        c.close()
        if i < 20:
            wait_for(lambda: accept_queue(s.port) == 19 - i, 5)
            queued.append(accept_queue(s.port))
    is_(served, 30, "%s: 30 concurrent clients, max_connections 10: all served" % tag)
    is_(queued, list(range(19, -1, -1)), "%s: each close let one queued client in" % tag)
    is_(s.stderr().count("reached max_connections (10)"), 1,
        "%s: saturation logged once for the episode" % tag)
    ok(s.stop(), "%s: stops" % tag)
    clean_log(s, tag + ", max_connections")


def many_held(s, tag):
    """MANY connections open at once, each answered while all stay open."""
    conns = []
    try:
        for _ in range(MANY):
            conns.append(socket.create_connection(("127.0.0.1", s.port), timeout=20))
        for c in conns:
            c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        served = 0
        for c in conns:
            r = read_response(c.makefile("rb"))
            served += r is not None and r.status == 200 and r.body == b"abc\n"
        is_(served, MANY, "%s: %d connections held open at once, all served" % (tag, MANY))
        w = workers(s)
        fds = max(len(os.listdir("/proc/%d/fd" % p)) for p in w) if w else 0
        ok(fds >= MANY, "%s: one process holds them all (%d descriptors)" % (tag, fds))
        limits = open("/proc/%d/limits" % w[0]).read() if w else ""
        line = [l for l in limits.splitlines() if l.startswith("Max open files")]
        want = "unlimited" if HARD == resource.RLIM_INFINITY else str(HARD)
        ok(line and line[0].split()[3] == want,
           "%s: the MPM raised its soft open-file limit to the hard one" % tag, line)
    finally:
        for c in conns:
            c.close()


def graceful_stop(s, tag):
    """SIGTERM: the response in flight completes, an idle connection is closed soon."""
    w = workers(s)
    idle = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    idle.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
    fi = idle.makefile("rb")
    read_response(fi)
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    busy.settimeout(10)
    busy.connect(("127.0.0.1", s.port))
    busy.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
    fb = busy.makefile("rb")
    r = read_response(fb, head_only=True)
    os.kill(s.pid, signal.SIGTERM)
    t0 = time.monotonic()
    eof = fi.read(1) == b""
    ok(eof and time.monotonic() - t0 < 5,
       "%s: an idle keep-alive connection is closed on stop (%.1f s)"
       % (tag, time.monotonic() - t0))
    digest, left = read_body(fb, int(r.header("content-length")) if r else 1)
    ok(r and left == 0 and digest == hashlib.sha256(BIG).hexdigest(),
       "%s: the response in flight completes during the stop" % tag)
    busy.close()
    idle.close()
    try:
        rc = s.proc.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    is_(rc, 0, "%s: the server exits 0 once the response is done" % tag)
    ok(not any(pid_alive(p) for p in w), "%s: the event process is gone" % tag)
    s.pid = None
    clean_log(s, tag)


for trigger, defer in (("level", 0), ("edge", None)):
    tag = trigger
    s, started, err = start(trigger, **({"defer_accept": defer} if defer is not None else {}))
    ok(started, "%s: starts" % tag, err)
    if not started:
        continue
    r = get(s.port, "/")
    ok(r and r.status == 200 and r.body == b"<h1>event</h1>\n", "%s: GET /" % tag)
    concurrent_clients(s, tag)
    pipelining(s, tag)
    slow_reader(s, tag)
    tiny_window(s, tag)
    slow_writers(s, tag)
    silent_client(s, tag, defer is None)
    if ROOM_FOR_MANY:
        many_held(s, tag)
    else:
        print("# %s: %d connections skipped: RLIMIT_NOFILE hard limit is %d"
              % (tag, MANY, HARD))
    graceful_stop(s, tag)
    max_connections(tag, trigger)

# Several processes share the listeners (EPOLLEXCLUSIVE) and all answer correctly.
s, started, err = start("edge", processes=2)
ok(started, "processes = 2: starts", err)
if started:
    ok(wait_for(lambda: len(workers(s)) == 2, 5), "processes = 2: two event processes",
       "processes: %r" % workers(s))
    concurrent_clients(s, "processes = 2")
    ok(s.stop(), "processes = 2: stops cleanly")
    clean_log(s, "processes = 2")

# Config errors name the file and line.
for bad, what in (('trigger = "sideways"', "trigger"), ("processes = 0", "processes"),
                  ("max_connections = -3", "max_connections"),
                  ("defer_accept = 3601", "defer_accept")):
    s = Server(mpm="event", mpm_section="event {\n\n%s\n}" % bad)
    p = subprocess.run([os.environ.get("MINIHTTPD", "minihttpd"), "-t", "-f", s.conf],
                       capture_output=True, text=True, timeout=10)
    lines = s.conf_text().split("\n")
    line_no = next(i for i, l in enumerate(lines) if l.strip() == bad) + 1
    ok(p.returncode != 0 and ("%s:%d: %s: " % (s.conf, line_no, what)) in p.stderr,
       "config: %s is refused at FILE:%d" % (bad, line_no), p.stderr)

done()
