# SPDX-License-Identifier: ISC
"""Request heads over real sockets (RFC 9112 sections 2-5, RFC 9110 section 9): the
request-line grammar, field syntax, Host rules, methods, and the configured limits (414,
431). Every refusal closes the connection, and the server keeps serving afterwards. A
client speaking another protocol is refused at once on every MPM built."""

import time

from mhd import Conn, Server, built_mpms, done, get_raw, is_, ok, request

LINE_MAX = 256
HEAD_MAX = 1024
FIELDS_MAX = 10

s = Server(mpm="prefork",
           extra="max_request_line = %d\nmax_header_size = %d\nmax_header_fields = %d\n"
           % (LINE_MAX, HEAD_MAX, FIELDS_MAX),
           files={"index.html": "<h1>hello</h1>\n", "a.txt": "abc\n"})
started, err = s.start()
ok(started, "server starts", err)
HOST = b"Host: 127.0.0.1\r\n"


def healthy(what):
    r = request(s.port, "/a.txt")
    ok(r is not None and r.status == 200 and r.body == b"abc\n",
       "%s: a following good request is served" % what)


def refused(data, status, what):
    """data must be answered with status and the connection closed."""
    r, raw = get_raw(s.port, data)
    ok(r is not None and r.status == status, "%s -> %d" % (what, status), raw[:200])
    if r is not None and status >= 400:
        is_(r.header("connection"), "close", "%s: Connection: close" % what)
    return r


def served(data, what, status=200):
    r, raw = get_raw(s.port, data)
    ok(r is not None and r.status == status, "%s -> %d" % (what, status), raw[:200])
    return r


# Request-line grammar.
refused(b"G@T / HTTP/1.1\r\n" + HOST + b"\r\n", 400, "bad method token")
refused(b"GET  / HTTP/1.1\r\n" + HOST + b"\r\n", 400, "two spaces after the method")
refused(b"GET /  HTTP/1.1\r\n" + HOST + b"\r\n", 400, "two spaces after the target")
refused(b"GET /\r\n" + HOST + b"\r\n", 400, "missing version (HTTP/0.9 style)")
refused(b"GET / http/1.1\r\n" + HOST + b"\r\n", 400, "lowercase version")
refused(b"GET / HTTP/1.1 \r\n" + HOST + b"\r\n", 400, "trailing space after the version")
refused(b"GET\t/\tHTTP/1.1\r\n" + HOST + b"\r\n", 400, "HTAB as separator")
refused(b"GET /a\x00b HTTP/1.1\r\n" + HOST + b"\r\n", 400, "NUL in the target")
refused(b"GET a.txt HTTP/1.1\r\n" + HOST + b"\r\n", 400, "relative target")
refused(b"GET * HTTP/1.1\r\n" + HOST + b"\r\n", 400, "asterisk-form for GET")
refused(b"GET / HTTP/2.0\r\n" + HOST + b"\r\n", 505, "HTTP/2.0")
refused(b"GET / HTTP/0.9\r\n" + HOST + b"\r\n", 505, "HTTP/0.9")
healthy("after grammar errors")

# RFC 9110 2.5: a higher minor version of a major version we implement is served as the
# highest minor version we conform to.
r = served(b"GET /a.txt HTTP/1.2\r\n" + HOST + b"Connection: close\r\n\r\n", "HTTP/1.2")
ok(r is not None and r.version == "HTTP/1.1" and r.body == b"abc\n",
   "HTTP/1.2 is answered as HTTP/1.1 with the file")

