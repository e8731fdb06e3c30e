# SPDX-License-Identifier: ISC
"""The command line and startup errors as the launching user (or systemd) sees them:
-V, -h, usage errors (exit 2), -t on good and bad files, and a start that fails (bad
file, port in use, missing module, pid file held by a running server, unusable access
log, unknown user) exits 1 with the reason on stderr, in the foreground and detached;
relative -f and -m paths still work for a reload after the daemon moved to /."""

import os
import re
import signal
import socket
import subprocess

from mhd import (BINARY, MPM_DIR, Server, built_mpms, children_of, done, is_, ok,
                 port_accepts, request, skip_all, wait_for)

MPMS = built_mpms()
if not MPMS:
    skip_all("no MPM module in %s" % MPM_DIR)


def run(*args, cwd=None):
    p = subprocess.run([BINARY] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=20, cwd=cwd)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


# --- Informational options and usage errors -----------------------------------------

rc, out, err = run("-V")
is_(rc, 0, "-V exits 0")
ok(re.search(r"^minihttpd \d+\.\d+\.\d+$", out, re.M), "-V prints the version", out)
ok("configuration file: /" in out and "MPM directory: /" in out, "-V prints the built-in paths",
   out)

rc, out, err = run("-h")
is_(rc, 0, "-h exits 0")
ok(out.startswith("usage: minihttpd") and all(o in out for o in ("-f", "-F", "-t", "-m", "-V")),
   "-h prints the usage on stdout", out)

rc, out, err = run("-Z")
is_(rc, 2, "an unknown option exits 2")
ok("usage: minihttpd" in err and out == "", "... with the usage on stderr", err)
rc, out, err = run("-f")
is_(rc, 2, "a missing option argument exits 2")
rc, out, err = run("-t", "stray")
is_(rc, 2, "a stray argument exits 2")

# --- -t ------------------------------------------------------------------------------

s = Server(mpm=MPMS[0])
rc, out, err = run("-t", "-f", s.conf)
is_(rc, 0, "-t on a good file exits 0")
ok("%s syntax is ok" % s.conf in out and "test is successful (mpm %s)" % MPMS[0] in out,
   "-t says the file is good and names it and the mpm", out + err)

good = s.conf_text()
bad_line = good.count("\n") + 1
s.write_conf(text=good + "keepalive_timeout = soon\n")
rc, out, err = run("-t", "-f", s.conf)
is_(rc, 1, "-t on a bad file exits 1")
ok("%s:%d: " % (s.conf, bad_line) in err, "-t names FILE:LINE of the error", err)
ok("configuration file %s test failed" % s.conf in err and out == "",
   "-t says the test failed, on stderr only", out + err)

s.write_conf(mpm="nosuch")
rc, out, err = run("-t", "-f", s.conf)
is_(rc, 1, "-t with a missing module exits 1")
ok('no module "nosuch"' in err and all(m in err for m in MPMS),
   "... and lists the modules available (%s)" % ", ".join(MPMS), err)

rc, out, err = run("-t", "-f", os.path.join(s.dir, "missing.conf"))
ok(rc == 1 and "missing.conf: No such file or directory" in err, "-t on a missing file", err)

# --- Failed starts: exit 1 with the reason, in both modes, leaving nothing behind ------


def failed_start(s, fg):
    """Starts s expecting a failure; returns (exit status, stderr)."""
    try:
        rc, out, err = run(*(["-F"] if fg else []), "-f", s.conf)
    except subprocess.TimeoutExpired:
        rc, err = None, "still running after 20 s"
    if os.path.exists(s.pid_file):
        s.pid = int(open(s.pid_file).read())  # a start that should have failed: clean up
    return rc, err


