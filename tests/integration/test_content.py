# SPDX-License-Identifier: ISC
"""What a site asks of its content (content_policy.h), at the top level (the default
server), on every MPM the engine serves with: precompressed siblings chosen by
Accept-Encoding (q-values, identity;q=0, a stale sibling ignored), each with its own
ETag, ranges and 304s, and Vary on every answer for a file; custom error pages with the
original status, falling back to the built-in page when the page itself fails, never for
a 304; Basic authentication against an htpasswd file of bcrypt, SHA-512 and SHA-256
crypt hashes. And what -t refuses: $apr1$, a line that cannot be parsed (named), an
unreadable file, auth_basic without its file, a malformed error_page entry."""

import base64
import ctypes
import ctypes.util
import gzip
import os
import signal
import subprocess

from mhd import (BINARY, NotApplicable, Server, children_of, done, exchange, generation_gone,
                 is_, ok, parse_responses, per_mpm, reload, request, wait_for)

TEXT = b"body { color: red; }\n" * 50
GZ = gzip.compress(TEXT, mtime=0)
BR = b"pretend-brotli:" + TEXT[:40]
OLD, NEW = 1600000000, 1700000000

_crypt = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
_crypt.crypt.restype = ctypes.c_char_p
_crypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
_crypt.crypt_gensalt.restype = ctypes.c_char_p
_crypt.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]


def hash_pw(prefix, password, count=0):
    """libxcrypt's own hash of password with a fresh salt of the scheme prefix."""
    setting = _crypt.crypt_gensalt(prefix.encode(), count, None, 0)
    return _crypt.crypt(password.encode(), setting).decode()


USERS = {
    "alice": ("$2b$", "bcrypt pw", 5),
    "bob": ("$6$", "sha512 pw", 0),
    "carol": ("$5$", "sha256 pw", 0),
}
HTPASSWD = "# staging users\n\n" + "".join(
    "%s:%s\n" % (u, hash_pw(pre, pw, n)) for u, (pre, pw, n) in USERS.items())

# The engine's path is the same under every MPM; the lab ones are covered elsewhere.
MPMS = {
    "prefork": "", "worker": "", "event": "", "thread": "", "uring": "",
    "fork": NotApplicable("lab MPM: the same engine path as prefork"),
    "iterative": NotApplicable("lab MPM: one connection at a time, same engine path"),
    "sigio": NotApplicable("lab MPM: the same engine path as event"),
}


def basic(user, pw):
    return "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()


def get(p, path, **headers):
    return request(p, path, headers={k.replace("_", "-"): v for k, v in headers.items()})


def content_server(mpm):
    files = {
        "index.html": "<h1>hello</h1>\n",
        "a.css": TEXT, "a.css.gz": GZ, "a.css.br": BR,
        "stale.js": TEXT, "stale.js.gz": GZ,
        "dir/a.css.gz/x": "a directory named like a sibling\n", "dir/a.css": TEXT,
        "errors/404.html": "<p>branded 404</p>\n",
        "site/index.html": TEXT, "site/index.html.gz": GZ, "live.css": TEXT,
        "live.css.gz": GZ,
        "errors/dir/index.html": "x\n",
        "closed/x": "no index, no listing\n",
    }
    s = Server(mpm=mpm, files=files, extra="\n".join([
        "precompressed = true",
        'error_page = {"400 404 405 /errors/404.html", "403 /errors/missing.html",'
        ' "416 /errors/dir"}',
    ]))
    for name, t in (("a.css", OLD), ("a.css.gz", NEW), ("a.css.br", NEW), ("stale.js", NEW),
                    ("stale.js.gz", OLD), ("dir/a.css", OLD), ("site/index.html", OLD),
                    ("site/index.html.gz", NEW), ("live.css", OLD), ("live.css.gz", NEW)):
        os.utime(os.path.join(s.root, name), (t, t))
    return s


