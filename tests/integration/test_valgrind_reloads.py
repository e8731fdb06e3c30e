# SPDX-License-Identifier: ISC
"""The master under valgrind across 100 reloads under load (RELOADS to change it): every
reload takes, cycling through every MPM built, every request between them is served, and at the
stop the master has freed every block it allocated. Every other process (leaders, workers)
runs under valgrind too and must end with no error and nothing definitely or indirectly
lost. Skips without valgrind, and for sanitizer builds, which valgrind cannot run."""

import os
import re
import signal
import subprocess
import tempfile

from mhd import (BINARY, Server, built_mpms, done, is_, ok, port_accepts, request, skip_all,
                 wait_for)

RELOADS = int(os.environ.get("RELOADS", "100"))
MPMS = built_mpms()


def instrumented(binary):
    try:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    except OSError:
        return False
    return re.search(r"lib(asan|tsan|ubsan)", out) is not None


def main():
    if subprocess.run(["sh", "-c", "command -v valgrind"], capture_output=True).returncode:
        skip_all("valgrind is not installed")
    if instrumented(BINARY):
        skip_all("a sanitizer build: valgrind cannot run it")
    # Valgrind slows every process many times over: an old generation must not be killed
    # for missing the usual graceful_timeout while it still holds a request.
    s = Server(mpm="prefork", extra="max_connections_per_client = 8\ngraceful_timeout = 120\n"
               "event {\n processes = 1\n}\nprefork {\n start_servers = 2\n}\n")
    # One log for every process: pids wrap over 100 reloads, so per-pid files collide.
    vglog = tempfile.NamedTemporaryFile(prefix="minihttpd-vg.", suffix=".log", delete=False)
    err = open(s.log, "wb")
    s.proc = subprocess.Popen(
        ["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
         "--errors-for-leak-kinds=definite,indirect", "--log-fd=%d" % vglog.fileno(),
         BINARY, "-F", "-f", s.conf],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
        pass_fds=(vglog.fileno(),))
    err.close()
    s.pid = s.proc.pid
    up = wait_for(lambda: port_accepts(s.port) or s.proc.poll() is not None, 120)
    ok(up and s.proc.poll() is None, "starts under valgrind", s.stderr()[-1000:])
    if not up or s.proc.poll() is not None:
        done()
        return

    def reloaded():
        return s.stderr().count("reloaded: generation")
    took = served = 0
    for i in range(RELOADS):
        before = reloaded()
        s.write_conf(mpm=MPMS[i % len(MPMS)])
        s.signal(signal.SIGHUP)
        if not wait_for(lambda: reloaded() > before or "reload failed" in s.stderr(), 120):
            break
        if reloaded() == before:
            break
        took += 1
        for _ in range(3):
            try:
                served += request(s.port, "/", timeout=60).status == 200
            except OSError as e:
                # Counted as not served; which switch it followed is what a reader needs.
                print("# after reload %d (to %s): %r" % (i + 1, MPMS[i % len(MPMS)], e))
    is_(took, RELOADS, "every reload took")
    is_(served, 3 * took, "every request between reloads served")
    s.signal(signal.SIGTERM)
    try:
        rc = s.proc.wait(300)
    except subprocess.TimeoutExpired:
        rc = None
    s.pid = None
    is_(rc, 0, "stops cleanly")

    text = open(vglog.name, errors="replace").read()
    os.unlink(vglog.name)
    master = "==%d== " % s.proc.pid
    mine = [l[len(master):] for l in text.splitlines() if l.startswith(master)]
    ok(any("All heap blocks were freed" in l for l in mine),
       "the master freed every block it allocated",
       "\n".join(mine[-12:]))
    summaries = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
    lost = re.findall(r"(?:definitely|indirectly) lost: ([\d,]+) bytes", text)
    ok(len(summaries) > RELOADS, "every process reported (%d)" % len(summaries))
    ok(all(n == "0" for n in summaries), "no process has a valgrind error",
       "\n".join(l for l in text.splitlines() if "ERROR SUMMARY: 0" not in l)[-2000:])
    ok(all(n == "0" for n in lost), "no process lost memory definitely or indirectly")
    done()


main()
