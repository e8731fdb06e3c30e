# SPDX-License-Identifier: ISC
"""The MPM contract: every MPM of the build (mpm/.libs/*.so) goes through the same
scenarios. It serves a file and a pipeline; a reload under concurrent clients fails no
request; SIGTERM lets a request in flight finish, then everything exits; a SIGKILLed
worker is replaced and serving goes on; the status page and `minihttpd -S` show the MPM's
workers; max_connections_per_client refuses a third connection of one address with 503
while another address is served; a reload to another MPM and back fails no request; and
at a tiny limit, idle keep-alive connections saturate it: `Saturated: 1` and the log's
warning while they are held, the end of the episode once they close.

What the scenarios must know of each MPM is in MPMS below; a built MPM missing from it
fails the test, so that a new MPM cannot go untested."""

import os
import re
import signal
import socket
import subprocess
import threading
import time

from mhd import (BINARY, STATUS_PATH, Server, accept_queue, built_mpms, clean_log,
                 descendants_of, done, exchange, is_, ok, parse_auto, parse_responses, per_mpm,
                 read_response, reload, skip_all, status_auto, status_num, wait_for, workers_of)

if not built_mpms():
    skip_all("no MPM module built")


class Model:
    """roomy: a section with room for the scenarios' dozen connections at once. tiny: the
    section that limits the MPM to `held` connections at once (its saturation point).
    per_connection: a process per connection, nothing to replace when one is killed.
    one_at_a_time: one connection blocks every other (a held connection holds the MPM)."""

    def __init__(self, roomy, tiny, held, per_connection=False, one_at_a_time=False):
        self.roomy, self.tiny, self.held = roomy, tiny, held
        self.per_connection, self.one_at_a_time = per_connection, one_at_a_time


MPMS = {
    "prefork": Model("prefork {\n start_servers = 6\n min_spare_servers = 1\n"
                     " max_spare_servers = 8\n max_servers = 12\n}",
                     "prefork {\n start_servers = 1\n min_spare_servers = 1\n"
                     " max_spare_servers = 1\n max_servers = 1\n}", 1),
    "worker": Model("worker {\n processes = 1\n threads_per_process = 12\n}",
                    "worker {\n processes = 1\n threads_per_process = 2\n}", 2),
    "event": Model("event {\n processes = 1\n}",
                   "event {\n processes = 1\n max_connections = 2\n}", 2),
    "fork": Model("fork {\n max_children = 32\n}", "fork {\n max_children = 2\n}", 2,
                  per_connection=True),
    "thread": Model("thread {\n max_threads = 32\n}", "thread {\n max_threads = 2\n}", 2),
    "uring": Model("uring {\n processes = 1\n}",
                   "uring {\n processes = 1\n max_connections = 2\n}", 2),
    "sigio": Model("sigio {\n processes = 1\n}",
                   "sigio {\n processes = 1\n max_connections = 2\n}", 2),
    "iterative": Model(None, None, 1, one_at_a_time=True),
}
ROOMY = "\n".join(m.roomy for m in MPMS.values() if m.roomy)
FILES = {"index.html": "<h1>contract</h1>\n", "a.txt": "abc\n"}
for i in range(4):
    FILES["p%d.txt" % i] = "pipelined %d\n" % i * (i + 1)
LIMIT = 2
TIMEOUTS = "keepalive_timeout = 5\nheader_timeout = 10\n"
# Each scenario's clients come from addresses of their own (127.0.0.0/8 has many), so that
# max_connections_per_client counts no connection of another scenario still closing.
STATUS = 'status_path = "%s"\nstatus_allow = {"127.0.0.0/8"}\n' % STATUS_PATH


def body(name):
    return FILES[name].encode()


def get(port, path, source=None, timeout=10.0):
    """One request on a connection of its own (Connection: close); the Response or None."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                     source_address=(source, 0) if source else None)
    except OSError:
        return None
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path).encode())
        return read_response(s.makefile("rb"))
    except (OSError, ValueError):
        return None
    finally:
        s.close()


def hold(port, source="127.0.0.1"):
    """A keep-alive connection answered 200 that stays open: (socket, file), or None."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                     source_address=(source, 0))
        s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        f = s.makefile("rb")
        r = read_response(f)
        if r and r.status == 200 and r.body == b"abc\n":
            return s, f
    except (OSError, ValueError):
        pass
    return None


def release(conns):
    for c in conns:
        if c:
            c[1].close()
            c[0].close()


def minihttpd_S(conf):
    r = subprocess.run([BINARY, "-S", "-f", conf], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=10)
    return parse_auto(r.stdout) if r.returncode == 0 else {}


def brief(d):
    """What a failed saturation check shows: the counts, not the whole board."""
    keys = ("Saturated", "Saturations", "SaturatedReason", "BusyWorkers", "IdleWorkers",
            "ConnsTotal")
    return dict({k: d.get(k) for k in keys}, Scoreboard=d.get("Scoreboard", "").rstrip("."))


