# SPDX-License-Identifier: ISC
"""A fleet behind a real balancer: three minihttpd instances (own ports and configs, identical
document roots copied with their mtimes) behind HAProxy, started here in the foreground with
a config written here: PROXY v2 to the servers (proxy_protocol listeners), health checks on
health_path every 200 ms. Under a bounded load through HAProxy from clients bound to
127.0.0.2..127.0.0.8:
  (a) a rolling reload of the three, one by one, each switching MPM: no failed request;
  (b) a rolling restart (SIGTERM with shutdown_delay, then a new start): no failed request;
  (c) an If-None-Match with one replica's ETag gets 304 from each of the others;
  (d) each access log shows the clients' 127.0.0.x addresses, never HAProxy's, and
      max_connections_per_client limits one client behind HAProxy without limiting another.
Skips, saying so, only when HAProxy is not installed (scripts/install-deps.sh installs it)."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from mhd import (Server, clean_log, done, free_port, is_, ok, port_accepts, read_response,
                 skip_all, wait_for, built_mpms)

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy"
                                      if os.access("/usr/sbin/haproxy", os.X_OK) else None)
if not HAPROXY:
    skip_all("haproxy is not installed (apt-get install haproxy; scripts/install-deps.sh)")
WANT = [m for m in ("prefork", "worker", "event") if m in built_mpms()]
if len(WANT) < 3:
    skip_all("the rolling reload switches among prefork, worker and event; built: %s"
             % built_mpms())

SECTIONS = {
    "prefork": "prefork {\n start_servers = 3\n min_spare_servers = 2\n max_spare_servers = 6\n}",
    "worker": "worker {\n processes = 2\n threads_per_process = 16\n}",
    "event": "event {\n processes = 2\n}",
}
DELAY = 2		# shutdown_delay, > inter (200 ms) x fall (2), with room for a busy machine
# HAProxy keeps a client's server connections idle after use (up to max-session-srv-conns
# per session, and in its pools for pool-purge-delay after the session ends): each counts
# for that client, so a per-client limit behind it needs room for them (docs/fleet.md).
LIMIT = 8
CLIENTS = ["127.0.0.%d" % i for i in range(2, 9)]	# the load; 127.0.0.9 tests the limit
FILES = {"index.html": "<h1>fleet</h1>\n", "a/b.txt": "b" * 3000, "big.bin": "x" * 200000}


def conf_extra():
    return ('health_path = "/healthz"\nshutdown_delay = %d\nmax_connections_per_client = %d\n'
            'trusted_proxies = {"127.0.0.1"}\nkeepalive_timeout = 30\n' % (DELAY, LIMIT))


def make_servers():
    servers = []
    for i, mpm in enumerate(WANT):
        s = Server(mpm=mpm, files=FILES if i == 0 else {}, extra=conf_extra(),
                   mpm_section=SECTIONS[mpm])
        if i > 0:
            # Copied with their mtimes, as a deploy with rsync -t would.
            shutil.copytree(servers[0].root, s.root, dirs_exist_ok=True, copy_function=shutil.copy2)
        s.listen = ["127.0.0.1:%d proxy_protocol" % s.port]
        s.write_conf()
        servers.append(s)
    return servers


def haproxy_conf(d, port, one_port, servers):
    lines = [
        "global",
        "    stats socket %s/haproxy.sock mode 600 level admin" % d,
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 30s",
        "    timeout server 30s",
        "    timeout http-keep-alive 10s",
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response response-timeout",
        "    option httpchk",
        "    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host fleet",
        "    http-check expect status 200",
        "    default-server check inter 200ms fall 2 rise 2 send-proxy-v2",
        "frontend fe",
        "    bind 127.0.0.1:%d" % port,
        "    default_backend fleet",
        "frontend fe_one",
        "    bind 127.0.0.1:%d" % one_port,
        "    default_backend one",
        "backend fleet",
        "    balance roundrobin",
    ]
    lines += ["    server m%d 127.0.0.1:%d" % (i, s.port) for i, s in enumerate(servers)]
    # HAProxy shares a client's idle server connections among that client's sessions (the
    # PROXY header is part of the connection's identity): never, so that every client
    # connection keeps its own, and the limit counts client connections.
    lines += ["backend one", "    http-reuse never",
              "    server m0 127.0.0.1:%d" % servers[0].port]
    with open(os.path.join(d, "haproxy.cfg"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return os.path.join(d, "haproxy.cfg")


def haproxy_status(d, column="status"):
    """{(backend, server): column} from HAProxy's stats socket."""
    try:
        c = socket.socket(socket.AF_UNIX)
        c.settimeout(2)
        c.connect(os.path.join(d, "haproxy.sock"))
        c.sendall(b"show stat\n")
        out = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            out += b
        c.close()
    except OSError:
        return {}
    rows = out.decode().splitlines()
    if not rows or not rows[0].startswith("# "):
        return {}
    head = rows[0][2:].split(",")
    st = head.index(column)
    return {(r.split(",")[0], r.split(",")[1]): r.split(",")[st] for r in rows[1:] if r}


