# SPDX-License-Identifier: ISC
"""Faults, attacks and load: workers SIGKILLed at random under load are replaced and only
their in-flight requests fail; a flood beyond max_connections / max_servers waits in the
backlog and is all served; clients that vanish mid-request or mid-response free their
worker; many reloads under load fail nothing; an unwritable access log is reported once
and serving goes on; descriptor exhaustion pauses accepts (logged once, no busy loop) and
service resumes by itself; slow (slowloris) heads do not delay others in the event MPM."""

import os
import random
import resource
import signal
import socket
import struct
import subprocess
import threading
import time

from mhd import (MPM_DIR, NotApplicable, Server, built_mpms, children_of, done, is_, ok,
                 per_mpm, read_response, request, skip_all, wait_for)

MPMS = built_mpms()
if not MPMS:
    skip_all("no MPM module in %s" % MPM_DIR)
print("# MPMs in this build: %s" % ", ".join(MPMS))

SMALL = b"<h1>hello</h1>\n"
BIG = os.urandom(4 * 1024 * 1024)
FILES = {"index.html": SMALL, "big.bin": BIG}
STATUS = 'status_path = "/server-status"\n'


def leader_of(s):
    kids = children_of(s.pid)
    return kids[0] if len(kids) == 1 else None


def workers(s):
    leader = leader_of(s)
    return sorted(children_of(leader)) if leader else []


def settled_workers(s):
    """workers(s) once the same list is read twice 0.2 s apart: a finished connection's
    child (fork) may still be on its way out when its answer has arrived."""
    seen = []

    def same():
        seen.append(workers(s))
        return len(seen) > 1 and seen[-1] == seen[-2]
    wait_for(same, 5, 0.2)
    return seen[-1]


def scoreboard(port):
    """The Scoreboard line of the status page; the status request itself counts as 'W'."""
    try:
        r = request(port, "/server-status?auto", timeout=3)
    except OSError:
        return None
    for line in r.body.decode(errors="replace").splitlines():
        if line.startswith("Scoreboard: "):
            return line[len("Scoreboard: "):]
    return None


def busy_besides_me(port):
    b = scoreboard(port)
    return None if b is None else b.count("W") + b.count("R") - 1


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


class Load:
    """Keep-alive and fresh-connection clients that retry nothing; failures are counted
    per phase."""

    def __init__(self, port, keep, fresh, limit):
        self.port = port
        self.lock = threading.Lock()
        self.phase = "before"
        self.served = 0
        self.rounds = [0] * (keep + fresh)
        self.failures = {}
        self.stop = threading.Event()
        self.deadline = time.monotonic() + limit
        self.threads = [threading.Thread(target=self.client, args=(i, i < keep), daemon=True)
                        for i in range(keep + fresh)]
        for t in self.threads:
            t.start()

    def client(self, idx, keep):
        host = ("Host: 127.0.0.1:%d\r\n" % self.port).encode()
        close = b"" if keep else b"Connection: close\r\n"
        sock = f = None
        n = idx
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            path, want = ((b"/index.html", SMALL), (b"/big.bin", BIG))[n % 2]
            n += 1
            r = None
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                    f = sock.makefile("rb")
                sock.sendall(b"GET " + path + b" HTTP/1.1\r\n" + host + close + b"\r\n")
                r = read_response(f)
                bad = (r is None or r.status != 200 or r.body != want)
            except (OSError, ValueError):
                bad = True
            with self.lock:
                self.rounds[idx] += 1
                if bad:
                    self.failures[self.phase] = self.failures.get(self.phase, 0) + 1
                else:
                    self.served += 1
            if bad or not keep or (r.header("connection") or "").lower() == "close":
                sock.close() if sock else None
                sock = None
        if sock:
            sock.close()

    def count(self):
        with self.lock:
            return self.served

    def settled(self, timeout=10):
        """Waits until every client has finished two more requests, so that any failure
        due to what happened before is counted in the current phase."""
        with self.lock:
            base = list(self.rounds)

        def moved():
            with self.lock:
                return all(r >= b + 2 for r, b in zip(self.rounds, base))
        return wait_for(moved, timeout)

    def set_phase(self, phase):
        with self.lock:
            self.phase = phase

    def failed(self, phase):
        with self.lock:
            return self.failures.get(phase, 0)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(15)
        return not any(t.is_alive() for t in self.threads)


# --- (a) Workers SIGKILLed at random under load ---------------------------------------

