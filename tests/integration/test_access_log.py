# SPDX-License-Identifier: ISC
"""The access log's targets and formats (issues 15 and 18), on prefork, worker and event:
a file written with one write(2) per request (strace, where it can attach), a buffered
file flushed within a second, at a reload and at a stop, stdout and stderr, JSON that
Python's json module parses whatever bytes the request held, a %-format string with the
request time, connection id and keep-alive count, a bad directive refused by -t at its
line, SIGUSR1's reopen with a buffer, and behind a PROXY header the client and the peer
apart."""

import json
import os
import re
import shutil
import signal
import subprocess
import time

from mhd import (BINARY, Conn, NotApplicable, Server, clean_log, done, is_, ok, per_mpm,
                 reload, request, wait_for, workers_of, children_of)

COVERED = "the access log is the engine's: prefork, worker and event cover its shapes"
TABLE = {m: NotApplicable(COVERED) for m in
         ("iterative", "fork", "thread", "sigio")}
TABLE.update({"prefork": "prefork { start_servers = 2 }", "worker": "", "event": "",
              "uring": ""})  # the proactor drives the engine its own way: its lines too

COMBINED = re.compile(r'^127\.0\.0\.1 - - \[[^]]+\] "GET (/\S*) HTTP/1\.1" (\d{3}) (\d+|-) '
                      r'"[^"]*" "[^"]*"$')


def lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8").splitlines()
    except OSError:
        return []


def start(mpm, section, extra):
    s = Server(mpm=mpm, extra=extra, mpm_section=section or None)
    started, err = s.start()
    ok(started, "%s: starts with %s" % (mpm, extra.replace("\n", "; ")), err)
    return s


def strace_writes(pids, log_path, action, probe):
    """The write(2) calls the server's processes make to the access log while action runs,
    as a list of the byte strings written; None when strace cannot attach here."""
    if not shutil.which("strace"):
        return None
    out = os.path.join(os.path.dirname(log_path), "strace.out")
    args = ["strace", "-f", "-qq", "-e", "trace=write,writev", "-s", "65536", "-xx", "-o", out]
    for p in pids:
        for tid in os.listdir("/proc/%d/task" % p):
            args += ["-p", tid]
    st = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # strace attaches every -p before it traces: the first traced write means all are.
    attached = wait_for(lambda: st.poll() is not None or probe() or
                        (os.path.exists(out) and os.path.getsize(out) > 0), 5, 0.2)
    if st.poll() is not None or not attached:
        st.kill()
        st.wait()
        return None
    action()
    st.send_signal(signal.SIGINT)
    st.wait(10)
    fds = set()
    for p in pids:
        for fd in os.listdir("/proc/%d/fd" % p):
            try:
                if os.readlink("/proc/%d/fd/%s" % (p, fd)) == log_path:
                    fds.add(int(fd))
            except OSError:
                pass
    got = []
    for line in open(out):
        m = re.search(r'write\((\d+), "((?:\\x[0-9a-f]{2})*)"', line)
        if m and int(m.group(1)) in fds:
            got.append(bytes.fromhex(m.group(2).replace("\\x", "")))
    return got


