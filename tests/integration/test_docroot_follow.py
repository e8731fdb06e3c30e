# SPDX-License-Identifier: ISC
"""A document_root reached through a symlink follows a deploy without a reload (issue 19
item 6): the `current` link is retargeted to a new release and requests see it within
the documented bound (each process looks at the path once a second; a file cache entry
made under the old directory is never served after the switch, even one a thread made
while another was switching); the old release is then deleted and no
request fails; a dangling link keeps the last release in service until it is repaired.
On every MPM: each process follows on its own."""

import os
import shutil
import threading
import time

from mhd import (Server, clean_log, done, is_, log_count, ok, per_mpm,
                 request, wait_for)

BOUND = 2.0 + 0.2   # seconds: man page's "within two seconds", plus the coarse clock
BIG = 20000         # past the file cache's 8 KiB: always opened, never cached

# Every MPM serves through the same engine and root; each is run, none is exempt.
MPMS = {m: {} for m in ("prefork", "worker", "event", "fork", "thread", "iterative",
                        "sigio", "uring")}
MPMS["prefork"] = {"section": "prefork {\n start_servers = 3\n min_spare_servers = 2\n}"}
MPMS["worker"] = {"section": "worker {\n processes = 2\n threads_per_process = 4\n}"}
MPMS["event"] = {"section": "event {\n processes = 2\n}"}


def release(s, name):
    d = os.path.join(s.dir, "releases", name)
    os.makedirs(d, mode=0o755)
    os.chmod(d, 0o755)
    for f, text in (("index.html", "release %s\n" % name),
                    ("big.txt", ("release %s\n" % name).ljust(BIG, "."))):
        with open(os.path.join(d, f), "w") as fh:
            fh.write(text)
        os.chmod(os.path.join(d, f), 0o644)
    return d


def deploy(s, name):
    """The atomic deploy: a new link renamed over `current` (here the document root)."""
    tmp = s.root + ".new"
    os.symlink(os.path.join("releases", name), tmp)
    os.replace(tmp, s.root)
    return time.monotonic()


def version(port):
    """(status, release name of index.html, release name of big.txt)."""
    try:
        a = request(port, "/index.html", timeout=10)
        b = request(port, "/big.txt", timeout=10)
    except OSError as e:
        return (repr(e), None, None)
    name = lambda r: r.body.split(b"\n")[0].decode(errors="replace")[8:] if r else None
    status = a.status if a.status != 200 else b.status
    return (status, name(a), name(b) if len(b.body) == BIG else "short")


def burst(port, clients=6, n=10):
    """clients x n versions, concurrently so that every process and thread takes some."""
    out, lock = [], threading.Lock()

    def run():
        for _ in range(n):
            v = version(port)
            with lock:
                out.append(v)
    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


for mpm, model in per_mpm(MPMS, "document_root follows a retargeted symlink"):
    t = mpm
    s = Server(mpm=mpm, files={}, mpm_section=model.get("section"),
               extra="keepalive_timeout = 2")
    os.chmod(os.path.join(s.dir), 0o755)
    shutil.rmtree(s.root)
    os.makedirs(os.path.join(s.dir, "releases"), mode=0o755)
    os.chmod(os.path.join(s.dir, "releases"), 0o755)
    for name in ("r1", "r2", "r3"):
        release(s, name)
    deploy(s, "r1")
    started, err = s.start()
    ok(started, "%s: starts on a symlinked root" % t, err)
    if not started:
        continue
    is_(set(burst(s.port, 4, 3)), {(200, "r1", "r1")}, "%s: serves release r1" % t)

    t0 = deploy(s, "r2")
    seen = wait_for(lambda: version(s.port) == (200, "r2", "r2"), 10)
    took = time.monotonic() - t0
    ok(seen and took < BOUND + 1, "%s: r2 deployed: seen without a reload (%.1f s)"
       % (t, took), version(s.port))
    # The documented bound: past it, no process or thread may answer from r1.
    time.sleep(max(0.0, t0 + BOUND - time.monotonic()))
    got = burst(s.port)
    is_(sorted(set(got)), [(200, "r2", "r2")], "%s: %.1f s after the deploy every answer is "
        "r2's (%d requests)" % (t, BOUND, 2 * len(got)))

    shutil.rmtree(os.path.join(s.dir, "releases", "r1"))
    got = burst(s.port)
    is_(sorted(set(got)), [(200, "r2", "r2")], "%s: r1 deleted: no request fails (%d)"
        % (t, 2 * len(got)))

    t0 = deploy(s, "missing")
    time.sleep(max(0.0, t0 + BOUND - time.monotonic()))
    got = burst(s.port, 3, 4)
    is_(sorted(set(got)), [(200, "r2", "r2")], "%s: a dangling link keeps r2 in service" % t)
    ok(wait_for(lambda: log_count(s, "serving the directory it named before") > 0, 5),
       "%s: and is logged" % t, s.stderr()[-2000:])

    t0 = deploy(s, "r3")
    seen = wait_for(lambda: version(s.port) == (200, "r3", "r3"), 10)
    ok(seen, "%s: repaired with r3: followed (%.1f s)" % (t, time.monotonic() - t0),
       version(s.port))
    is_(log_count(s, "reloaded"), 0, "%s: all without a reload" % t)
    ok(s.stop(), "%s: clean stop" % t)
    clean_log(s, t)

done()