KILLS = 10
KEEP, FRESH = 3, 3
SHAPES = {
    # mpm: (section, worker processes, connections one process may hold)
    "prefork": ("prefork {\n start_servers = 8\n min_spare_servers = 1\n"
                " max_spare_servers = 8\n max_servers = 8\n}\n", 8, 1),
    # A worker process holds its threads' connections, its queue's (queue_size = threads)
    # and the acceptor's.
    "worker": ("worker {\n processes = 2\n threads_per_process = 4\n}\n", 2, 9),
    "event": ("event {\n processes = 2\n}\n", 2, KEEP + FRESH),
    "uring": ("uring {\n processes = 2\n}\n", 2, KEEP + FRESH),
    "sigio": ("sigio {\n processes = 2\n}\n", 2, KEEP + FRESH),
    # One serving process, a thread per connection: a kill ends all of them.
    "thread": ("thread {\n max_threads = 16\n}\n", 1, KEEP + FRESH),
    "fork": NotApplicable("a process per connection: no pool size to come back to"),
    "iterative": NotApplicable("one connection at a time: the keep-alive clients would "
                               "wait on each other"),
}

for mpm, (section, nproc, per) in per_mpm(SHAPES, "SIGKILL under load"):
    s = Server(mpm=mpm, files=FILES, mpm_section=section)
    started, err = s.start()
    ok(started, "%s: starts" % mpm, err)
    ok(wait_for(lambda: len(workers(s)) == nproc, 10), "%s: %d worker processes" % (mpm, nproc),
       workers(s))
    load = Load(s.port, KEEP, FRESH, 40)
    ok(wait_for(lambda: load.count() >= 50, 10), "%s: load is served" % mpm)
    load.set_phase("kill")
    rng = random.Random(9)
    kills = 0
    recovered = True
    for _ in range(KILLS):
        pids = workers(s)
        if not pids:
            recovered = False
            break
        victim = rng.choice(pids)
        try:
            os.kill(victim, signal.SIGKILL)
            kills += 1
        except ProcessLookupError:
            pass
        # Recovered: the victim is gone and the pool is back to its size.
        if not wait_for(lambda: victim not in workers(s) and len(workers(s)) == nproc, 10):
            recovered = False
            break
        base = load.count()
        wait_for(lambda: load.count() >= base + 5, 5)
    ok(recovered, "%s: after each of %d SIGKILLs the pool is back to %d processes"
       % (mpm, kills, nproc), workers(s))
    ok(load.settled(), "%s: every client made progress after the last kill" % mpm)
    load.set_phase("after")
    base = load.count()
    ok(wait_for(lambda: load.count() >= base + 100, 15), "%s: load goes on after the kills"
       % mpm)
    ok(load.finish(), "%s: every client finished" % mpm)
    bound = kills * min(per, KEEP + FRESH)
    print("# %s: %d kills, %d failed requests during the kills (bound %d), %d served"
          % (mpm, kills, load.failed("kill"), bound, load.count()))
    ok(load.failed("kill") <= bound, "%s: failures during the kills (%d) <= kills x "
       "connections per process (%d)" % (mpm, load.failed("kill"), bound))
    is_(load.failed("after"), 0, "%s: no failure after recovery" % mpm)
    is_(load.failed("before"), 0, "%s: no failure before the kills" % mpm)
    is_(request(s.port, "/").status, 200, "%s: a new request succeeds" % mpm)
    ok(s.stop(), "%s: stops" % mpm)


# --- (b) A flood beyond max_connections / max_servers ---------------------------------

