# SPDX-License-Identifier: ISC
"""Signals and process lifecycle: SIGTERM and SIGINT stop gracefully (the response in
flight completes, new clients are refused, exit 0, pid file removed); graceful_timeout
and a second SIGTERM force the stop; SIGUSR1 reopens a rotated access log; a crashed
worker is replaced and logged, and a killed generation leader is replaced by a new
generation; the master never holds a client connection and survives all of it."""

import os
import signal
import socket

from mhd import (MPM_DIR, Server, built_mpms, children_of, descendants_of, done, is_,
                 ok, pid_alive, port_accepts, read_response, request, skip_all, wait_for)

MPMS = built_mpms()
if not MPMS:
    skip_all("no MPM module in %s" % MPM_DIR)
print("# MPMs in this build: %s" % ", ".join(MPMS))

BIG = 16 * 1024 * 1024


def big_server(mpm, graceful):
    s = Server(mpm=mpm, files={"index.html": "<h1>hello</h1>\n", "big.bin": b"x" * BIG})
    s.write_conf(text=s.conf_text().replace("graceful_timeout = 10",
                                            "graceful_timeout = %d" % graceful))
    started, err = s.start()
    ok(started, "%s: starts (graceful_timeout %d)" % (mpm, graceful), err)
    return s


def slow_download(port):
    """A client that starts a big download and then stops reading, so that the response
    stays in flight (the worker blocks writing); returns (socket, bytes of body read)."""
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.settimeout(10)
    c.connect(("127.0.0.1", port))
    c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = b""
    while b"\r\n\r\n" not in got:
        got += c.recv(4096)
    return c, len(got) - got.index(b"\r\n\r\n") - 4


def read_all(c):
    total = 0
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            total += len(b)
    except OSError:
        pass
    return total


def exit_status(s, timeout):
    try:
        return s.proc.wait(timeout)
    except Exception:
        return None


def conn_owner(server_port, client_port):
    """The pid holding the server side of the connection 127.0.0.1:client_port."""
    local, remote = "0100007F:%04X" % server_port, "0100007F:%04X" % client_port
    inode = None
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            x = line.split()
            if x[1] == local and x[2] == remote and x[3] == "01":
                inode = x[9]
    if inode is None:
        return None
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == "socket:[%s]" % inode:
                    return int(pid)
        except OSError:
            continue
    return None


# --- Graceful stop: the response in flight completes -------------------------------

for mpm, sig in [(m, signal.SIGTERM) for m in MPMS] + [(MPMS[0], signal.SIGINT)]:
    name = "%s, %s" % (mpm, signal.Signals(sig).name)
    s = big_server(mpm, 10)
    c, first = slow_download(s.port)
    s.signal(sig)
    ok(wait_for(lambda: "%s: stopping gracefully" % signal.Signals(sig).name in s.stderr(), 5),
       "%s: logged as a graceful stop" % name, s.stderr())
    ok(wait_for(lambda: not port_accepts(s.port), 5), "%s: new clients are refused" % name)
    ok(pid_alive(s.pid) and s.proc.poll() is None,
       "%s: the master waits for the response in flight" % name)
    is_(first + read_all(c), BIG, "%s: the response in flight is complete" % name)
    c.close()
    is_(exit_status(s, 15), 0, "%s: the master exits 0 once it is done" % name)
    ok(not os.path.exists(s.pid_file), "%s: pid file removed" % name)
    ok("stopped" in s.stderr(), "%s: logs that it stopped" % name)
    s.pid = None

# --- graceful_timeout forces the stop -----------------------------------------------

s = big_server(MPMS[0], 1)
c, _ = slow_download(s.port)
workers = descendants_of(s.pid)
s.signal(signal.SIGTERM)
is_(exit_status(s, 10), 0, "graceful_timeout: the master exits 0")
ok("still busy after graceful_timeout (1 s); killing it" in s.stderr(),
   "graceful_timeout: the kill is logged", s.stderr())
ok(read_all(c) < BIG, "graceful_timeout: the stuck download was cut")
ok(wait_for(lambda: not any(pid_alive(p) for p in workers), 5),
   "graceful_timeout: no worker is left")
c.close()
s.pid = None

# --- A second SIGTERM stops at once -------------------------------------------------

s = big_server(MPMS[0], 60)
c, _ = slow_download(s.port)
workers = descendants_of(s.pid)
s.signal(signal.SIGTERM)
ok(wait_for(lambda: "stopping gracefully" in s.stderr(), 5), "second SIGTERM: first one seen")
s.signal(signal.SIGTERM)
is_(exit_status(s, 10), 0, "second SIGTERM: exits 0 well before graceful_timeout (60 s)")
ok("second SIGTERM: stopping now" in s.stderr(), "second SIGTERM: logged", s.stderr())
ok(not os.path.exists(s.pid_file), "second SIGTERM: pid file removed")
ok(wait_for(lambda: not any(pid_alive(p) for p in workers), 5),
   "second SIGTERM: no worker is left")
