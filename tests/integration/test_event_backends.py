# SPDX-License-Identifier: ISC
"""The event MPM on its poll and select backends (level-triggered only): GET and HEAD,
concurrent keep-alive clients, pipelining, the keep-alive timeout, hundreds of held
connections; select refusing (closing, logging once) descriptors above FD_SETSIZE while
staying healthy; and trigger = "edge" refused with a non-epoll backend at FILE:LINE."""

import os
import resource
import select
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from mhd import (Server, accept_queue, descendants_of, done, is_, ok, proc_state, read_response,
                 request, skip_all, wait_for)

if not os.path.exists(os.path.join(os.environ.get("MINIHTTPD_MPM_DIR", ""), "event.so")):
    skip_all("event.so not built")

HARD = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
FILES = {"index.html": "<h1>backend</h1>\n"}
for i in range(10):
    FILES["p%d.txt" % i] = "pipelined %d\n" % i * (i + 1)


def start(backend, header_timeout=20):
    s = Server(mpm="event", files=FILES,
               extra='keepalive_timeout = 1\naccess_log = "off"\nheader_timeout = %d'
               % header_timeout,
               mpm_section='event {\n processes = 1\n defer_accept = 0\n backend = "%s"\n}'
               % backend)
    started, err = s.start()
    ok(started, "%s: starts" % backend, err)
    return s


def get(f, sock, path, port, close=False):
    sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n"
                  % (path, port, "Connection: close\r\n" if close else "")).encode())
    return read_response(f)


def keepalive_client(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        f = c.makefile("rb")
        return [getattr(get(f, c, "/", port), "status", None) for _ in range(10)]


def hold(port, n):
    socks = []
    for _ in range(n):
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=10))
    return socks


def serve_all(socks, port):
    statuses = []
    for c in socks:
        r = get(c.makefile("rb"), c, "/", port, close=True)
        statuses.append(r.status if r else None)
        c.close()
    return statuses


def asleep(pids):
    """Every process blocked (its event loop waiting): none is closing anything now."""
    return all(proc_state(p) == "S" for p in pids)


def closed_by_server(socks):
    """The sockets the server closed: readable at once, with EOF (poll has no fd limit)."""
    p = select.poll()
    by_fd = {c.fileno(): c for c in socks}
    for fd in by_fd:
        p.register(fd, select.POLLIN)
    return [by_fd[fd] for fd, ev in p.poll(0) if by_fd[fd].recv(1, socket.MSG_PEEK) == b""]


def basics(backend):
    s = start(backend)
    port = s.port
    r = request(port, "/")
    ok(r and r.status == 200 and b"backend" in r.body, "%s: GET /" % backend)
    r = request(port, "/", method="HEAD")
    ok(r and r.status == 200 and r.body == b"", "%s: HEAD /" % backend)

    with ThreadPoolExecutor(50) as ex:
        results = list(ex.map(keepalive_client, [port] * 50))
    flat = [x for res in results for x in res]
    is_(flat.count(200), 500, "%s: 50 clients x 10 keep-alive requests, all 200" % backend)

    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"".join(b"GET /p%d.txt HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(10)))
        f = c.makefile("rb")
        got = [read_response(f) for _ in range(10)]
        ok(all(r and r.status == 200 and r.body == (b"pipelined %d\n" % i) * (i + 1)
               for i, r in enumerate(got)), "%s: 10 pipelined requests, in order" % backend)

    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        f = c.makefile("rb")
        r = get(f, c, "/", port)
        t0 = time.monotonic()
        c.settimeout(5)
        try:
            eof = f.read(1) == b""
        except OSError:
            eof = False
        waited = time.monotonic() - t0
        ok(r and r.status == 200 and eof and 0.5 <= waited < 4,
           "%s: idle keep-alive closed after keepalive_timeout (%.2fs)" % (backend, waited))

    socks = hold(port, 300)
    statuses = serve_all(socks, port)
    is_(statuses.count(200), 300, "%s: 300 held connections, then all served" % backend)
    ok(s.stop(), "%s: stops cleanly" % backend)
    err = s.stderr()
    ok("Sanitizer" not in err and "runtime error" not in err,
       "%s: no sanitizer report" % backend, err[-2000:])


basics("poll")
basics("select")

# select and FD_SETSIZE: the server raises its own soft limit to the hard one.
MSG = "select backend: descriptor"
if HARD != resource.RLIM_INFINITY and HARD < 1400:
    ok(True, "# SKIP select above FD_SETSIZE: hard open-file limit %d < 1400" % HARD)
else:
    resource.setrlimit(resource.RLIMIT_NOFILE, (HARD, HARD))
    # Held without a request, the connections must outlive a slow run's header_timeout.
    s = start("select", header_timeout=120)
    socks = hold(s.port, 1100)
    logged = wait_for(lambda: MSG in s.stderr(), 10)
    ok(logged, "select: a descriptor >= FD_SETSIZE is logged", s.stderr()[-2000:])
    # Every connection accepted and the server back in select(): all the closes are done.
    procs = [s.pid] + descendants_of(s.pid)
    wait_for(lambda: accept_queue(s.port) == 0 and asleep(procs) and
             len(closed_by_server(socks)) >= 50, 10)
    gone = closed_by_server(socks)
    ok(50 <= len(gone) <= 200, "select: the connections above FD_SETSIZE are closed (%d)"
       % len(gone))
    err = s.stderr()
    is_(err.count(MSG), 1, "select: logged once per process")
    ok("above FD_SETSIZE (1024); use backend = poll or epoll" in err,
       "select: the log says what to do", err[-1000:])
    for c in gone:
        c.close()
    live = [c for c in socks if c not in gone]
    statuses = serve_all(live, s.port)
    is_(statuses.count(200), len(live), "select: every connection below FD_SETSIZE served")
    r = request(s.port, "/")
    ok(r and r.status == 200, "select: healthy afterwards")
    ok(s.stop(), "select: stops cleanly")

# trigger = "edge" needs epoll: a cross-option error, reported (like prefork's) at the
# line that ends the event section, where both options are known.
for backend in ("poll", "select"):
    s = Server(mpm="event", mpm_section='event {\n trigger = "edge"\n backend = "%s"\n}'
               % backend)
    p = subprocess.run([os.environ.get("MINIHTTPD", "minihttpd"), "-t", "-f", s.conf],
                       capture_output=True, text=True, timeout=10)
    lines = s.conf_text().split("\n")
    start = lines.index("event {")
    line_no = next(i for i in range(start, len(lines)) if lines[i] == "}") + 1
    ok(p.returncode != 0 and "%s:%d: " % (s.conf, line_no) in p.stderr
       and "edge" in p.stderr, "config: edge with %s refused at FILE:%d" % (backend, line_no),
       p.stderr)

done()
