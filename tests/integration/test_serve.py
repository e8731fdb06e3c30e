# SPDX-License-Identifier: ISC
"""The foundation end to end: start in the foreground and as a daemon, GET/HEAD of a
static file, keep-alive, 404 and 400, a clean stop that leaves no process behind, with
every MPM built, and file_cache deciding which workers keep a file cache (its inotify
descriptor)."""

import os
import signal
import socket

from mhd import (Server, built_mpms, descendants_of, done, exchange, is_, ok, read_response,
                 request, wait_for)

for mpm in built_mpms():
    s = Server(mpm=mpm, files={"index.html": "<h1>hello</h1>\n", "a.txt": "abc\n"})
    started, err = s.start(foreground=True)
    ok(started, "%s: starts in the foreground" % mpm, err)

    r = request(s.port, "/")
    is_(r.status, 200, "%s: GET / is 200" % mpm)
    is_(r.body, b"<h1>hello</h1>\n", "%s: GET / serves index.html" % mpm)
    ok(r.header("date") is not None, "%s: Date present" % mpm)
    ok((r.header("server") or "").startswith("minihttpd"), "%s: Server present" % mpm)
    ok((r.header("content-type") or "").startswith("text/html"), "%s: text/html" % mpm)

    r = request(s.port, "/a.txt", method="HEAD")
    is_(r.status, 200, "%s: HEAD is 200" % mpm)
    is_(r.header("content-length"), "4", "%s: HEAD has GET's Content-Length" % mpm)

    is_(request(s.port, "/missing").status, 404, "%s: missing file is 404" % mpm)
    raw = exchange(s.port, b"GARBAGE\r\n\r\n")
    ok(raw.startswith(b"HTTP/1.1 400 "), "%s: malformed request is 400" % mpm, raw[:80])

    # Two requests on one connection: keep-alive works.
    c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    f = c.makefile("rb")
    host = ("Host: 127.0.0.1:%d\r\n" % s.port).encode()
    c.sendall(b"GET /a.txt HTTP/1.1\r\n" + host + b"\r\n")
    r1 = read_response(f)
    c.sendall(b"GET /a.txt HTTP/1.1\r\n" + host + b"\r\n")
    r2 = read_response(f)
    ok(r1 and r2 and r1.body == b"abc\n" and r2.body == b"abc\n",
       "%s: two requests on one keep-alive connection" % mpm)
    c.close()

    ok(s.stop(), "%s: SIGTERM stops master and workers" % mpm)
    ok(not os.path.exists(s.pid_file), "%s: pid file removed on stop" % mpm)

# Daemon mode: the launcher returns only once the server accepts.
s = Server(mpm="prefork")
started, err = s.start(foreground=False)
ok(started, "daemon: launcher exits 0", err)
if started:
    ok(os.path.exists(s.pid_file), "daemon: pid file written")
    is_(request(s.port, "/").status, 200, "daemon: serves right after the launcher exits")
    # The second fork leaves the daemon in a new session it does not lead, so it can
    # never acquire a controlling terminal again.
    ok(os.getsid(s.pid) != os.getsid(0) and os.getsid(s.pid) != s.pid,
       "daemon: detached into a session it does not lead")
    ok(s.stop(), "daemon: stops on SIGTERM")

# A port already in use is reported by the launcher, which exits non-zero.
blocker = socket.socket()
blocker.bind(("127.0.0.1", 0))
blocker.listen(1)
busy = blocker.getsockname()[1]
s = Server(mpm="prefork", port=busy)
started, err = s.start(foreground=False)
ok(not started and "Address already in use" in err, "daemon: port in use is reported", err)
blocker.close()


def with_inotify(pid):
    """Descendants of pid holding an inotify descriptor: workers with a file cache."""
    found = []
    for p in descendants_of(pid):
        try:
            fds = os.listdir("/proc/%d/fd" % p)
            if any(os.readlink("/proc/%d/fd/%s" % (p, fd)) == "anon_inode:inotify"
                   for fd in fds):
                found.append(p)
        except OSError:
            pass
    return found


# auto: a cache where a worker holds many connections (event), none where it holds one.
for mpm, setting, want in (("prefork", None, False), ("prefork", "on", True),
                           ("event", None, True), ("event", "off", False)):
    s = Server(mpm=mpm, files={"a.txt": "abc\n"},
               extra='file_cache = "%s"\n' % setting if setting else "")
    started, err = s.start()
    ok(started, "file_cache %s, %s: starts" % (setting or "auto", mpm), err)
    is_(request(s.port, "/a.txt").body, b"abc\n", "file_cache %s, %s: serves"
        % (setting or "auto", mpm))
    is_(bool(wait_for(lambda: with_inotify(s.pid), 3 if want else 0.5)), want,
        "file_cache %s, %s: workers keep %s file cache" % (setting or "auto", mpm,
                                                          "a" if want else "no"))
    ok(s.stop(), "file_cache %s, %s: stops" % (setting or "auto", mpm))

done()