for fg in (True, False):
    mode = "foreground" if fg else "detached"

    s = Server(mpm=MPMS[0])
    s.write_conf(text=s.conf_text() + "listen_backlog = -\n")
    rc, err = failed_start(s, fg)
    ok(rc == 1, "%s: a bad file exits 1" % mode, err)
    ok(re.search(re.escape(s.conf) + r":\d+: ", err), "%s: ... with FILE:LINE on stderr" % mode,
       err)
    ok(not port_accepts(s.port) and not os.path.exists(s.pid_file),
       "%s: ... nothing listens and no pid file is left" % mode)

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    s = Server(mpm=MPMS[0], port=blocker.getsockname()[1])
    rc, err = failed_start(s, fg)
    ok(rc == 1, "%s: a port in use exits 1" % mode, err)
    ok("listen 127.0.0.1:%d: bind: Address already in use" % s.port in err,
       "%s: ... naming the address" % mode, err)
    ok(not os.path.exists(s.pid_file), "%s: ... and no pid file is left" % mode)
    blocker.close()

    s = Server(mpm="nosuch")
    rc, err = failed_start(s, fg)
    ok(rc == 1, "%s: a missing module exits 1" % mode, err)
    ok("available: " in err and all(m in err for m in MPMS),
       "%s: ... listing the modules available" % mode, err)

    s = Server(mpm=MPMS[0])
    s.write_conf(text=s.conf_text().replace(
        os.path.join(s.dir, "access.log"), os.path.join(s.dir, "no", "such", "access.log")))
    rc, err = failed_start(s, fg)
    ok(rc == 1 and "access_log " in err
       and "No such file or directory" in err,
       "%s: an access log that cannot be opened exits 1 and says why" % mode, err)
    ok(not port_accepts(s.port) and not os.path.exists(s.pid_file),
       "%s: ... nothing listens and no pid file is left" % mode)

    if os.geteuid() == 0:
        s = Server(mpm=MPMS[0])
        s.write_conf(text=s.conf_text().replace('user = "nobody"', 'user = "no-such-user-6"'))
        rc, err = failed_start(s, fg)
        ok(rc == 1
           and 'user "no-such-user-6" does not exist' in err,
           "%s: an unknown user exits 1 and says why" % mode, err)
        ok(not port_accepts(s.port) and not os.path.exists(s.pid_file),
           "%s: ... nothing listens and no pid file is left" % mode)
    
# A second server with the same pid file: refused, and the first one is untouched.
first = Server(mpm=MPMS[0])
started, err = first.start(foreground=False)
ok(started, "detached: the first server starts", err)
second = Server(mpm=MPMS[0])
second.write_conf(text=second.conf_text().replace(second.pid_file, first.pid_file))
started, err = second.start(foreground=False)
ok(not started and second.proc.returncode == 1
   and "already locked by a running minihttpd with pid %d" % first.pid in err,
   "detached: a pid file held by a running server is refused, naming its pid", err)
ok(not port_accepts(second.port), "... the second one does not stay listening")
is_(int(open(first.pid_file).read()), first.pid, "... the pid file still names the first one")
is_(request(first.port, "/").status, 200, "... which still serves")
second.pid = None
ok(first.stop(), "the first server stops")

# --- Relative -f and -m: the detached daemon works in /, reload must still find them ---

s = Server(mpm=MPMS[0])
text = s.conf_text().replace('mpm_dir = "%s"\n' % MPM_DIR, "")
with open(s.conf, "w") as f:
    f.write(text)
rel_mpm = os.path.relpath(MPM_DIR, s.dir)
p = subprocess.run([BINARY, "-f", "minihttpd.conf", "-m", rel_mpm], cwd=s.dir,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
if os.path.exists(s.pid_file):
    s.pid = int(open(s.pid_file).read())  # first, so that cleanup stops it whatever happens
ok(p.returncode == 0 and s.pid, "relative paths: the detached server starts", p.stderr)
if s.pid:
    leaders = children_of(s.pid)
    with open(s.conf, "w") as f:
        f.write(text.replace("graceful_timeout = 10", "graceful_timeout = 9"))
    s.signal(signal.SIGHUP)
    ok(wait_for(lambda: children_of(s.pid) and not set(children_of(s.pid)) & set(leaders)
                and len(children_of(s.pid)) == 1, 15),
       "relative paths: a reload starts a new generation")
    is_(request(s.port, "/").status, 200, "relative paths: serves after the reload")
    ok(s.stop(), "relative paths: stops")

done()
