"""Virtual hosts and locations (issue 14): two sites plus the default chosen by Host, the
longest wildcard first, absolute-form targets, per-site access logs, every location
directive (headers, expires, redirect, fallback, directory_listing, index), a site that
comes from an include, bad Host headers refused with 400, roots that do not leak into
each other, a reload that adds and removes sites under load without a failed request,
-T, and configuration errors named FILE:LINE by -t. Each runs on prefork, worker, event
and the thread lab MPM."""

import os
import signal
import subprocess
import threading
import time

from mhd import (BINARY, NotApplicable, Server, done, exchange, is_, log_count, ok,
                 parse_responses, per_mpm, reload, request, wait_for)

LAB = NotApplicable("a lab MPM: thread stands for them, the engine is the same")
TABLE = {"prefork": {}, "worker": {}, "event": {}, "thread": {}, "uring": {},
         "fork": LAB, "iterative": LAB, "sigio": LAB}

FILES = {"index.html": "TOP\n", "sub/nolist.txt": "x\n"}
SITE_FILES = {
    "site_a": {"index.html": "A\n", "assets/app.css": "css\n", "static/x.js": "js\n",
               "app/index.html": "SPA\n", "app/real.js": "real\n",
               "files/listed.txt": "l\n", "docs/start.html": "START\n",
               "plain/only.txt": "p\n"},
    "site_b": {"index.html": "B\n"},
    "site_c": {"index.html": "C\n"},
    "site_d": {"index.html": "D\n"},
}

SITES = """
server "a.example" {
    aliases = {"www.a.example", "*.a.example"}
    document_root = "site_a"
    access_log = "a.log"
    location "/assets/*" { headers = {"Cache-Control: public, max-age=31536000, immutable", "X-Site: a"} }
    location "/static/*" { expires = "1y" }
    location "/old/*" { redirect = "301 https://a.example/new/$PATH?$QUERY" }
    location "/moved" { redirect = "308 https://$HOST/elsewhere" }
    location "/app/*" { fallback = "/app/index.html" }
    location "/files/*" { directory_listing = true }
    location "/docs/*" { index = {"start.html"} }
}
server "b.example" {
    aliases = {"*.b.a.example"}
    document_root = "site_b"
    access_log = "b.log"
}
include "conf.d/*.conf"
"""

SITE_C = """server "c.example" {
    document_root = "site_c"
}
"""

SITE_D = """server "d.example" {
    document_root = "site_d"
}
"""


