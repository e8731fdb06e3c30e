# SPDX-License-Identifier: ISC
"""docs/fleet.md's nginx recipe, run: nginx terminates TLS and proxies to two minihttpd
replicas over pooled keep-alive connections with X-Forwarded-For; minihttpd trusts nginx
(trusted_proxies) and logs the TLS clients' own addresses (127.0.0.2..127.0.0.5), while a
client's forged X-Forwarded-For does not choose its address. Skips, saying so, only when
nginx or openssl is not installed (scripts/install-deps.sh installs them)."""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile

from mhd import (Server, clean_log, done, free_port, is_, ok, port_accepts, read_response,
                 skip_all, wait_for)

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx"
                                  if os.access("/usr/sbin/nginx", os.X_OK) else None)
OPENSSL = shutil.which("openssl")
if not NGINX or not OPENSSL:
    skip_all("nginx or openssl is not installed (apt-get install nginx openssl; "
             "scripts/install-deps.sh)")

d = tempfile.mkdtemp(prefix="minihttpd-nginx.")
os.chmod(d, 0o755)
cert, key = os.path.join(d, "site.crt"), os.path.join(d, "site.key")
r = subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                   capture_output=True, text=True)
if r.returncode != 0:
    skip_all("openssl cannot make a test certificate: %s" % r.stderr[-200:])

servers = [Server(mpm=mpm, extra='trusted_proxies = {"127.0.0.1"}\nkeepalive_timeout = 15\n')
           for mpm in ("event", "prefork")]
for s in servers:
    started, err = s.start()
    ok(started, "replica on %d (%s) starts" % (s.port, s.mpm), err[-300:])
    if not started:
        skip_all("a replica did not start")

port = free_port()
conf = os.path.join(d, "nginx.conf")
with open(conf, "w") as f:
    f.write("""
daemon off;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log;
%(user)s
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    upstream minihttpd {
        server 127.0.0.1:%(p0)d max_fails=2 fail_timeout=5s;
        server 127.0.0.1:%(p1)d max_fails=2 fail_timeout=5s;
        keepalive 8;
        keepalive_timeout 10s;
    }
    server {
        listen 127.0.0.1:%(port)d ssl;
        ssl_certificate %(cert)s;
        ssl_certificate_key %(key)s;
        location / {
            proxy_pass http://minihttpd;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_next_upstream error timeout;
        }
    }
}
""" % {"d": d, "p0": servers[0].port, "p1": servers[1].port, "port": port, "cert": cert,
       "key": key, "user": "user root root;" if os.geteuid() == 0 else ""})
check = subprocess.run([NGINX, "-t", "-c", conf, "-p", d], capture_output=True, text=True)
ok(check.returncode == 0, "nginx accepts the recipe", check.stderr[-500:])
log = open(os.path.join(d, "stderr.log"), "wb")
nginx = subprocess.Popen([NGINX, "-c", conf, "-p", d], stdin=subprocess.DEVNULL, stdout=log,
                         stderr=log)


def tls_get(source, headers=""):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    with ctx.wrap_socket(raw, server_hostname="localhost") as c:
        f = c.makefile("rb")
        out = []
        for _ in range(2):	# two requests on one TLS connection
            c.sendall(("GET / HTTP/1.1\r\nHost: localhost\r\n%s\r\n" % headers).encode())
            out.append(read_response(f))
        return out


def logged_clients():
    seen = []
    for s in servers:
        try:
            with open(os.path.join(s.dir, "access.log")) as f:
                seen += [l.split(" ", 1)[0] for l in f]
        except OSError:
            pass
    return seen


try:
    ok(wait_for(lambda: port_accepts(port), 10), "nginx listens (TLS)")
    clients = ["127.0.0.%d" % i for i in range(2, 6)]
    for c in clients:
        rs = tls_get(c)
        ok(all(r and r.status == 200 for r in rs), "TLS client %s: two requests through nginx "
           "answered 200" % c, [r and r.status for r in rs])
    ok(wait_for(lambda: len(logged_clients()) >= 2 * len(clients), 5), "every request logged")
    seen = logged_clients()
    is_(sorted(set(seen)), clients, "the logs show the TLS clients' addresses, not nginx's")
    ok(all(any(l.startswith(c) for l in seen) for c in clients), "each client in a log")
    n = len(seen)
    tls_get("127.0.0.6", "X-Forwarded-For: 203.0.113.66\r\n")
    ok(wait_for(lambda: len(logged_clients()) >= n + 2, 5), "the forging client is logged")
    seen = logged_clients()
    ok(seen.count("127.0.0.6") == 2 and "203.0.113.66" not in seen,
       "a client's own X-Forwarded-For does not choose its address", seen[n - 2:])
    for s in servers:
        clean_log(s, "replica %d" % s.port)
finally:
    nginx.send_signal(signal.SIGQUIT)
    try:
        nginx.wait(10)
    except subprocess.TimeoutExpired:
        nginx.kill()
    log.close()
    shutil.rmtree(d, ignore_errors=True)

done()
