# SPDX-License-Identifier: ISC
"""event: what connections holding partial heads cost, and where (issue 19, item 9).
1,500 connections each send 15 KB of a head and wait; 8 more come after them and stay,
so that the memory of the first ones is below blocks still in use; then the first ones
close. Two event processes must share the connections (neither more than MAX_SHARE:
the first process woken by the shared listener once took most of a burst), and after
the close each process's resident memory must come back to within RETAINED of what it
was before (malloc once kept all of it: 17 MB of 1,000 connections, 55 MB of 3,000)."""

import resource
import socket

from mhd import Server, clean_log, done, ok, request, sockets_of, wait_for, workers_of

N = 1500
LATE = 8
HEAD = b"GET / HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"a" * (15 * 1024 - 40)
MAX_SHARE = 0.6
RETAINED = 8 << 20


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def sanitizer_allocator(pid):
    """AddressSanitizer or ThreadSanitizer, if pid runs under one: their allocators keep
    what is freed (a quarantine, shadow memory) whatever malloc_trim() asks."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            maps = f.read()
    except OSError:
        return None
    return next((name for lib, name in (("libasan", "AddressSanitizer"),
                                        ("libtsan", "ThreadSanitizer")) if lib in maps), None)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < N + LATE + 100:
        ok(True, "# SKIP open-file limit %d is below %d" % (soft, N + LATE + 100))
        done()
    s = Server(mpm="event", mpm_section="event {\n processes = 2\n}",
               extra='header_timeout = 60\naccess_log = "off"')
    started, err = s.start()
    if not ok(started, "starts", err):
        done()
    r = request(s.port, "/")
    ok(r is not None and r.status == 200, "serves")
    ws = workers_of(s)
    if not ok(len(ws) == 2, "two event processes", ws):
        done()
    base = {p: (rss(p), sockets_of(p)) for p in ws}
    held = lambda: sum(sockets_of(p) - base[p][1] for p in ws)
    first = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(N)]
    for c in first:
        c.sendall(HEAD)
    ok(wait_for(lambda: held() >= N, 30), "%d connections with partial heads held" % N,
       "held %d" % held())
    counts = {p: sockets_of(p) - base[p][1] for p in ws}
    ok(max(counts.values()) <= MAX_SHARE * N,
       "spread over both processes (neither more than %d%%)" % (MAX_SHARE * 100),
       "connections per process: %s" % counts)
    late = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(LATE)]
    for c in late:
        c.sendall(HEAD)
    ok(wait_for(lambda: held() >= N + LATE, 30), "%d more held after them" % LATE)
    peak = {p: rss(p) - base[p][0] for p in ws}
    for c in first:
        c.close()
    ok(wait_for(lambda: held() <= LATE, 30), "the first %d closed" % N, "held %d" % held())
    # Closing is asynchronous to us: the memory goes back when the loop has freed it all.
    wait_for(lambda: all(rss(p) - base[p][0] <= RETAINED for p in ws), 5)
    grown = {p: rss(p) - base[p][0] for p in ws}
    san = next(filter(None, (sanitizer_allocator(p) for p in ws)), None)
    if san:
        ok(True, "# SKIP memory given back: %s's allocator keeps it" % san)
    else:
        ok(all(g <= RETAINED for g in grown.values()),
           "after they closed, each process holds at most %d MiB more than before"
           % (RETAINED >> 20),
           "grew by (MiB) %s at the peak, %s after" %
           ({p: round(v / 1048576, 1) for p, v in peak.items()},
            {p: round(v / 1048576, 1) for p, v in grown.items()}))
    for c in late:
        c.close()
    ok(s.stop(), "stops cleanly")
    clean_log(s, "event memory")
    done()


main()