class Clients:
    """n clients, each from its own loopback address, each sending requests on fresh
    connections until stopped; every answer that is not the right 200 is a failure."""

    def __init__(self, port, n):
        self.port, self.served, self.failures = port, 0, []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=("127.0.0.%d" % (10 + i),))
                        for i in range(n)]
        for t in self.threads:
            t.start()

    def run(self, source):
        end = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < end:
            r = get(self.port, "/a.txt", source)
            with self.lock:
                if r and r.status == 200 and r.body == b"abc\n":
                    self.served += 1
                else:
                    self.failures.append(r and r.status)

    def count(self):
        with self.lock:
            return self.served

    def progress(self, n, timeout=10):
        base = self.count()
        return wait_for(lambda: self.count() >= base + n, timeout)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(20)
        return not any(t.is_alive() for t in self.threads)


def start(mpm, section_text, extra=""):
    s = Server(mpm=mpm, files=FILES, extra=STATUS + extra + "\n" + (section_text or ""))
    started, err = s.start()
    ok(started, "%s: starts" % mpm, err[-500:])
    return s if started else None


def serve_and_pipeline(mpm, s):
    r = get(s.port, "/index.html")
    ok(r and r.status == 200 and r.body == body("index.html"), "%s: serves a file" % mpm)
    names = ["p%d.txt" % i for i in range(4)]
    raw = exchange(s.port, b"".join(b"GET /%s HTTP/1.1\r\nHost: t\r\n%s\r\n" %
                                    (n.encode(), b"Connection: close\r\n" if n == names[-1]
                                     else b"") for n in names))
    resps, rest = parse_responses(raw)
    ok([r.body for r in resps] == [body(n) for n in names] and rest == b"",
       "%s: four pipelined requests on one connection answered in order" % mpm, raw[:300])


