# SPDX-License-Identifier: ISC
"""The worker MPM (processes x threads) with both accept strategies: concurrent clients,
the thread count of each process, a queue of one with more clients than threads (the
acceptor waits and clients wait in the listen backlog, none is refused), a process killed
with SIGKILL replaced, a request in flight finished by a graceful stop, and a clean stop."""

import ctypes
import os
import platform
import signal
import socket
import threading

from mhd import (Server, accept_queue, clean_log, done, free_port, is_, ok, read_response,
                 request, tsan, wait_for, workers_of)

BODY = b"<h1>hello</h1>\n"
CLIENTS, REQUESTS = 20, 25
SYS_PPOLL, SYS_TGKILL = {"x86_64": (271, 234), "aarch64": (73, 131)}.get(platform.machine(),
                                                                         (None, None))


def serving_threads_waiting(pid):
    """Threads of pid, other than its first, inside ppoll() on two descriptors: with two
    listeners that is worker_serve() (its socket and the quit pipe); the accepting thread
    polls three, the process's own thread is pid itself."""
    found = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/syscall" % (pid, tid)) as f:
                fields = f.read().split()
            if int(tid) != pid and fields[0] == str(SYS_PPOLL) and int(fields[2], 16) == 2:
                found.append(int(tid))
    except (OSError, ValueError, IndexError):
        pass
    return found


def tgkill(pid, tid, sig):
    if ctypes.CDLL(None, use_errno=True).syscall(SYS_TGKILL, pid, tid, sig) != 0:
        raise OSError(ctypes.get_errno(), "tgkill")


def threads_of(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def get(f, s, port, keep_alive):
    s.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n" %
               (port, "" if keep_alive else "Connection: close\r\n")).encode())
    return read_response(f)


def client(port, n, keep_alive, results):
    good = 0
    try:
        if keep_alive:
            with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
                f = s.makefile("rb")
                for _ in range(n):
                    r = get(f, s, port, True)
                    good += bool(r and r.status == 200 and r.body == BODY)
        else:
            for _ in range(n):
                with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
                    r = get(s.makefile("rb"), s, port, False)
                    good += bool(r and r.status == 200 and r.body == BODY)
    except OSError as e:
        results.append(("error", repr(e)))
    results.append(good)


def concurrent(port, clients, n):
    results = []
    threads = [threading.Thread(target=client, args=(port, n, i % 2 == 0, results))
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return (sum(r for r in results if isinstance(r, int)),
            [r for r in results if not isinstance(r, int)])


class Holder:
    """A keep-alive connection that gets one answer, then stays open until released."""

    def __init__(self, port, release):
        self.status = None
        self.port = port
        self.release = release
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=20) as s:
                r = get(s.makefile("rb"), s, self.port, True)
                self.status = r.status if r else None
                self.release.wait(20)
        except OSError:
            self.status = "error"


for strategy in ("mutex", "queue"):
    t = strategy
    s = Server(mpm="worker", mpm_section='worker {\n accept = "%s"\n processes = 2\n'
               ' threads_per_process = 4\n}' % strategy)
    started, err = s.start()
    ok(started, "%s: starts" % t, err)
    if not started:
        continue

    good, errors = concurrent(s.port, CLIENTS, REQUESTS)
    is_(good, CLIENTS * REQUESTS, "%s: %d clients x %d requests all answered" %
        (t, CLIENTS, REQUESTS))
    is_(errors, [], "%s: no client saw an error" % t)

    procs = wait_for(lambda: workers_of(s) if len(workers_of(s)) == 2 else None, 10)
    ok(procs, "%s: two processes" % t, workers_of(s))
    # 4 serving threads and the process's own; the queue adds its acceptor.
    want = 4 + 1 + (strategy == "queue")
    got = [threads_of(p) for p in procs or []]
    ok(len(got) == 2 and all(n == want or (n and n > want and tsan(p))
                             for n, p in zip(got, procs)),
       "%s: %d threads per process in /proc/PID/status" % (t, want), got)

    victim = (procs or [0])[0]
    if victim:
        os.kill(victim, signal.SIGKILL)
    back = wait_for(lambda: len(workers_of(s)) == 2 and victim not in workers_of(s), 15)
    ok(back, "%s: killed process replaced" % t, workers_of(s))
    ok(wait_for(lambda: all(threads_of(p) == want or tsan(p) and threads_of(p) > want
                            for p in workers_of(s)), 10),
       "%s: the new process has its threads" % t)
    codes = [request(s.port, "/", timeout=5).status for _ in range(10)]
    is_(codes, [200] * 10, "%s: serves after the kill" % t)

    # SIGTERM to one process (as systemd's control-group stop does): it finishes, exits
    # by itself, and the pool replaces it.
    victim = workers_of(s)[0]
    os.kill(victim, signal.SIGTERM)
    ok(wait_for(lambda: len(workers_of(s)) == 2 and victim not in workers_of(s), 15),
       "%s: a process told SIGTERM exits and is replaced" % t, workers_of(s))

    ok(s.stop(), "%s: clean stop, no process left" % t)
    clean_log(s, t)

