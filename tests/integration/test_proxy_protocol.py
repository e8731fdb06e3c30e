# SPDX-License-Identifier: ISC
"""The real client address, on every MPM. A proxy_protocol listener takes the client from a
PROXY v1 or v2 header (v2 LOCAL: the balancer's own connection keeps its address), logs it,
and counts it for max_connections_per_client in place of the balancer; a header that is
missing, malformed or slower than header_timeout closes the connection with nothing answered
and nothing more read, logged once per episode. On a plain listener, trusted_proxies and
client_address_header walk X-Forwarded-For / Forwarded right to left; an untrusted peer's
fields are ignored, a garbage entry stops the walk, and status_allow judges the result."""

import socket
import struct
import time

from mhd import (NotApplicable, Server, clean_log, done, is_, ok, per_mpm, read_response, request, wait_for)

MPMS = {
    "prefork": "prefork {\n start_servers = 3\n min_spare_servers = 1\n max_spare_servers = 4\n}",
    "worker": "worker {\n processes = 2\n threads_per_process = 4\n}",
    "event": "event {\n processes = 2\n}",
    "uring": "uring {\n processes = 2\n}",
    "fork": "",
    "thread": "",
    "sigio": "sigio {\n processes = 2\n}",
    "iterative": "",
}
GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
SIG2 = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(src, sport=40000, dst="127.0.0.1", dport=80):
    return ("PROXY TCP4 %s %s %d %d\r\n" % (src, dst, sport, dport)).encode()


def v2(src, sport=40000, dst="127.0.0.1", dport=80, command=1, family=0x11, length=None):
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    n = len(body) if length is None else length
    return SIG2 + bytes([0x20 | command, family]) + struct.pack("!H", n) + body


def talk(port, data, timeout=5.0, pause=None):
    """Sends data (in two parts, pause seconds apart, when pause is given) and reads until
    the server closes: (bytes answered, seconds until the close)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t0 = time.monotonic()
    try:
        if pause is None:
            s.sendall(data)
        else:
            s.sendall(data[:5])
            time.sleep(pause)
            try:
                s.sendall(data[5:])
            except OSError:
                pass
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not b:
                break
            out += b
        return out, time.monotonic() - t0
    finally:
        s.close()


def access_lines(server):
    try:
        with open(server.dir + "/access.log") as f:
            return f.read().splitlines()
    except OSError:
        return []


def logged(server, addr, n0):
    """Whether an access-log line after the first n0 starts with addr."""
    return wait_for(lambda: any(l.startswith(addr + " ") for l in access_lines(server)[n0:]), 5)


def held(port, header):
    """A connection behind header, answered 200 and kept open, or None."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(header + GET)
    f = s.makefile("rb")
    r = read_response(f)
    if r and r.status == 200:
        return s, f
    s.close()
    return None


def per_client(mpm, port):
    """max_connections_per_client = 1 counts the header's source, not the balancer."""
    a = held(port, v2("192.0.2.50"))
    ok(a is not None, "%s: client A holds its one connection" % mpm)
    out, _ = talk(port, v2("192.0.2.50") + GET)
    ok(out.startswith(b"HTTP/1.1 503"), "%s: client A's second connection: 503" % mpm,
       out[:80])
    b = held(port, v2("192.0.2.51"))
    ok(b is not None, "%s: client B behind the same balancer: served" % mpm)
    for h in (a, b):
        if h:
            h[0].close()


CLOSE = GET.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
BAD = [
    ("no header (bad signature)", GET),
    ("v2 length beyond the buffer", SIG2 + b"\x21\x11\xff\xff" + b"\x00" * 64 + GET),
    ("v1 without CRLF in 107 bytes", b"PROXY TCP4 " + b"1" * 120 + b"\r\n" + GET),
    ("v2 family/length mismatch", v2("192.0.2.1", length=4) + GET),
    ("v1 address that does not parse", v1("192.0.2.300") + GET),
    ("v1 TCP4 with an IPv6 address", b"PROXY TCP4 ::1 ::1 1 2\r\n" + GET),
]


