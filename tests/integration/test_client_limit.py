# SPDX-License-Identifier: ISC
"""max_connections_per_client with every kind of reaper: past the limit one address gets
503 and a close while another address is served; a connection closed gives its place
back; workers killed with SIGKILL while holding connections give theirs back when reaped
(else the address would stay locked out); and the refusals are access-logged and syslogged
once, not once per refusal. The limit holds with 40 processes serving one address, and a
flood of refused connections does not delay another client on prefork or worker."""

import os
import re
import signal
import socket
import time

from mhd import (NotApplicable, Server, alive, clean_log, done, is_, ok, per_mpm, read_response,
                 wait_for, workers_of)

LIMIT = 2
# The limited client. Not 127.0.0.1, mhd's start-up probe's address: that probe may wait
# in a process's accept queue until after the test's own connections (prefork, loaded
# machine), and would then be counted or refused with them.
CLIENT = "127.0.0.3"
GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
MPMS = {
    "prefork": "prefork {\n start_servers = 6\n min_spare_servers = 1\n max_spare_servers = 8\n}",
    "worker": "worker {\n processes = 2\n threads_per_process = 4\n}",
    "event": "event {\n processes = 2\n}",
    "uring": "uring {\n processes = 2\n}",
    "fork": None,
    "thread": None,
    "sigio": "sigio {\n processes = 2\n}",
    "iterative": NotApplicable("one connection at a time: a held connection holds its only "
                               "worker, so no third connection is even accepted"),
}


def held(port, source=CLIENT):
    """A connection that was answered 200 and stays open (the server counted it), or None."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                     source_address=(source, 0))
    except OSError:
        return None
    try:
        s.sendall(GET)
        f = s.makefile("rb")
        r = read_response(f)
        if r and r.status == 200:
            return s, f
    except OSError:
        pass
    s.close()
    return None


def one(port, source=CLIENT):
    """Status of a fresh connection's first answer, and whether the server then closed."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    try:
        s.sendall(GET)
        f = s.makefile("rb")
        r = read_response(f)
        if r is None:
            return None, True
        closed = r.header("connection") == "close" and f.read(1) == b""
        return r.status, closed
    except OSError:
        return None, True
    finally:
        s.close()