# Line ends: bare LF is tolerated (RFC 9112 2.2), a bare CR is not.
r = served(b"GET /a.txt HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n", "bare LF line ends")
ok(r is not None and r.body == b"abc\n", "bare LF: the file is served")
refused(b"GET /a.txt HTTP/1.1\rHost: 127.0.0.1\r\n\r\n", 400, "bare CR ending the request line")
refused(b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\rX: y\r\n\r\n", 400, "bare CR inside a field")
r = served(b"\r\n\r\nGET /a.txt HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n",
           "leading empty lines ignored")

# Field syntax.
refused(b"GET / HTTP/1.1\r\n" + HOST + b"X-Foo : bar\r\n\r\n", 400, "space before the colon")
refused(b"GET / HTTP/1.1\r\n" + HOST + b"X-Foo\t: bar\r\n\r\n", 400, "HTAB before the colon")
refused(b"GET / HTTP/1.1\r\n" + HOST + b"X-Foo: bar\r\n baz\r\n\r\n", 400, "obs-fold")
refused(b"GET / HTTP/1.1\r\n X-Foo: bar\r\n" + HOST + b"\r\n", 400,
        "whitespace-led line after the request line")
refused(b"GET / HTTP/1.1\r\n" + HOST + b": bar\r\n\r\n", 400, "empty field name")
refused(b"GET / HTTP/1.1\r\n" + HOST + b"X(Foo): bar\r\n\r\n", 400, "non-token field name")
refused(b"GET / HTTP/1.1\r\n" + HOST + b"X-Foo bar\r\n\r\n", 400, "field line without a colon")
refused(b"GET / HTTP/1.1\r\n" + HOST + b"X-Foo: a\x01b\r\n\r\n", 400, "control byte in a value")
r = served(b"GET /a.txt HTTP/1.1\r\n" + HOST + b"X-Foo: caf\xe9 \t\r\nConnection: close\r\n\r\n",
           "obs-text and trailing whitespace in a value")
healthy("after field syntax errors")

# Host (RFC 9112 3.2).
refused(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400, "HTTP/1.1 without Host")
refused(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "two Host fields")
refused(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "Host with a space")
refused(b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "Host with a slash")
refused(b"GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400, "Host with userinfo")
refused(b"GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", 400, "Host with a port out of range")
refused(b"GET / HTTP/1.1\r\nHost: \r\n\r\n", 400, "empty Host")
r = served(b"GET /a.txt HTTP/1.0\r\n\r\n", "HTTP/1.0 without Host")
ok(r is not None and r.body == b"abc\n", "HTTP/1.0 without Host: the file is served")
r = served(b"GET /a.txt HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n",
           "Host as an IPv6 literal")
r = served(b"GET http://127.0.0.1:%d/a.txt HTTP/1.1\r\nHost: other.example\r\n"
           b"Connection: close\r\n\r\n" % s.port, "absolute-form target")
ok(r is not None and r.body == b"abc\n", "absolute-form: its path is served")
r = served(b"GET http://127.0.0.1:%d HTTP/1.1\r\n" % s.port + HOST +
           b"Connection: close\r\n\r\n", "absolute-form with an empty path")
ok(r is not None and r.body == b"<h1>hello</h1>\n", "absolute-form, empty path: the root")
refused(b"GET ftp://127.0.0.1/a.txt HTTP/1.1\r\n" + HOST + b"\r\n", 400,
        "absolute-form with another scheme")
healthy("after Host errors")

# Methods (RFC 9110 section 9).
r = request(s.port, "/a.txt", method="GET")
ok(r.status == 200 and r.body == b"abc\n", "GET serves the file")
r = request(s.port, "/a.txt", method="HEAD")
ok(r.status == 200 and r.header("content-length") == "4", "HEAD: 200 with GET's length")
for target in ("*", "/a.txt", "/"):
    r = request(s.port, target, method="OPTIONS")
    is_(r.status, 200, "OPTIONS %s is 200" % target)
    allow = [m.strip() for m in (r.header("allow") or "").split(",")]
    ok(set(allow) == {"GET", "HEAD", "OPTIONS"}, "OPTIONS %s: Allow lists GET, HEAD, OPTIONS"
       % target, r.header("allow"))
    is_(r.header("content-length"), "0", "OPTIONS %s: Content-Length: 0" % target)
for m in ("POST", "PUT", "DELETE", "PATCH"):
    r = request(s.port, "/a.txt", method=m, headers={"Content-Length": "0"})
    is_(r.status, 405, "%s on a static file is 405" % m)
    allow = [x.strip() for x in (r.header("allow") or "").split(",")]
    ok("GET" in allow and "HEAD" in allow and m not in allow, "%s: 405 carries Allow" % m,
       r.header("allow"))

# TRACE would reflect credentials (cross-site tracing): refused, never echoed.
secret = "trace-secret-7f3a9c"
r, raw = get_raw(s.port, ("TRACE /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sid=%s\r\n"
                          "X-Secret: %s\r\nConnection: close\r\n\r\n" % (secret, secret)).encode())
ok(r is not None and r.status == 405, "TRACE is 405", raw[:200])
ok(secret.encode() not in raw, "TRACE never echoes the request")
ok(r is not None and "TRACE" not in (r.header("allow") or "TRACE"), "TRACE: Allow omits TRACE")

r, raw = get_raw(s.port, b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n"
                 b"Connection: close\r\n\r\n")
ok(r is not None and r.status in (400, 405), "CONNECT is refused (405 or 400)", raw[:200])
r = request(s.port, "/a.txt", method="BREW")
is_(r.status, 501, "an unknown method is 501")
r = request(s.port, "/a.txt", method="get")
is_(r.status, 501, "methods are case-sensitive: 'get' is unknown, 501")
healthy("after method refusals")

# A refused method still leaves a persistent connection usable.
c = Conn(s.port)
c.send(b"DELETE /a.txt HTTP/1.1\r\n" + HOST + b"\r\n")
r1 = c.response()
c.send(b"GET /a.txt HTTP/1.1\r\n" + HOST + b"\r\n")
r2 = c.response()
ok(r1 is not None and r1.status == 405 and r2 is not None and r2.status == 200
   and r2.body == b"abc\n", "405 keeps the connection: the next request is served")
c.close()

# Limits: the request line, the head's size, the number of fields.
fixed = len("GET / HTTP/1.1")
at_limit = b"GET /" + b"a" * (LINE_MAX - fixed) + b" HTTP/1.1"
is_(len(at_limit), LINE_MAX, "the test's request line is exactly max_request_line")
r = served(at_limit + b"\r\n" + HOST + b"Connection: close\r\n\r\n",
           "request line of exactly max_request_line", status=404)
refused(b"GET /" + b"a" * (LINE_MAX - fixed + 1) + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414,
        "request line one byte over max_request_line")
refused(b"GET /" + b"a" * (LINE_MAX * 3) + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414,
        "request line far over max_request_line")
healthy("after 414")

# A head of exactly max_header_size bytes is read; one more byte is 431.
base = b"GET /a.txt HTTP/1.1\r\n" + HOST + b"Connection: close\r\nX-Pad: \r\n\r\n"
pad = HEAD_MAX - len(base)
head = base.replace(b"X-Pad: ", b"X-Pad: " + b"p" * pad)
is_(len(head), HEAD_MAX, "the test's head is exactly max_header_size")
r = served(head, "head of exactly max_header_size")
head = base.replace(b"X-Pad: ", b"X-Pad: " + b"p" * (pad + 1))
refused(head, 431, "head one byte over max_header_size")
refused(b"GET / HTTP/1.1\r\n" + HOST + (b"X-Big: " + b"b" * 200 + b"\r\n") * 8 + b"\r\n", 431,
        "header section too large")
healthy("after 431 (size)")

fields = b"".join(b"X-F%d: v\r\n" % i for i in range(FIELDS_MAX - 2))
r = served(b"GET /a.txt HTTP/1.1\r\n" + HOST + b"Connection: close\r\n" + fields + b"\r\n",
           "exactly max_header_fields fields")
refused(b"GET / HTTP/1.1\r\n" + HOST + fields + b"X-One: more\r\nX-Two: more\r\n\r\n", 431,
        "more than max_header_fields fields")
healthy("after 431 (count)")

# An incomplete head at the size limit is refused without waiting for more.
c = Conn(s.port, timeout=5)
c.send(b"GET / HTTP/1.1\r\n" + HOST + b"X-Big: " + b"b" * HEAD_MAX)
r = c.response()
ok(r is not None and r.status == 431, "an unterminated head is 431 once it passes the limit")
ok(c.closed(), "431: the connection is closed")
c.close()
healthy("at the end")

ok(s.stop(), "server stops cleanly")

# Another protocol on the HTTP port: 400 and close at its first impossible byte, long
# before header_timeout, with the rest of the request line never arriving.
FOREIGN_TIMEOUT = 30
FOREIGN = [
    ("TLS ClientHello", bytes.fromhex("16030100a5010000a10303") + b"\x5a" * 32),
    ("SSH banner", b"SSH-2.0-OpenSSH_9.2p1\r\n"),
    ("binary zeros", b"\0\0\0\0"),
    ("https scheme as version", b"GET / HTTPS"),
]
for mpm in built_mpms():
    f = Server(mpm=mpm, extra="header_timeout = %d\n" % FOREIGN_TIMEOUT,
               files={"a.txt": "abc\n"})
    started, err = f.start()
    ok(started, "%s: server for foreign protocols starts" % mpm, err)
    for what, data in FOREIGN:
        c = Conn(f.port, timeout=FOREIGN_TIMEOUT / 3)
        t0 = time.monotonic()
        c.send(data)
        try:
            r = c.response()
            closed = c.closed(timeout=FOREIGN_TIMEOUT / 3)
        except OSError:
            r, closed = None, False
        elapsed = time.monotonic() - t0
        c.close()
        ok(r is not None and r.status == 400 and closed,
           "%s: %s -> 400 and close" % (mpm, what), r and r.status)
        ok(elapsed < 2.0, "%s: %s refused at once, not after header_timeout" % (mpm, what),
           "%.2f s" % elapsed)
    r = request(f.port, "/a.txt")
    ok(r is not None and r.status == 200, "%s: serves after foreign protocols" % mpm)
    ok(f.stop(), "%s: server stops cleanly" % mpm)
done()
