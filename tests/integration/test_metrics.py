# SPDX-License-Identifier: ISC
"""metrics_path over real sockets, on prefork, worker and event: the exposition parses
line by line (and passes `promtool check metrics` where the Debian prometheus package is
installed), its counters move by exactly the requests made, by method, status class and
code (refusals of unreadable requests and the 408 of header_timeout included), the
duration histogram is cumulative and counts every response, client-limit refusals and
refused reloads are counted, the counters survive a reload that switches the MPM, and
status_allow answers 403 outside it. Then a scrape with many idle connections
open (its time printed, never asserted), and prometheus-apache-exporter reading the
status page's ?auto form, where it is installed."""

import os
import re
import resource
import shutil
import socket
import subprocess
import time
import urllib.request

from mhd import (BINARY, NotApplicable, Server, after_start_probe, children_of, done,
                 exchange, free_port, generation_gone, is_, ok, parse_auto, per_mpm,
                 read_response, reload, wait_for)

PATH = "/metrics"
STATUS = "/server-status"
CTYPE = "text/plain; version=0.0.4; charset=utf-8"
PROMTOOL = shutil.which("promtool")
EXPORTER = shutil.which("prometheus-apache-exporter")
IDLE = 2000
# Per client: above what the sequential requests from 127.0.0.1 may briefly hold (a
# connection lingers a moment after its client saw the answer), held by 127.0.0.2.
LIMIT = 4

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})?'
                    r' (\S+)$')