def status_page(port):
    """The status page's ?auto response, asked from 127.0.0.2 (the only address allowed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                 source_address=("127.0.0.2", 0))
    try:
        s.sendall(b"GET /status?auto HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return read_response(s.makefile("rb"))
    finally:
        s.close()


def refusals(port, own):
    """ClientLimitRefusals from the status page. Asked again before the process that
    answered last has exited (fork), the status request may itself be over the limit:
    own[0] counts those refusals, which the page counts too."""
    r = status_page(port)
    if r and r.status == 503:
        own[0] += 1
    m = re.search(rb"^ClientLimitRefusals: (\d+)$", r.body if r else b"", re.M)
    return int(m.group(1)) - own[0] if m else None


def access_log(s):
    with open(os.path.join(s.dir, "access.log"), "rb") as f:
        return f.read().decode(errors="replace")


def release(conns):
    for c in conns:
        if c:
            c[1].close()
            c[0].close()


def scenario(mpm, section):
    # Held connections must outlive the test's waits, or an expiry would free places.
    s = Server(mpm=mpm, extra="max_connections_per_client = %d\nkeepalive_timeout = 60\n"
               'status_path = "/status"\nstatus_allow = {"127.0.0.2"}' % LIMIT,
               mpm_section=section)
    started, err = s.start()
    ok(started, "%s: starts with max_connections_per_client" % mpm, err)
    if not started:
        return
    conns = [held(s.port) for _ in range(LIMIT)]
    ok(all(conns), "%s: %d connections of one address served" % (mpm, LIMIT))
    is_(one(s.port), (503, True), "%s: the next one gets 503 and a close" % mpm)
    is_(one(s.port, "127.0.0.2")[0], 200, "%s: another address is served meanwhile" % mpm)
    own = [0]
    ok(wait_for(lambda: refusals(s.port, own) == 1, 5),
       "%s: the status page counts the refusal" % mpm,
       "%s\n%s" % (refusals(s.port, own),
                    "\n".join(l for l in access_log(s).splitlines() if "/status" not in l)))

    release(conns[:1])
    ok(wait_for(lambda: one(s.port)[0] == 200, 5),
       "%s: a closed connection gives its place back" % mpm)

    # conns[1] is held by some worker: kill them all, as an OOM killer or a crash would.
    victims = workers_of(s)
    ok(victims, "%s: worker processes found" % mpm)
    for p in victims:
        os.kill(p, signal.SIGKILL)
    ok(wait_for(lambda: not any(alive(p) for p in victims), 5), "%s: workers killed" % mpm)
    again = []

    def hold_all():
        again[:] = [held(s.port) for _ in range(LIMIT)]
        if all(again):
            return True
        release(again)
        return False
    ok(wait_for(hold_all, 10, 0.1),
       "%s: after the kill the address holds %d at once again: the dead gave theirs back"
       % (mpm, LIMIT))
    is_(one(s.port), (503, True), "%s: and the limit still holds" % mpm)
    release(again + conns[1:])

    ok(s.stop(), "%s: stops cleanly" % mpm)
    log = open(os.path.join(s.dir, "access.log"), "rb").read()
    ok(b'"-" 503 ' in log, "%s: refusals are in the access log" % mpm, log[-400:])
    err = s.stderr()
    is_(err.count("max_connections_per_client (%d): refused" % LIMIT) >= 1, True,
        "%s: a refusal is logged" % mpm)
    clean_log(s, mpm)


MANY = 40
MANY_LIMIT = 10


def many_processes(mpm, section):
    """One address against 40 serving processes: the limit does not depend on how many
    processes its connections are spread over (the table once gave each address 8)."""
    t = "%s, %d processes: " % (mpm, MANY)
    s = Server(mpm=mpm, extra="max_connections_per_client = %d\nkeepalive_timeout = 60\n"
               % MANY_LIMIT, mpm_section=section)
    started, err = s.start()
    ok(started, t + "starts", err)
    if not started:
        return
    if section:
        ok(wait_for(lambda: len(workers_of(s)) >= MANY, 20), t + "%d children exist" % MANY,
           len(workers_of(s)))
    # From CLIENT, so that mhd's start-up probe does not count.
    conns, statuses = [], []
    for _ in range(MANY):
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=5,
                                        source_address=(CLIENT, 0))
        f = sock.makefile("rb")
        try:
            sock.sendall(GET)
            r = read_response(f)
        except OSError:
            r = None
        statuses.append(r.status if r else None)
        if r and r.status == 200:
            conns.append((sock, f))
        else:
            f.close()
            sock.close()
    is_(len(conns), MANY_LIMIT, t + "%d of %d connections of one address held"
        % (MANY_LIMIT, MANY))
    is_(statuses.count(503), MANY - MANY_LIMIT, t + "the others get 503")
    is_(one(s.port, "127.0.0.2")[0], 200, t + "another address is served meanwhile")
    release(conns)
    ok(s.stop(), t + "stops cleanly")
    clean_log(s, "%s, %d processes" % (mpm, MANY))


FLOOD_SECONDS = 3
FLOOD_MAX = 400


def flood_latency(mpm, section):
    """One address floods connections it never closes, all over its limit, while another
    client times its requests: a refusal must cost a worker nothing measurable (a 2 s
    lingering close each once let the flood hold every worker)."""
    t = "%s, refusal flood: " % mpm
    s = Server(mpm=mpm, extra="max_connections_per_client = 1\nkeepalive_timeout = 60\n",
               mpm_section=section)
    started, err = s.start()
    ok(started, t + "starts", err)
    if not started:
        return
    first = held(s.port)
    ok(first, t + "the flooding address holds its one connection")
    flood, times = [], []
    end = time.monotonic() + FLOOD_SECONDS
    while time.monotonic() < end and len(flood) < FLOOD_MAX:
        for _ in range(10):
            try:
                c = socket.create_connection(("127.0.0.1", s.port), timeout=5,
                                             source_address=(CLIENT, 0))
                c.sendall(GET)
                flood.append(c)
            except OSError:
                pass
        # A fresh address each time: the last one's place may not be given back yet.
        t0 = time.monotonic()
        status = one(s.port, "127.0.1.%d" % (len(times) % 250 + 1))[0]
        times.append((time.monotonic() - t0, status))
    worst = max(x for x, _ in times)
    print("# %s%d flood connections, %d timed requests, worst %.1f ms, median %.1f ms"
          % (t, len(flood), len(times), worst * 1000,
             sorted(x for x, _ in times)[len(times) // 2] * 1000))
    ok(all(st == 200 for _, st in times), t + "the other client is always served",
       [st for _, st in times if st != 200][:5])
    ok(worst < 0.5, t + "the other client never waits 0.5 s (worst %.0f ms)" % (worst * 1000))
    ok(len(flood) >= 100, t + "the flood was a flood (%d connections)" % len(flood))
    got = flood[-1].recv(200) if flood else b""
    ok(got.startswith(b"HTTP/1.1 503"), t + "a flooding connection got its 503", got[:40])
    for c in flood:
        c.close()
    release([first])
    ok(s.stop(), t + "stops cleanly")
    clean_log(s, "%s, refusal flood" % mpm)


def main():
    for mpm, section in per_mpm(MPMS, "max_connections_per_client"):
        scenario(mpm, section)
    many_processes("prefork", "prefork {\n start_servers = %d\n min_spare_servers = 1\n"
                   " max_spare_servers = %d\n max_servers = %d\n}" % (MANY, MANY, MANY))
    many_processes("fork", None)
    flood_latency("prefork", "prefork {\n start_servers = 4\n min_spare_servers = 1\n"
                  " max_spare_servers = 4\n max_servers = 4\n}")
    flood_latency("worker", "worker {\n processes = 1\n threads_per_process = 4\n}")
    # Refusals come in floods: the log says how many, once per interval per process.
    s = Server(mpm="event", extra="max_connections_per_client = 1",
               mpm_section="event {\n processes = 1\n}")
    started, err = s.start()
    ok(started, "flood: starts", err)
    if started:
        c = held(s.port)
        refused = [one(s.port)[0] for _ in range(20)]
        is_(refused, [503] * 20, "flood: twenty refusals")
        release([c])
        ok(s.stop(), "flood: stops cleanly")
        is_(s.stderr().count("refused with 503"), 1, "flood: logged once, not twenty times")
    done()


main()
