# SPDX-License-Identifier: ISC
"""health_path and shutdown_delay, on prefork, worker and event (the engine's), and the stop
without a delay on each. health_path answers 200 "ok" without the file system (its document
root may be anything) and stays out of the access log unless health_log. On SIGTERM with
shutdown_delay, it answers 503 while every other request is still served and the port still
accepts; after the delay the server refuses new connections and exits; a second SIGTERM in
the delay stops it at once. With shutdown_delay = 0 SIGTERM stops accepting at once."""

import signal
import subprocess
import time

from mhd import (BINARY, NotApplicable, Server, clean_log, done, ok, per_mpm, port_accepts, request,
                 wait_for)

SECTIONS = {
    "prefork": "prefork {\n start_servers = 2\n min_spare_servers = 1\n max_spare_servers = 4\n}",
    "worker": "worker {\n processes = 2\n threads_per_process = 4\n}",
    "event": "event {\n processes = 2\n}",
}
MPMS = {m: SECTIONS.get(m, NotApplicable("health and drain are the engine's and the "
                                          "master's: prefork, worker and event cover them"))
        for m in ("prefork", "worker", "event", "uring", "fork", "thread", "sigio",
                  "iterative")}
DELAY = 3


def access(server):
    try:
        with open(server.dir + "/access.log") as f:
            return f.read()
    except OSError:
        return ""


def get(port, path):
    try:
        return request(port, path, timeout=3)
    except OSError:
        return None


def scenario(mpm, section):
    s = Server(mpm=mpm, mpm_section=section,
               extra='health_path = "/healthz"\nshutdown_delay = %d\n' % DELAY)
    started, err = s.start()
    ok(started, "%s: starts with health_path and shutdown_delay" % mpm, err)
    if not started:
        return
    r = get(s.port, "/healthz")
    ok(r and r.status == 200 and r.body == b"ok\n", "%s: health: 200 ok" % mpm,
       r and (r.status, r.body))
    r = get(s.port, "/healthz?probe=1")
    ok(r and r.status == 200, "%s: health with a query: 200" % mpm, r and r.status)
    r = get(s.port, "/")
    ok(r and r.status == 200, "%s: a page: 200" % mpm)
    ok(wait_for(lambda: '"GET / ' in access(s), 5), "%s: the page is access-logged" % mpm)
    ok("/healthz" not in access(s), "%s: health checks are not (health_log = false)" % mpm,
       access(s))

    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    ok(wait_for(lambda: "shutdown_delay" in s.stderr(), 5), "%s: SIGTERM: the delay is logged"
       % mpm, s.stderr()[-500:])
    r = get(s.port, "/healthz")
    ok(r and r.status == 503, "%s: in the delay: health 503" % mpm, r and r.status)
    r = get(s.port, "/")
    ok(r and r.status == 200, "%s: in the delay: pages still 200" % mpm, r and r.status)
    ok(port_accepts(s.port), "%s: in the delay: the port accepts" % mpm)
    ok(time.monotonic() - t0 < DELAY, "%s: ... all within the delay" % mpm)
    p = subprocess.run([BINARY, "-s", "reload", "-f", s.conf], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    ok(p.returncode == 1 and "stopping (shutdown_delay)" in p.stderr,
       "%s: in the delay: -s reload fails at once, saying why" % mpm, (p.returncode, p.stderr))
    ok(wait_for(lambda: not port_accepts(s.port), DELAY + 5),
       "%s: after the delay: new connections refused" % mpm)
    ok(time.monotonic() - t0 >= DELAY - 0.2, "%s: ... not before the delay" % mpm,
       time.monotonic() - t0)
    ok(wait_for(lambda: s.proc.poll() is not None, 15), "%s: then it exits" % mpm)
    ok("shutdown_delay over: stopping gracefully" in s.stderr(), "%s: the stop is logged" % mpm,
       s.stderr()[-500:])
    clean_log(s, mpm)
    s.pid = None

    # health_log, and a second SIGTERM in the delay.
    s.write_conf(extra='health_path = "/healthz"\nhealth_log = true\nshutdown_delay = 60\n')
    started, err = s.start()
    ok(started, "%s: restarts with health_log" % mpm, err)
    if not started:
        return
    get(s.port, "/healthz")
    ok(wait_for(lambda: '"GET /healthz ' in access(s), 5), "%s: health_log: logged" % mpm)
    s.signal(signal.SIGTERM)
    ok(wait_for(lambda: "shutdown_delay" in s.stderr(), 5), "%s: first SIGTERM: the delay"
       % mpm)
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    ok(wait_for(lambda: s.proc.poll() is not None, 10), "%s: a second SIGTERM in the delay "
       "stops it at once" % mpm, time.monotonic() - t0)
    s.pid = None

    # Without a delay: today's stop.
    s.write_conf(extra='health_path = "/healthz"\n')
    started, err = s.start()
    ok(started, "%s: restarts without shutdown_delay" % mpm, err)
    if not started:
        return
    s.signal(signal.SIGTERM)
    ok(wait_for(lambda: not port_accepts(s.port), 2), "%s: shutdown_delay = 0: refused at once"
       % mpm)
    ok(wait_for(lambda: s.proc.poll() is not None, 10), "%s: and it exits" % mpm)
    s.pid = None


for mpm, section in per_mpm(MPMS, "health_path and shutdown_delay"):
    scenario(mpm, section)

s = Server(extra='health_path = "/server-status"\nstatus_path = "/server-status"\n')
started, err = s.start(expect_fail=True)
ok(not started and "health_path and status_path are both" in err,
   "health_path = status_path is refused, naming both", err[-300:])

done()
