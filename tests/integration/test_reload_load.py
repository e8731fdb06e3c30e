# SPDX-License-Identifier: ISC
"""Reload: listening sockets that stay are the very same sockets, a dropped address is
closed and a new one opened; a bad file (syntax, missing module, port in use) is refused
with FILE:LINE and the old generation keeps serving; and under load from keep-alive
clients that retry nothing, many reloads switching among the MPMs of the build (and a
few bad ones) fail not one request."""

import os
import signal
import socket
import threading
import time

from mhd import (MPM_DIR, NotApplicable, Server, built_mpms, children_of, done, free_port, is_,
                 log_count, ok, per_mpm, port_accepts, read_response, request, skip_all,
                 wait_for)

MPMS = built_mpms()
if not MPMS:
    skip_all("no MPM module in %s" % MPM_DIR)
print("# MPMs in this build (%s): %s" % (MPM_DIR, ", ".join(MPMS)))

RELOADS = 30
CLIENTS = 6
LOAD_LIMIT = 50.0  # seconds: the whole load phase, whatever happens
SMALL = b"<h1>hello</h1>\n"
BIG = os.urandom(256 * 1024)
# The section that gives each MPM room for every client's keep-alive connection at once
# ("" when its defaults do), for the reloads under load.
ROOM = {
    "prefork": "prefork {\n\tstart_servers = %d\n}\n" % (CLIENTS + 2),
    "worker": "", "event": "", "uring": "", "fork": "", "thread": "", "sigio": "",
    "iterative": NotApplicable("one connection at a time: %d keep-alive clients would each "
                               "wait for the others' keepalive_timeout" % CLIENTS),
}
ROOMY = per_mpm(ROOM, "reloads under load")
LOAD_MPMS = [m for m, _ in ROOMY]
SECTIONS = "".join(section for _, section in ROOMY)


def listen_inode(pid, port):
    """The inode of the socket listening on 127.0.0.1:port that pid holds, or None."""
    want = "0100007F:%04X" % port
    inodes = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and fields[3] == "0A":
                inodes.add(fields[9])
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return None
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return link[8:-1]
    return None


def reload_and_wait(s, n_before, what="reloaded: generation"):
    """SIGHUP, then waits for the n_before+1-th log line containing what."""
    s.signal(signal.SIGHUP)
    return wait_for(lambda: log_count(s, what) > n_before, 15)


# --- Listeners across a reload ------------------------------------------------------

p1, p2, p3 = 0, 0, 0
while len({p1, p2, p3}) < 3:
    p1, p2, p3 = free_port(), free_port(), free_port()
s = Server(mpm=MPMS[0], listen=["127.0.0.1:%d" % p1, "127.0.0.1:%d" % p2],
           port=p1, extra=SECTIONS)
started, err = s.start()
ok(started, "starts listening on two addresses", err)
ok(port_accepts(p1) and port_accepts(p2), "both addresses accept")
kept_before = listen_inode(s.pid, p2)
ok(kept_before is not None, "the master holds the listening socket of :%d" % p2)

s.write_conf(listen=["127.0.0.1:%d" % p2, "127.0.0.1:%d" % p3])
ok(reload_and_wait(s, 0), "reload with :%d dropped and :%d added" % (p1, p3), s.stderr())
ok(port_accepts(p3), "the new address accepts right after the reload")
is_(request(p3, "/").status, 200, "the new address serves")
ok(wait_for(lambda: not port_accepts(p1), 10), "the dropped address refuses connections")
is_(listen_inode(s.pid, p1), None, "the master no longer holds the dropped socket")
is_(listen_inode(s.pid, p2), kept_before,
    "the address that stays is the same socket, never closed or rebound")
is_(request(p2, "/").status, 200, "the address that stays serves")

# --- Bad files are refused; the old generation keeps serving -------------------------