c.close()
s.pid = None

# --- SIGUSR1 reopens the access log (logrotate's rename, then the signal) ------------

s = Server(mpm=MPMS[0])
started, err = s.start()
ok(started, "usr1: starts", err)
log = os.path.join(s.dir, "access.log")
request(s.port, "/before-rotation")
ok(wait_for(lambda: os.path.exists(log) and "/before-rotation" in open(log).read(), 5),
   "usr1: requests are logged to access.log")
os.rename(log, log + ".1")
s.signal(signal.SIGUSR1)
ok(wait_for(lambda: "access log %s reopened" % log in s.stderr(), 10),
   "usr1: the reopen is logged", s.stderr())
ok(os.path.exists(log), "usr1: access.log is created again at once")
# Requests the old generation still had in hand may go to the rotated file; wait for it.
ok(wait_for(lambda: len(children_of(s.pid)) == 1, 15), "usr1: the old generation has left")
request(s.port, "/after-rotation")
ok(wait_for(lambda: "/after-rotation" in open(log).read(), 5),
   "usr1: new lines go to the new access.log")
ok("/after-rotation" not in open(log + ".1").read(), "usr1: ... and not to the rotated one")
ok("/before-rotation" in open(log + ".1").read(), "usr1: the rotated file keeps its lines")
if os.geteuid() == 0:
    is_(oct(os.stat(log).st_mode & 0o777), oct(0o640), "usr1: the new file is mode 0640")
ok(s.stop(), "usr1: stops")

s = Server(mpm=MPMS[0], extra='access_log = "syslog"')
s.write_conf(text=s.conf_text().replace('access_log = "%s"' % os.path.join(s.dir, "access.log"),
                                        ""))
started, err = s.start()
ok(started, "usr1 without a log file: starts", err)
# The port accepts as soon as the master binds it, a moment before the leader exists.
ok(wait_for(lambda: len(children_of(s.pid)) == 1, 10), "usr1 without a log file: serving")
leaders = children_of(s.pid)
s.signal(signal.SIGUSR1)
ok(wait_for(lambda: "nothing to reopen" in s.stderr(), 5),
   "usr1 without a log file: says there is nothing to reopen", s.stderr())
is_(children_of(s.pid), leaders, "usr1 without a log file: no new generation")
ok(s.stop(), "usr1 without a log file: stops")

# --- Crashes: a worker, a leader; the master never serves ----------------------------

for mpm in MPMS:
    s = Server(mpm=mpm)
    started, err = s.start()
    ok(started, "%s: starts" % mpm, err)
    master = s.pid

    c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    c.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % s.port).encode())
    r = read_response(c.makefile("rb"))
    owner = conn_owner(s.port, c.getsockname()[1])
    ok(r is not None and r.status == 200 and owner is not None and owner != master
       and owner in descendants_of(master),
       "%s: a client connection is held by a worker, not by the master" % mpm,
       "owner %s, master %d" % (owner, master))

    # The client stays connected: fork's child lives as long as its connection, and one
    # whose client had gone might exit on its own before the kill.
    leader = children_of(master)[0]
    workers = children_of(leader)
    if workers:
        victim = owner if owner in workers else workers[0]
        os.kill(victim, signal.SIGKILL)
        ok(wait_for(lambda: "child %d killed by signal 9" % victim in s.stderr(), 5),
           "%s: a killed worker is logged" % mpm, s.stderr()[-500:])
        # fork's children are one per connection: none is replaced, the next has its own.
        ok(wait_for(lambda: victim not in children_of(leader) and
                    (mpm == "fork" or len(children_of(leader)) >= len(workers)), 5),
           "%s: ... and %s" % (mpm, "gone" if mpm == "fork" else "replaced"))
        c.close()
        is_(request(s.port, "/").status, 200, "%s: serves after a worker crash" % mpm)
    else:
        c.close()
        print("# %s: the leader has no worker processes; only the leader is killed" % mpm)

    old = descendants_of(leader)
    os.kill(leader, signal.SIGKILL)
    ok(wait_for(lambda: "leader %d died (signal 9); starting a new generation" % leader
                in s.stderr(), 5), "%s: a killed leader is logged" % mpm, s.stderr()[-500:])
    ok(wait_for(lambda: children_of(master) and leader not in children_of(master), 10),
       "%s: a new generation replaces it" % mpm)
    is_(request(s.port, "/").status, 200, "%s: serves after the leader crash" % mpm)
    ok(wait_for(lambda: not any(pid_alive(p) and p in descendants_of(master) for p in old),
                10), "%s: the orphaned workers of the dead leader exit" % mpm)
    ok(pid_alive(master) and s.proc.poll() is None, "%s: the master survived" % mpm)
    ok(s.stop(), "%s: stops" % mpm)

done()