for mpm, section in per_mpm(TABLE, "access log targets and formats"):
    # --- a file, unbuffered: whole lines, one write each ---------------------------------
    s = start(mpm, section, 'access_log_format = "combined"')
    log = os.path.join(s.dir, "access.log")
    r = request(s.port, "/index.html", headers={"User-Agent": 'ua "quoted"'})
    ok(r and r.status == 200, "%s: file: served" % mpm)
    ok(wait_for(lambda: len(lines(log)) == 1, 5), "%s: file: the line is there at once" % mpm)
    m = COMBINED.match(lines(log)[0]) if lines(log) else None
    ok(m and m.group(1) == "/index.html" and m.group(2) == "200" and '\\x22quoted\\x22' in lines(log)[0],
       "%s: file: combined, quotes escaped" % mpm, lines(log))

    writes = strace_writes(workers_of(s), log,
                           lambda: [request(s.port, "/w%d" % i) for i in range(5)],
                           lambda: request(s.port, "/probe") and False)
    if writes is None:
        ok(True, "%s: file: one write per request # SKIP strace cannot attach" % mpm)
    else:
        mine = [w for w in writes if b" /w" in w]
        ok(len(mine) == 5 and all(w.count(b"\n") == 1 and w.endswith(b"\n") for w in mine),
           "%s: file: one write(2) per request, each one whole line" % mpm, writes[-8:])
    clean_log(s, "%s: file" % mpm)
    s.stop()

    # --- buffered: within a second, at a reload, at a stop ----------------------------
    s = start(mpm, section, 'access_log_buffer = 64k\naccess_log_format = "common"')
    log = os.path.join(s.dir, "access.log")
    request(s.port, "/b1")
    t0 = time.monotonic()
    ok(wait_for(lambda: any("/b1 " in l for l in lines(log)), 5),
       "%s: buffered: flushed within the flusher's second (%.2f s)" % (mpm, time.monotonic() - t0))
    for i in range(20):
        request(s.port, "/r%d" % i)
    ok(reload(s), "%s: buffered: reloaded" % mpm)
    ok(wait_for(lambda: sum(" /r" in l for l in lines(log)) == 20, 5),
       "%s: buffered: every line before the reload is written" % mpm)
    for i in range(30):
        request(s.port, "/s%d" % i)
    ok(s.stop(), "%s: buffered: stopped" % mpm)
    got = lines(log)
    is_(sum(" /s" in l for l in got), 30, "%s: buffered: every line before the stop is written" % mpm)
    ok(all(re.match(r"^127\.0\.0\.1 - - \[.+\] \"GET /\S+ HTTP/1\.1\" \d{3} (\d+|-)$", l) for l in got),
       "%s: buffered: only whole lines" % mpm, got[-3:])
    clean_log(s, "%s: buffered" % mpm)

    # --- stdout and stderr, for containers -------------------------------------------
    for target in ("stdout", "stderr"):
        s = start(mpm, section, 'access_log = "%s"' % target)
        request(s.port, "/to-" + target)
        out = os.path.join(s.dir, "stdout.log") if target == "stdout" else s.log
        ok(wait_for(lambda: '"GET /to-%s HTTP/1.1" 404' % target in open(out).read(), 5),
           "%s: %s: the line is there" % (mpm, target))
        ok("/to-" not in "".join(lines(os.path.join(s.dir, "access.log"))),
           "%s: %s: and not in a file" % (mpm, target))
        s.stop()

    # --- JSON ----------------------------------------------------------------------------
    s = start(mpm, section, 'access_log_format = "json"\naccess_log_buffer = 64k')
    log = os.path.join(s.dir, "access.log")
    c = Conn(s.port)
    c.send(b'GET /j%22x HTTP/1.1\r\nHost: h\r\nUser-Agent: a"b\\c\t\xe2\x82\xac\xfe\r\n'
           b'Referer: r\xc3\xa9\r\n\r\n')
    r1 = c.response()
    c.send(b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n")
    r2 = c.response()
    c.close()
    ok(r1 and r2 and r2.status == 200, "%s: json: served" % mpm)
    ok(wait_for(lambda: len(lines(log)) == 2, 5), "%s: json: two lines" % mpm)
    try:
        objs = [json.loads(l) for l in lines(log)]
    except ValueError as e:
        objs = []
        ok(False, "%s: json: every line parses" % mpm, "%s %r" % (e, lines(log)))
    if len(objs) == 2:
        a, b = objs
        ok(a["target"] == "/j%22x" and a["user_agent"] == 'a"b\\c\t\u20ac\u00fe' and
           a["host"] == "h" and a["referer"] == "r\u00e9" and a["status"] == 404 and a["method"] == "GET" and
           a["client"] == "127.0.0.1" and a["keepalive"] == 0,
           "%s: json: escaped fields read back (non-UTF-8 bytes as U+00hh)" % mpm, a)
        ok(b["status"] == 200 and b["bytes"] == 15 and b["keepalive"] == 1 and
           b["connection"] == a["connection"] and isinstance(b["duration_us"], int) and
           0 < b["duration_us"] < 5000000 and b["referer"] is None and b["site"] is None,
           "%s: json: same connection, keep-alive count, request time in us" % mpm, b)
    s.stop()

    # --- a %-format -----------------------------------------------------------------------
    s = start(mpm, section, 'access_log_format = "%h %{peer}a %>s %b %D %{c}L %k %m %U%q %v"')
    log = os.path.join(s.dir, "access.log")
    c = Conn(s.port)
    for i in range(3):
        c.send("GET /index.html?n=%d HTTP/1.1\r\nHost: site.example\r\n\r\n" % i)
        c.response()
    c.close()
    ok(wait_for(lambda: len(lines(log)) == 3, 5), "%s: format: three lines" % mpm)
    fields = [l.split(" ") for l in lines(log)]
    ok(len(fields) == 3 and all(len(f) == 10 for f in fields) and
       [f[6] for f in fields] == ["0", "1", "2"] and len({f[5] for f in fields}) == 1 and
       re.match(r"^\d+-\d+$", fields[0][5]) and
       all(f[0] == f[1] == "127.0.0.1" and f[2] == "200" and f[3] == "15" and f[4].isdigit()
           and f[7] == "GET" and f[9] == "site.example" for f in fields),
       "%s: format: client, peer, status, bytes, us, connection id, keep-alive count, host" % mpm,
       lines(log))
    ok(lines(log) and "/index.html?n=2" in lines(log)[-1], "%s: format: %%U%%q" % mpm)
    s.stop()

    # --- reopen with a buffer: the old file gets what was buffered ---------------------
    s = start(mpm, section, "access_log_buffer = 64k")
    log = os.path.join(s.dir, "access.log")
    for i in range(10):
        request(s.port, "/old%d" % i)
    os.rename(log, log + ".1")
    s.signal(signal.SIGUSR1)
    ok(wait_for(lambda: "access log %s reopened" % log in s.stderr(), 10), "%s: reopen: reopened" % mpm)
    ok(wait_for(lambda: sum("/old" in l for l in lines(log + ".1")) == 10, 5),
       "%s: reopen: the rotated file has every old line" % mpm)
    # The old generation may still take a request while it leaves: wait for it.
    ok(wait_for(lambda: len(children_of(s.pid)) == 1, 15), "%s: reopen: the old generation left" % mpm)
    request(s.port, "/new")
    ok(wait_for(lambda: any("/new" in l for l in lines(log)), 5),
       "%s: reopen: new lines go to the new file" % mpm)
    s.stop()

# --- behind a balancer: the client from the PROXY header, the balancer as the peer -----------
s = Server(mpm="event", extra='access_log_format = "json"')
s.listen = ["127.0.0.1:%d proxy_protocol" % s.port]
s.write_conf()
started, err = s.start()
ok(started, "proxy: starts with a proxy_protocol listener", err)
c = Conn(s.port)
c.send(b"PROXY TCP4 192.0.2.7 127.0.0.1 4321 80\r\nGET / HTTP/1.1\r\nHost: h\r\n"
       b"Connection: close\r\n\r\n")
r = c.response()
c.close()
log = os.path.join(s.dir, "access.log")
ok(r and r.status == 200 and wait_for(lambda: len(lines(log)) == 1, 5), "proxy: served, logged")
try:
    o = json.loads(lines(log)[0]) if lines(log) else {}
except ValueError:
    o = {}
ok(o.get("client") == "192.0.2.7" and o.get("peer") == "127.0.0.1",
   "proxy: json client is the PROXY header's source, peer the balancer", lines(log))
s.stop()

# --- -t refuses a bad directive at its line -------------------------------------------------
s = Server(mpm="event", extra='access_log_format = "%h %Q"')
p = subprocess.run([BINARY, "-t", "-f", s.conf], capture_output=True, text=True)
ok(p.returncode == 1 and re.search(r"minihttpd\.conf:\d+: access_log_format: unknown directive %Q "
                                   r"at column 4", p.stdout + p.stderr),
   "-t: a bad directive is FILE:LINE: problem", p.stdout + p.stderr)

done()
