# SPDX-License-Identifier: ISC
"""The status page over real sockets, for every MPM built, the seed's laboratory models
(iterative, fork, thread, sigio) included: the counts rise by exactly what was served,
?auto parses and names the MPM, the scoreboard has the shape of the model, the HTML page,
`minihttpd -S` while running and after the stop, the page across a reload (a slow
download keeps the old generation busy: it is shown finishing, then gone, and its counts
stay in the totals), status_allow (403 outside it, for IPv4 and IPv6 peers), and
Saturated at each MPM's limit, event included, with one log line at each edge."""

import os
import signal
import socket
import subprocess

from mhd import (BINARY, Server, after_start_probe, built_mpms, children_of, done, exchange,
                 generation_gone, is_, ok, parse_auto, per_mpm, read_response,
                 status_num as num, wait_for)

PATH = "/server-status"
BIG = 32 << 20
NUMERIC = ("Uptime", "Generation", "Reloads", "Total Accesses", "Total kBytes",
           "Total Bytes", "Total Connections", "ConnsTotal", "BusyWorkers", "IdleWorkers",
           "FinishingWorkers", "Saturated", "Saturations", "ClientLimitRefusals")


def have_ipv6():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def get(port, path, host="127.0.0.1", method="GET"):
    """One request on its own connection, read to the server's close: by then the server
    has counted it. Returns (status, headers, body, bytes received)."""
    raw = exchange(port, ("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                          % (method, path)).encode(), host=host)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines[0].startswith("HTTP/1.1 ") else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body, len(raw)


def auto(port, host="127.0.0.1"):
    """The text form, parsed; and the bytes this status request itself received."""
    status, headers, body, n = get(port, PATH + "?auto", host)
    if status != 200:
        return {}, n
    return parse_auto(body.decode()), n


def well_formed(d):
    """Every numeric field present and numeric, the Scoreboard line consistent."""
    bad = [k for k in NUMERIC if num(d, k) < 0]
    board = d.get("Scoreboard", "")
    if bad or not board or set(board) - set("_RWKCG."):
        return "bad fields %r, Scoreboard %r" % (bad, board[:80])
    if board.count("_") != num(d, "IdleWorkers"):
        return "'_' count %d != IdleWorkers %s" % (board.count("_"), d.get("IdleWorkers"))
    if board.count("G") != num(d, "FinishingWorkers"):
        return "'G' count != FinishingWorkers"
    busy = len(board) - board.count(".") - board.count("_")
    if busy != num(d, "BusyWorkers"):
        return "busy slots %d != BusyWorkers %s" % (busy, d.get("BusyWorkers"))
    return None


# How each MPM uses its slots, and its section. sigio and event run two processes, so
# that the totals sum the counters of several slots, as the pools' do, and a process with
# no connection left must show idle.
PER_CONNECTION, MULTIPLEXED, POOL = "per connection", "multiplexed", "pool"
MODELS = {
    "prefork": (POOL, None),
    "worker": (POOL, None),
    "event": (MULTIPLEXED, "event {\n\tprocesses = 2\n}"),
    "uring": (MULTIPLEXED, "uring {\n\tprocesses = 2\n}"),
    "sigio": (MULTIPLEXED, "sigio {\n\tprocesses = 2\n}"),
    "fork": (PER_CONNECTION, None),
    "thread": (PER_CONNECTION, None),
    "iterative": (PER_CONNECTION, None),
}


def claimed(d):
    board = d.get("Scoreboard", "")
    return len(board) - board.count(".")


def board_shape(mpm, d):
    """None when the board, with only the status request open, has the model's shape."""
    n, idle, busy = claimed(d), num(d, "IdleWorkers"), num(d, "BusyWorkers")
    model = MODELS[mpm][0]
    if model == PER_CONNECTION:
        # fork and thread: a slot per connection, claimed by its process or thread and
        # freed with it; iterative: one process, one slot. Either way the status request's
        # own only, busy: no worker waits idle for a connection, as a pool's would.
        want = n == 1 and busy == 1 and idle == 0
    elif model == MULTIPLEXED:
        # A slot per process, each holding many connections: the one with the status
        # request busy, the other idle once its last connection is gone.
        want = n == 2 and busy == 1 and idle == 1
    else:
        want = n >= 1 and busy >= 1
    return None if want else "%s: %d claimed, %d busy, %d idle: %r" % (
        mpm, n, busy, idle, d.get("Scoreboard", "")[:80])


def minihttpd_S(conf):
    return subprocess.run([BINARY, "-S", "-f", conf], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=20)


def counting(mpm, s):
    # Only this status request open, every count from the start (see after_start_probe).
    first = after_start_probe(lambda: auto(s.port), lambda d: (
        num(d, "ConnsTotal"), num(d, "Total Connections"), num(d, "Total Accesses")))
    a, a_bytes = first or auto(s.port)
    ok(first, "%s: the probe counted and gone, only the status request's own connection "
       "open" % mpm, a)
    ok(a and well_formed(a) is None, "%s: ?auto parses" % mpm, well_formed(a) or a)
    is_(a.get("ServerMPM"), mpm, "%s: ?auto names the MPM" % mpm)

    # Four requests on connections of their own, three pipelined on one connection.
    sent = 0
    for _ in range(4):
        status, _, body, n = get(s.port, "/index.html")
        ok(status == 200 and body == b"<h1>hello</h1>\n", "%s: a request served" % mpm)
        sent += n
    host = b"Host: x\r\n"
    raw = exchange(s.port, b"GET /a.txt HTTP/1.1\r\n" + host + b"\r\n" +
                   b"GET /a.txt HTTP/1.1\r\n" + host + b"\r\n" +
                   b"GET /a.txt HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n")
    is_(raw.count(b"HTTP/1.1 200 OK"), 3, "%s: three keep-alive requests served" % mpm)
    sent += len(raw)

    b, b_bytes = auto(s.port)
    # The first status request counts too: it was answered (and counted) before the second.
    is_(num(b, "Total Accesses") - num(a, "Total Accesses"), 7 + 1,
        "%s: Total Accesses rose by exactly the requests served" % mpm)
    is_(num(b, "Total Bytes") - num(a, "Total Bytes"), sent + a_bytes,
        "%s: Total Bytes rose by exactly the bytes sent" % mpm)
    # Connections are counted when accepted: the second status request's own is in.
    is_(num(b, "Total Connections") - num(a, "Total Connections"), 4 + 1 + 1,
        "%s: Total Connections rose by exactly the connections accepted" % mpm)
    is_(num(b, "Total kBytes"), num(b, "Total Bytes") // 1024, "%s: Total kBytes" % mpm)
    ok(num(b, "ConnsTotal") >= 1, "%s: ConnsTotal counts the status request's own" % mpm)
    ok(num(b, "BusyWorkers") >= 1, "%s: the worker answering is busy" % mpm)

    r = minihttpd_S(s.conf)
    d = parse_auto(r.stdout)
    ok(r.returncode == 0 and well_formed(d) is None, "%s: minihttpd -S prints the text form"
       % mpm, r.stderr + (well_formed(d) or ""))
    is_(num(d, "Total Accesses"), num(b, "Total Accesses") + 1,
        "%s: minihttpd -S reads the live totals" % mpm)
    is_(d.get("Generation"), b.get("Generation"), "%s: minihttpd -S: same generation" % mpm)
    # A worker frees its slot (or goes idle) a moment after its client saw the close.
    ok(wait_for(lambda: board_shape(mpm, auto(s.port)[0]) is None, timeout=10),
       "%s: the scoreboard has the model's shape" % mpm, board_shape(mpm, auto(s.port)[0]))

    status, headers, body, _ = get(s.port, PATH)
    ok(status == 200 and headers.get("content-type") == "text/html; charset=utf-8",
       "%s: the page is text/html" % mpm, headers)
    ok(body.startswith(b"<!DOCTYPE html>") and body.endswith(b"</html>\n") and
       b"<h2>Workers</h2>" in body and b"GET /server-status HTTP/1.1" in body,
       "%s: the HTML page lists the workers" % mpm, body[:200])
    is_(int(headers.get("content-length", -1)), len(body),
        "%s: the page's Content-Length" % mpm)
    status, headers, body, _ = get(s.port, PATH, method="HEAD")
    ok(status == 200 and body == b"" and int(headers.get("content-length", 0)) > 0,
       "%s: HEAD of the page" % mpm)
    is_(get(s.port, PATH + "/")[0], 404, "%s: only the exact path is the page" % mpm)


def across_reload(mpm, s):
    before, _ = auto(s.port)
    gen = num(before, "Generation")
    # A download the client does not read: its worker stays busy in the old generation.
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    c.settimeout(10)
    c.connect(("127.0.0.1", s.port))
    c.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    f = c.makefile("rb")
    r = read_response(f, head_only=True)
    ok(r and r.status == 200, "%s: slow download started" % mpm)

    s.signal(signal.SIGHUP)
    # The master counts the reload once the new generation is ready: a moment after the
    # new generation's workers first show.
    both = wait_for(lambda: (lambda d: num(d, "Generation") == gen + 1 and
                             str(gen) in d.get("FinishingGenerations", "").split() and
                             num(d, "Reloads") == num(before, "Reloads") + 1 and d)
                    (auto(s.port)[0]), timeout=10)
    ok(both, "%s: after the reload, generation %d serves, %d is finishing, Reloads counted"
       % (mpm, gen + 1, gen), auto(s.port)[0])
    if both:
        ok(num(both, "FinishingWorkers") >= 1 and well_formed(both) is None,
           "%s: the old generation's worker is finishing" % mpm, well_formed(both))
    _, _, page, _ = get(s.port, PATH)
    ok(("<td>%d</td><td>serving</td>" % (gen + 1)).encode() in page and
       ("<td>%d</td><td>finishing</td>" % gen).encode() in page and
       ("<td>%d (finishing)</td>" % gen).encode() in page,
       "%s: the page shows both generations, the old one finishing" % mpm)
    # Told to stop, the worker still sending marks itself draining.
    draining = ("<td>%d (finishing)</td><td>gracefully finishing</td>" % gen).encode()
    ok(wait_for(lambda: draining in get(s.port, PATH)[2], timeout=10),
       "%s: the old generation's busy worker is gracefully finishing" % mpm)

    got = 0
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            break
        got += len(chunk)
    f.close()
    c.close()
    is_(got, BIG, "%s: the slow download completed across the reload" % mpm)
    after = wait_for(lambda: (lambda d: d.get("FinishingGenerations", "x") == "" and d)
                     (auto(s.port)[0]), timeout=15)
    ok(after, "%s: the old generation disappears once done" % mpm, auto(s.port)[0])
    if after:
        ok(num(after, "Total Bytes") - num(before, "Total Bytes") > BIG,
           "%s: the exited generation's counts stay in the totals" % mpm)
        is_(num(after, "FinishingWorkers"), 0, "%s: no worker finishing" % mpm)


def acl(mpm, s, v6):
    if v6:
        is_(get(s.port, PATH + "?auto", host="::1")[0], 200,
            "%s: ::1 is allowed by default" % mpm)
    gen = num(auto(s.port)[0], "Generation")
    old_leaders = children_of(s.pid)
    s.extra = 'status_path = "%s"\nstatus_allow = {"10.0.0.0/8"}' % PATH
    s.write_conf()
    s.signal(signal.SIGHUP)
    # The page can no longer tell: -S, which status_allow does not restrict, waits until
    # the previous generation (which still allows loopback) is gone.
    only_new = wait_for(lambda: (lambda d: num(d, "Generation") == gen + 1 and
                                 d.get("FinishingGenerations") == "")
                        (parse_auto(minihttpd_S(s.conf).stdout)), timeout=10)
    ok(only_new, "%s: minihttpd -S follows the reload (not subject to status_allow)" % mpm)
    # An old generation with no connection holds no slot under fork, thread and
    # iterative, so -S cannot see it leave: its processes can.
    ok(generation_gone(old_leaders, 10),
       "%s: the previous generation's leader is gone" % mpm)
    is_(get(s.port, PATH + "?auto")[0], 403, "%s: 127.0.0.1 outside status_allow gets 403"
        % mpm)
    status, headers, body, _ = get(s.port, PATH)
    ok(status == 403 and b"Total Accesses" not in body and b"Workers" not in body,
       "%s: the 403 reveals nothing" % mpm)
    if v6:
        is_(get(s.port, PATH + "?auto", host="::1")[0], 403,
            "%s: ::1 outside status_allow gets 403" % mpm)
    is_(get(s.port, "/index.html")[0], 200, "%s: other paths still served" % mpm)


v6 = have_ipv6()
for mpm, (_, section) in per_mpm(MODELS, "status page"):
    s = Server(mpm=mpm, extra='status_path = "%s"' % PATH, mpm_section=section,
               files={"index.html": "<h1>hello</h1>\n", "a.txt": "abc\n"})
    if v6:
        s.listen.append("[::1]:%d" % s.port)
        s.write_conf()
    big = os.path.join(s.root, "big")
    with open(big, "wb") as fh:
        fh.truncate(BIG)
    os.chmod(big, 0o644)
    started, err = s.start(foreground=True)
    ok(started, "%s: starts with status_path" % mpm, err)
    if not started:
        continue
    counting(mpm, s)
    across_reload(mpm, s)
    acl(mpm, s, v6)
    ok(s.stop(), "%s: stops" % mpm)
    r = minihttpd_S(s.conf)
    ok(r.returncode == 3 and "not running" in r.stderr and r.stdout == "",
       "%s: minihttpd -S after the stop says it is not running (exit 3)" % mpm,
       "%d %s" % (r.returncode, r.stderr))

# Saturation: at each MPM's limit, held by keep-alive connections, the status page says
# Saturated (read with -S: a saturated server serves no status request), with the same
# meaning and log lines whatever the MPM; closing one connection ends the episode.
LIMITS = {
    "prefork": ("prefork {\n start_servers = 1\n min_spare_servers = 1\n"
                " max_spare_servers = 1\n max_servers = 2\n}", 2),
    "worker": ("worker {\n processes = 1\n threads_per_process = 2\n}", 2),
    "event": ("event {\n processes = 1\n max_connections = 2\n defer_accept = 0\n}", 2),
    "uring": ("uring {\n processes = 1\n max_connections = 2\n defer_accept = 0\n}", 2),
    "sigio": ("sigio {\n processes = 1\n max_connections = 2\n}", 2),
    "fork": ("fork {\n max_children = 2\n}", 2),
    "thread": ("thread {\n max_threads = 2\n}", 2),
    "iterative": (None, 1),
}


def held(port):
    """A keep-alive connection that got its answer and stays open."""
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
    r = read_response(c.makefile("rb"))
    return c if r is not None and r.status == 200 else None


for mpm in built_mpms():
    if mpm not in LIMITS:
        ok(False, "%s saturation: its limit is unknown here: add it to LIMITS" % mpm)
        continue
    section, limit = LIMITS[mpm]
    s = Server(mpm=mpm, mpm_section=section, files={"index.html": "<h1>hello</h1>\n"},
               extra='status_path = "%s"\nkeepalive_timeout = 60\n' % PATH)
    started, err = s.start(foreground=True)
    ok(started, "%s saturation: starts" % mpm, err)
    if not started:
        continue
    is_(num(auto(s.port)[0], "Saturated"), 0, "%s saturation: not saturated at first" % mpm)
    conns = [held(s.port) for _ in range(limit)]
    ok(all(conns), "%s saturation: %d keep-alive connections held" % (mpm, limit))
    # The flag is raised first, then the reason is written and the line logged.
    seen = wait_for(lambda: (lambda d: d if num(d, "Saturated") == 1 and
                             "workers of generation" in d.get("SaturatedReason", "")
                             else None)
                    (parse_auto(minihttpd_S(s.conf).stdout)), timeout=10)
    ok(seen and num(seen, "Saturations") == 1,
       "%s saturation: Saturated at its limit of %d" % (mpm, limit), seen)
    multiplexed = mpm in ("event", "uring", "sigio")  # one worker holds the limit
    ok(wait_for(lambda: "saturated: all %d workers of generation"
                % (1 if multiplexed else limit) in s.stderr(), 5),
       "%s saturation: the episode is logged" % mpm, s.stderr()[-500:])
    for c in conns:
        if c:
            c.close()
    after = wait_for(lambda: (lambda d: d if num(d, "Saturated") == 0 else None)
                     (auto(s.port)[0]), timeout=10)
    ok(after and num(after, "Saturations") == 1,
       "%s saturation: over once a connection closed, one episode counted" % mpm, after)
    ok(wait_for(lambda: "no longer saturated" in s.stderr(), 5),
       "%s saturation: its end is logged" % mpm, s.stderr()[-500:])
    ok(s.stop(), "%s saturation: stops" % mpm)

# Options refused with their line.
s = Server(mpm="prefork", extra='status_path = "no-slash"')
r = subprocess.run([BINARY, "-t", "-f", s.conf], capture_output=True, text=True, timeout=20)
ok(r.returncode == 1 and "minihttpd.conf:" in r.stderr and "status_path" in r.stderr,
   "a status_path without a leading slash is refused with FILE:LINE", r.stderr)
s.extra = 'status_allow = {"127.0.0.1", "10.0.0.0/40"}'
s.write_conf()
r = subprocess.run([BINARY, "-t", "-f", s.conf], capture_output=True, text=True, timeout=20)
ok(r.returncode == 1 and "minihttpd.conf:" in r.stderr and "10.0.0.0/40" in r.stderr,
   "a bad status_allow entry is refused with FILE:LINE", r.stderr)

done()