ok(wait_for(lambda: len(children_of(s.pid)) == 1, 15), "the retired generation has exited")
leaders = children_of(s.pid)
good = s.conf_text(listen=["127.0.0.1:%d" % p2, "127.0.0.1:%d" % p3])
bad_line = good.count("\n") + 1
s.write_conf(text=good + "listen_backlog = lots\n")
failed_before = log_count(s, "reload failed")
ok(reload_and_wait(s, failed_before, "reload failed"), "a syntax error is reported")
ok("reload failed: %s:%d: " % (s.conf, bad_line) in s.stderr(),
   "the report names FILE:LINE (%s:%d)" % (os.path.basename(s.conf), bad_line), s.stderr())
ok("still serving the previous configuration" in s.stderr(), "... and says the old one serves")
is_(children_of(s.pid), leaders, "no generation was started or stopped")
is_(request(p2, "/").status, 200, "the old generation still serves")

s.write_conf(mpm="nosuch")
ok(reload_and_wait(s, failed_before + 1, "reload failed"), "a missing module is refused")
ok('no module "nosuch"' in s.stderr() and "available: " in s.stderr(),
   "the report lists the modules available", s.stderr()[-400:])

blocker = socket.socket()
blocker.bind(("127.0.0.1", 0))
blocker.listen(1)
busy = blocker.getsockname()[1]
s.write_conf(listen=["127.0.0.1:%d" % p2, "127.0.0.1:%d" % busy])
ok(reload_and_wait(s, failed_before + 2, "reload failed"), "a port in use is refused")
ok("127.0.0.1:%d: bind: Address already in use" % busy in s.stderr(),
   "the report names the address", s.stderr()[-400:])
blocker.close()
is_(children_of(s.pid), leaders, "still the same generation after three bad reloads")
ok(port_accepts(p3) and request(p3, "/").status == 200,
   "an address of the serving config stays even though the bad file omits it")

# --- An idle keep-alive connection survives its generation's retirement --------------
# The retired generation gives an idle connection a short grace (not the full
# keepalive_timeout), so a client that sends its next request soon after still gets an
# answer (marked Connection: close once the generation drains) instead of a reset.

