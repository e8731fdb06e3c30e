# SPDX-License-Identifier: ISC
"""Privileges of the real processes, read from /proc/PID/status (every thread).
Started as root: ports below 1024 are bound; every worker runs as user/group with that
user's supplementary groups and no capability at all (effective, permitted, inheritable,
bounding, ambient) and NO_NEW_PRIVS; the master keeps exactly what a reload needs and sets
NO_NEW_PRIVS, and a reload that binds another port below 1024 and starts workers under
the new ids proves it kept enough. Started unprivileged (as nobody through setpriv when
run as root): it serves, a port below 1024 fails with a clear message, and with an
ambient CAP_NET_BIND_SERVICE it binds one and keeps only that capability in the master.
Under a system call filter that refuses capset(2) (as SystemCallFilter=~@privileged does),
a master with nothing to drop still starts, and one with something to drop says why not."""

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys

from mhd import (BINARY, MPM_DIR, Server, built_mpms, descendants_of, done, is_, ok,
                 request, skip_all, tsan, wait_for)

MPMS = built_mpms()
if not MPMS:
    skip_all("no MPM module in %s" % MPM_DIR)

ROOT = os.geteuid() == 0
CAP = {"chown": 0, "kill": 5, "setgid": 6, "setuid": 7, "setpcap": 8, "net_bind_service": 10}
MASTER_CAPS = sum(1 << CAP[c] for c in ("net_bind_service", "setuid", "setgid", "setpcap",
                                       "kill"))
UNPRIV_PORT_START = int(open("/proc/sys/net/ipv4/ip_unprivileged_port_start").read())


def skip(name, why):
    ok(True, "%s # SKIP %s" % (name, why))


def status(pid, tid=None):
    """/proc status fields of a process (or one of its threads), as a dict."""
    path = "/proc/%d/task/%d/status" % (pid, tid) if tid else "/proc/%d/status" % pid
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def threads_of(pid):
    try:
        return [int(t) for t in os.listdir("/proc/%d/task" % pid)]
    except OSError:
        return []


