# SPDX-License-Identifier: ISC
"""Request bodies on a static server (RFC 9112 sections 6-7, RFC 9110 section 10.1.1): a
body is read and discarded so that the next pipelined request starts exactly where it
ends; framing that is invalid or ambiguous (Content-Length with Transfer-Encoding, unequal
lengths, bad chunks) is a 400 and closes the connection, so a smuggled request is never
answered; Expect: 100-continue; max_body_size. Run for each MPM that is built."""

from mhd import Conn, Server, built_mpms, done, is_, ok, parse_responses

MAX_BODY = 65536
HOST = b"Host: 127.0.0.1\r\n"
FILES = {"index.html": "<h1>hello</h1>\n", "a.txt": "AAA\n", "b.txt": "BBBB\n",
         "secret.txt": "hidden-request-answered\n"}


def one(port, data, timeout=5.0):
    """Sends data on a fresh connection; returns (first response, whether the server then
    closed the connection without sending anything more)."""
    c = Conn(port, timeout=timeout)
    try:
        c.send(data)
        r = c.response()
        return r, (r is not None and c.closed(timeout))
    finally:
        c.close()


def pipeline(port, data, n, timeout=5.0):
    """Sends data at once and reads n responses; returns them (None where missing)."""
    c = Conn(port, timeout=timeout)
    out = []
    try:
        c.send(data)
        for _ in range(n):
            out.append(c.response())
    except OSError:
        pass
    finally:
        c.close()
    return out + [None] * (n - len(out))


def rejects(port, data, what, status=400):
    r, closed = one(port, data)
    ok(r is not None and r.status == status, "%s -> %d" % (what, status),
       r and "%d %s" % (r.status, r.reason))
    ok(closed, "%s: the connection is closed after it" % what)


def only_one_response(port, data, what):
    """The smuggling check: whatever the first answer, nothing is sent for the request
    hidden in the body, and the secret file's content never appears."""
    c = Conn(port, timeout=5)
    try:
        c.send(data)
        raw = c.rest()
    except OSError:
        raw = b"<timeout: connection left open>"
    finally:
        c.close()
    resps, _ = parse_responses(raw)
    ok(len(resps) == 1 and resps[0].status == 400, "%s: exactly one response, a 400" % what,
       raw[:300])
    ok(b"hidden-request-answered" not in raw, "%s: the hidden request is not served" % what)


def get(path, last=False):
    return (b"GET " + path + b" HTTP/1.1\r\n" + HOST +
            (b"Connection: close\r\n" if last else b"") + b"\r\n")