def get(port, path, method="GET", source=None, extra=""):
    """One request on its own connection, read to the server's close, when the server has
    counted it. Returns (status, headers, body, bytes received)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                 source_address=(source, 0) if source else None)
    try:
        s.sendall(("%s %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n"
                   % (method, path, extra)).encode())
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines[0].startswith("HTTP/1.1 ") else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body, len(raw)


def parse(text):
    """(series -> value, problems): every line checked by the format's grammar."""
    series, problems, types, helped = {}, [], {}, set()
    if not text.endswith("\n"):
        problems.append("not newline-terminated")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split(" ")[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            if name not in helped or name in types or typ not in ("counter", "gauge",
                                                                   "histogram"):
                problems.append("bad TYPE: " + line)
            if typ == "counter" and not name.endswith("_total"):
                problems.append("a counter not named _total: " + name)
            types[name] = typ
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append("not a sample: %r" % line)
            continue
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in types and types.get(base) != "histogram":
            problems.append("a sample before its TYPE: " + line)
        key = name + (m.group(2) or "")
        if key in series:
            problems.append("a series twice: " + key)
        try:
            series[key] = float(m.group(3))
        except ValueError:
            problems.append("not a number: " + line)
    return series, problems


def scrape(port, source=None):
    """The parsed metrics, {} unless 200 with the format's type; and the bytes received."""
    status, headers, body, n = get(port, PATH, source=source)
    if status != 200 or headers.get("content-type") != CTYPE:
        return {}, n
    return parse(body.decode())[0], n


def req_key(method, cls):
    return 'minihttpd_http_requests_total{method="%s",class="%s"}' % (method, cls)


def bytes_key(method, cls):
    return 'minihttpd_http_response_bytes_total{method="%s",class="%s"}' % (method, cls)


def code_key(code):
    return 'minihttpd_http_responses_total{code="%s"}' % code


def total_requests(m):
    return sum(v for k, v in m.items() if k.startswith("minihttpd_http_requests_total{"))


BUCKET = 'minihttpd_http_request_duration_seconds_bucket{le="%s"}'
LES = ("0.0005", "0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "+Inf")


def histogram_problem(m):
    """None when the buckets are cumulative and +Inf and _count are every response."""
    counts = [m.get(BUCKET % le, -1) for le in LES]
    if min(counts) < 0 or counts != sorted(counts):
        return "buckets missing or not cumulative: %r" % counts
    n = m.get("minihttpd_http_request_duration_seconds_count", -1)
    if counts[-1] != n or n != total_requests(m):
        return "+Inf %d, _count %d, requests %d" % (counts[-1], n, total_requests(m))
    if m.get("minihttpd_http_request_duration_seconds_sum", -1) < 0:
        return "no _sum"
    return None


def format_checks(mpm, port):
    status, headers, body, _ = get(port, PATH)
    is_(status, 200, "%s: %s answers 200" % (mpm, PATH))
    is_(headers.get("content-type"), CTYPE, "%s: the format's content type" % mpm)
    text = body.decode()
    series, problems = parse(text)
    ok(series and not problems, "%s: every line parses (%d series)" % (mpm, len(series)),
       "\n".join(problems[:10]))
    ok(series.get('minihttpd_build_info{version="%s",mpm="%s"}' % (version(), mpm)) == 1,
       "%s: build_info names the version and the MPM" % mpm,
       [k for k in series if "build_info" in k])
    if PROMTOOL:
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        ok(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
           "%s: promtool check metrics finds nothing" % mpm, r.stdout + r.stderr)
    else:
        ok(True, "%s: promtool check metrics # SKIP promtool is not installed (Debian "
           "package prometheus)" % mpm)
    status, headers, body, _ = get(port, PATH, method="HEAD")
    ok(status == 200 and body == b"" and int(headers.get("content-length", 0)) > 0,
       "%s: HEAD of %s" % (mpm, PATH))
    is_(get(port, PATH + "/")[0], 404, "%s: only the exact path is the metrics" % mpm)


_version = None


def version():
    global _version
    if _version is None:
        r = subprocess.run([BINARY, "-V"], capture_output=True, text=True, timeout=10)
        found = re.search(r"(\d+\.\d+[^\s]*)", r.stdout + r.stderr)
        _version = found.group(1) if found else "?"
    return _version


def counting(mpm, s):
    # Only this scrape's connection open, every count from the start (after_start_probe).
    first = after_start_probe(lambda: scrape(s.port), lambda d: (
        d.get("minihttpd_connections_open"), d.get("minihttpd_connections_accepted_total"),
        d.get("minihttpd_http_request_duration_seconds_count")))
    a, a_bytes = first or scrape(s.port)
    ok(first, "%s: the start-up probe gone, only the scrape's own connection open" % mpm,
       dict((k, v) for k, v in a.items() if k.startswith("minihttpd_connections")))
    ok(a and histogram_problem(a) is None, "%s: the histogram is whole at first" % mpm,
       histogram_problem(a))

    want_req, want_bytes, want_codes = {}, {}, {}

    def count(method, cls, code, n):
        want_req[(method, cls)] = want_req.get((method, cls), 0) + 1
        want_bytes[(method, cls)] = want_bytes.get((method, cls), 0) + n
        want_codes[code] = want_codes.get(code, 0) + 1

    # The first scrape itself is counted once it is sent: after it was rendered.
    count("GET", "2xx", "200", a_bytes)
    etag = None
    for _ in range(4):
        status, headers, _, n = get(s.port, "/index.html")
        etag = headers.get("etag")
        ok(status == 200, "%s: GET served" % mpm)
        count("GET", "2xx", "200", n)
    status, _, _, n = get(s.port, "/index.html", extra="If-None-Match: %s\r\n" % etag)
    is_(status, 304, "%s: a conditional GET answered 304" % mpm)
    count("GET", "3xx", "304", n)
    for _ in range(2):
        status, _, _, n = get(s.port, "/index.html", method="HEAD")
        is_(status, 200, "%s: HEAD served" % mpm)
        count("HEAD", "2xx", "200", n)
    for _ in range(3):
        status, _, _, n = get(s.port, "/missing")
        is_(status, 404, "%s: a missing file" % mpm)
        count("GET", "4xx", "404", n)
    status, _, _, n = get(s.port, "/index.html", method="POST", extra="Content-Length: 0\r\n")
    is_(status, 405, "%s: POST refused" % mpm)
    count("POST", "4xx", "405", n)
    status, _, _, n = get(s.port, "/index.html", method="BREW")
    is_(status, 501, "%s: an unknown method" % mpm)
    count("other", "5xx", "501", n)
    # No Host: refused before a request could be read, so no method is known.
    raw = exchange(s.port, b"GET /index.html HTTP/1.1\r\n\r\n")
    ok(raw.startswith(b"HTTP/1.1 400 "), "%s: a request without Host refused" % mpm)
    count("other", "4xx", "400", len(raw))
    # Half a head, then silence: 408 at header_timeout, also before any method was read.
    raw = exchange(s.port, b"GET /index.html HTTP/1.1\r\nHost: x\r\n", timeout=15)
    ok(raw.startswith(b"HTTP/1.1 408 "), "%s: half a head times out with 408" % mpm)
    count("other", "4xx", "408", len(raw))
    made = sum(want_req.values())

    b, _ = scrape(s.port)
    for (method, cls), n in sorted(want_req.items()):
        is_(b.get(req_key(method, cls), -1) - a.get(req_key(method, cls), 0), n,
            "%s: requests{%s,%s} rose by exactly %d" % (mpm, method, cls, n))
    for (method, cls), n in sorted(want_bytes.items()):
        is_(b.get(bytes_key(method, cls), -1) - a.get(bytes_key(method, cls), 0), n,
            "%s: bytes{%s,%s} rose by exactly the bytes received" % (mpm, method, cls))
    for code, n in sorted(want_codes.items()):
        is_(b.get(code_key(code), -1) - a.get(code_key(code), 0), n,
            "%s: responses{code=%s} rose by exactly %d" % (mpm, code, n))
    is_(total_requests(b) - total_requests(a), made,
        "%s: no other series moved (%d responses)" % (mpm, made))
    ok(histogram_problem(b) is None, "%s: buckets cumulative, +Inf = _count = requests"
       % mpm, histogram_problem(b))
    count_key = "minihttpd_http_request_duration_seconds_count"
    is_(b.get(count_key, -1) - a.get(count_key, 0), made,
        "%s: the histogram counted every response" % mpm)
    # A connection per request, and the second scrape's own.
    acc = "minihttpd_connections_accepted_total"
    is_(b.get(acc, -1) - a.get(acc, 0), made, "%s: connections accepted, exactly" % mpm)
    ok(b.get('minihttpd_workers{state="writing"}', 0) >= 1,
       "%s: the worker answering the scrape is writing" % mpm)
    ok(b.get("minihttpd_generation") == 1 and b.get("minihttpd_reloads_total") == 0 and
       b.get("minihttpd_scoreboard_slots", 0) >= 1, "%s: generation 1, no reload" % mpm)


def held(port, source):
    """A keep-alive connection from source that got its answer and stays open."""
    c = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    c.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
    r = read_response(c.makefile("rb"))
    return c if r is not None and r.status == 200 else None


def client_limit(mpm, s):
    before, _ = scrape(s.port)
    conns = [held(s.port, "127.0.0.2") for _ in range(LIMIT)]
    ok(all(conns), "%s: a client holds its %d connections" % (mpm, LIMIT))
    status, _, _, _ = get(s.port, "/index.html", source="127.0.0.2")
    is_(status, 503, "%s: its next one is refused" % mpm)
    for c in conns:
        if c:
            c.close()
    after, _ = scrape(s.port)
    key = 'minihttpd_connections_refused_total{reason="client_limit"}'
    is_(after.get(key, -1) - before.get(key, 0), 1, "%s: one client-limit refusal" % mpm)
    is_(after.get(code_key("503"), -1) - before.get(code_key("503"), 0), 1,
        "%s: and its 503 among the responses" % mpm)
    is_(after.get('minihttpd_connections_refused_total{reason="proxy_protocol"}', -1) -
        before.get('minihttpd_connections_refused_total{reason="proxy_protocol"}', 0), 0,
        "%s: no PROXY refusal" % mpm)


def proxy_refusal(mpm, s, pport):
    """A request without its PROXY header on a proxy_protocol listener: closed, counted."""
    before, _ = scrape(s.port)
    raw = exchange(pport, b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
    is_(raw, b"", "%s: no PROXY header: closed unanswered" % mpm)
    key = 'minihttpd_connections_refused_total{reason="proxy_protocol"}'
    scrapes = []

    def counted():
        # Counted before the close the client saw; each scrape until then counts too.
        scrapes.append(scrape(s.port)[0])
        return scrapes[-1].get(key, -1) - before.get(key, 0) == 1

    ok(wait_for(counted, 10), "%s: one PROXY-protocol refusal counted" % mpm)
    is_(total_requests(scrapes[-1]) - total_requests(before), len(scrapes),
        "%s: and no response (only the scrapes')" % mpm)


def refused_reload(mpm, s):
    before, _ = scrape(s.port)
    good = open(s.conf).read()
    with open(s.conf, "w") as f:
        f.write(good + "no_such_option = 1\n")
    ok(reload(s, what="reload failed"), "%s: a bad config is refused" % mpm)
    with open(s.conf, "w") as f:
        f.write(good)
    key = "minihttpd_reload_failures_total"
    # The master logs why first, then counts the verdict (after telling systemd).
    after = wait_for(lambda: (lambda d: d if d.get(key, -1) - before.get(key, 0) == 1 else None)
                     (scrape(s.port)[0]), 5) or scrape(s.port)[0]
    is_(after.get(key, -1) - before.get(key, 0), 1, "%s: the refused reload counted" % mpm)
    ok(after.get("minihttpd_reloads_total") == before.get("minihttpd_reloads_total") and
       after.get("minihttpd_generation") == before.get("minihttpd_generation"),
       "%s: no reload, same generation" % mpm)


def across_reload(mpm, s, nxt):
    e, _ = scrape(s.port)
    leaders = children_of(s.pid)
    s.write_conf(mpm=nxt)
    ok(reload(s), "%s: reloaded to %s" % (mpm, nxt))
    ok(generation_gone(leaders), "%s: the %s generation is gone" % (mpm, mpm))
    f, _ = scrape(s.port)
    ok(f.get('minihttpd_build_info{version="%s",mpm="%s"}' % (version(), nxt)) == 1,
       "%s: build_info now names %s" % (mpm, nxt))
    is_(f.get("minihttpd_generation", -1), e.get("minihttpd_generation", 0) + 1,
        "%s: one generation more" % mpm)
    is_(f.get("minihttpd_reloads_total", -1), e.get("minihttpd_reloads_total", 0) + 1,
        "%s: the reload counted" % mpm)
    # Nothing but the scrape before was served in between.
    is_(total_requests(f) - total_requests(e), 1,
        "%s -> %s: every response counted before the reload is still counted" % (mpm, nxt))
    is_(f.get(req_key("GET", "2xx"), -1) - e.get(req_key("GET", "2xx"), 0), 1,
        "%s -> %s: requests{GET,2xx} went on from where they were" % (mpm, nxt))
    fell = [k for k in e if (k.endswith("_total") or "_total{" in k or "_bucket{" in k or
                             k.endswith("_count")) and f.get(k, -1) < e[k]]
    ok(not fell, "%s -> %s: no counter went down" % (mpm, nxt), fell)
    ok(histogram_problem(f) is None, "%s -> %s: the histogram is still whole" % (mpm, nxt),
       histogram_problem(f))


def acl(mpm, s):
    leaders = children_of(s.pid)
    s.extra = s.extra.replace('status_allow = {"127.0.0.1"}', 'status_allow = {"10.0.0.0/8"}')
    s.write_conf(mpm=s.mpm_now)
    ok(reload(s), "%s: reloaded with status_allow outside loopback" % mpm)
    ok(generation_gone(leaders), "%s: the previous generation is gone" % mpm)
    status, _, body, _ = get(s.port, PATH)
    ok(status == 403 and b"minihttpd_" not in body,
       "%s: 127.0.0.1 outside status_allow gets 403, and no metric" % mpm, (status, body[:80]))
    is_(get(s.port, STATUS + "?auto")[0], 403, "%s: as the status page does" % mpm)
    is_(get(s.port, "/index.html")[0], 200, "%s: other paths still served" % mpm)


# The engine counts for every MPM alike: three MPMs of different shapes test it, each
# switching to another one on reload.
NEXT = {
    "prefork": "event",
    "worker": "prefork",
    "event": "worker",
    # The proactor drives the engine its own way: its counts too.
    "uring": "event",
    "fork": NotApplicable("the engine's counting is shared: prefork, worker, event cover it"),
    "thread": NotApplicable("the engine's counting is shared: prefork, worker, event cover it"),
    "iterative": NotApplicable("the engine's counting is shared: prefork, worker, event cover "
                               "it"),
    "sigio": NotApplicable("the engine's counting is shared: prefork, worker, event cover it"),
}

for mpm, nxt in per_mpm(NEXT, "metrics"):
    port, pport = free_port(), free_port()
    s = Server(mpm=mpm, files={"index.html": "<h1>hello</h1>\n"}, port=port,
               listen=["127.0.0.1:%d" % port, "127.0.0.1:%d proxy_protocol" % pport],
               extra='metrics_path = "%s"\nstatus_path = "%s"\nstatus_allow = {"127.0.0.1"}\n'
                     'max_connections_per_client = %d\nkeepalive_timeout = 30\n'
                     'header_timeout = 2' % (PATH, STATUS, LIMIT))
    s.mpm_now = mpm
    started, err = s.start(foreground=True)
    ok(started, "%s: starts with metrics_path" % mpm, err)
    if not started:
        continue
    counting(mpm, s)    # first: it counts every connection since the start
    format_checks(mpm, s.port)
    client_limit(mpm, s)
    proxy_refusal(mpm, s, pport)
    refused_reload(mpm, s)
    across_reload(mpm, s, nxt)
    s.mpm_now = nxt
    acl(mpm, s)
    err = s.stderr()
    ok("Sanitizer" not in err and "runtime error" not in err,
       "%s: no sanitizer report" % mpm, err[-2000:])
    ok(s.stop(), "%s: stops" % mpm)
    s.cleanup()

# Options refused with their line.
s = Server(mpm="prefork", extra='metrics_path = "metrics"')
r = subprocess.run([BINARY, "-t", "-f", s.conf], capture_output=True, text=True, timeout=20)
ok(r.returncode == 1 and "minihttpd.conf:" in r.stderr and "metrics_path" in r.stderr,
   "a metrics_path without a leading slash is refused with FILE:LINE", r.stderr)
for other in ("status_path", "health_path"):
    s.extra = '%s = "/s"\nmetrics_path = "/s"' % other
    s.write_conf()
    r = subprocess.run([BINARY, "-t", "-f", s.conf], capture_output=True, text=True,
                       timeout=20)
    ok(r.returncode == 1 and "minihttpd.conf:" in r.stderr and
       "metrics_path and %s are both" % other in r.stderr,
       "a metrics_path equal to %s is refused with FILE:LINE" % other, r.stderr)
s.cleanup()


def cpu_ticks(pids):
    """utime + stime of pids, in clock ticks, from /proc."""
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total


# A scrape reads the scoreboard's slots, never the connections: with IDLE connections open
# it still answers, counting them. Its cost is printed (a sanity figure on a shared
# machine, never a timed assertion).
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < IDLE + 200 and hard >= IDLE + 200:
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft = hard
if soft < IDLE + 200:
    ok(True, "idle connections # SKIP RLIMIT_NOFILE %d is below %d" % (soft, IDLE + 200))
else:
    s = Server(mpm="event", files={"index.html": "x\n"},
               mpm_section="event {\n processes = 1\n defer_accept = 0\n}",
               extra='metrics_path = "%s"\nheader_timeout = 120' % PATH)
    started, err = s.start(foreground=True)
    ok(started, "idle connections: event starts", err)
    conns = []
    try:
        for _ in range(IDLE):
            conns.append(socket.create_connection(("127.0.0.1", s.port), timeout=10))
        seen = wait_for(lambda: scrape(s.port)[0].get("minihttpd_connections_open", 0) >= IDLE
                        + 1, 30, 0.2)
        ok(seen, "idle connections: the metrics count %d open" % IDLE)
        procs = [s.pid] + children_of(s.pid) + [k for l in children_of(s.pid)
                                                 for k in children_of(l)]
        n = 200
        t0, c0 = time.monotonic(), cpu_ticks(procs)
        for _ in range(n):
            scrape(s.port)
        t1, c1 = time.monotonic(), cpu_ticks(procs)
        hz = os.sysconf("SC_CLK_TCK")
        print("# %d scrapes with %d idle connections open: %.3f ms wall each, server CPU "
              "%.3f ms each (clock ticks of 1/%d s: a rough figure)"
              % (n, IDLE, (t1 - t0) * 1000 / n, (c1 - c0) * 1000.0 / hz / n, hz))
    finally:
        for c in conns:
            c.close()
    ok(s.stop(), "idle connections: stops")
    s.cleanup()

# prometheus-apache-exporter (Debian) reads the status page's ?auto form as Apache's.
if not EXPORTER:
    ok(True, "prometheus-apache-exporter # SKIP not installed (apt-get install "
       "prometheus-apache-exporter)")
else:
    s = Server(mpm="event", files={"index.html": "x\n"},
               extra='status_path = "%s"' % STATUS)
    started, err = s.start(foreground=True)
    ok(started, "exporter: the server starts", err)
    for _ in range(5):
        get(s.port, "/index.html")
    eport = free_port()
    elog = open(os.path.join(s.dir, "exporter.log"), "wb")
    exp = subprocess.Popen([EXPORTER, "--telemetry.address=127.0.0.1:%d" % eport,
                            "--scrape_uri=http://127.0.0.1:%d%s?auto" % (s.port, STATUS)],
                           stdin=subprocess.DEVNULL, stdout=elog, stderr=elog)
    try:
        def exported():
            # Go answers chunked: urllib reads that, mhd's reader does not.
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % eport,
                                            timeout=10) as r:
                    return r.read().decode() if r.status == 200 else None
            except OSError:
                return None
        text = wait_for(exported, 15, 0.1) or ""
        vals = {}
        for line in text.splitlines():
            m = SAMPLE.match(line)
            if m and line.startswith("apache_"):
                vals[m.group(1) + (m.group(2) or "")] = float(m.group(3))
        is_(vals.get("apache_up"), 1.0, "exporter: apache_up 1")
        st, _, body, _ = get(s.port, STATUS + "?auto")
        total = int(parse_auto(body.decode()).get("Total Accesses", -1))
        acc = vals.get("apache_accesses_total", -1)
        # Its own scrape is counted once answered: by then, or a moment later.
        ok(5 <= acc <= total, "exporter: apache_accesses_total %s counts the 5 requests, not "
           "more than the status page's %d" % (acc, total))
        ok(vals.get('apache_info{mpm="event",version="minihttpd/%s"}' % version()) == 1,
           "exporter: apache_info names the MPM", [k for k in vals if "info" in k])
        ok(vals.get('apache_workers{state="idle"}', -1) >= 0 and
           vals.get('apache_workers{state="busy"}', -1) >= 1 and
           vals.get('apache_scoreboard{state="idle"}', -1) >= 0 and
           vals.get("apache_sent_kilobytes_total", -1) >= 0 and
           vals.get("apache_uptime_seconds_total", -1) >= 0,
           "exporter: workers, scoreboard, kilobytes and uptime read",
           sorted(vals)[:40])
    finally:
        exp.terminate()
        try:
            exp.wait(10)
        except subprocess.TimeoutExpired:
            exp.kill()
        elog.close()
    ok(s.stop(), "exporter: the server stops")

done()
