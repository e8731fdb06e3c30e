# SPDX-License-Identifier: ISC
"""Timeouts and the access log. header_timeout is an absolute deadline for a request head
(a client dribbling bytes is not given more time per byte), and for a body; an idle
keep-alive connection closes after keepalive_timeout; a reader that stalls is dropped
after send_timeout. The access log in Combined and Common Log Format with its exact
fields and escaping, "off" and "syslog". Timeouts are run for each MPM that is built."""

import os
import re
import select
import socket
import time

from mhd import Conn, Server, built_mpms, done, is_, ok, request, wait_for

HEADER_TIMEOUT = 2
KEEPALIVE_TIMEOUT = 1
SEND_TIMEOUT = 2
SLACK = 2.5	# timers may be coarse (an event loop's wheel): accept this much lateness
BIG_SIZE = 64 << 20


def until_cut(sock, drip, limit):
    """Sends drip (one byte) every 0.3 s until the server answers or closes; returns
    (seconds, bytes the server sent) or (None, ...) if it is still open after limit."""
    t0 = time.monotonic()
    got = b""
    while time.monotonic() - t0 < limit:
        r, _, _ = select.select([sock], [], [], 0.3)
        if r:
            try:
                b = sock.recv(4096)
            except ConnectionResetError:
                b = b""
            if not b:
                return time.monotonic() - t0, got
            got += b
            continue
        if drip:
            try:
                sock.sendall(drip)
            except OSError:
                return time.monotonic() - t0, got
    return None, got