def proxy_scenario(mpm, section):
    s = Server(mpm=mpm, mpm_section=section or None,
               extra="header_timeout = 2\nmax_connections_per_client = 1\n")
    port = s.port
    s.listen = ["127.0.0.1:%d proxy_protocol" % port]
    s.write_conf()
    started, err = s.start()
    ok(started, "%s: starts with a proxy_protocol listener" % mpm, err)
    if not started:
        return

    for what, header, want in (("PROXY v1", v1("192.0.2.7"), "192.0.2.7"),
                               ("PROXY v2 TCP4", v2("198.51.100.9"), "198.51.100.9"),
                               ("PROXY v2 LOCAL (a health check)", SIG2 + b"\x20\x00\x00\x00",
                                "127.0.0.1")):
        n0 = len(access_lines(s))
        out, _ = talk(port, header + CLOSE)
        ok(out.startswith(b"HTTP/1.1 200"), "%s: %s, then a request: 200" % (mpm, what),
           out[:80])
        ok(logged(s, want, n0), "%s: %s: logged as %s" % (mpm, what, want),
           access_lines(s)[-3:])

    if mpm == "iterative":
        ok(True, "%s: per-client limit # SKIP one connection at a time: a held connection "
           "holds its only worker" % mpm)
    else:
        per_client(mpm, port)

    # Refusals: closed, nothing answered (the GET after a bad header is never read).
    n0 = len(access_lines(s))
    for what, data in BAD:
        out, _ = talk(port, data)
        is_(out, b"", "%s: %s: closed, nothing answered" % (mpm, what))
    out, took = talk(port, v1("192.0.2.8") + GET, timeout=10, pause=4)
    is_(out, b"", "%s: a header slower than header_timeout: closed, nothing answered" % mpm)
    ok(took < 4.5, "%s: ... at header_timeout, not once it came whole" % mpm, took)
    # The per-client connections above are logged as they close, maybe only now.
    late = [l for l in access_lines(s)[n0:] if not l.startswith("192.0.2.5")]
    ok(not late, "%s: no refusal is access-logged" % mpm, late)
    refusals = s.stderr().count("on a proxy_protocol listener")
    if mpm == "fork":
        ok(refusals >= 1, "%s: refusals logged (a process per connection: once each)" % mpm)
    else:
        ok(1 <= refusals <= 3, "%s: the refusals are logged once per episode (per process), "
           "not once each: %d lines" % (mpm, refusals), s.stderr()[-1500:])
    ok("refused: no PROXY protocol signature" in s.stderr() or mpm != "fork" and refusals,
       "%s: the log names the problem" % mpm, s.stderr()[-800:])
    out, _ = talk(port, v1("192.0.2.7") + CLOSE)
    ok(out.startswith(b"HTTP/1.1 200"), "%s: still serving after the refusals" % mpm, out[:80])
    clean_log(s, mpm)
    ok(s.stop(), "%s: stops" % mpm)


for mpm, section in per_mpm(MPMS, "PROXY protocol listener"):
    proxy_scenario(mpm, section)


def xff_request(port, source, value, field="X-Forwarded-For", path="/"):
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n%s: %s\r\nConnection: close\r\n\r\n"
                   % (path, field, value)).encode())
        return read_response(s.makefile("rb"))
    finally:
        s.close()


def forwarded_scenario(mpm, section):
    s = Server(mpm=mpm, mpm_section=section or None,
               extra='trusted_proxies = {"127.0.0.2", "10.0.0.0/8"}\n'
                     'status_path = "/status"\nstatus_allow = {"203.0.113.9"}\n')
    started, err = s.start()
    ok(started, "%s: starts with trusted_proxies" % mpm, err)
    if not started:
        return
    cases = [
        ("127.0.0.2", "203.0.113.9, 10.1.1.1", "203.0.113.9",
         "a trusted peer: the walk passes trusted hops"),
        ("127.0.0.2", "198.51.100.1, 203.0.113.9", "203.0.113.9",
         "the right-most untrusted entry wins over a forged left one"),
        ("127.0.0.2", "203.0.113.9, garbage, 10.1.1.1", "10.1.1.1",
         "a garbage entry stops the walk at the last good address"),
        ("127.0.0.1", "203.0.113.9", "127.0.0.1", "an untrusted peer's field is ignored"),
    ]
    for source, value, want, what in cases:
        n0 = len(access_lines(s))
        r = xff_request(s.port, source, value)
        ok(r is not None and r.status == 200, "%s: %s: served" % (mpm, what))
        ok(logged(s, want, n0), "%s: %s: logged as %s" % (mpm, what, want),
           access_lines(s)[-2:])
    r = xff_request(s.port, "127.0.0.2", "203.0.113.9", path="/status?auto")
    ok(r is not None and r.status == 200, "%s: status_allow admits the real client" % mpm,
       r and r.status)
    r = xff_request(s.port, "127.0.0.1", "203.0.113.9", path="/status?auto")
    ok(r is not None and r.status == 403, "%s: ... but not an untrusted peer naming it" % mpm,
       r and r.status)
    clean_log(s, mpm)
    ok(s.stop(), "%s: stops" % mpm)

    s = Server(mpm=mpm, mpm_section=section or None,
               extra='trusted_proxies = {"127.0.0.2"}\nclient_address_header = "forwarded"\n')
    started, err = s.start()
    ok(started, "%s: starts with client_address_header = forwarded" % mpm, err)
    if not started:
        return
    n0 = len(access_lines(s))
    xff_request(s.port, "127.0.0.2", "203.0.113.7")
    ok(logged(s, "127.0.0.2", n0), "%s: forwarded: X-Forwarded-For is not read" % mpm,
       access_lines(s)[-2:])
    n0 = len(access_lines(s))
    xff_request(s.port, "127.0.0.2", 'for="[2001:db8::7]:4711"', field="Forwarded")
    ok(logged(s, "2001:db8::7", n0), "%s: forwarded: Forwarded for= is" % mpm,
       access_lines(s)[-2:])
    ok(s.stop(), "%s: stops" % mpm)


WALK = {m: MPMS[m] if m in ("prefork", "worker", "event") else
        NotApplicable("the walk is the engine's, per request: prefork, worker and event cover it")
        for m in MPMS}
for mpm, section in per_mpm(WALK, "trusted_proxies walk"):
    forwarded_scenario(mpm, section)

done()