def caps(st):
    return {k: int(st[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def check_workers(master, uid, gid, groups, label, empty_bound=True):
    """Every thread of every descendant of master: ids, groups, no capability, NNP."""
    procs = descendants_of(master)
    bad = []
    for pid in procs:
        tids = threads_of(pid)
        # Under ThreadSanitizer (never in CI) its background thread, started in each
        # forked child before the leader drops privileges, keeps the capability sets,
        # which are per thread: it is the oldest thread after the process's own.
        tsan_thread = min([t for t in tids if t > pid], default=None) if tsan(pid) else None
        for tid in tids:
            try:
                st = status(pid, tid)
            except OSError:
                continue  # exited meanwhile
            c = {} if tid == tsan_thread else caps(st)
            if empty_bound is False and c:
                c.pop("CapBnd")
            if (st["Uid"].split() != [str(uid)] * 4 or st["Gid"].split() != [str(gid)] * 4
                    or set(map(int, st["Groups"].split())) != set(groups)
                    or any(c.values()) or st["NoNewPrivs"] != "1"):
                bad.append("%d/%d: Uid %s Gid %s Groups %s NoNewPrivs %s %s" % (
                    pid, tid, st["Uid"], st["Gid"], st["Groups"], st["NoNewPrivs"],
                    " ".join("%s=%x" % kv for kv in sorted(c.items()))))
    ok(procs and not bad, "%s: all %d worker processes run as %d:%d, groups %s, with no "
       "capability and NO_NEW_PRIVS" % (label, len(procs), uid, gid, sorted(groups)),
       "\n".join(bad) or "no worker process")


def low_ports(n):
    """n free ports below 1024 (root only)."""
    found = []
    for port in range(1000, 600, -1):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            found.append(port)
        except OSError:
            pass
        finally:
            s.close()
        if len(found) == n:
            break
    return found


NOBODY = pwd.getpwnam("nobody")
NOGROUP = grp.getgrnam("nogroup").gr_gid

# --- Started as root -----------------------------------------------------------------

if not ROOT:
    skip("root: ports below 1024, worker ids and capabilities", "not running as root")
else:
    groups = os.getgrouplist("nobody", NOGROUP)
    for mpm in MPMS:
        low = low_ports(2)
        if len(low) < 2:
            skip("%s: root" % mpm, "no free port below 1024")
            continue
        s = Server(mpm=mpm, listen=["127.0.0.1:%d" % low[0]], port=low[0])
        started, err = s.start()
        ok(started, "%s: as root, listens on port %d" % (mpm, low[0]), err)
        if not started:
            continue
        is_(request(low[0], "/").status, 200, "%s: serves on the port below 1024" % mpm)
        st = status(s.pid)
        is_(st["Uid"].split(), ["0"] * 4, "%s: the master stays root" % mpm)
        c = caps(st)
        ok(c["CapEff"] == c["CapPrm"] == c["CapBnd"] == MASTER_CAPS
           and c["CapInh"] == 0 and c["CapAmb"] == 0,
           "%s: the master keeps only net_bind_service setuid setgid setpcap kill "
           "(also in its bounding set)" % mpm, c)
        is_(st["NoNewPrivs"], "1", "%s: the master has NO_NEW_PRIVS" % mpm)
        ok(0 not in groups, "%s: root's groups are not nobody's" % mpm)
        check_workers(s.pid, NOBODY.pw_uid, NOGROUP, groups, mpm)

        # The reload needs every one of the master's capabilities.
        old = set(descendants_of(s.pid))
        s.write_conf(listen=["127.0.0.1:%d" % low[0], "127.0.0.1:%d" % low[1]])
        s.signal(signal.SIGHUP)
        ok(wait_for(lambda: "reloaded: generation 2" in s.stderr(), 15),
           "%s: a reload as the restricted master succeeds" % mpm, s.stderr()[-500:])
        is_(request(low[1], "/").status, 200,
            "%s: ... and binds another port below 1024 (%d)" % (mpm, low[1]))
        ok(wait_for(lambda: not old & set(descendants_of(s.pid)), 15),
           "%s: the old generation is gone" % mpm)
        check_workers(s.pid, NOBODY.pw_uid, NOGROUP, groups, "%s after reload" % mpm)
        ok(s.stop(), "%s: stops" % mpm)

# --- Started unprivileged ------------------------------------------------------------


def unprivileged_server(mpm, port=None):
    """A server whose pid file and log live where an unprivileged user may write."""
    s = Server(mpm=mpm, port=port)
    run = os.path.join(s.dir, "run")
    os.mkdir(run)
    if ROOT:
        os.chown(run, NOBODY.pw_uid, NOGROUP)
    text = s.conf_text().replace(s.pid_file, os.path.join(run, "minihttpd.pid"))
    s.pid_file = os.path.join(run, "minihttpd.pid")
    s.write_conf(text=text.replace(os.path.join(s.dir, "access.log"),
                                   os.path.join(run, "access.log")))
    return s


if ROOT:
    as_nobody = [shutil.which("setpriv") or "setpriv", "--reuid=nobody", "--regid=nogroup",
                 "--init-groups"]
    uid, gid, groups = NOBODY.pw_uid, NOGROUP, os.getgrouplist("nobody", NOGROUP)
else:
    as_nobody = []
    uid, gid, groups = os.getuid(), os.getgid(), os.getgroups()
who = "nobody" if ROOT else "uid %d" % uid

s = unprivileged_server(MPMS[0])
started, err = s.start(prefix=as_nobody)
ok(started, "unprivileged (%s): starts on a high port" % who, err)
if started:
    is_(request(s.port, "/").status, 200, "unprivileged: serves")
    st = status(s.pid)
    is_(st["Uid"].split(), [str(uid)] * 4, "unprivileged: the master runs as %s" % who)
    ok(caps(st)["CapEff"] == caps(st)["CapPrm"] == 0 and st["NoNewPrivs"] == "1",
       "unprivileged: the master has no capability and NO_NEW_PRIVS")
    check_workers(s.pid, uid, gid, groups, "unprivileged", empty_bound=False)
    ok(s.stop(), "unprivileged: stops")

if UNPRIV_PORT_START <= 80:
    skip("unprivileged: a port below 1024 is refused",
         "net.ipv4.ip_unprivileged_port_start is %d" % UNPRIV_PORT_START)
else:
    port = low_ports(1)[0] if ROOT else UNPRIV_PORT_START - 1
    s = unprivileged_server(MPMS[0], port=port)
    p = subprocess.run(as_nobody + [BINARY, "-f", s.conf], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=20)
    err = p.stderr.decode(errors="replace")
    if os.path.exists(s.pid_file):
        s.pid = int(open(s.pid_file).read())  # it should not have started: clean up
    is_(p.returncode, 1, "unprivileged: port %d exits 1" % port)
    ok("listen 127.0.0.1:%d: bind: Permission denied (a port below 1024 needs root or "
       "CAP_NET_BIND_SERVICE)" % port in err, "unprivileged: ... and says what is needed", err)

# --- capset(2) refused by a seccomp filter ----------------------------------------------

# Runs argv[1:] with NO_NEW_PRIVS and a filter making capset (126 on x86_64) fail EPERM.
NO_CAPSET = r"""
import ctypes, os, struct, sys
def op(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)
prog = b"".join([op(0x20, 0, 0, 4), op(0x15, 0, 3, 0xc000003e),  # arch x86_64, else allow
                 op(0x20, 0, 0, 0), op(0x15, 0, 1, 126),          # capset?
                 op(0x06, 0, 0, 0x00050001), op(0x06, 0, 0, 0x7fff0000)])  # EPERM : allow
buf = ctypes.create_string_buffer(prog, len(prog))
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fprog = Fprog(len(prog) // 8, ctypes.addressof(buf))
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0):
    sys.exit("seccomp: %s" % os.strerror(ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])
"""
no_capset = [sys.executable, "-c", NO_CAPSET]

if os.uname().machine != "x86_64":
    skip("capset refused by a filter", "the filter is written for x86_64")
else:
    s = unprivileged_server(MPMS[0])
    started, err = s.start(prefix=as_nobody + no_capset)
    ok(started, "capset refused, unprivileged (%s): starts, having nothing to drop" % who, err)
    if started:
        is_(request(s.port, "/").status, 200, "capset refused, unprivileged: serves")
    ok(s.stop(), "capset refused, unprivileged: stops")
    if ROOT:
        s = Server(mpm=MPMS[0])
        started, err = s.start(prefix=no_capset, expect_fail=True)
        ok(not started and s.proc.returncode != 0 and
           "a system call filter refuses capset(2)" in err,
           "capset refused, root: the start fails and says the filter is why",
           (s.proc.returncode, err))
        s.stop()

if not ROOT:
    skip("ambient CAP_NET_BIND_SERVICE", "not running as root")
else:
    low = low_ports(1)
    s = unprivileged_server(MPMS[0], port=low[0])
    started, err = s.start(prefix=as_nobody + ["--inh-caps=+net_bind_service",
                                               "--ambient-caps=+net_bind_service"])
    ok(started, "ambient CAP_NET_BIND_SERVICE: nobody listens on port %d" % low[0], err)
    if started:
        is_(request(low[0], "/").status, 200, "ambient CAP_NET_BIND_SERVICE: serves")
        c = caps(status(s.pid))
        ok(c["CapEff"] == c["CapPrm"] == 1 << CAP["net_bind_service"]
           and c["CapInh"] == c["CapAmb"] == 0,
           "ambient CAP_NET_BIND_SERVICE: the master keeps only that one, not inheritable", c)
        check_workers(s.pid, uid, gid, groups, "ambient CAP_NET_BIND_SERVICE",
                      empty_bound=False)
        ok(s.stop(), "ambient CAP_NET_BIND_SERVICE: stops")

done()