s.write_conf(listen=["127.0.0.1:%d" % p2])
for i, mpm in enumerate(MPMS):
    # A retiring generation may still accept for an instant (and answer with close).
    ok(wait_for(lambda: len(children_of(s.pid)) == 1, 15),
       "%s: only the serving generation is left" % mpm)
    c = socket.create_connection(("127.0.0.1", p2), timeout=5)
    f = c.makefile("rb")
    get = ("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % p2).encode()
    c.sendall(get)
    first = read_response(f)
    nxt = MPMS[(i + 1) % len(MPMS)]
    s.write_conf(mpm=nxt, listen=["127.0.0.1:%d" % p2])
    ok(reload_and_wait(s, log_count(s, "reloaded: generation")),
       "%s: reload to %s with an idle keep-alive connection" % (mpm, nxt))
    try:
        c.sendall(get)
        second = read_response(f)
        rest = f.read()
    except OSError as e:
        second, rest = None, str(e)
    ok(first and first.status == 200 and (first.header("connection") or "") != "close",
       "%s: the first answer kept the connection alive" % mpm,
       first and first.headers)
    ok(second is not None and second.status == 200 and second.body == b"<h1>hello</h1>\n",
       "%s: the idle connection's next request is answered after the reload" % mpm,
       rest)
    # With Connection: close when the old generation was already draining; otherwise the
    # connection is closed once idle, after the grace. Either way: no reset.
    print("# %s: the answer said Connection: %s" % (mpm, second and second.header("connection")))
    is_(rest, b"", "%s: ... and then a clean end of stream, not a reset" % mpm)
    c.close()
ok(s.stop(), "stops")

# --- Reloads under load -------------------------------------------------------------

s = Server(mpm=LOAD_MPMS[0], files={"index.html": SMALL, "big.bin": BIG}, extra=SECTIONS)
started, err = s.start()
ok(started, "load: server starts with mpm %s" % LOAD_MPMS[0], err)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.connections = 0
        self.closed_by_server = 0
        self.failures = []


stats = Stats()
stop = threading.Event()
deadline = time.monotonic() + LOAD_LIMIT


def client(idx):
    host = ("Host: 127.0.0.1:%d\r\n" % s.port).encode()
    paths = [(b"/index.html", SMALL), (b"/big.bin", BIG)]
    sock = f = None
    n = idx
    while not stop.is_set() and time.monotonic() < deadline:
        path, want = paths[n % len(paths)]
        n += 1
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
                f = sock.makefile("rb")
                with stats.lock:
                    stats.connections += 1
            sock.sendall(b"GET " + path + b" HTTP/1.1\r\n" + host + b"\r\n")
            r = read_response(f)
            problem = None
            if r is None:
                problem = "connection closed before a response"
            elif r.status != 200 or r.body != want:
                problem = "status %d, %d of %d body bytes" % (r.status, len(r.body), len(want))
        except (OSError, ValueError) as e:
            problem = "%s: %s" % (type(e).__name__, e)
            r = None
        with stats.lock:
            if problem:
                stats.failures.append("client %d, %s: %s" % (idx, path.decode(), problem))
            else:
                stats.requests += 1
        if problem or (r.header("connection") or "").lower() == "close":
            if not problem:
                with stats.lock:
                    stats.closed_by_server += 1
            sock.close()
            sock = None
    if sock:
        sock.close()


def served():
    with stats.lock:
        return stats.requests


threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
t0 = time.monotonic()
for t in threads:
    t.start()
ok(wait_for(lambda: served() >= 50, 10), "load: clients are served before any reload")

reloads = bad = 0
switched = set()
for i in range(RELOADS):
    if time.monotonic() >= deadline - 5:
        break
    if i % 10 == 5:
        # A bad file in the middle of the load: refused, and nobody notices.
        s.write_conf(text=s.conf_text() + "no_such_option = 1\n")
        n = log_count(s, "reload failed")
        if not reload_and_wait(s, n, "reload failed"):
            break
        bad += 1
    mpm = LOAD_MPMS[(i + 1) % len(LOAD_MPMS)]
    s.write_conf(mpm=mpm)
    n = log_count(s, "reloaded: generation")
    if not reload_and_wait(s, n):
        ok(False, "load: reload %d (to %s) completes" % (i + 1, mpm), s.stderr()[-600:])
        break
    reloads += 1
    switched.add(mpm)
    # The new generation must carry traffic before the next switch.
    base = served()
    wait_for(lambda: served() >= base + 150, 10)

stop.set()
for t in threads:
    t.join(15)
elapsed = time.monotonic() - t0

print("# reload under load: %d requests on %d connections (%d closed by the server with "
      "Connection: close), %d reloads + %d bad ones over %s, %d failed requests, %.1f s"
      % (stats.requests, stats.connections, stats.closed_by_server, reloads, bad,
         "/".join(LOAD_MPMS), len(stats.failures), elapsed))
is_(reloads, RELOADS, "load: %d reloads done" % RELOADS)
is_(sorted(switched), sorted(LOAD_MPMS), "load: every MPM of the table served a generation")
ok(not any(t.is_alive() for t in threads), "load: every client finished")
ok(stats.requests >= 150 * RELOADS, "load: the clients were busy (%d requests)" % stats.requests)
is_(len(stats.failures), 0, "load: not one request failed")
for line in stats.failures[:10]:
    print("#   " + line)
ok(stats.closed_by_server > 0,
   "load: draining generations answered in-flight requests with Connection: close")
ok(wait_for(lambda: len(children_of(s.pid)) == 1, 20),
   "load: every old generation has exited", children_of(s.pid))
ok(s.stop(), "load: stops")

done()