def make_server(mpm, sites=SITES):
    s = Server(mpm=mpm, files=FILES, extra=sites)
    for d, files in SITE_FILES.items():
        for name, content in files.items():
            path = os.path.join(s.dir, d, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(content)
    os.makedirs(os.path.join(s.dir, "conf.d"))
    with open(os.path.join(s.dir, "conf.d", "10-c.conf"), "w") as f:
        f.write(SITE_C)
    with open(os.path.join(s.dir, "conf.d", "ignored.txt"), "w") as f:
        f.write("this is not a .conf file\n")
    if os.geteuid() == 0:
        for base, dirs, names in os.walk(s.dir):
            for n in dirs:
                os.chmod(os.path.join(base, n), 0o755)
            for n in names:
                os.chmod(os.path.join(base, n), 0o644)
    return s


def get(port, path="/", host=None, headers=None, version="1.1"):
    h = dict(headers or {})
    h["Host"] = host
    return request(port, path, headers=h, version=version)


def raw(port, head):
    rs, _ = parse_responses(exchange(port, head.encode("latin-1"), shut=True))
    return rs[0] if rs else None


def by_host(s, mpm):
    port = s.port
    for host, want in [("a.example", "A"), ("WWW.A.Example.", "A"), ("a.example:8080", "A"),
                       ("x.a.example", "A"), ("x.b.a.example", "B"), ("y.x.b.a.example", "B"),
                       ("b.example", "B"), ("c.example", "C"), ("nowhere.example", "TOP"),
                       ("127.0.0.1:%d" % port, "TOP")]:
        r = get(port, host=host)
        is_((r.status, r.body.strip()), (200, want.encode()), "%s: Host %s -> %s" % (mpm, host, want))
    r = raw(port, "GET / HTTP/1.0\r\n\r\n")
    is_(r.body.strip() if r else None, b"TOP", "%s: HTTP/1.0 without Host -> the default" % mpm)
    r = raw(port, "GET http://b.example/ HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n")
    is_(r.body.strip() if r else None, b"B", "%s: an absolute-form target's authority wins" % mpm)
    r = raw(port, "GET http://WWW.a.example:80 HTTP/1.1\r\nHost: b.example\r\n"
            "Connection: close\r\n\r\n")
    is_(r.body.strip() if r else None, b"A", "%s: absolute-form without a path" % mpm)


def bad_hosts(s, mpm):
    for host in ["a b", "user@a.example", "a.example:99999", "a.example/x", "fe80::1",
                 "a..example", ".a.example", "x" * 300, "a.example:80x"]:
        r = raw(s.port, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % host)
        is_(r.status if r else None, 400, "%s: Host %r -> 400" % (mpm, host[:40]))
    r = raw(s.port, "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n")
    is_(r.status if r else None, 400, "%s: two Host fields -> 400" % mpm)


def locations(s, mpm):
    port = s.port
    r = get(port, "/assets/app.css", "a.example")
    is_((r.status, r.header("Cache-Control"), r.header("X-Site")),
        (200, "public, max-age=31536000, immutable", "a"), "%s: headers in /assets/*" % mpm)
    r = get(port, "/assets/app.css", "a.example", {"If-None-Match": r.header("ETag")})
    is_((r.status, r.header("X-Site")), (304, "a"), "%s: headers on a 304 too" % mpm)
    r = get(port, "/assets/nothing.css", "a.example")
    is_((r.status, r.header("X-Site")), (404, None), "%s: not on a 404" % mpm)
    r = get(port, "/index.html", "a.example")
    is_(r.header("X-Site"), None, "%s: not outside the location" % mpm)
    r = get(port, "/assets/app.css", "b.example")
    is_(r.status, 404, "%s: nor on another site" % mpm)

    r = get(port, "/static/x.js", "a.example")
    ok(r.status == 200 and r.header("Cache-Control") == "max-age=31536000" and
       r.header("Expires"), "%s: expires = 1y: max-age and Expires" % mpm,
       "%r %r" % (r.header("Cache-Control"), r.header("Expires")))

    r = get(port, "/old/x/y.html?q=1&r=2", "a.example")
    is_((r.status, r.header("Location")), (301, "https://a.example/new/x/y.html?q=1&r=2"),
        "%s: redirect with $PATH and $QUERY" % mpm)
    r = get(port, "/old/a%20b", "a.example")
    is_(r.header("Location"), "https://a.example/new/a%20b?", "%s: $PATH re-encoded" % mpm)
    for evil in ["/old/../../etc/passwd", "/old/%2e%2e/%2e%2e/x", "/old/a/../../x"]:
        r = get(port, evil, "a.example")
        ok(r.status in (400, 404) and r.header("Location") is None,
           "%s: %s is resolved first: no redirect climbs" % (mpm, evil), r.status)
    r = get(port, "/moved", "www.a.example:8080")
    is_((r.status, r.header("Location")), (308, "https://www.a.example/elsewhere"),
        "%s: 308 with $HOST" % mpm)

    r = get(port, "/app/route/deep", "a.example")
    is_((r.status, r.body), (200, b"SPA\n"), "%s: fallback for a missing path" % mpm)
    r = get(port, "/app/real.js", "a.example")
    is_(r.body, b"real\n", "%s: fallback leaves existing files" % mpm)
    r = get(port, "/missing", "a.example")
    is_(r.status, 404, "%s: no fallback outside its location" % mpm)

    r = get(port, "/files/", "a.example")
    ok(r.status == 200 and b"listed.txt" in r.body, "%s: directory_listing in /files/*" % mpm,
       r.status)
    r = get(port, "/plain/", "a.example")
    is_(r.status, 403, "%s: no listing elsewhere" % mpm)
    r = get(port, "/docs/", "a.example")
    is_(r.body, b"START\n", "%s: index in /docs/*" % mpm)

    # The roots are siblings: nothing reaches another site's files.
    for evil in ["/../site_a/index.html", "/%2e%2e/site_a/index.html", "/..%2fsite_a/index.html"]:
        r = get(port, evil, "b.example")
        ok(r.status in (400, 404) and b"A" not in r.body,
           "%s: %s on b.example stays in its root" % (mpm, evil), r.status)


def logs(s, mpm):
    def lines(name):
        try:
            with open(os.path.join(s.dir, name)) as f:
                return f.read().splitlines()
        except OSError:
            return []
    marker = "/?mark=%s" % mpm
    for host in ["a.example", "b.example", "c.example"]:
        get(s.port, marker + host, host)
    ok(wait_for(lambda: any(marker + "a.example" in l for l in lines("a.log")) and
                any(marker + "b.example" in l for l in lines("b.log")) and
                any(marker + "c.example" in l for l in lines("access.log")), 10),
       "%s: each site logs to its access_log, the rest to the main one" % mpm)
    ok(not any(marker + "b.example" in l for l in lines("a.log")) and
       not any(marker + "a.example" in l for l in lines("access.log")),
       "%s: and to no other" % mpm)

    # Rotation: SIGUSR1 reopens a site's log as it does the main one.
    os.rename(os.path.join(s.dir, "a.log"), os.path.join(s.dir, "a.log.1"))
    n = log_count(s, "reopened")
    s.signal(signal.SIGUSR1)
    ok(wait_for(lambda: log_count(s, "reopened") > n, 15), "%s: SIGUSR1 reopens" % mpm)
    ok(wait_for(lambda: get(s.port, "/?rotated", "a.example") and
                any("/?rotated" in l for l in lines("a.log")), 10),
       "%s: the site's log is written anew after a rotation" % mpm)


def reload_under_load(s, mpm):
    port = s.port
    stop = threading.Event()
    failures, count = [], [0]

    def load():
        deadline = time.monotonic() + 30
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                r = get(port, "/", "a.example")
                if r.status != 200 or r.body != b"A\n":
                    failures.append(r.status)
            except OSError as e:
                failures.append(str(e))
            count[0] += 1
    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: count[0] >= 20, 10)
        with open(os.path.join(s.dir, "conf.d", "20-d.conf"), "w") as f:
            f.write(SITE_D)
        # b.example goes, d.example comes.
        s.write_conf(extra=SITES.replace('server "b.example"', 'server "gone.example"'))
        ok(reload(s), "%s: reload adding d.example and removing b.example" % mpm)
        before = count[0]
        wait_for(lambda: count[0] >= before + 20, 10)
    finally:
        stop.set()
        for t in threads:
            t.join(40)
    is_(failures, [], "%s: no failed request in %d during the reload" % (mpm, count[0]))
    is_(get(port, "/", "d.example").body, b"D\n", "%s: the added site serves" % mpm)
    is_(get(port, "/", "b.example").body, b"TOP\n", "%s: the removed one is the default's" % mpm)