def all_up(d, n):
    s = haproxy_status(d)
    return all(s.get(("fleet", "m%d" % i)) == "UP" for i in range(n))


class Load:
    """Keep-alive GETs through HAProxy from each client address until stopped; counts
    requests and failures (an error or an answer other than 200)."""

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.requests = 0
        self.failures = []
        self.threads = [threading.Thread(target=self.run, args=(a,), daemon=True)
                        for a in CLIENTS]
        for t in self.threads:
            t.start()

    def run(self, source):
        paths = ["/", "/a/b.txt", "/big.bin"]
        i = 0
        s = f = None
        deadline = time.monotonic() + 300	# bounded whatever happens to the test
        while not self.stop.is_set() and time.monotonic() < deadline:
            path = paths[i % len(paths)]
            i += 1
            try:
                if s is None:
                    s = socket.create_connection(("127.0.0.1", self.port), timeout=10,
                                                 source_address=(source, 0))
                    f = s.makefile("rb")
                s.sendall(("GET %s HTTP/1.1\r\nHost: fleet\r\n\r\n" % path).encode())
                r = read_response(f)
                if r is None or r.status != 200:
                    raise OSError("answer %s from %s" % (r and r.status,
                                                          r and r.header("server")))
                with self.lock:
                    self.requests += 1
                if r.header("connection") == "close":
                    s.close()
                    s = None
            except OSError as e:
                with self.lock:
                    self.failures.append("%s %s: %s" % (source, path, e))
                if s:
                    s.close()
                s = None
                time.sleep(0.05)
        if s:
            s.close()

    def count(self):
        with self.lock:
            return self.requests

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(15)
        return self.requests, self.failures


def access_lines(s):
    try:
        with open(os.path.join(s.dir, "access.log")) as f:
            return f.read().splitlines()
    except OSError:
        return []


def proxied_get(port, path="/", headers=""):
    """One request straight to a replica's proxy_protocol listener, as HAProxy sends it."""
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        c.sendall(b"PROXY TCP4 127.0.0.9 127.0.0.1 40000 80\r\n" +
                  ("GET %s HTTP/1.1\r\nHost: fleet\r\n%sConnection: close\r\n\r\n"
                   % (path, headers)).encode())
        return read_response(c.makefile("rb"))
    finally:
        c.close()


servers = make_servers()
for s in servers:
    started, err = s.start()
    ok(started, "replica %s (%s) starts" % (s.port, s.mpm), err[-500:])
    if not started:
        skip_all("a replica did not start")

hdir = tempfile.mkdtemp(prefix="minihttpd-haproxy.")
port, one_port = free_port(), free_port()
cfg = haproxy_conf(hdir, port, one_port, servers)
check = subprocess.run([HAPROXY, "-c", "-f", cfg], capture_output=True, text=True)
ok(check.returncode == 0, "haproxy accepts the test's config", check.stdout + check.stderr)
hlog = open(os.path.join(hdir, "haproxy.log"), "wb")
haproxy = subprocess.Popen([HAPROXY, "-db", "-f", cfg], stdin=subprocess.DEVNULL,
                           stdout=hlog, stderr=hlog)