def flood(port, n):
    """n concurrent clients, one request each; returns how many got a full 200."""
    good = []
    lock = threading.Lock()
    go = threading.Barrier(n)

    def one():
        try:
            go.wait(10)
            r = request(port, "/index.html", timeout=30)
            if r and r.status == 200 and r.body == SMALL:
                with lock:
                    good.append(1)
        except (OSError, ValueError, threading.BrokenBarrierError):
            pass

    ts = [threading.Thread(target=one, daemon=True) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(40)
    return len(good)


FLOODS = {
    "event": ("event {\n processes = 1\n max_connections = 20\n}\n", 200),
    "uring": ("uring {\n processes = 1\n max_connections = 20\n}\n", 200),
    "prefork": ("prefork {\n start_servers = 2\n min_spare_servers = 1\n"
                " max_spare_servers = 2\n max_servers = 2\n}\n", 100),
    "worker": ("worker {\n processes = 1\n threads_per_process = 4\n}\n", 100),
    "sigio": ("sigio {\n processes = 1\n max_connections = 20\n}\n", 200),
    "fork": ("fork {\n max_children = 4\n}\n", 100),
    "thread": ("thread {\n max_threads = 4\n}\n", 100),
    "iterative": ("", 50),
}
for mpm, (section, n) in per_mpm(FLOODS, "flood beyond the limit"):
    s = Server(mpm=mpm, files=FILES, mpm_section=section)
    started, err = s.start()
    ok(started, "flood: %s starts" % mpm, err)
    t0 = time.monotonic()
    is_(flood(s.port, n), n, "flood: %s: all %d concurrent clients served, none refused"
        % (mpm, n))
    print("# flood: %s served %d clients in %.2f s" % (mpm, n, time.monotonic() - t0))
    ok(s.stop(), "flood: %s stops" % mpm)


# --- (c) Clients that vanish mid-request and mid-response -----------------------------

def rst_close(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


VANISH = {
    "prefork": "prefork {\n start_servers = 2\n min_spare_servers = 1\n"
               " max_spare_servers = 2\n max_servers = 2\n}\n",
    "worker": "worker {\n processes = 1\n threads_per_process = 2\n}\n",
    "event": "event {\n processes = 1\n}\n",
    "uring": "uring {\n processes = 1\n}\n",
    "sigio": "sigio {\n processes = 1\n}\n",
    "fork": None,
    "thread": None,
    "iterative": None,
}
for mpm, section in per_mpm(VANISH, "clients that vanish"):
    s = Server(mpm=mpm, files=FILES, mpm_section=section, extra=STATUS)
    started, err = s.start()
    ok(started, "vanish: %s starts" % mpm, err)
    ok(wait_for(lambda: busy_besides_me(s.port) == 0, 10), "vanish: %s: idle at first" % mpm)
    before = settled_workers(s)
    for _ in range(6):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0")
        rst_close(c)
    for _ in range(6):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        c.recv(1000)
        c.close()
    t0 = time.monotonic()
    r = request(s.port, "/index.html", timeout=5)
    elapsed = time.monotonic() - t0
    ok(r is not None and r.status == 200 and elapsed < 1.0,
       "vanish: %s: the next request is served promptly (%.3f s)" % (mpm, elapsed))
    ok(wait_for(lambda: busy_besides_me(s.port) == 0, 5),
       "vanish: %s: no worker left reading or writing" % mpm, scoreboard(s.port))
    is_(settled_workers(s), before, "vanish: %s: the same worker processes, none crashed" % mpm)
    ok(s.stop(), "vanish: %s stops" % mpm)


# --- (d) Many reloads under load ------------------------------------------------------

RELOADS = 50
# Each MPM's section with room for the 4 keep-alive clients ("" when its defaults have).
RELOAD_ROOM = {
    "prefork": "prefork {\n start_servers = 6\n}\n",
    "worker": "worker {\n processes = 1\n threads_per_process = 8\n}\n",
    "event": "event {\n processes = 1\n}\n",
    "uring": "uring {\n processes = 1\n}\n",
    "sigio": "sigio {\n processes = 1\n}\n",
    "fork": "", "thread": "",
    "iterative": NotApplicable("one connection at a time: the keep-alive clients would "
                               "wait on each other"),
}
RELOAD_MPMS = per_mpm(RELOAD_ROOM, "many reloads under load")
RELOAD_SECTIONS = "".join(section for _, section in RELOAD_MPMS)
RELOAD_MPMS = [m for m, _ in RELOAD_MPMS]
s = Server(mpm=RELOAD_MPMS[0], files=FILES, extra=RELOAD_SECTIONS)
started, err = s.start()
ok(started, "reloads: starts", err)
load = Load(s.port, 4, 0, 50)
ok(wait_for(lambda: load.count() >= 20, 10), "reloads: load is served")
reloads = 0
for i in range(RELOADS):
    s.write_conf(mpm=RELOAD_MPMS[i % len(RELOAD_MPMS)])
    n = s.stderr().count("reloaded: generation")
    s.signal(signal.SIGHUP)
    if not wait_for(lambda: s.stderr().count("reloaded: generation") > n, 15):
        break
    reloads += 1
    base = load.count()
    if not wait_for(lambda: load.count() >= base + 10, 10):
        break
ok(load.finish(), "reloads: every client finished")
is_(reloads, RELOADS, "reloads: %d reloads under load" % RELOADS)
print("# reloads: %d requests served across %d reloads" % (load.count(), reloads))
is_(load.failed("before"), 0, "reloads: not one request failed")
ok(wait_for(lambda: len(children_of(s.pid)) == 1, 20), "reloads: old generations have exited",
   children_of(s.pid))
ok(s.stop(), "reloads: stops")


# --- (e) An unwritable access log ------------------------------------------------------

def unwritable_log(where, path):
    mpm = "event" if "event" in MPMS else MPMS[0]
    one = {"event": "event {\n processes = 1\n}\n",
           "prefork": "prefork {\n start_servers = 1\n min_spare_servers = 1\n"
                      " max_spare_servers = 1\n max_servers = 1\n}\n",
           "worker": "worker {\n processes = 1\n}\n"}[mpm]
    s = Server(mpm=mpm, files=FILES, mpm_section=one)
    s.write_conf(text=s.conf_text().replace(
        'access_log = "%s"' % os.path.join(s.dir, "access.log"), 'access_log = "%s"' % path))
    started, err = s.start()
    ok(started, "%s: starts with access_log %s" % (where, path), err)
    good = sum(1 for _ in range(20) if request(s.port, "/index.html").status == 200)
    is_(good, 20, "%s: serving goes on" % where)
    line = "access log %s: No space left on device" % path
    ok(wait_for(lambda: line in s.stderr(), 5), "%s: the error is logged" % where,
       s.stderr()[-500:])
    is_(s.stderr().count(line), 1, "%s: ... once (one process)" % where)
    ok(s.stop(), "%s: stops" % where)


unwritable_log("/dev/full", "/dev/full")


def unwritable_log_threads(threads=4):
    """Threads share their process's "reported once": each of several threads that meet the
    error writing its line does not report it again."""
    s = Server(mpm="worker", files=FILES,
               mpm_section="worker {\n processes = 1\n threads_per_process = %d\n}\n" % threads)
    s.write_conf(text=s.conf_text().replace(
        'access_log = "%s"' % os.path.join(s.dir, "access.log"), 'access_log = "/dev/full"'))
    started, err = s.start()
    ok(started, "threads: starts with access_log /dev/full", err)
    # Connections held open at once are served by as many threads, each logging.
    conns = [socket.create_connection(("127.0.0.1", s.port), timeout=5)
             for _ in range(threads)]
    answered = 0
    for c in conns:
        c.sendall(b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n")
    for c in conns:
        r = read_response(c.makefile("rb"))
        answered += r is not None and r.status == 200
    is_(answered, threads, "threads: %d connections served at once" % threads)
    line = "access log /dev/full: No space left on device"
    ok(wait_for(lambda: line in s.stderr(), 5), "threads: the error is logged", s.stderr()[-500:])
    for c in conns:
        c.close()
    ok(s.stop(), "threads: stops")
    is_(s.stderr().count(line), 1, "threads: ... once for the process, not once per thread")


if "worker" in MPMS:
    unwritable_log_threads()

mnt = None
if os.geteuid() == 0:
    import tempfile
    mnt = tempfile.mkdtemp(prefix="minihttpd-full.")
    rc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", mnt],
                        capture_output=True).returncode
    if rc != 0:
        os.rmdir(mnt)
        mnt = None
if mnt is None:
    ok(True, "full tmpfs # SKIP cannot mount a tmpfs (not root or no privilege)")
else:
    try:
        fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            for _ in range(1000):
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        os.close(fd)
        unwritable_log("full tmpfs", os.path.join(mnt, "access.log"))
    finally:
        subprocess.run(["umount", mnt], capture_output=True)
        os.rmdir(mnt)


# --- Descriptor exhaustion --------------------------------------------------------------

NOFILE = 48
HELD = 80


def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def _try(port):
    try:
        return request(port, "/index.html", timeout=2).status == 200
    except (OSError, AttributeError):
        return False


# mpm_accept (src/conn_loop.c), the accept policy of every MPM, logs one line when an
# episode starts and one at the first accept that succeeds a second (ACCEPT_QUIET_MS) after
# the last shortage: closing the held connections makes the shortage flap (each close lets
# one queued connection in, whose accept takes the descriptor again), and that is still the
# one episode.
EXHAUSTED = "accept: Too many open files"
AVAILABLE = "accept: descriptors available again"
QUIET_S = 1.0


def episodes(text):
    """The exhaustion lines in order: "s" for a start, "e" for an end."""
    return "".join("s" if EXHAUSTED in l else "e" for l in text.splitlines()
                   if EXHAUSTED in l or AVAILABLE in l)


EXHAUST = {
    "worker": "worker {\n processes = 1\n threads_per_process = %d\n}\n" % (HELD + 10),
    "event": "event {\n processes = 1\n}\n",
    "uring": "uring {\n processes = 1\n}\n",
    "thread": "thread {\n max_threads = %d\n}\n" % (HELD + 10),
    "sigio": "sigio {\n processes = 1\n}\n",
    "prefork": NotApplicable("a connection per process: %d descriptors are never exhausted"
                             % NOFILE),
    "iterative": NotApplicable("a connection per process: %d descriptors are never "
                               "exhausted" % NOFILE),
    "fork": NotApplicable("the leader closes each connection once its child has it: %d "
                          "descriptors are never exhausted" % NOFILE),
}
for mpm, section in per_mpm(EXHAUST, "descriptor exhaustion"):
    s = Server(mpm=mpm, files=FILES, mpm_section=section, extra="header_timeout = 30\n")
    started, err = s.start(preexec=low_nofile)
    ok(started, "EMFILE: %s starts with RLIMIT_NOFILE %d" % (mpm, NOFILE), err)
    held = []
    for _ in range(HELD):
        held.append(socket.create_connection(("127.0.0.1", s.port), timeout=5))
    ok(wait_for(lambda: EXHAUSTED in s.stderr(), 10), "EMFILE: %s: exhaustion is logged" % mpm,
       s.stderr()[-500:])
    procs = [s.pid] + children_of(s.pid) + workers(s)
    c0, t0 = cpu_seconds(procs), time.monotonic()
    wait_for(lambda: time.monotonic() - t0 >= 2.0, 3, 0.1)
    used = cpu_seconds(procs) - c0
    ok(used < 0.3, "EMFILE: %s: no busy loop while exhausted (%.2f s CPU in %.1f s)"
       % (mpm, used, time.monotonic() - t0))
    # Twenty 100 ms pauses later, still exhausted: one start line, not one per pause.
    seq = episodes(s.stderr())
    ok(seq == "s", "EMFILE: %s: one line while exhausted, not one per pause (start/end "
       "lines: %s)" % (mpm, seq))
    for c in held:
        c.close()
    r = wait_for(lambda: _try(s.port), 10, 0.1)
    ok(r, "EMFILE: %s: service resumes by itself once the connections close" % mpm)
    # The end is logged by an accept: keep asking until one comes after the quiet time.
    ok(wait_for(lambda: _try(s.port) and episodes(s.stderr()).endswith("e"), 5 + QUIET_S,
                0.2), "EMFILE: %s: the end of the episode is logged" % mpm, s.stderr()[-500:])
    seq = episodes(s.stderr())
    ok(seq == "se", "EMFILE: %s: the flapping while the held connections closed was the "
       "same episode: one start and one end line (%s)" % (mpm, seq))
    ok(s.stop(), "EMFILE: %s stops" % mpm)


# --- Slowloris against the event MPM ---------------------------------------------------

if "event" in MPMS:
    SLOW = 500
    s = Server(mpm="event", files=FILES, mpm_section="event {\n processes = 1\n}\n",
               extra="header_timeout = 30\n")
    started, err = s.start()
    ok(started, "slowloris: event starts", err)
    slow = []
    for i in range(SLOW):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.sendall(b"GET / HTTP/1.1\r\n")
        slow.append(c)
    for i, c in enumerate(slow):
        c.sendall(b"X-Dribble-%d: a\r\n" % i)
    t0 = time.monotonic()
    r = request(s.port, "/index.html", timeout=5)
    elapsed = time.monotonic() - t0
    ok(r is not None and r.status == 200 and elapsed < 1.0,
       "slowloris: a normal client is answered in %.3f s while %d heads dribble"
       % (elapsed, SLOW))
    alive = 0
    for c in slow:
        try:
            c.sendall(b"X-More: b\r\n")
            alive += 1
        except OSError:
            pass
    is_(alive, SLOW, "slowloris: the slow connections were still open")
    for c in slow:
        c.close()
    ok(s.stop(), "slowloris: stops")

done()