# Back-pressure: one process, two threads, a queue of one. Two held connections occupy
# the threads, the third waits in the queue, the fourth in the acceptor's hands, the
# fifth in the kernel's backlog; released, all are answered.
s = Server(mpm="worker", extra="keepalive_timeout = 30",
           mpm_section='worker {\n accept = "queue"\n processes = 1\n'
           ' threads_per_process = 2\n queue_size = 1\n}')
started, err = s.start()
ok(started, "queue of one: starts", err)
if started:
    release = threading.Event()
    holders = [Holder(s.port, release) for _ in range(5)]
    waiting = wait_for(lambda: sum(h.status == 200 for h in holders) == 2 and
                       accept_queue(s.port) == 1, 10)
    ok(waiting, "queue of one: 2 served, the rest wait (one in the listen backlog)",
       "answered %s, backlog %s" % ([h.status for h in holders], accept_queue(s.port)))
    release.set()
    ok(wait_for(lambda: all(h.status == 200 for h in holders), 20),
       "queue of one: every held client answered once threads free up",
       [h.status for h in holders])
    for h in holders:
        h.thread.join(20)
    good, errors = concurrent(s.port, 12, 10)
    is_(good, 120, "queue of one: 12 clients x 10 requests all answered")
    is_(errors, [], "queue of one: no client refused or reset")
    ok(s.stop(), "queue of one: clean stop")
    clean_log(s, "queue of one")

# SIGTERM caught by a thread busy with a connection (not the process's own thread) must
# still stop every thread: the connection is drained, the process exits and is replaced.
for strategy in ("mutex", "queue"):
    t = strategy + " thread SIGTERM"
    if SYS_PPOLL is None:
        ok(True, "%s: # SKIP no syscall numbers for %s" % (t, platform.machine()))
        continue
    s = Server(mpm="worker", mpm_section='worker {\n accept = "%s"\n processes = 1\n'
               ' threads_per_process = 2\n}' % strategy)
    s.listen = ["127.0.0.1:%d" % s.port, "127.0.0.1:%d" % free_port()]
    s.write_conf()
    started, err = s.start()
    ok(started, "%s: starts" % t, err)
    if not started:
        continue
    proc = wait_for(lambda: workers_of(s)[0] if workers_of(s) else None, 10)
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    f = c.makefile("rb")
    r = get(f, c, s.port, True)
    ok(r and r.status == 200, "%s: a keep-alive connection is held" % t)
    tids = wait_for(lambda: serving_threads_waiting(proc), 10)
    ok(len(tids or []) == 1, "%s: its thread waits in worker_serve" % t, tids)
    if tids:
        tgkill(proc, tids[0], signal.SIGTERM)
    ok(f.read() == b"", "%s: the held connection is drained and closed" % t)
    c.close()
    ok(wait_for(lambda: workers_of(s) and proc not in workers_of(s), 15),
       "%s: the whole process exits and is replaced" % t, workers_of(s))
    is_(request(s.port, "/", timeout=5).status, 200, "%s: the new process serves" % t)
    ok(s.stop(), "%s: clean stop" % t)
    clean_log(s, t)

# Graceful stop: a request whose head is half sent when the stop begins is answered.
for strategy in ("mutex", "queue"):
    s = Server(mpm="worker", mpm_section='worker {\n accept = "%s"\n processes = 1\n'
               ' threads_per_process = 2\n}' % strategy)
    started, err = s.start()
    ok(started, "%s graceful: starts" % strategy, err)
    if not started:
        continue
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    f = c.makefile("rb")
    r = get(f, c, s.port, True)
    c.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    s.signal(signal.SIGTERM)
    ok(wait_for(lambda: "stopping gracefully" in s.stderr(), 10),
       "%s graceful: the stop has begun" % strategy, s.stderr())
    c.sendall(b"\r\n")
    r2 = read_response(f)
    ok(r and r.status == 200 and r2 and r2.status == 200 and r2.body == BODY,
       "%s graceful: the request in flight is answered" % strategy)
    c.close()
    ok(s.stop(), "%s graceful: stops, no process left" % strategy)
    clean_log(s, strategy + " graceful")

done()
