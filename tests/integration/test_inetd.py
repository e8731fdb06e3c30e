# SPDX-License-Identifier: ISC
"""minihttpd -i, the inetd model: the connected socket is fd 0, 1 and 2 (as inetd and
systemd's Accept=yes hand it over), the process serves that one connection with the
engine (keep-alive, HEAD, errors, the access log, the keep-alive timeout), drops
privileges when started as root, never writes anything but HTTP to the client, and exits 0.
It refuses (exit 1, the reason on stderr) when fd 0 is not a connected stream socket.
Last, Debian's openbsd-inetd runs in the foreground on a loopback port in front of it."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from mhd import (BINARY, MPM_DIR, Server, accept_queue, descendants_of, done, free_port,
                 is_, ok, parse_responses, proc_state, skip_all, wait_for)

if not os.path.exists(os.path.join(MPM_DIR, "prefork.so")):
    skip_all("no MPM module in %s" % MPM_DIR)

# The config names a listener it never binds under -i: the same file serves both ways.
srv = Server(extra="keepalive_timeout = 2\nheader_timeout = 5\n",
             files={"index.html": "<h1>hello</h1>\n", "a.txt": "A" * 1000})
ACCESS = os.path.join(srv.dir, "access.log")


def access_lines():
    try:
        with open(ACCESS) as f:
            return f.read().splitlines()
    except OSError:
        return []


def start(sock, conf=None, args=()):
    """minihttpd -i with sock as stdin, stdout and stderr, as inetd starts it."""
    return subprocess.Popen([BINARY, "-i", "-f", conf or srv.conf] + list(args),
                            stdin=sock, stdout=sock, stderr=sock)


def read_until(sock, want, timeout=5.0):
    """Reads until want(data) holds, EOF, or timeout; returns (data, eof)."""
    data, end = b"", time.monotonic() + timeout
    while not want(data):
        left = end - time.monotonic()
        if left <= 0:
            return data, False
        sock.settimeout(left)
        try:
            b = sock.recv(65536)
        except socket.timeout:
            return data, False
        if not b:
            return data, True
        data += b
    return data, False


def exited(p, timeout=5.0):
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)
        return None


def uids(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return [int(x) for x in line.split()[1:]]
    except OSError:
        return None


# --- (a) a connection on a socketpair: keep-alive, HEAD, 404, then the client closes ----

client, server_end = socket.socketpair()
p = start(server_end)
server_end.close()
client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
data, eof = read_until(client, lambda d: len(parse_responses(d)[0]) >= 1)
rs, rest = parse_responses(data)
ok(len(rs) == 1 and rs[0].status == 200 and rs[0].body == b"<h1>hello</h1>\n" and not rest,
   "GET / over the inherited socket: 200 with the file, nothing else", data)
ok(not eof and p.poll() is None, "the connection stays open for the next request (keep-alive)")
if os.geteuid() == 0:
    want = pwd.getpwnam("nobody").pw_uid
    ok(wait_for(lambda: uids(p.pid) == [want] * 4), "started as root, it serves as nobody",
       uids(p.pid))
client.sendall(b"HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
data, eof = read_until(client, lambda d: len(parse_responses(d, head_only=(0,))[0]) >= 2)
rs, rest = parse_responses(data, head_only=(0,))
ok(len(rs) == 2 and rs[0].status == 200 and rs[0].header("content-length") == "1000"
   and rs[0].body == b"" and rs[1].status == 404 and not rest,
   "pipelined HEAD (length, no body) and a 404 on the same connection", data)
client.close()
is_(exited(p), 0, "the client closes: the process exits 0")
lines = wait_for(lambda: len(access_lines()) >= 3 and access_lines())
ok(len(lines) == 3 and '"GET / HTTP/1.1" 200 15' in lines[0]
   and '"HEAD /a.txt HTTP/1.1" 200 -' in lines[1] and '"GET /missing HTTP/1.1" 404' in lines[2],
   "the access log has the three requests, in order", lines)

# --- an accepted TCP connection: the peer address, Connection: close, and the timeout ---

lst = socket.socket()
lst.bind(("127.0.0.1", 0))
lst.listen(4)
client = socket.create_connection(lst.getsockname(), timeout=5)
conn, _ = lst.accept()
p = start(conn)
conn.close()
client.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data, eof = read_until(client, lambda d: False)
rs, rest = parse_responses(data)
ok(eof and len(rs) == 1 and rs[0].status == 200 and rs[0].body == b"A" * 1000,
   "TCP: Connection: close is answered and the connection closed", data[:300])
client.close()
is_(exited(p), 0, "TCP: the process exits 0 after closing")
ok(wait_for(lambda: any(l.startswith("127.0.0.1 - - ") and "/a.txt" in l
                        for l in access_lines())),
   "TCP: the access log names the client's address", access_lines()[-1:])

client = socket.create_connection(lst.getsockname(), timeout=5)
conn, _ = lst.accept()
p = start(conn)
conn.close()
t0 = time.monotonic()
client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
data, eof = read_until(client, lambda d: False, timeout=8)
took = time.monotonic() - t0
ok(eof and len(parse_responses(data)[0]) == 1 and 1.5 <= took < 6,
   "an idle keep-alive connection is closed by keepalive_timeout (2 s): %.1f s" % took, data)
is_(exited(p), 0, "the keep-alive timeout ends the process with 0")
client.close()

client = socket.create_connection(lst.getsockname(), timeout=5)
conn, _ = lst.accept()
p = start(conn)
conn.close()
client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
data, eof = read_until(client, lambda d: len(parse_responses(d)[0]) >= 1)
p.send_signal(signal.SIGTERM)
rest, eof = read_until(client, lambda d: False)
ok(eof and rest == b"", "SIGTERM (a systemd stop) closes the idle connection", rest)
is_(exited(p), 0, "SIGTERM: the process exits 0")
client.close()
lst.close()

# --- nothing but HTTP on the socket, even when the process fails --------------------------

bad_conf = os.path.join(srv.dir, "bad.conf")
with open(bad_conf, "w") as f:
    f.write("no_such_option = 1\n")
client, server_end = socket.socketpair()
p = start(server_end, conf=bad_conf)
server_end.close()
rc = exited(p)
data, eof = read_until(client, lambda d: False, timeout=3)
is_(rc, 1, "a bad config under -i: exit 1")
ok(eof and data == b"", "a bad config under -i: the client gets no error text", data)
client.close()

client, server_end = socket.socketpair()
p = start(server_end, args=("-Z",))
server_end.close()
rc = exited(p)
data, eof = read_until(client, lambda d: False, timeout=3)
ok(rc == 2 and eof and data == b"", "a usage error under -i: exit 2, nothing on the socket",
   (rc, data))
client.close()

rc = subprocess.run([BINARY, "-i", "-F", "-f", srv.conf], stdin=subprocess.DEVNULL,
                    capture_output=True, timeout=10).returncode
is_(rc, 2, "-i with -F is a usage error")

# --- (b) refusals: fd 0 is not a connected stream socket -----------------------------------


def refused(stdin, what, name):
    pr = subprocess.run([BINARY, "-i", "-f", srv.conf], stdin=stdin,
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=10)
    err = pr.stderr.decode(errors="replace")
    ok(pr.returncode == 1 and ("standard input is %s" % what) in err
       and "not a connected stream socket" in err,
       "refused when fd 0 is %s: exit 1, %r named on stderr" % (name, what),
       (pr.returncode, err))


r, w = os.pipe()
refused(r, "a pipe", "a pipe")
os.close(r)
os.close(w)
refused(subprocess.DEVNULL, "/dev/null", "/dev/null")
with open(srv.conf) as f:
    refused(f, "a regular file", "a file")
s = socket.socket()
refused(s, "an unconnected socket", "an unconnected TCP socket")
s.close()
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
refused(s, "a listening socket", "a listening socket (inetd's wait)")
s.close()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
refused(s, "a datagram socket", "a UDP socket")
s.close()

# --- (c) openbsd-inetd in front: every connection a fresh minihttpd -i -----------------

INETD = shutil.which("inetd") or ("/usr/sbin/inetd" if os.path.exists("/usr/sbin/inetd")
                                  else None)
if not INETD:
    ok(True, "# SKIP openbsd-inetd is not installed (scripts/install-deps.sh installs it)")
    done()

port = free_port()
work = tempfile.mkdtemp(prefix="minihttpd-inetd.")
inetd_conf = os.path.join(work, "inetd.conf")
# The shipped line, on a loopback port, with this build's paths (and this user, when the
# test does not run as root).
SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "conf",
                       "inetd.conf.in")
with open(SHIPPED) as f:
    line = [l for l in f if l.strip() and not l.startswith("#")]
ok(len(line) == 1, "conf/inetd.conf.in has one service line", line)
fields = line[0].split()
fields[0] = "127.0.0.1:%d" % port
fields[4] = pwd.getpwuid(os.geteuid()).pw_name
fields = [f.replace("@sbindir@/minihttpd", BINARY).replace("@sysconfdir@/minihttpd.conf",
                                                           srv.conf) for f in fields]
ok(fields[5] == BINARY and fields[-3:] == ["-i", "-f", srv.conf],
   "the shipped line runs minihttpd -i -f on the installed config", fields)
with open(inetd_conf, "w") as f:
    f.write(" ".join(fields) + "\n")
inetd_log = open(os.path.join(work, "inetd.log"), "wb")
# -d: in the foreground, debugging to stderr; -R: no rate limit to trip in the test.
inetd = subprocess.Popen([INETD, "-d", "-R", "10000", inetd_conf], stdin=subprocess.DEVNULL,
                         stdout=inetd_log, stderr=subprocess.STDOUT)
try:
    listening = wait_for(lambda: inetd.poll() is not None or accept_queue(port) >= 0)
    if not ok(listening and inetd.poll() is None, "inetd -d listens on 127.0.0.1:%d" % port):
        with open(os.path.join(work, "inetd.log"), "rb") as f:
            print("# " + f.read().decode(errors="replace").replace("\n", "\n# "))
    before = len(access_lines())
    good = 0
    for i in range(5):
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data, eof = read_until(c, lambda d: False)
        rs, rest = parse_responses(data)
        good += (eof and len(rs) == 2 and rs[0].status == 200 and rs[1].body == b"A" * 1000
                 and not rest)
        c.close()
    is_(good, 5, "inetd: 5 connections, two keep-alive requests each, all answered")
    ok(wait_for(lambda: len(access_lines()) >= before + 10),
       "inetd: the 10 requests are in the access log", access_lines()[before:])

    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
    for c in held:
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    answered = sum(len(parse_responses(read_until(c, lambda d: len(parse_responses(d)[0]) >= 1)
                                       [0])[0]) for c in held)

    def servers():
        return [k for k in descendants_of(inetd.pid) if proc_state(k) not in (None, "Z")]
    n = wait_for(lambda: len(servers()) >= 3 and len(servers()))
    ok(answered == 3 and n == 3,
       "inetd: 3 open keep-alive connections are 3 minihttpd processes (nowait)",
       (answered, n))
    for c in held:
        c.close()
    ok(wait_for(lambda: not servers()), "inetd: each process exits when its client closes",
       servers())
finally:
    inetd.terminate()
    try:
        inetd.wait(10)
    except subprocess.TimeoutExpired:
        inetd.kill()
        inetd.wait(5)
    inetd_log.close()
    shutil.rmtree(work, ignore_errors=True)
ok(inetd.returncode is not None, "inetd is gone")

done()