def precompressed(mpm, p, root):
    ident = get(p, "/a.css")
    ok(ident.status == 200 and ident.body == TEXT and ident.header("content-encoding") is None,
       "%s: no Accept-Encoding: the original" % mpm, ident.headers)
    is_(ident.header("vary"), "Accept-Encoding", "%s: ... with Vary" % mpm)

    gz = get(p, "/a.css", Accept_Encoding="gzip")
    ok(gz.status == 200 and gz.body == GZ and gz.header("content-encoding") == "gzip",
       "%s: gzip: FILE.gz with Content-Encoding: gzip" % mpm, gz.headers)
    is_(gz.header("content-type"), ident.header("content-type"),
        "%s: ... with the original's Content-Type" % mpm)
    is_(gz.header("vary"), "Accept-Encoding", "%s: ... and Vary" % mpm)
    ok(gz.header("etag") and gz.header("etag") != ident.header("etag") and
       gz.header("etag").endswith('-gzip"'),
       "%s: ... and an ETag of its own, naming the coding" % mpm,
       (gz.header("etag"), ident.header("etag")))

    for ae, want in (("gzip, deflate, br", "br"), ("br;q=0.1, gzip;q=0.5", "gzip"),
                     ("identity;q=0, gzip;q=0.001", "gzip"), ("*", "br"),
                     ("gzip;q=0, br;q=0", None), ("gzip;q=0.5, identity", None),
                     ("gzip;q=2", None), ("zstd", None)):
        r = get(p, "/a.css", Accept_Encoding=ae)
        body = {"gzip": GZ, "br": BR, None: TEXT}[want]
        ok(r.status == 200 and r.header("content-encoding") == want and r.body == body,
           "%s: Accept-Encoding: %s -> %s" % (mpm, ae, want or "identity"), r.headers)

    r = get(p, "/stale.js", Accept_Encoding="gzip")
    ok(r.status == 200 and r.header("content-encoding") is None and r.body == TEXT,
       "%s: a sibling older than the original is ignored" % mpm, r.headers)
    r = get(p, "/dir/a.css", Accept_Encoding="gzip")
    ok(r.status == 200 and r.header("content-encoding") is None and r.body == TEXT,
       "%s: a sibling that is not a regular file is ignored" % mpm, r.headers)

    r = get(p, "/a.css", Accept_Encoding="gzip", Range="bytes=0-9")
    ok(r.status == 206 and r.body == GZ[:10] and
       r.header("content-range") == "bytes 0-9/%d" % len(GZ) and
       r.header("content-encoding") == "gzip",
       "%s: a range is of the sibling served" % mpm, r.headers)
    r = get(p, "/a.css", Accept_Encoding="gzip", Range="bytes=%d-" % len(GZ))
    ok(r.status == 416 and r.header("content-range") == "bytes */%d" % len(GZ) and
       r.header("vary") == "Accept-Encoding",
       "%s: unsatisfiable against the sibling: 416 with its length, and Vary" % mpm, r.headers)

    etag = gz.header("etag")
    raw = exchange(p, ("GET /a.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n\r\n" % etag).encode())
    resps, rest = parse_responses(raw)
    r = resps[0] if resps else None
    ok(r is not None and r.status == 304 and r.header("vary") == "Accept-Encoding" and
       r.header("etag") == etag and rest == b"",
       "%s: the sibling's ETag: 304 with Vary and that ETag, no body" % mpm, raw[:300])
    r = get(p, "/a.css", If_None_Match=etag)
    ok(r.status == 200 and r.body == TEXT,
       "%s: the sibling's ETag does not validate the original" % mpm, r.headers)
    r = get(p, "/a.css", Accept_Encoding="gzip", If_None_Match=ident.header("etag"))
    ok(r.status == 200 and r.body == GZ,
       "%s: nor the original's the sibling" % mpm, r.headers)

    r = get(p, "/a.css.gz")
    ok(r.status == 200 and r.body == GZ and r.header("content-encoding") is None,
       "%s: the sibling asked for by name is a file like any other" % mpm, r.headers)
    r = request(p, "/a.css", method="HEAD", headers={"Accept-Encoding": "gzip"})
    ok(r.status == 200 and r.header("content-length") == str(len(GZ)) and
       r.header("content-encoding") == "gzip", "%s: HEAD: the sibling's length" % mpm,
       r.headers)
    r = get(p, "/site/", Accept_Encoding="gzip")
    ok(r.status == 200 and r.body == GZ and r.header("content-encoding") == "gzip" and
       r.header("content-type").startswith("text/html"),
       "%s: an index file's sibling, with the index's type" % mpm, r.headers)

    # Changes are seen at once, the file cache (on for event) included.
    live = os.path.join(root, "live.css")
    for _ in range(3):
        get(p, "/live.css", Accept_Encoding="gzip")
    gz2 = gzip.compress(TEXT + b"/* v2 */\n", mtime=0)
    with open(live + ".gz", "wb") as f:
        f.write(gz2)
    os.utime(live + ".gz", (NEW + 10, NEW + 10))
    r = get(p, "/live.css", Accept_Encoding="gzip")
    ok(r.status == 200 and r.body == gz2, "%s: a rewritten sibling is served new" % mpm,
       r.body[:20])
    os.utime(live, (NEW + 20, NEW + 20))
    r = get(p, "/live.css", Accept_Encoding="gzip")
    ok(r.status == 200 and r.body == TEXT and r.header("content-encoding") is None,
       "%s: a sibling the original outdated is no longer served" % mpm, r.headers)