def status_slots(mpm, s, model):
    # Under one_at_a_time the held connection would keep the status request waiting.
    held = None
    if not model.one_at_a_time:
        held = hold(s.port, "127.0.0.5")
        ok(held, "%s: a keep-alive connection is held" % mpm)
    d = status_auto(s.port, source="127.0.0.6")
    is_(d.get("ServerMPM"), mpm, "%s: the status page names the MPM" % mpm)
    board = d.get("Scoreboard", "")
    ok(len(board) - board.count(".") >= 1 and
       status_num(d, "ConnsTotal") >= (1 if held is None else 2),
       "%s: its scoreboard has claimed slots holding both open connections" % mpm, d)
    page = exchange(s.port, ("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                             % STATUS_PATH).encode())
    pids = {int(p) for p in re.findall(rb"<tr[^>]*><td>\d+</td><td>(\d+)</td>", page)}
    live = set(workers_of(s))
    ok(pids & live, "%s: the page's worker rows are the MPM's live workers" % mpm,
       "page %s, workers %s" % (sorted(pids), sorted(live)))
    ok(pids <= set(descendants_of(s.pid)) | {p for p in pids if not os.path.exists(
        "/proc/%d" % p)}, "%s: no row names a process outside the server" % mpm, sorted(pids))
    ds = minihttpd_S(s.conf)
    ok(ds.get("Generation") == d.get("Generation") and
       len(ds.get("Scoreboard", "")) - ds.get("Scoreboard", "").count(".") >= 1,
       "%s: minihttpd -S shows the same generation and claimed slots" % mpm, ds)
    release([held])


def client_limit(mpm, s, model):
    if model.one_at_a_time:
        ok(True, "%s: client limit # SKIP a held connection holds the only worker" % mpm)
        return
    conns = [hold(s.port, "127.0.0.3") for _ in range(LIMIT)]
    ok(all(conns), "%s: %d connections of one address are served" % (mpm, LIMIT))
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10,
                                 source_address=("127.0.0.3", 0))
    c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
    f = c.makefile("rb")
    r = read_response(f)
    ok(r and r.status == 503 and r.header("connection") == "close" and f.read() == b"",
       "%s: the third from that address gets 503 and a close" % mpm, r and r.headers)
    c.close()
    r = get(s.port, "/a.txt", "127.0.0.4")
    ok(r and r.status == 200, "%s: another address is served meanwhile" % mpm)
    release(conns)


def reload_under_clients(mpm, s):
    clients = Clients(s.port, 3)
    ok(clients.progress(10), "%s: the clients are served" % mpm)
    ok(reload(s), "%s: reload (SIGHUP) under 3 clients" % mpm, s.stderr()[-300:])
    ok(clients.progress(10), "%s: the clients are served after the reload" % mpm)
    ok(clients.finish(), "%s: every client finished" % mpm)
    is_(clients.failures, [], "%s: no request failed across the reload (%d served)"
        % (mpm, clients.served))


def reload_switch(mpm, s):
    others = [m for m in built_mpms() if m != mpm]
    if not others:
        ok(True, "%s: reload to another MPM # SKIP the only MPM built" % mpm)
        return
    other = others[0]
    clients = Clients(s.port, 3)
    ok(clients.progress(5), "%s: the clients are served" % mpm)
    s.write_conf(mpm=other)
    ok(reload(s) and clients.progress(10), "%s: reload to %s, which serves" % (mpm, other))
    # The retiring generation may still answer for an instant.
    ok(wait_for(lambda: status_auto(s.port).get("ServerMPM") == other, 5),
       "%s: the status page names %s" % (mpm, other))
    s.write_conf(mpm=mpm)
    ok(reload(s) and clients.progress(10), "%s: reload back from %s, which serves"
       % (mpm, other))
    ok(wait_for(lambda: status_auto(s.port).get("ServerMPM") == mpm, 5),
       "%s: the status page names it again" % mpm)
    ok(clients.finish(), "%s: every client finished" % mpm)
    is_(clients.failures, [], "%s: no request failed across the switches (%d served)"
        % (mpm, clients.served))


def killed_worker(mpm, s, model):
    held = hold(s.port)
    before = workers_of(s)
    ok(held and before, "%s: worker processes found" % mpm, before)
    victim = before[0] if before else None
    if victim:
        os.kill(victim, signal.SIGKILL)
    release([held])
    ok(victim and wait_for(lambda: victim not in workers_of(s), 5),
       "%s: the SIGKILLed worker is gone" % mpm)
    if not model.per_connection:
        ok(wait_for(lambda: len(workers_of(s)) >= len(before) and victim not in workers_of(s),
                    10), "%s: it is replaced" % mpm, "before %s, now %s" % (before, workers_of(s)))
    good = wait_for(lambda: (lambda r: r and r.status == 200)(get(s.port, "/a.txt", timeout=3)),
                    10)
    ok(good, "%s: the server keeps serving" % mpm)
    is_([(lambda r: r and r.status)(get(s.port, "/a.txt")) for _ in range(5)], [200] * 5,
        "%s: five more requests answered" % mpm)


def sigterm_drain(mpm, s):
    procs = descendants_of(s.pid)
    c = socket.create_connection(("127.0.0.1", s.port), timeout=15)
    c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n")
    # In a worker's hands once the backlog is empty: then the stop must wait for it.
    ok(wait_for(lambda: accept_queue(s.port) == 0, 5), "%s: the slow request is accepted" % mpm)
    s.signal(signal.SIGTERM)
    ok(wait_for(lambda: "stopping gracefully" in s.stderr(), 5),
       "%s: SIGTERM: the master begins stopping" % mpm)
    c.sendall(b"\r\n")
    f = c.makefile("rb")
    try:
        r = read_response(f)
        rest = f.read()
    except (OSError, ValueError) as e:
        r, rest = None, repr(e)
    ok(r and r.status == 200 and r.body == b"abc\n" and rest == b"",
       "%s: the request in flight completes, then its connection closes" % mpm, rest)
    c.close()
    try:
        rc = s.proc.wait(15)
    except subprocess.TimeoutExpired:
        rc = None
    is_(rc, 0, "%s: the master exits 0" % mpm)
    left = [p for p in procs if os.path.exists("/proc/%d" % p)]
    ok(not left, "%s: no process is left" % mpm, left)
    s.pid = None


def saturated(mpm, model):
    s = start(mpm, model.tiny, "keepalive_timeout = 20\n")
    if not s:
        return
    is_(minihttpd_S(s.conf).get("Saturated"), "0", "%s: not saturated at first" % mpm)
    conns = [hold(s.port) for _ in range(model.held)]
    ok(all(conns), "%s: %d idle keep-alive connections held, its limit" % (mpm, model.held))
    # minihttpd -S, not the page: at the limit nothing is left to answer a request.
    sat = wait_for(lambda: minihttpd_S(s.conf).get("Saturated") == "1", 5)
    ok(sat, "%s: minihttpd -S shows Saturated: 1" % mpm, brief(minihttpd_S(s.conf)))
    # The flag and the log line flip together: no long wait for the line.
    ok(sat and wait_for(lambda: "saturated: " in s.stderr(), 2),
       "%s: the log says it is saturated" % mpm, s.stderr()[-300:])
    release(conns)
    # An episode that never began cannot end: these fail at once then, without waiting.
    ok(sat and wait_for(lambda: minihttpd_S(s.conf).get("Saturated") == "0", 5),
       "%s: Saturated: 0 once they close" % mpm)
    ok(sat and wait_for(lambda: "no longer saturated" in s.stderr(), 2),
       "%s: the log says the episode ended" % mpm, s.stderr()[-300:])
    ok(s.stop(), "%s: stops" % mpm)


t0 = time.monotonic()
for mpm, model in per_mpm(MPMS, "the MPM contract"):
    t = time.monotonic()
    s = start(mpm, ROOMY, TIMEOUTS + "max_connections_per_client = %d\n" % LIMIT)
    if s:
        serve_and_pipeline(mpm, s)
        status_slots(mpm, s, model)
        client_limit(mpm, s, model)
        killed_worker(mpm, s, model)
        # The limit stays on: each client reconnects as soon as it has its answer, and a
        # connection's place is given back before the client can have it.
        reload_under_clients(mpm, s)
        reload_switch(mpm, s)
        sigterm_drain(mpm, s)
        clean_log(s, mpm)
    saturated(mpm, model)
    print("# %s: %.1f s" % (mpm, time.monotonic() - t))
print("# all MPMs: %.1f s" % (time.monotonic() - t0))
done()
