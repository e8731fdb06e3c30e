# SPDX-License-Identifier: ISC
"""The uring MPM (the proactor) beyond the contract every MPM passes: io_uring forbidden by
a seccomp filter (as a container runtime does) makes -t and a start fail naming the cause
and the alternative, and a reload to uring fail with the old generation serving; a
pipelined request that arrives at any point of a large response is answered (issue 19's
race, here for the completion driver); every receive buffer held makes connections wait,
never lose or corrupt a byte."""

import ctypes
import errno
import os
import socket
import threading

from mhd import (BINARY, Server, built_mpms, done, exchange, is_, ok, parse_responses, reload,
                 request, skip_all, wait_for)

if "uring" not in built_mpms():
    skip_all("the uring MPM is not built (no liburing)")

NR_IO_URING_SETUP = 425		# the same number on every Linux architecture


def forbid_io_uring(err):
    """A preexec function: a seccomp filter making io_uring_setup fail with err, inherited
    by everything the server forks."""
    def install():
        class Insn(ctypes.Structure):
            _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                        ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]

        class Prog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Insn))]
        insns = (Insn * 4)(
            Insn(0x20, 0, 0, 0),			# ld [nr]
            Insn(0x15, 0, 1, NR_IO_URING_SETUP),	# jeq io_uring_setup
            Insn(0x06, 0, 0, 0x00050000 | err),		# ret ERRNO(err)
            Insn(0x06, 0, 0, 0x7fff0000))		# ret ALLOW
        prog = Prog(4, insns)
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(38, 1, 0, 0, 0) != 0 or \
           libc.prctl(22, 2, ctypes.byref(prog), 0, 0) != 0:	# NO_NEW_PRIVS, SECCOMP
            os._exit(121)
    return install


def run_forbidden(err, *args):
    import subprocess
    p = subprocess.run([BINARY] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=20, preexec_fn=forbid_io_uring(err))
    return p.returncode, p.stdout + p.stderr


# --- io_uring forbidden or absent ------------------------------------------------------

s = Server(mpm="uring")
for err, why in ((errno.EPERM, "forbidden"), (errno.ENOSYS, "has no io_uring")):
    rc, out = run_forbidden(err, "-t", "-f", s.conf)
    ok(rc != 0 and why in out and 'mpm = "event"' in out,
       "-t with io_uring_setup failing %s: refused, naming the cause and mpm = \"event\""
       % errno.errorcode[err], out)
# Without a uring section the problem is the file's; with one, at the line closing it.
ok(out.startswith("minihttpd: %s: io_uring" % s.conf), "-t names the file", out)
s.mpm_section = "uring {\n processes = 1\n}\n"
s.write_conf()
rc, out = run_forbidden(errno.EPERM, "-t", "-f", s.conf)
closing = s.conf_text().splitlines().index("}") + 1
ok(("%s:%d: io_uring" % (s.conf, closing)) in out,
   "-t names the section's line", out)
rc, out = run_forbidden(errno.EPERM, "-t", "-f", Server(mpm="event").conf)
is_(rc, 0, "-t of an event configuration under the same filter passes (the filter works)")

started, err = s.start(preexec=forbid_io_uring(errno.EPERM), expect_fail=True)
ok(not started and "forbidden" in err and 'mpm = "event"' in err,
   "a start with io_uring forbidden fails, naming the cause and the alternative", err[-500:])
s.stop()

# The filter also holds for the generation's leader, where the master's check passed.
s = Server(mpm="event", mpm_section="event {\n processes = 1\n}\n")
started, err = s.start(preexec=forbid_io_uring(errno.EPERM))
ok(started, "event starts under the filter", err[-500:])
if started:
    s.mpm, s.mpm_section = "uring", "uring {\n processes = 1\n}\n"
    s.write_conf()
    ok(reload(s, what="reload failed"), "a reload to uring is refused", s.stderr()[-500:])
    ok("forbidden" in s.stderr() and 'mpm = "event"' in s.stderr(),
       "the refusal names the cause and the alternative", s.stderr()[-500:])
    r = request(s.port, "/index.html")
    ok(r and r.status == 200, "the old generation still serves")
    ok(s.stop(), "stops")


# --- A pipelined request at every phase of a large response ------------------------------

BIG = os.urandom(8 << 20)
SMALL = b"small file\n"
FILES = {"big.bin": BIG, "small.txt": SMALL}


def get(path, close=False, pad=""):
    return ("GET /%s HTTP/1.1\r\nHost: t\r\n%s%s\r\n"
            % (path, pad, "Connection: close\r\n" if close else "")).encode()


def pipelined_at(port, after):
    """Asks for BIG, sends a second request once `after` bytes of the answer arrived, reads
    both answers; True when both are whole."""
    c = socket.create_connection(("127.0.0.1", port), timeout=15)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.sendall(get("big.bin"))
    data = b""
    sent = False
    try:
        while True:
            if not sent and len(data) >= after:
                c.sendall(get("small.txt", close=True))
                sent = True
            d = c.recv(65536)
            if not d:
                break
            data += d
    except OSError:
        pass
    c.close()
    rs, _ = parse_responses(data)
    return (len(rs) == 2 and rs[0].status == 200 and rs[0].body == BIG
            and rs[1].status == 200 and rs[1].body == SMALL)


s = Server(mpm="uring", files=FILES, mpm_section="uring {\n processes = 1\n}\n",
           extra="keepalive_timeout = 30\n")
started, err = s.start()
ok(started, "uring starts", err[-500:])
if started:
    for after in (0, 1, 300, len(BIG) // 2, len(BIG) - 65536, len(BIG) + 200):
        ok(pipelined_at(s.port, after),
           "a second request sent after %d bytes of an 8 MiB answer is answered" % after)
    ok(s.stop(), "stops")


# --- Every receive buffer held: connections wait, nothing is lost ---------------------------

CONNS = 48
MID = os.urandom(512 << 10)
PAD = "X-Pad: %s\r\n" % ("p" * 700)
# A head buffer of 1 KiB takes the first request and part of the second; the rest stays
# in the 4 KiB receive buffer, held while the first answer waits for this client.
s = Server(mpm="uring", files={"mid.bin": MID, "small.txt": SMALL},
           mpm_section="uring {\n processes = 1\n buffers = 16\n}\n",
           extra="max_header_size = 1024\nmax_request_line = 512\n")
started, err = s.start()
ok(started, "uring with 16 receive buffers starts", err[-500:])
if started:
    socks = []
    for _ in range(CONNS):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=20)
        # Both requests in one segment; this client reads nothing yet.
        c.sendall(get("mid.bin", pad=PAD) + get("small.txt", close=True, pad=PAD))
        socks.append(c)
    results = [None] * CONNS

    def read_all(i):
        data = b""
        try:
            while True:
                d = socks[i].recv(65536)
                if not d:
                    break
                data += d
        except OSError:
            pass
        rs, _ = parse_responses(data)
        results[i] = (len(rs) == 2 and rs[0].body == MID and rs[1].body == SMALL)
    ts = [threading.Thread(target=read_all, args=(i,)) for i in range(CONNS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    is_(sum(1 for r in results if r), CONNS,
        "%d connections over 16 buffers: every answer whole, in order" % CONNS)
    for c in socks:
        c.close()
    r = exchange(s.port, get("small.txt", close=True))
    ok(r and r.endswith(SMALL), "serves on afterwards")
    ok(s.stop(), "stops")

done()