def error_pages(mpm, p):
    r = get(p, "/nothing-here")
    ok(r.status == 404 and r.body == b"<p>branded 404</p>\n" and
       r.header("content-type").startswith("text/html"),
       "%s: 404 with the page of error_page, status kept" % mpm, (r.status, r.body))
    r = request(p, "/nothing-here", method="HEAD")
    ok(r.status == 404 and r.header("content-length") == str(len("<p>branded 404</p>\n")),
       "%s: HEAD: the page's length, no body" % mpm, r.headers)
    r = request(p, "/", method="DELETE")
    ok(r.status == 405 and r.body == b"<p>branded 404</p>\n" and r.header("allow"),
       "%s: 405 gets its page too, and keeps Allow" % mpm, r.headers)
    r = get(p, "/closed/")
    ok(r.status == 403 and b"403 Forbidden" in r.body,
       "%s: a page that does not exist: the built-in 403, no loop" % mpm, (r.status, r.body))
    r = get(p, "/index.html", Range="bytes=999-")
    ok(r.status == 416 and b"416" in r.body and r.header("content-range"),
       "%s: a page that is a directory: the built-in 416" % mpm, (r.status, r.body))
    raw = exchange(p, b"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    resps, _ = parse_responses(raw)
    ok(resps and resps[0].status == 400 and b"branded" not in resps[0].body,
       "%s: a request refused before it is understood: the built-in page" % mpm, raw[:200])
    lm = get(p, "/index.html").header("last-modified")
    raw = exchange(p, ("GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "If-Modified-Since: %s\r\n\r\n" % lm).encode())
    resps, rest = parse_responses(raw)
    ok(resps and resps[0].status == 304 and rest == b"",
       "%s: 304 is left alone" % mpm, raw[:200])


def auth(mpm):
    s = Server(mpm=mpm, files={"index.html": "secret\n", "denied.html": "log in first\n"})
    pw = os.path.join(s.dir, "htpasswd")
    with open(pw, "w") as f:
        f.write(HTPASSWD)
    s.write_conf(extra='auth_basic = "Staging"\nauth_basic_file = "%s"\n'
                 'error_page = {"401 /denied.html"}\nhealth_path = "/healthz"' % pw)
    started, err = s.start()
    ok(started, "%s: starts with auth_basic" % mpm, err)
    if not started:
        return
    p = s.port
    r = get(p, "/")
    ok(r.status == 401 and r.header("www-authenticate") == 'Basic realm="Staging", charset="UTF-8"',
       "%s: no credentials: 401 with WWW-Authenticate" % mpm, r.headers)
    is_(r.body, b"log in first\n", "%s: ... and the 401's error page" % mpm)
    r = get(p, "/healthz")
    ok(r.status == 200 and r.body == b"ok\n",
       "%s: health_path answers a balancer without a password" % mpm, (r.status, r.body))
    for user, (_, password, _) in USERS.items():
        r = get(p, "/", Authorization=basic(user, password))
        ok(r.status == 200 and r.body == b"secret\n",
           "%s: %s (%s): the right password" % (mpm, user, USERS[user][0]), r.headers)
        r = get(p, "/", Authorization=basic(user, password + "x"))
        ok(r.status == 401 and r.header("www-authenticate"),
           "%s: %s: a wrong password: 401" % (mpm, user), r.headers)
    for what, value in (("an unknown user", basic("mallory", "bcrypt pw")),
                        ("another user's password", basic("bob", "bcrypt pw")),
                        ("not base64", "Basic !!!!"),
                        ("no colon", "Basic " + base64.b64encode(b"alice").decode()),
                        ("another scheme", "Bearer " + basic("alice", "bcrypt pw")[6:])):
        r = get(p, "/", Authorization=value)
        is_(r.status, 401, "%s: %s: 401" % (mpm, what))
    r = get(p, "/nothing")
    ok(r.status == 401 and r.body == b"log in first\n",
       "%s: the password comes first: a missing file is 401, not its 404" % mpm, r.status)

    # The file is read with the configuration: a reload re-reads it, a bad one is refused.
    with open(pw, "w") as f:
        f.write("alice:%s\n" % hash_pw("$6$", "new pw"))
    old = children_of(s.pid)
    ok(reload(s), "%s: reload with a changed htpasswd" % mpm, s.stderr())
    # The old password is tried once the old generation is gone (generation_gone()).
    ok(wait_for(lambda: get(p, "/", Authorization=basic("alice", "new pw")).status == 200, 10),
       "%s: ... the new password is taken" % mpm)
    generation_gone(old)
    is_(get(p, "/", Authorization=basic("alice", "bcrypt pw")).status, 401,
        "%s: ... the old one no more" % mpm)
    with open(pw, "a") as f:
        f.write("mallory:$apr1$abcdefgh$0123456789abcdef012345\n")
    s.signal(signal.SIGHUP)
    ok(wait_for(lambda: "reload failed" in s.stderr(), 15),
       "%s: a reload to an htpasswd with $apr1$ is refused" % mpm, s.stderr()[-500:])
    is_(get(p, "/", Authorization=basic("alice", "new pw")).status, 200,
        "%s: ... and the old configuration keeps serving" % mpm)
    s.stop()


for mpm, _ in per_mpm(MPMS, "content options"):
    s = content_server(mpm)
    started, err = s.start()
    ok(started, "%s: starts with precompressed and error_page" % mpm, err)
    if started:
        precompressed(mpm, s.port, s.root)
        error_pages(mpm, s.port)
    s.stop()
    auth(mpm)


# --- What -t refuses ---------------------------------------------------------------------

def check_t(s, extra, name, want_rc, *want):
    s.write_conf(extra=extra)
    p = subprocess.run([BINARY, "-t", "-f", s.conf], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    out = p.stdout.decode() + p.stderr.decode()
    ok(p.returncode == want_rc and all(w in out for w in want), name,
       "rc %d\n%s" % (p.returncode, out))


s = Server(mpm="prefork")
conf_line = len(s.conf_text(extra="").splitlines())  # where extra's first line lands


def htpasswd(text):
    path = os.path.join(s.dir, "htpasswd%d" % len(os.listdir(s.dir)))
    with open(path, "w") as f:
        f.write(text)
    return path


good = htpasswd(HTPASSWD)
check_t(s, 'auth_basic = "S"\nauth_basic_file = "%s"' % good, "-t: a good htpasswd", 0)
apr = htpasswd(HTPASSWD + "dave:$apr1$abcdefgh$0123456789abcdef012345\n")
check_t(s, 'auth_basic = "S"\nauth_basic_file = "%s"' % apr,
        "-t: $apr1$ refused, naming the file's line and the conf's", 1,
        "%s:%d: auth_basic_file: %s:6:" % (s.conf, conf_line + 1, apr), "$apr1$",
        "not supported")
bad = htpasswd(HTPASSWD + "just-a-name\n")
check_t(s, 'auth_basic = "S"\nauth_basic_file = "%s"' % bad,
        "-t: a line that cannot be parsed is named", 1, "%s:6: expected \"user:hash\"" % bad)
bad = htpasswd("eve:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n")
check_t(s, 'auth_basic = "S"\nauth_basic_file = "%s"' % bad,
        "-t: an unsupported scheme is named", 1, "%s:1:" % bad, "is not bcrypt")
bad = htpasswd("eve:$6$\n")
check_t(s, 'auth_basic = "S"\nauth_basic_file = "%s"' % bad,
        "-t: a hash crypt(3) cannot check", 1, "crypt(3) cannot check")
check_t(s, 'auth_basic = "S"\nauth_basic_file = "%s/none"' % s.dir,
        "-t: an unreadable file", 1, "%s/none: No such file or directory" % s.dir)
check_t(s, 'auth_basic_file = "%s"' % good, "-t: auth_basic_file alone", 1,
        "auth_basic is missing")
check_t(s, 'auth_basic = "off"\nauth_basic_file = "off"', "-t: \"off\" for both: none", 0)
check_t(s, 'auth_basic = "S\\"x"\nauth_basic_file = "%s"' % good,
        "-t: a realm with a quote", 1, "%s:%d: auth_basic" % (s.conf, conf_line))
for entry, why in (("304 /x.html", "not in 400-599"), ("600 /x.html", "not in 400-599"),
                   ("404", "expected"), ("/x.html", "expected"), ("404 x.html", "must be one path"),
                   ("4o4 /x.html", "is not a status"), ("404 /a /b", "must be one path")):
    check_t(s, 'index = {"index.html"}\nerror_page = {"500 /ok.html", "%s"}' % entry,
            "-t: error_page \"%s\": FILE:LINE" % entry, 1,
            "%s:%d: error_page" % (s.conf, conf_line + 1), why)
check_t(s, 'error_page = {"404 /errors/404.html", "500 502 503 /errors/5xx.html"}',
        "-t: the issue's own example", 0)

done()
