# SPDX-License-Identifier: ISC
"""Request paths never leave the document root: dot segments, percent-encoded dots and
slashes, backslashes, NUL, double slashes, overlong UTF-8 and double encoding, against a
secret file placed next to the root. Symlinks: relative ones inside the root are served;
ones leading out are 404 unless follow_symlinks = true. Percent-decoding happens once.
hidden_files: /.git/config and the like are 404 unless "allow"; /.well-known/ is public."""

import os

from mhd import Server, done, exchange, is_, ok, parse_responses, request

SECRET = b"TOP-SECRET-5b8e0c1d"
FILES = {"index.html": "root index\n", "a.txt": "in the root\n", "sub/x.txt": "sub x\n",
         "a b": "space\n", "a%20b": "literal percent\n", "a%2fb": "literal %2f\n",
         "htdocs2/decoy": "decoy\n"}


def setup(s):
    """The secret lives next to the root, in a sibling whose name extends the root's, and
    in a directory outside; symlinks point in and out."""
    with open(os.path.join(s.dir, "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.makedirs(s.root + "2", exist_ok=True)
    with open(os.path.join(s.root + "2", "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.makedirs(os.path.join(s.dir, "outside"), exist_ok=True)
    with open(os.path.join(s.dir, "outside", "file.txt"), "wb") as f:
        f.write(SECRET)
    for d in (s.root + "2", os.path.join(s.dir, "outside")):
        os.chmod(d, 0o755)
        for n in os.listdir(d):
            os.chmod(os.path.join(d, n), 0o644)
    os.chmod(os.path.join(s.dir, "secret.txt"), 0o644)
    links = {
        "link-in": "sub/x.txt",
        "sub/link-up-in": "../a.txt",
        "link-out": "../secret.txt",
        "link-abs-out": os.path.join(s.dir, "secret.txt"),
        "link-dir-out": "../outside",
        "link-loop": "link-loop",
    }
    for name, target in links.items():
        os.symlink(target, os.path.join(s.root, name))


ATTACKS = [
    "/../secret.txt", "/../../../../../../../../etc/passwd", "/sub/../../secret.txt",
    "/./../secret.txt", "//../secret.txt", "/sub//..//..//secret.txt",
    "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt", "/%2e./secret.txt",
    "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/sub%2f..%2f..%2fsecret.txt",
    "/..\\secret.txt", "/..%5csecret.txt", "/sub\\..\\..\\secret.txt", "/%5c..%5csecret.txt",
    "/%00/../secret.txt", "/a.txt%00.html", "/..%00/secret.txt",
    "/%c0%ae%c0%ae/secret.txt", "/%c0%ae%c0%ae%c0%afsecret.txt", "/%e0%80%ae%e0%80%ae/secret.txt",
    "/%252e%252e/secret.txt", "/%252e%252e%252fsecret.txt",
    "/../htdocs2/secret.txt", "/..%2fhtdocs2%2fsecret.txt",
    "/link-dir-out/file.txt", "/link-out", "/link-abs-out",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/....//secret.txt", "/.../secret.txt",
    "/sub/..;/../secret.txt", "/%2e%2e;/secret.txt",
]


def no_escape(s, label):
    port = s.port
    leaked = []
    for path in ATTACKS:
        raw = exchange(port, ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                              % path).encode("latin-1"))
        resps, _ = parse_responses(raw)
        if SECRET in raw or b"root:" in raw or not resps or resps[0].status not in (400, 404):
            leaked.append("%s -> %r" % (path, raw[:120]))
    ok(not leaked, "%s: %d traversal attempts: all 400/404, the secret never sent"
       % (label, len(ATTACKS)), "\n".join(leaked))
    for host_path in ("http://127.0.0.1/../secret.txt", "http://127.0.0.1/%2e%2e/secret.txt"):
        raw = exchange(port, ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                              % host_path).encode())
        ok(SECRET not in raw and raw[9:12] in (b"400", b"404"),
           "%s: absolute-form %s does not escape" % (label, host_path), raw[:100])


s = Server(mpm="prefork", files=FILES)
setup(s)
started, err = s.start()
ok(started, "server starts (follow_symlinks = false)", err)
p = s.port

no_escape(s, "follow_symlinks = false")

# Paths that stay inside are resolved and served.
for path, body in (("/sub/../a.txt", b"in the root\n"), ("/sub/./x.txt", b"sub x\n"),
                   ("//a.txt", b"in the root\n"), ("/sub//x.txt", b"sub x\n"),
                   ("/%61.txt", b"in the root\n"), ("/%73ub/x.txt", b"sub x\n"),
                   ("/./a.txt", b"in the root\n"), ("/sub/..", b"root index\n")):
    r = request(p, path)
    ok(r.status == 200 and r.body == body, "%s resolves inside the root" % path,
       "%d %r" % (r.status, r.body[:40]))
r = request(p, "/sub/.")
ok(r.status in (200, 403) or (r.status == 301 and r.header("location")),
   "/sub/. names the directory", r.status)

# Percent-decoding is done exactly once.
r = request(p, "/a%20b")
ok(r.status == 200 and r.body == b"space\n", "/a%20b is the file 'a b'")
r = request(p, "/a%2520b")
ok(r.status == 200 and r.body == b"literal percent\n", "/a%2520b is the file 'a%20b'")
r = request(p, "/a%252fb")
ok(r.status == 200 and r.body == b"literal %2f\n", "/a%252fb is the file 'a%2fb'")
for bad in ("/a%zz", "/a%2", "/a%", "/%%61.txt"):
    is_(request(p, bad).status, 400, "malformed escape %s: 400" % bad)
is_(request(p, "/a%2fb").status, 400, "encoded slash is refused (400)")
is_(request(p, "/a%00").status, 400, "encoded NUL is refused (400)")
is_(request(p, "/a%0d%0aX-Injected:%20yes").status, 400, "encoded CR LF are refused (400)")

# Symlinks with follow_symlinks = false.
r = request(p, "/link-in")
ok(r.status == 200 and r.body == b"sub x\n", "relative symlink inside the root is served")
r = request(p, "/sub/link-up-in")
ok(r.status == 200 and r.body == b"in the root\n", "symlink to ../ still inside the root is served")
for path in ("/link-out", "/link-abs-out", "/link-dir-out/file.txt"):
    r = request(p, path)
    ok(r.status == 404 and SECRET not in r.body, "%s: 404 with follow_symlinks = false" % path,
       r.status)
is_(request(p, "/link-loop").status, 404, "a symlink loop is 404")
is_(request(p, "/").status, 200, "server healthy after the attacks")
ok(s.stop(), "server stops cleanly")

# follow_symlinks = true: links may lead out; requests still cannot.
s = Server(mpm="prefork", files=FILES, extra="follow_symlinks = true\n")
setup(s)
started, err = s.start()
ok(started, "server starts (follow_symlinks = true)", err)
for path in ("/link-out", "/link-abs-out", "/link-dir-out/file.txt"):
    r = request(s.port, path)
    ok(r.status == 200 and r.body == SECRET, "%s is served with follow_symlinks = true" % path,
       r.status)
ATTACKS = [a for a in ATTACKS if not a.startswith("/link-")]
no_escape(s, "follow_symlinks = true")
ok(s.stop(), "server stops cleanly (follow_symlinks = true)")

# hidden_files: names starting with '.' are 404 by default, /.well-known/ stays public.
HIDDEN = {".git/config": "[core]\n", ".htpasswd": "user:hash\n", "a/.hidden/x": "hidden x\n",
          ".well-known/x": "well-known\n", "a/visible": "visible\n"}
DENIED = ["/.git/config", "/.htpasswd", "/a/.hidden/x", "/%2egit/config", "/a/%2Ehidden/x",
          "/.git/", "/sub/../.htpasswd"]
for setting in ("", 'hidden_files = "deny"\n', 'hidden_files = "allow"\n'):
    what = setting.strip() or "hidden_files unset"
    s = Server(mpm="prefork", files=dict(FILES, **HIDDEN), extra=setting)
    started, err = s.start()
    ok(started, "server starts (%s)" % what, err)
    allow = "allow" in setting
    for path in DENIED[:5]:
        r = request(s.port, path)
        name = path.replace("%2e", ".").replace("%2E", ".")
        want = HIDDEN[name.lstrip("/")].encode()
        if allow:
            ok(r.status == 200 and r.body == want, "%s: %s is served" % (what, path), r.status)
        else:
            ok(r.status == 404 and want not in r.body, "%s: %s is 404" % (what, path), r.status)
    for path in DENIED[5:]:
        r = request(s.port, path)
        ok((r.status != 404) == allow, "%s: %s is %s" % (what, path, "not 404" if allow else "404"),
           r.status)
    r = request(s.port, "/.well-known/x")
    ok(r.status == 200 and r.body == b"well-known\n", "%s: /.well-known/x is served" % what,
       r.status)
    r = request(s.port, "/a/visible")
    ok(r.status == 200 and r.body == b"visible\n", "%s: a visible file beside them" % what)
    ok(s.stop(), "server stops cleanly (%s)" % what)
done()