def tcp_state(local_port, remote_port):
    """The kernel's TCP state of the server side of a connection (1 = ESTABLISHED)."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            lport = int(fields[1].rsplit(":", 1)[1], 16)
            rport = int(fields[2].rsplit(":", 1)[1], 16)
            if lport == local_port and rport == remote_port:
                return int(fields[3], 16)
    return None


def within(elapsed, limit):
    return elapsed is not None and limit - 0.5 <= elapsed <= limit + SLACK


def timeouts(mpm):
    t = mpm + ": "
    s = Server(mpm=mpm, files={"index.html": "i\n", "a.txt": "abc\n"},
               extra="header_timeout = %d\nkeepalive_timeout = %d\nsend_timeout = %d\n"
               % (HEADER_TIMEOUT, KEEPALIVE_TIMEOUT, SEND_TIMEOUT))
    with open(os.path.join(s.root, "big.bin"), "wb") as f:
        f.truncate(BIG_SIZE)
    started, err = s.start()
    ok(started, t + "starts", err)
    p = s.port

    # A head dribbled one byte every 0.3 s: cut off at header_timeout, not refreshed.
    c = socket.create_connection(("127.0.0.1", p), timeout=5)
    c.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    elapsed, got = until_cut(c, b"a", HEADER_TIMEOUT + 8)
    c.close()
    ok(within(elapsed, HEADER_TIMEOUT), t + "dribbling head cut off after header_timeout",
       "after %s s" % elapsed)
    ok(got == b"" or got.startswith(b"HTTP/1.1 408 "), t + "dribbling head: 408 or a close",
       got[:80])

    # Part of a head, then silence: 408 Request Timeout.
    c = socket.create_connection(("127.0.0.1", p), timeout=5)
    c.sendall(b"GET / HTTP/1.1\r\n")
    elapsed, got = until_cut(c, None, HEADER_TIMEOUT + 8)
    c.close()
    ok(within(elapsed, HEADER_TIMEOUT), t + "incomplete head: closed after header_timeout",
       "after %s s" % elapsed)
    ok(got.startswith(b"HTTP/1.1 408 ") and b"\r\nConnection: close\r\n" in got and
       re.search(rb"\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n", got),
       t + "incomplete head: 408 with Date and Connection: close", got[:200])

    # A connection that never sends anything is closed silently.
    c = socket.create_connection(("127.0.0.1", p), timeout=5)
    elapsed, got = until_cut(c, None, HEADER_TIMEOUT + 8)
    c.close()
    ok(within(elapsed, HEADER_TIMEOUT) and got == b"",
       t + "silent connection: closed after header_timeout without a response",
       "after %s s, %r" % (elapsed, got[:40]))

    # A body dribbled after a complete head: the deadline is not refreshed per read.
    c = socket.create_connection(("127.0.0.1", p), timeout=5)
    c.sendall(b"POST /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n")
    elapsed, got = until_cut(c, b"b", HEADER_TIMEOUT + 8)
    c.close()
    ok(within(elapsed, HEADER_TIMEOUT), t + "dribbling body cut off after header_timeout",
       "after %s s" % elapsed)
    ok(got == b"" or got.startswith(b"HTTP/1.1 408 "), t + "dribbling body: 408 or a close",
       got[:80])

    # Idle keep-alive.
    c = Conn(p)
    c.send(b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    r = c.response()
    ok(r is not None and r.status == 200, t + "keep-alive request served")
    t0 = time.monotonic()
    closed = c.closed(KEEPALIVE_TIMEOUT + 8)
    elapsed = time.monotonic() - t0
    c.close()
    ok(closed and within(elapsed, KEEPALIVE_TIMEOUT),
       t + "idle keep-alive connection closed after keepalive_timeout, silently",
       "closed=%s after %.2f s" % (closed, elapsed))

    # A reader that stops reading: dropped once send_timeout passes without progress.
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.settimeout(5)
    c.connect(("127.0.0.1", p))
    cport = c.getsockname()[1]
    c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    t0 = time.monotonic()
    ok(wait_for(lambda: tcp_state(p, cport) == 1, 5), t + "stalled reader: connection seen")
    gone = wait_for(lambda: tcp_state(p, cport) != 1, SEND_TIMEOUT + 10, interval=0.05)
    elapsed = time.monotonic() - t0
    # The clock starts at the last progress, and the kernel keeps taking bytes (growing
    # the send buffer, zero-window probes) for a few seconds after the client stops
    # reading, more so on a loaded machine: the bound allows for that, while a server
    # without send_timeout would hold the 64 MiB download open far longer.
    ok(gone and elapsed >= SEND_TIMEOUT - 0.5 and elapsed <= SEND_TIMEOUT + 8,
       t + "stalled reader dropped after send_timeout", "after %.2f s" % elapsed)
    c.close()
    r = request(p, "/a.txt")
    ok(r.status == 200 and r.body == b"abc\n", t + "healthy after the timeouts")
    ok(s.stop(), t + "stops cleanly")


LOG_LINE = re.compile(r'^(?P<host>\S+) (?P<ident>\S+) (?P<user>\S+) '
                      r'\[(?P<time>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] '
                      r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+|-)'
                      r'(?: "(?P<referer>[^"]*)" "(?P<agent>[^"]*)")?$')


def log_lines(path, n):
    """Waits until the log has at least n lines; returns them."""
    def read():
        try:
            with open(path, "rb") as f:
                lines = f.read().decode("latin-1").splitlines()
        except OSError:
            return None
        return lines if len(lines) >= n else None
    return wait_for(read, 5) or read() or []


def access_log():
    files = {"index.html": "i\n", "a.txt": "abc\n"}
    # One child: each child writes its line after answering, so with several the next
    # request (on a new connection) could be logged first and the order checks race.
    s = Server(mpm="prefork", files=files, extra='access_log_format = "combined"\n',
               mpm_section="prefork {\n start_servers = 1\n min_spare_servers = 1\n"
                           " max_spare_servers = 1\n}")
    log = os.path.join(s.dir, "access.log")
    started, err = s.start()
    ok(started, "combined: starts", err)
    p = s.port
    r404 = request(p, "/nope")
    request(p, "/a.txt?q=1", headers={"Referer": "http://ref.example/x",
                                      "User-Agent": 'agent "quoted" \\ back'})
    request(p, "/a.txt", method="HEAD")
    request(p, '/a"b')
    c = Conn(p)
    c.send(b"GARBAGE\r\n\r\n")
    c.response()
    c.close()
    request(p, "/a.txt", version="1.0", headers={"Host": None, "Connection": None})
    long_r = request(p, "/" + "t" * 3000, method="M" * 3000, headers={"User-Agent": "u" * 3000,
                                                                     "Referer": "r" * 3000})
    ok(long_r is not None and long_r.status == 501, "combined: a 6 kB request line is answered")
    lines = log_lines(log, 7)
    long_line = lines.pop() if len(lines) == 7 else ""
    m = LOG_LINE.match(long_line)
    ok(m and len(long_line) < 4096 and re.match(r"^M+\.\.\. /t+\.\.\. HTTP/1\.1$",
                                                m.group("request")) and
       re.match(r"^r+\.\.\.$", m.group("referer")) and re.match(r"^u+\.\.\.$", m.group("agent")),
       "combined: each huge field is cut short on its own, the line stays whole",
       long_line[:100] + "..." + long_line[-100:])
    is_(len(lines), 6, "combined: one line per response")
    m = [LOG_LINE.match(l) for l in lines]
    ok(all(m), "combined: every line has the CLF fields", "\n".join(lines))
    if len(lines) == 6 and all(m):
        now = time.strftime("%d/%b/%Y:%H:%M", time.localtime())
        ok(all(x.group("host") == "127.0.0.1" and x.group("ident") == "-" and
               x.group("user") == "-" for x in m), "combined: host, ident and user fields")
        ok(m[0].group("time").startswith(now[:11]), "combined: the time field is today",
           m[0].group("time"))
        is_(m[0].group("request"), "GET /nope HTTP/1.1", "combined: 404 request line")
        is_(m[0].group("status"), "404", "combined: 404 status")
        is_(m[0].group("bytes"), str(len(r404.body)), "combined: 404 bytes are the body's")
        is_(lines[1][lines[1].index('"GET'):],
            '"GET /a.txt?q=1 HTTP/1.1" 200 4 "http://ref.example/x" '
            '"agent \\x22quoted\\x22 \\x5c back"',
            "combined: request, status, body bytes, Referer, escaped User-Agent")
        ok(m[1].group("agent") is not None and '"' not in m[1].group("agent"),
           "combined: quotes in User-Agent cannot end the field")
        is_(lines[2][lines[2].index('"HEAD'):], '"HEAD /a.txt HTTP/1.1" 200 - "-" "-"',
            "combined: HEAD sent no body bytes, absent fields are -")
        is_(m[3].group("request"), "GET /a\\x22b HTTP/1.1", "combined: quote in the target escaped")
        is_(m[4].group("status"), "400", "combined: a refused request is logged (400)")
        is_(m[4].group("request"), "-", "combined: an unparsed request line is -")
        is_(m[5].group("request"), "GET /a.txt HTTP/1.0", "combined: HTTP/1.0 request line")
    ok(s.stop(), "combined: stops cleanly")

    s = Server(mpm="prefork", files=files, extra='access_log_format = "common"\n')
    log = os.path.join(s.dir, "access.log")
    started, err = s.start()
    ok(started, "common: starts", err)
    request(s.port, "/a.txt", headers={"Referer": "http://r.example/", "User-Agent": "ua"})
    lines = log_lines(log, 1)
    is_(len(lines), 1, "common: one line")
    ok(lines and re.match(r'^127\.0\.0\.1 - - \[[^]]+\] "GET /a\.txt HTTP/1\.1" 200 4$', lines[0]),
       "common: no Referer or User-Agent", lines and lines[0])
    ok(s.stop(), "common: stops cleanly")

    s = Server(mpm="prefork", files=files, extra='access_log = "off"\n')
    log = os.path.join(s.dir, "access.log")
    started, err = s.start()
    ok(started, "off: starts", err)
    c = Conn(s.port)
    c.send(b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    r1 = c.response()
    c.send(b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    r2 = c.response()
    c.close()
    ok(r1 and r2 and r1.status == r2.status == 200, "off: requests served")
    # The first request's line would have been written before the second was answered.
    ok(not os.path.exists(log) or os.path.getsize(log) == 0, "off: nothing is written")
    ok(s.stop(), "off: stops cleanly")

    s = Server(mpm="prefork", files=files, extra='access_log = "syslog"\n')
    log = os.path.join(s.dir, "access.log")
    started, err = s.start()
    ok(started, "syslog: accepted", err)
    is_(request(s.port, "/a.txt").status, 200, "syslog: requests served")
    ok(not os.path.exists(log), "syslog: no file written")
    ok(s.stop(), "syslog: stops cleanly")


for mpm in built_mpms():
    timeouts(mpm)
access_log()
done()