def bodies(mpm):
    s = Server(mpm=mpm, extra="max_body_size = %d\n" % MAX_BODY, files=FILES)
    started, err = s.start()
    ok(started, "%s: starts" % mpm, err)
    p = s.port
    t = mpm + ": "

    # Content-Length bodies are read and discarded; the pipelined request follows.
    r1, r2 = pipeline(p, b"GET /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: 11\r\n\r\n"
                      b"GET /b.txt " + get(b"/b.txt", last=True), 2)
    ok(r1 and r1.status == 200 and r1.body == b"AAA\n", t + "GET with a body is served")
    ok(r2 and r2.status == 200 and r2.body == b"BBBB\n",
       t + "the body is discarded: the pipelined request after it is answered")

    r1, r2 = pipeline(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\n\r\n"
                      b"hello" + get(b"/b.txt", last=True), 2)
    ok(r1 and r1.status == 405 and r2 and r2.body == b"BBBB\n",
       t + "POST body discarded after the 405, next request served")

    r1, r2 = pipeline(p, b"GET /missing HTTP/1.1\r\n" + HOST + b"Content-Length: 3\r\n\r\n"
                      b"xyz" + get(b"/a.txt", last=True), 2)
    ok(r1 and r1.status == 404 and r2 and r2.body == b"AAA\n",
       t + "body on a 404 request discarded, next request served")

    r1, r2 = pipeline(p, b"GET /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: 5, 5\r\n\r\n"
                      b"12345" + get(b"/b.txt", last=True), 2)
    ok(r1 and r1.status == 200 and r2 and r2.body == b"BBBB\n",
       t + "Content-Length list of equal values is accepted")

    # The body arrives late and in pieces: the answer waits for all of it.
    c = Conn(p)
    c.send(b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: 6000\r\n\r\n")
    for i in range(6):
        c.send(b"x" * 1000)
    c.send(get(b"/b.txt", last=True))
    r1, r2 = c.response(), c.response()
    ok(r1 and r1.status == 405 and r2 and r2.body == b"BBBB\n",
       t + "a body sent in pieces after the head is consumed exactly")
    c.close()

    # Invalid Content-Length.
    for value, what in ((b"-1", "negative"), (b"abc", "non-numeric"), (b"+5", "signed"),
                        (b"0x10", "hex"), (b"1, 2", "unequal list"), (b"5 5", "two numbers"),
                        (b"", "empty"), (b"99999999999999999999999", "overflowing")):
        rejects(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: " + value +
                b"\r\n\r\n", t + "Content-Length " + what)
    rejects(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: 1\r\n"
            b"Content-Length: 2\r\n\r\nxy", t + "two differing Content-Length fields")

    # Chunked bodies, with extensions and trailers, are decoded and discarded.
    chunked = (b"5;name=value;q=\"quoted\"\r\nhello\r\n"
               b"A\r\n0123456789\r\n"
               b"0\r\nX-Trailer: yes\r\nX-Other: t\r\n\r\n")
    r1, r2 = pipeline(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n"
                      b"\r\n" + chunked + get(b"/b.txt", last=True), 2)
    ok(r1 and r1.status == 405 and r2 and r2.body == b"BBBB\n",
       t + "chunked body with extensions and trailers discarded, next request served")
    r1, r2 = pipeline(p, b"GET /a.txt HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n"
                      b"\r\n0\r\n\r\n" + get(b"/b.txt", last=True), 2)
    ok(r1 and r1.body == b"AAA\n" and r2 and r2.body == b"BBBB\n",
       t + "empty chunked body, next request served")
    big = b"".join(b"%x\r\n%s\r\n" % (n, b"z" * n) for n in (4000, 20000, 1, 9000)) + b"0\r\n\r\n"
    c = Conn(p)
    c.send(b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip, chunked\r\n\r\n")
    for i in range(0, len(big), 7000):
        c.send(big[i:i + 7000])
    c.send(get(b"/b.txt", last=True))
    r1, r2 = c.response(), c.response()
    ok(r1 and r1.status == 405 and r2 and r2.body == b"BBBB\n",
       t + "34 kB chunked body in pieces discarded, next request served")
    c.close()

    # Malformed chunked framing.
    for body, what in ((b"zz\r\nhello\r\n0\r\n\r\n", "bad hex size"),
                       (b"5\r\nhelloX\r\n0\r\n\r\n", "data not followed by CRLF"),
                       (b"5\nhello\r\n0\r\n\r\n", "size line ended by bare LF"),
                       (b"-5\r\nhello\r\n0\r\n\r\n", "negative size"),
                       (b"ffffffffffffffffff\r\n", "overflowing size"),
                       (b"\r\n\r\n", "empty size"),
                       (b"0\r\n X: folded\r\n\r\n", "folded trailer"),
                       (b"0\r\nX-Foo\r\n\r\n", "trailer line without a colon"),
                       (b"0\r\nGET /b.txt HTTP/1.1\r\n\r\n", "request line as a trailer")):
        rejects(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n" +
                body, t + "chunked: " + what)

    # Transfer-Encoding refusals (RFC 9112 6.1, 6.3).
    rejects(p, b"POST /a.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            t + "Transfer-Encoding in HTTP/1.0")
    rejects(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip\r\n\r\nxx",
            t + "Transfer-Encoding not ending in chunked")
    rejects(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", t + "chunked applied twice")
    rejects(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: xchunked\r\n\r\n"
            b"0\r\n\r\n", t + "Transfer-Encoding: xchunked")
    rejects(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: foo, chunked\r\n\r\n"
            b"0\r\n\r\n", t + "unknown transfer coding", status=501)

    # Request smuggling: both framings at once is refused, never guessed.
    smuggled = get(b"/secret.txt", last=True)
    only_one_response(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: 6\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, t + "CL.TE")
    only_one_response(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n"
                      b"Content-Length: 4\r\n\r\n%x\r\n" % len(smuggled) + smuggled +
                      b"\r\n0\r\n\r\n", t + "TE.CL")
    only_one_response(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: 0\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(smuggled) + smuggled, t + "CL.CL")
    only_one_response(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Transfer-Encoding : chunked\r\n"
                      b"Content-Length: 0\r\n\r\n" + smuggled, t + "TE with space before colon")
    only_one_response(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: 0\r\n"
                      b"Transfer-Encoding:\x0bchunked\r\n\r\n" + smuggled, t + "TE with a VT")
    only_one_response(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: 0\r\n"
                      b"Transfer-Encoding: chunked\r\n\tx\r\n\r\n" + smuggled,
                      t + "TE followed by obs-fold")

    # Expect: 100-continue.
    c = Conn(p)
    c.send(b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Expect: 100-continue\r\nContent-Length: 4"
           b"\r\n\r\n")
    line = c.file.readline()
    is_(line, b"HTTP/1.1 100 Continue\r\n", t + "Expect: 100-continue gets 100 Continue")
    is_(c.file.readline(), b"\r\n", t + "100 Continue is a bare status line")
    c.send(b"abcd" + get(b"/b.txt", last=True))
    r1, r2 = c.response(), c.response()
    ok(r1 and r1.status == 405 and r2 and r2.body == b"BBBB\n",
       t + "after 100 Continue: the final response, then the next request")
    c.close()
    c = Conn(p)
    c.send(b"GET /a.txt HTTP/1.1\r\n" + HOST + b"Expect: 100-continue\r\n"
           b"Content-Length: 4\r\n\r\nabcd" + get(b"/b.txt", last=True))
    r1, r2 = c.response(), c.response()
    ok(r1 and r1.status == 200 and r1.body == b"AAA\n" and r2 and r2.body == b"BBBB\n",
       t + "100-continue with the body already sent: no 100, final responses in order")
    c.close()
    r1, r2 = pipeline(p, b"GET /a.txt HTTP/1.0\r\nExpect: 100-continue\r\n"
                      b"Content-Length: 2\r\nConnection: keep-alive\r\n\r\nzz" +
                      get(b"/b.txt", last=True), 2)
    ok(r1 and r1.status == 200 and r2 and r2.body == b"BBBB\n",
       t + "HTTP/1.0 Expect: 100-continue is ignored")
    rejects(p, b"GET /a.txt HTTP/1.1\r\n" + HOST + b"Expect: teapot\r\n\r\n",
            t + "an unknown expectation", status=417)

    # max_body_size.
    rejects(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n\r\n"
            % (MAX_BODY + 1), t + "Content-Length over max_body_size", status=413)
    c = Conn(p)
    c.send(b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Expect: 100-continue\r\n"
           b"Content-Length: %d\r\n\r\n" % (MAX_BODY * 4))
    r = c.response()
    ok(r is not None and r.status == 413,
       t + "over max_body_size with 100-continue: 413 at once, no 100")
    c.close()
    r1, r2 = pipeline(p, b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n\r\n"
                      % MAX_BODY + b"m" * MAX_BODY + get(b"/b.txt", last=True), 2)
    ok(r1 and r1.status == 405 and r2 and r2.body == b"BBBB\n",
       t + "a body of exactly max_body_size is read")
    chunk = b"%x\r\n%s\r\n" % (16384, b"c" * 16384)
    c = Conn(p)
    c.send(b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n")
    r = None
    try:
        for _ in range(MAX_BODY // 16384 + 2):
            c.send(chunk)
        r = c.response()
    except OSError:
        pass
    ok(r is not None and r.status == 413, t + "a chunked body over max_body_size is 413")
    c.close()

    ok(s.stop(), t + "stops cleanly")


def edge_head_fills_buffer(mpm):
    """A head of exactly max_header_size leaves no room in the read buffer; its body must
    still be read and the connection kept in sync."""
    s = Server(mpm=mpm, extra="max_header_size = 512\nmax_request_line = 256\n", files=FILES)
    started, err = s.start()
    ok(started, "%s: starts with max_header_size = 512" % mpm, err)
    base = b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\nX-Pad: \r\n\r\n"
    head = base.replace(b"X-Pad: ", b"X-Pad: " + b"p" * (512 - len(base)))
    is_(len(head), 512, "%s: the head is exactly max_header_size" % mpm)
    r1, r2 = pipeline(s.port, head + b"hello" + get(b"/b.txt", last=True), 2)
    ok(r1 and r1.status == 405 and r2 and r2.body == b"BBBB\n",
       "%s: body after a head that fills the buffer, then the next request" % mpm)
    base = b"POST /a.txt HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\nX-Pad: \r\n\r\n"
    head = base.replace(b"X-Pad: ", b"X-Pad: " + b"p" * (512 - len(base)))
    r1, r2 = pipeline(s.port, head + b"3\r\nabc\r\n0\r\n\r\n" + get(b"/b.txt", last=True), 2)
    ok(r1 and r1.status == 405 and r2 and r2.body == b"BBBB\n",
       "%s: chunked body after a head that fills the buffer, then the next request" % mpm)
    ok(s.stop(), "%s: stops cleanly" % mpm)


for mpm in built_mpms():
    bodies(mpm)
    edge_head_fills_buffer(mpm)
done()