try:
    ok(wait_for(lambda: port_accepts(port), 10), "haproxy listens")
    ok(wait_for(lambda: all_up(hdir, 3), 15), "haproxy sees the three replicas UP "
       "(health checks over PROXY v2 on health_path)", haproxy_status(hdir))

    # (c) validators agree across replicas.
    first = proxied_get(servers[0].port, "/a/b.txt")
    etag = first and first.header("etag")
    ok(etag, "replica 0 sends an ETag", first and first.headers)
    inodes = {os.stat(os.path.join(s.root, "a/b.txt")).st_ino for s in servers}
    ok(len(inodes) == 3, "the copies have different inodes (an inode in the ETag would differ)")
    for s in servers[1:]:
        r = proxied_get(s.port, "/a/b.txt", "If-None-Match: %s\r\n" % etag)
        is_(r and r.status, 304, "If-None-Match with replica 0's ETag: 304 from %s (%s)"
            % (s.port, s.mpm))

    # (a) rolling reload under load, each replica switching MPM.
    load = Load(port)
    ok(wait_for(lambda: load.count() > 50, 20), "load flows through haproxy", load.count())
    for i, s in enumerate(servers):
        nxt = WANT[(WANT.index(s.mpm) + 1) % len(WANT)]
        s.mpm, s.mpm_section = nxt, SECTIONS[nxt]
        s.write_conf()
        n = s.stderr().count("reloaded: generation")
        before = load.count()
        s.signal(signal.SIGHUP)
        ok(wait_for(lambda: s.stderr().count("reloaded: generation") > n, 20),
           "replica %d reloaded to %s" % (i, nxt), s.stderr()[-400:])
        ok(wait_for(lambda: load.count() > before + 30, 20), "requests flow after replica "
           "%d's reload" % i)
    requests, failures = load.finish()
    is_(len(failures), 0, "(a) rolling reload switching MPM: no failed request of %d"
        % requests)
    if failures:
        print("# " + "\n# ".join(failures[:10]))

    # (b) rolling restart: SIGTERM with shutdown_delay, then a new start.
    def retried():
        """Requests HAProxy had to retry or send elsewhere, so far."""
        return sum(int(haproxy_status(hdir, c).get(("fleet", "BACKEND")) or 0)
                   for c in ("wretr", "wredis"))
    retried_before = retried()
    load = Load(port)
    ok(wait_for(lambda: load.count() > 50, 20), "load flows again", load.count())
    for i, s in enumerate(servers):
        t0 = time.monotonic()
        s.signal(signal.SIGTERM)
        ok(wait_for(lambda: haproxy_status(hdir).get(("fleet", "m%d" % i), "").startswith(
            "DOWN"), DELAY + 5), "replica %d: haproxy marks it DOWN (health 503)" % i,
           haproxy_status(hdir))
        ok(time.monotonic() - t0 < DELAY, "replica %d: ... within shutdown_delay, while it "
           "still accepts" % i, time.monotonic() - t0)
        ok(wait_for(lambda: s.proc.poll() is not None, DELAY + 15), "replica %d stops" % i)
        s.pid = None
        started, err = s.start()
        ok(started, "replica %d starts again" % i, err[-300:])
        ok(wait_for(lambda: all_up(hdir, 3), 15), "replica %d: UP again in haproxy" % i,
           haproxy_status(hdir))
        before = load.count()
        ok(wait_for(lambda: load.count() > before + 30, 20), "requests flow after replica "
           "%d's restart" % i)
    requests, failures = load.finish()
    is_(len(failures), 0, "(b) rolling restart with shutdown_delay: no failed request of %d"
        % requests)
    # Its retries would hide a stop that refuses too early; with the delay none is needed.
    is_(retried() - retried_before, 0, "(b) ... and none that haproxy had to retry")
    if failures:
        print("# " + "\n# ".join(failures[:10]))

    # (d) the real clients in each log; one client limited behind the proxy, others not.
    for i, s in enumerate(servers):
        lines = access_lines(s)
        seen = {l.split(" ", 1)[0] for l in lines}
        ok(lines and seen <= set(CLIENTS) | {"127.0.0.9"},
           "replica %d's access log: only the clients' addresses (%d lines)" % (i, len(lines)),
           sorted(seen))
        ok("127.0.0.1" not in seen, "replica %d: never haproxy's 127.0.0.1" % i)
    held = []
    for _ in range(LIMIT):
        c = socket.create_connection(("127.0.0.1", one_port), timeout=5,
                                     source_address=("127.0.0.9", 0))
        c.sendall(b"GET / HTTP/1.1\r\nHost: fleet\r\n\r\n")
        r = read_response(c.makefile("rb"))
        held.append((c, r and r.status))
    ok(all(st == 200 for _, st in held), "client 127.0.0.9 holds %d connections through "
       "haproxy" % LIMIT, [st for _, st in held])
    c = socket.create_connection(("127.0.0.1", one_port), timeout=5,
                                 source_address=("127.0.0.9", 0))
    c.sendall(b"GET / HTTP/1.1\r\nHost: fleet\r\n\r\n")
    r = read_response(c.makefile("rb"))
    ok(r and r.status == 503 and "minihttpd" in (r.header("server") or ""),
       "its next one: 503 from minihttpd (max_connections_per_client = %d)" % LIMIT,
       r and (r.status, r.headers))
    c.close()
    c = socket.create_connection(("127.0.0.1", one_port), timeout=5,
                                 source_address=("127.0.0.8", 0))
    c.sendall(b"GET / HTTP/1.1\r\nHost: fleet\r\nConnection: close\r\n\r\n")
    r = read_response(c.makefile("rb"))
    ok(r and r.status == 200, "another client behind the same haproxy: 200", r and r.status)
    c.close()
    for c, _ in held:
        c.close()
    for i, s in enumerate(servers):
        clean_log(s, "replica %d" % i)
finally:
    haproxy.terminate()
    try:
        haproxy.wait(10)
    except subprocess.TimeoutExpired:
        haproxy.kill()
    hlog.close()
    shutil.rmtree(hdir, ignore_errors=True)

done()
