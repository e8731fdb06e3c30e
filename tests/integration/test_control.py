# SPDX-License-Identifier: ISC
"""minihttpd -s stop|reload|reopen, like nginx -s: reload and reopen signal the master
named by the pid file and wait for its verdict, so the exit status tells the truth: 0
only once the new generation serves, 1 with the master's reason whenever the new
configuration was not put into service (address in use, access log unopenable, unknown
user, document root the workers cannot enter, a bad file). This is what ExecReload= runs."""

import os
import re
import socket
import subprocess

from mhd import (BINARY, MPM_DIR, Server, done, is_, built_mpms, ok, pid_alive, request,
                 skip_all, wait_for)

MPMS = [m for m in ("prefork", "worker", "event") if m in built_mpms()]
if not MPMS:
    skip_all("no MPM module in %s" % MPM_DIR)
ROOT = os.geteuid() == 0


def run(*args):
    p = subprocess.run([BINARY] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=90)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def generation(s):
    """The serving generation, read with -S through a file that stays valid."""
    good = os.path.join(s.dir, "good.conf")
    with open(good, "w") as f:
        f.write(s.conf_text())
    rc, out, err = run("-S", "-f", good)
    m = re.search(r"^Generation: (\d+)$", out, re.M)
    return int(m.group(1)) if m else None


s = Server(mpm=MPMS[0])
base = s.conf_text()

rc, out, err = run("-s", "reload", "-f", s.conf)
ok(rc == 3 and "not running (no pid file" in err, "-s reload without a server exits 3", err)
rc, out, err = run("-s", "restart", "-f", s.conf)
is_(rc, 2, "-s with an unknown signal is a usage error")

started, err = s.start()
ok(started, "the server starts", err)
# The port accepts (into its backlog) before the first generation is up.
ok(wait_for(lambda: generation(s) == 1, 10), "generation 1 serves")

# --- Reloads that work: 0 once the new generation serves ---------------------------------

gen = 1
for m in MPMS[1:] + MPMS[:1]:
    s.write_conf(mpm=m)
    rc, out, err = run("-s", "reload", "-f", s.conf)
    gen += 1
    ok(rc == 0 and out == "" and err == "", "-s reload to mpm %s exits 0, silently" % m, err)
    is_(generation(s), gen, "... generation %d serves when it returns" % gen)
    is_(request(s.port, "/").status, 200, "... and answers")

# --- Reloads that do not: 1 with the reason, the old generation serving on -----------------

blocker = socket.socket()
blocker.bind(("127.0.0.1", 0))
blocker.listen(1)
held = blocker.getsockname()[1]
refusals = [
    ("an address in use", base.replace('listen = {"127.0.0.1:%d"}' % s.port,
                                       'listen = {"127.0.0.1:%d", "127.0.0.1:%d"}'
                                       % (s.port, held)),
     "listen 127.0.0.1:%d: bind: Address already in use" % held),
    ("an access log that cannot be opened",
     base.replace(os.path.join(s.dir, "access.log"), os.path.join(s.dir, "no", "a.log")),
     "access_log %s: No such file or directory" % os.path.join(s.dir, "no")),
    ("a syntax error", base + "keepalive_timeout = soon\n", "%s:" % s.conf),
]
closed = os.path.join(s.dir, "closed")
os.makedirs(os.path.join(closed, "htdocs"))
os.chmod(closed, 0o700 if ROOT else 0o000)
refusals.append(("a document root the workers cannot enter",
                 base + 'document_root = "%s/htdocs"\n' % closed,
                 "document_root %s: uid" % closed))
if ROOT:
    refusals.append(("an unknown user", base.replace('user = "nobody"', 'user = "no-such-16"'),
                     'user "no-such-16" does not exist'))
for what, text, reason in refusals:
    s.write_conf(text=text)
    rc, out, err = run("-s", "reload", "-f", s.conf)
    ok(rc == 1 and reason in err, "%s: -s reload exits 1 with the reason" % what, err)
    is_(generation(s), gen, "... generation %d still serves" % gen)
    is_(request(s.port, "/").status, 200, "... and answers")
blocker.close()
os.chmod(closed, 0o755)

s.write_conf(text=base)
rc, out, err = run("-s", "reload", "-f", s.conf)
gen += 1
ok(rc == 0 and generation(s) == gen, "the file fixed: -s reload exits 0, generation %d" % gen,
   err)

# --- reopen and stop -----------------------------------------------------------------------

os.rename(os.path.join(s.dir, "access.log"), os.path.join(s.dir, "access.log.1"))
rc, out, err = run("-s", "reopen", "-f", s.conf)
ok(rc == 0 and os.path.exists(os.path.join(s.dir, "access.log")),
   "-s reopen exits 0 once a new access log is open", err)
pid = s.pid
rc, out, err = run("-s", "stop", "-f", s.conf)
is_(rc, 0, "-s stop exits 0")
ok(wait_for(lambda: s.proc.poll() is not None, 15), "... and the master exits")
s.pid = None if not pid_alive(pid) else pid

done()