def run(mpm):
    s = make_server(mpm)
    started, err = s.start()
    if not ok(started, "%s: starts with three sites" % mpm, err):
        s.cleanup()
        return
    try:
        by_host(s, mpm)
        bad_hosts(s, mpm)
        locations(s, mpm)
        logs(s, mpm)
        reload_under_load(s, mpm)
    finally:
        s.cleanup()


def check(s, text, conf_d=None):
    """-t on text (with conf.d/bad.conf = conf_d): (exit status, stderr)."""
    s.write_conf(extra=text)
    bad = os.path.join(s.dir, "conf.d", "bad.conf")
    if conf_d is not None:
        with open(bad, "w") as f:
            f.write(conf_d)
    elif os.path.exists(bad):
        os.unlink(bad)
    p = subprocess.run([BINARY, "-t", "-q", "-f", s.conf], capture_output=True, text=True,
                       timeout=30)
    return p.returncode, p.stderr


def config_errors():
    s = make_server("event")
    try:
        conf = s.conf
        base = SITES
        n = len(s.conf_text(extra="").splitlines())
        rc, err = check(s, base, 'server "x.example" {\n  document_root = "site_b"\n}\n'
                        'server "c.example" {\n  document_root = "site_b"\n}\n')
        ok(rc == 1 and "conf.d/bad.conf:4:" in err and "c.example" in err,
           "-t: a server name given twice, at the included FILE:LINE", err)
        rc, err = check(s, base, 'server "x.example" {\n  aliases = {"WWW.a.example."}\n'
                        '  document_root = "site_b"\n}\n')
        ok(rc == 1 and "bad.conf:1:" in err and "www.a.example" in err.lower(),
           "-t: an alias another server has", err)
        line = n
        cases = [
            ('location "assets/*" { }', "can never match", line),
            ('location "/a//b" { }', "can never match", line),
            ('location "/x" { }\nlocation "/x" { }', "given twice", line + 1),
            ('location "/x" {\n headers = {"Content-Length: 5"}\n}', "Content-Length", line + 1),
            ('location "/x" {\n headers = {"Transfer-Encoding: chunked"}\n}',
             "Transfer-Encoding", line + 1),
            ('location "/x" {\n headers = {"connection: close"}\n}', "Connection", line + 1),
            ('location "/x" { redirect = "304 https://x/" }', "redirect", line),
            ('location "/x" { redirect = "301 https://x/$NOPE" }', "$NOPE", line),
            ('location "/x" { expires = "1 year" }', "expires", line),
            ('location "/x" { fallback = "/../x" }', "fallback", line),
            ('include "nothing-here.conf"', "nothing-here.conf", line),
            ('server "z.example" {\n}', "document_root is required", line),
            ('server "y.example" {\n  document_root = "site_b"\n  default = true\n}\n'
             'server "z.example" {\n  document_root = "site_b"\n  default = true\n}',
             "default", line + 4),
        ]
        for text, want, at in cases:
            rc, err = check(s, text)
            ok(rc == 1 and want in err and ("%s:%d:" % (conf, at)) in err,
               "-t: %s -> %s at line %d" % (text.splitlines()[0], want, at), err)
        rc, err = check(s, base)
        is_(rc, 0, "-t: the good configuration passes")

        p = subprocess.run([BINARY, "-T", "-f", s.conf], capture_output=True, text=True,
                           timeout=30)
        out = p.stdout
        ok(p.returncode == 0 and 'server "c.example" {' in out and "10-c.conf:1" in out,
           "-T: the included server, with its FILE:LINE", p.stderr + out[:300])
        ok('location "/old/*" {' in out and 'redirect = "301 https://a.example/new/$PATH?$QUERY"'
           in out, "-T: a location with its redirect")
        ok('expires = "31536000s"' in out, "-T: expires in seconds")
        ok(out.count("directory_listing = ") >= 10, "-T: defaults filled in every block")
    finally:
        s.cleanup()


for mpm, _ in per_mpm(TABLE, "virtual hosts and locations"):
    run(mpm)
config_errors()
done()
