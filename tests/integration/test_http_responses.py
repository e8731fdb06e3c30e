# SPDX-License-Identifier: ISC
"""Responses for static files (RFC 9110 sections 6-8, 15; RFC 9112 section 9): the status
line and the fields every response carries, MIME types, validators, HEAD, directories
(redirect, index, 403, listing), 403/404, error bodies, and connection management
(HTTP/1.0 keep-alive, max_keepalive_requests, pipelining, large files), a listing of
3,000 entries. Run for each MPM that is built."""

import calendar
import html
import os
import re
import time
import urllib.parse

from mhd import (Conn, Server, built_mpms, done, exchange, get_raw, is_, ok,
                 parse_responses, request)

IMF = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
                 r"Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")
MTIME = calendar.timegm((2020, 1, 2, 3, 4, 5))
MTIME_TEXT = "Thu, 02 Jan 2020 03:04:05 GMT"
BIG = bytes((i * 7 + i // 251) & 0xff for i in range(300000))
HOST = b"Host: 127.0.0.1\r\n"

FILES = {
    "index.html": "<h1>hello</h1>\n",
    "a.txt": "abcdefghij\n",
    "style.css": "body{}\n",
    "app.js": "let x;\n",
    "pic.png": b"\x89PNG\r\n\x1a\n",
    "data.zzz": "unknown extension\n",
    "noext": "no extension\n",
    "empty.txt": "",
    "big.bin": BIG,
    "sub/index.html": "<p>sub</p>\n",
    "noindex/file.txt": "x\n",
    "with space.txt": "spaced\n",
    "caf\u00e9.txt": "utf8 name\n",
    "secret.txt": "unreadable\n",
}
for i in range(20):
    FILES["p/%02d.txt" % i] = "file %02d\n" % i


def imf_time(text):
    return calendar.timegm(time.strptime(text, "%a, %d %b %Y %H:%M:%S GMT"))


def head_fields(r):
    return sorted((k, v) for k, v in r.headers if k != "date")


def responses(mpm):
    t = mpm + ": "
    s = Server(mpm=mpm, extra='mime_types = ""\ndefault_type = "application/x-test-default"\n'
               "max_keepalive_requests = 3\n", files=FILES)
    os.utime(os.path.join(s.root, "a.txt"), (MTIME, MTIME))
    os.chmod(os.path.join(s.root, "secret.txt"), 0)
    os.mkfifo(os.path.join(s.root, "fifo"), 0o644)
    started, err = s.start()
    ok(started, t + "starts", err)
    p = s.port

    # Status line and the fields every response carries.
    c = Conn(p)
    c.send(b"GET /a.txt HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    status_line = c.file.readline()
    c.close()
    is_(status_line, b"HTTP/1.1 200 OK\r\n", t + "status line")
    r = request(p, "/a.txt")
    date = r.header("date") or ""
    ok(IMF.match(date), t + "Date is an IMF-fixdate", date)
    ok(IMF.match(date) and abs(imf_time(date) - time.time()) <= 5, t + "Date is now", date)
    ok(re.match(r"^minihttpd/\d", r.header("server") or ""), t + "Server names us and the version",
       r.header("server"))
    is_(r.header("content-length"), "11", t + "Content-Length")
    is_(r.body, b"abcdefghij\n", t + "body")
    is_(r.header("last-modified"), MTIME_TEXT, t + "Last-Modified is the file's mtime")
    etag = r.header("etag") or ""
    ok(re.match(r'^"[\x21\x23-\x7e]+"$', etag), t + "ETag is a strong entity-tag", etag)
    is_(r.header("accept-ranges"), "bytes", t + "Accept-Ranges: bytes")
    is_(len([k for k, v in r.headers if k == "date"]), 1, t + "one Date field")
    is_(request(p, "/a.txt").header("etag"), etag, t + "ETag is stable")
    with open(os.path.join(s.root, "a.txt"), "a") as f:
        f.write("more\n")
    os.utime(os.path.join(s.root, "a.txt"), (MTIME, MTIME))
    r = request(p, "/a.txt")
    ok(r.header("etag") and r.header("etag") != etag and r.body == b"abcdefghij\nmore\n",
       t + "ETag changes with the content")
    r = request(p, "/a.txt?x=1&y=%20")
    ok(r.status == 200 and r.body.startswith(b"abcdefghij"), t + "the query is not part of the path")

    # Content-Type from the built-in table; the configured default for the rest.
    for path, want in (("/index.html", "text/html; charset=utf-8"),
                       ("/style.css", "text/css; charset=utf-8"),
                       ("/app.js", "text/javascript; charset=utf-8"),
                       ("/pic.png", "image/png"),
                       ("/a.txt", "text/plain; charset=utf-8"),
                       ("/data.zzz", "application/x-test-default"),
                       ("/noext", "application/x-test-default")):
        is_(request(p, path).header("content-type"), want, t + "Content-Type of " + path)

    # HEAD: the same fields as GET, and nothing after the head.
    for path in ("/a.txt", "/big.bin", "/missing", "/sub", "/empty.txt"):
        g = request(p, path)
        raw = exchange(p, b"HEAD " + path.encode() + b" HTTP/1.1\r\n" + HOST +
                       b"Connection: close\r\n\r\n")
        resps, rest = parse_responses(raw, head_only=(0,))
        ok(len(resps) == 1 and head_fields(resps[0]) == head_fields(g),
           t + "HEAD %s: same fields as GET" % path,
           resps and "%s\n%s" % (head_fields(resps[0]), head_fields(g)))
        is_(rest, b"", t + "HEAD %s: no body, connection closed after the head" % path)

    # Other files.
    r = request(p, "/empty.txt")
    ok(r.status == 200 and r.header("content-length") == "0" and r.body == b"",
       t + "empty file: 200, Content-Length: 0")
    r = request(p, "/big.bin", timeout=10)
    ok(r.status == 200 and r.header("content-length") == str(len(BIG)) and r.body == BIG,
       t + "300 kB file served whole and intact")
    r = request(p, "/with%20space.txt")
    ok(r.status == 200 and r.body == b"spaced\n", t + "percent-encoded space in the name")
    r = request(p, "/caf%C3%A9.txt")
    ok(r.status == 200 and r.body == b"utf8 name\n", t + "percent-encoded UTF-8 name")
    r, raw = get_raw(p, b"GET /fifo HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n",
                     timeout=5)
    ok(r is not None and r.status == 404, t + "a FIFO is not served (404), and does not hang",
       raw[:100])

    # Directories.
    r = request(p, "/sub")
    is_(r.status, 301, t + "directory without slash: 301")
    is_(r.header("location"), "/sub/", t + "301 Location adds the slash")
    r = request(p, "/sub?a=1&b=2")
    is_(r.header("location"), "/sub/?a=1&b=2", t + "301 Location keeps the query")
    r = request(p, "//sub")
    ok(r.status == 301 and not (r.header("location") or "//").startswith("//"),
       t + "301 for //sub is not a network-path reference", r.header("location"))
    r = request(p, "/sub/")
    ok(r.status == 200 and r.body == b"<p>sub</p>\n", t + "directory: its index file")
    ok((r.header("content-type") or "").startswith("text/html"), t + "index file's type")
    r = request(p, "/")
    ok(r.status == 200 and r.body == b"<h1>hello</h1>\n", t + "the root's index file")
    is_(request(p, "/noindex/").status, 403, t + "directory without an index: 403")
    is_(request(p, "/a.txt/").status, 404, t + "a file named as a directory: 404")

    # Errors.
    r = request(p, "/secret.txt")
    is_(r.status, 403, t + "unreadable file: 403")
    r = request(p, "/missing.txt")
    is_(r.status, 404, t + "missing file: 404")
    ok(r.header("content-length") == str(len(r.body)) and 0 < len(r.body) < 1024,
       t + "404 body is small and has a matching Content-Length")
    ok(b"404" in r.body and b"<html" in r.body.lower(), t + "404 body is HTML naming the status")
    ok((r.header("content-type") or "").startswith("text/html"), t + "404 is text/html")
    ok(r.header("etag") is None and r.header("last-modified") is None,
       t + "an error has no validators")

    # HTTP/1.0 closes unless asked; keep-alive when asked.
    c = Conn(p)
    c.send(b"GET /a.txt HTTP/1.0\r\n\r\n")
    r = c.response()
    ok(r and r.status == 200 and (r.header("connection") or "").lower() == "close",
       t + "HTTP/1.0: Connection: close")
    ok(c.closed(), t + "HTTP/1.0: closed after the response")
    c.close()
    c = Conn(p)
    c.send(b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    r1 = c.response()
    ok(r1 and (r1.header("connection") or "").lower() == "keep-alive",
       t + "HTTP/1.0 keep-alive asked: Connection: keep-alive")
    c.send(b"GET /index.html HTTP/1.0\r\n\r\n")
    r2 = c.response()
    ok(r2 and r2.body == b"<h1>hello</h1>\n", t + "HTTP/1.0 keep-alive: second request served")
    ok(c.closed(), t + "HTTP/1.0: the request without keep-alive closes")
    c.close()
    c = Conn(p)
    c.send(b"GET /a.txt HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    r = c.response()
    ok(r and r.header("connection") == "close" and c.closed(),
       t + "HTTP/1.1 Connection: close is honoured")
    c.close()
    raw = exchange(p, b"GET /a.txt HTTP/1.1\r\n" + HOST + b"\r\n", shut=True)
    resps, rest = parse_responses(raw)
    ok(len(resps) == 1 and resps[0].body.startswith(b"abcdefghij") and rest == b"",
       t + "a client that half-closes after its request still gets the response")

    # max_keepalive_requests = 3.
    c = Conn(p)
    got = []
    for i in range(3):
        c.send(b"GET /a.txt HTTP/1.1\r\n" + HOST + b"\r\n")
        got.append(c.response())
    ok(all(g and g.status == 200 for g in got), t + "three keep-alive requests served")
    ok(got[0].header("connection") is None and got[1].header("connection") is None,
       t + "the first two keep the connection")
    is_(got[2] and got[2].header("connection"), "close",
        t + "the third (max_keepalive_requests) says Connection: close")
    ok(c.closed(), t + "and the connection closes")
    c.close()

    ok(s.stop(), t + "stops cleanly")


def pipelining(mpm):
    t = mpm + ": "
    s = Server(mpm=mpm, extra="max_keepalive_requests = 100\n", files=FILES)
    started, err = s.start()
    ok(started, t + "starts (pipelining)", err)
    reqs = b"".join(b"GET /p/%02d.txt HTTP/1.1\r\n" % i + HOST +
                    (b"Connection: close\r\n" if i == 19 else b"") + b"\r\n" for i in range(20))
    raw = exchange(s.port, reqs, timeout=10)
    resps, rest = parse_responses(raw)
    ok(len(resps) == 20 and rest == b"", t + "20 pipelined requests: 20 responses",
       "%d responses" % len(resps))
    ok([r.body for r in resps] == [b"file %02d\n" % i for i in range(20)],
       t + "pipelined responses in order")
    # Mixed: a large file between small ones, HEAD and a 404 in the stream.
    reqs = (b"GET /big.bin HTTP/1.1\r\n" + HOST + b"\r\n" +
            b"HEAD /p/01.txt HTTP/1.1\r\n" + HOST + b"\r\n" +
            b"GET /nope HTTP/1.1\r\n" + HOST + b"\r\n" +
            b"GET /p/02.txt HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    raw = exchange(s.port, reqs, timeout=10)
    resps, rest = parse_responses(raw, head_only=(1,))
    ok(len(resps) == 4 and resps[0].body == BIG and resps[1].status == 200 and
       resps[1].body == b"" and resps[2].status == 404 and resps[3].body == b"file 02\n" and
       rest == b"", t + "pipelined big file, HEAD, 404, small file: in order and intact")
    # A client that sends the next request before reading a large response.
    c = Conn(s.port, timeout=10)
    c.send(b"GET /big.bin HTTP/1.1\r\n" + HOST + b"\r\n")
    c.send(b"GET /p/03.txt HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    r1, r2 = c.response(), c.response()
    ok(r1 and r1.body == BIG and r2 and r2.body == b"file 03\n",
       t + "request sent while a large response is pending")
    c.close()
    ok(s.stop(), t + "stops cleanly (pipelining)")


def variants():
    """Settings that need a server of their own; the MPM does not matter."""
    files = {"index.html": "i\n", "d/a.txt": "a\n", "d/<b>&.txt": "b\n", "d/.hidden": "h\n",
             "d/sub/x": "x\n", "t.cst": "custom\n", "t.html": "h\n"}
    s = Server(mpm="prefork", files=files,
               extra='directory_listing = true\nserver_tokens = false\n'
               'mime_types = "test.types"\n')
    with open(os.path.join(s.dir, "test.types"), "w") as f:
        f.write("# a comment\ntext/x-custom\tcst\napplication/x-h html\n")
    started, err = s.start()
    ok(started, "variants: starts", err)
    r = request(s.port, "/d/")
    ok(r.status == 200 and (r.header("content-type") or "").startswith("text/html"),
       "directory_listing: 200 text/html")
    ok(b'href="a.txt"' in r.body and b'href="sub/"' in r.body, "listing links the entries",
       r.body)
    ok(b"&lt;b&gt;&amp;.txt" in r.body and b"<b>&" not in r.body,
       "listing escapes names as HTML")
    ok(b"%3Cb%3E%26.txt" in r.body, "listing escapes links as URLs")
    ok(b".hidden" not in r.body, "listing hides dot files")
    is_(r.header("content-length"), str(len(r.body)), "listing: Content-Length")
    is_(request(s.port, "/d").status, 301, "listing: a directory without slash still redirects")
    is_(request(s.port, "/").body, b"i\n", "listing: an index file still wins")
    is_(request(s.port, "/").header("server"), "minihttpd", "server_tokens = false: no version")
    is_(request(s.port, "/t.cst").header("content-type"), "text/x-custom; charset=utf-8",
        "mime_types file: its type is used")
    is_(request(s.port, "/t.html").header("content-type"), "application/x-h",
        "mime_types file: replaces the built-in table")
    ok(s.stop(), "variants: stops cleanly")


LISTED = 3000


def listed_name(i):
    """Names of varied length with bytes that need escaping, created out of sorted order."""
    parts = ["a", "Z", "&", "<", ">", '"', "'", " ", "%", "#", "?", "+", "\u00e9", "~", "9"]
    h = (i * 2654435761) & 0xffffffff
    return "".join(parts[(h >> 16) % 15] for _ in range(1 + (h >> 8) % 40)) + "#%d" % i


def big_listing(mpm):
    """Every entry of a 3,000-entry directory is listed once, sorted, as the engine sends
    a page far larger than any memory body."""
    t = mpm + ": "
    s = Server(mpm=mpm, extra="directory_listing = true\n", files={"index.html": "i\n"})
    names = [listed_name(i) for i in range(LISTED)]
    os.mkdir(os.path.join(s.root, "big"))
    for n in names:
        with open(os.path.join(s.root, "big", n), "w") as f:
            f.write("x")
    s.write_conf()
    started, err = s.start()
    ok(started, t + "starts (big listing)", err)
    r = request(s.port, "/big/", timeout=20)
    ok(r is not None and r.status == 200, t + "listing of %d files: 200" % LISTED)
    is_(r and r.header("content-length"), r and str(len(r.body)), t + "listing: Content-Length")
    body = r.body.decode("utf-8") if r else ""
    hrefs = re.findall(r'<li><a href="([^"]*)">([^<]*)</a></li>', body)
    texts = [html.unescape(x) for _, x in hrefs]
    links = [urllib.parse.unquote(h) for h, _ in hrefs]
    want = sorted(names, key=lambda n: n.encode())
    is_(len(hrefs), LISTED, t + "listing: one entry per file")
    ok(texts == want, t + "listing: every name exactly once, sorted bytewise",
       [x for x in want if x not in texts][:3])
    ok(links == want, t + "listing: every link percent-decodes to its name")
    ok(body.endswith("</ul></body></html>\n"), t + "listing: the page is complete")
    ok(s.stop(), t + "stops cleanly (big listing)")


for mpm in built_mpms():
    responses(mpm)
    pipelining(mpm)
    big_listing(mpm)
variants()
done()
