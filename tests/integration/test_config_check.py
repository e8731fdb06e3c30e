# SPDX-License-Identifier: ISC
"""-t checks what a file asks of the system, without side effects, as `nginx -t` does:
listeners that overlap, users and groups that do not exist, an access log or pid file
that cannot be written, a document root the workers cannot enter; sections left open are
reported at their own line. The same checks refuse a start and a reload. -q, --help,
--version, and "<3>" priority prefixes when stderr is the journal (JOURNAL_STREAM)."""

import os
import signal
import subprocess

from mhd import (BINARY, MPM_DIR, Server, children_of, done, is_, built_mpms, ok,
                 request, skip_all, wait_for)

MPMS = [m for m in ("prefork", "event") if m in built_mpms()]
if not MPMS:
    skip_all("no MPM module in %s" % MPM_DIR)
ROOT = os.geteuid() == 0


def run(*args, env=None, stderr=subprocess.PIPE):
    p = subprocess.run([BINARY] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=stderr, timeout=20, env=env)
    return p.returncode, p.stdout.decode(), (p.stderr or b"").decode()


def check(s, text, name, want_rc, *want):
    """Writes text as s's config, runs -t, expects want_rc and every string of want."""
    s.write_conf(text=text)
    rc, out, err = run("-t", "-f", s.conf)
    ok(rc == want_rc and all(w in out + err for w in want), name, "rc %d\n%s%s" % (rc, out, err))


s = Server(mpm=MPMS[0])
base = s.conf_text()
P = s.port

# --- Listeners of its own that overlap -------------------------------------------------

check(s, base + 'listen = {"0.0.0.0:%d", "127.0.0.1:%d"}\n' % (P, P),
      "0.0.0.0:P with 127.0.0.1:P: -t fails", 1,
      '"127.0.0.1:%d" overlaps "0.0.0.0:%d"' % (P, P), "%s:%d:" % (s.conf, base.count("\n") + 1))
check(s, base + 'listen = {"[::1]:%d", "[::]:%d"}\n' % (P, P),
      "[::1]:P with [::]:P: -t fails", 1, '"[::]:%d" overlaps "[::1]:%d"' % (P, P))
check(s, base + 'listen = {"0.0.0.0:%d", "[::]:%d"}\n' % (P, P),
      "0.0.0.0:P with [::]:P (bound v6only): -t passes", 0, "test is successful")
check(s, base + 'listen = {"127.0.0.1:%d", "127.0.0.2:%d"}\n' % (P, P),
      "two addresses on one port: -t passes", 0, "test is successful")

# --- Sections left open ---------------------------------------------------------------

section = "%s {\n" % MPMS[0]
opened = base.count("\n") + 1
check(s, base + section, "a section left open at the end of the file: -t fails at its line",
      1, '%s:%d: "%s {" is not closed' % (s.conf, opened, MPMS[0]))
other = [m for m in ("prefork", "worker", "event") if m != MPMS[0]][0]
check(s, base + section + "graceful_timeout = 5\n%s {\n}\n" % other,
      "a section left open mid-file: -t fails at its opening line, not a later valid one", 1,
      '%s:%d: "%s {" is not closed' % (s.conf, opened, MPMS[0]))
check(s, base + section + "graceful_timeout = 5\n}\n",
      "a '}' that comes too late: the error names the section it is in", 1,
      "%s:%d: no such option 'graceful_timeout' in section \"%s\"" % (s.conf, opened + 1, MPMS[0]))

# --- Logs and the pid file: writable by the master, judged without creating them -------

missing = os.path.join(s.dir, "no", "such", "access.log")
check(s, base + 'access_log = "%s"\n' % missing, "an access log in a missing directory: -t fails",
      1, "access_log %s: No such file or directory" % os.path.join(s.dir, "no"))
ok(not os.path.exists(os.path.join(s.dir, "no")), "... and -t created nothing")
ro = os.path.join(s.dir, "ro")
os.mkdir(ro, 0o555)
check(s, base + 'access_log = "%s/a.log"\n' % ro,
      "an access log in a directory the master cannot write: -t fails", 1,
      "access_log %s/a.log: cannot be created" % ro)
ok(not os.path.exists(os.path.join(ro, "a.log")), "... and -t created nothing")
held = os.path.join(s.dir, "held.log")
open(held, "w").close()
os.chmod(held, 0o444)
check(s, base + 'access_log = "%s"\n' % held, "an access log the master cannot write: -t fails",
      1, "access_log %s: uid %d cannot write it" % (held, os.geteuid()))
check(s, base + 'pid_file = "%s/x.pid"\n' % ro, "a pid file that cannot be created: -t fails", 1,
      "pid_file %s/x.pid: cannot be created" % ro)

# --- The worker user and the document root --------------------------------------------

closed = os.path.join(s.dir, "closed")
os.makedirs(os.path.join(closed, "htdocs"))
os.chmod(closed, 0o700 if ROOT else 0o000)
check(s, base + 'document_root = "%s/htdocs"\n' % closed,
      "a document root the workers cannot enter: -t fails, naming the directory", 1,
      "document_root %s: uid " % closed, "cannot enter it")
os.chmod(closed, 0o755)
check(s, base + 'document_root = "%s/htdocs"\n' % closed, "... and passes once it is open", 0,
      "test is successful")
if ROOT:
    check(s, base.replace('user = "nobody"', 'user = "no-such-user-16"'),
          "an unknown user: -t fails", 1, 'user "no-such-user-16" does not exist')
    check(s, base.replace('group = "nogroup"', 'group = "no-such-group-16"'),
          "an unknown group: -t fails", 1, 'group "no-such-group-16" does not exist')

# --- mpm_dir anywhere in the file --------------------------------------------------------

# The compiled-in directory ($pkglibdir/mpm) is not where the tests' modules are: a file
# that names its mpm_dir only after its MPM section must still be judged by that directory.
section = "%s {\n}\n" % MPMS[0]
last = base.replace('mpm_dir = "%s"\n' % MPM_DIR, "") + section + 'mpm_dir = "%s"\n' % MPM_DIR
check(s, last, "mpm_dir after the MPM section: the section is known, the file is valid", 0)
check(s, last.replace(section, section + "bogus {\n}\n"),
      "... and an unknown section there is still named, at its line", 1,
      "%s:%d:" % (s.conf, last.count("\n") - 1 + 1), "bogus")

# --- -q, --help, --version -------------------------------------------------------------

s.write_conf(text=base)
rc, out, err = run("-t", "-q", "-f", s.conf)
ok(rc == 0 and out == "" and err == "", "-t -q on a good file prints nothing", out + err)
s.write_conf(text=base + 'access_log = "%s"\n' % missing)
rc, out, err = run("-t", "-q", "-f", s.conf)
ok(rc == 1 and "No such file or directory" in err, "-t -q still prints the problems", out + err)
rc, out, err = run("-q", "-f", s.conf)
is_(rc, 2, "-q without -t is a usage error")
rc, out, err = run("--help")
ok(rc == 0 and out.startswith("usage: minihttpd") and "--version" in out, "--help", out + err)
rc, out, err = run("--version")
ok(rc == 0 and out.startswith("minihttpd "), "--version", out + err)

# --- Priority prefixes when stderr is the journal ----------------------------------------

log = os.path.join(s.dir, "journal-stream")
with open(log, "w") as f:
    st = os.fstat(f.fileno())
    env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
    run("-t", "-f", s.conf, env=env, stderr=f)
lines = open(log).read().splitlines()
ok(lines and all(l.startswith("<3>minihttpd: ") for l in lines),
   "stderr is the journal: every error line starts with <3>", "\n".join(lines))
env = dict(os.environ, JOURNAL_STREAM="1:1")
rc, out, err = run("-t", "-f", s.conf, env=env)
ok(err.startswith("minihttpd: ") and "<3>" not in err,
   "JOURNAL_STREAM naming another file: no prefix", err)

# --- A start and a reload are judged by the same checks --------------------------------

s.write_conf(text=base + 'document_root = "%s/htdocs"\n' % closed)
os.chmod(closed, 0o700 if ROOT else 0o000)
started, err = s.start(expect_fail=True)
ok(not started and "document_root %s: uid" % closed in err,
   "a start with a document root the workers cannot enter fails, saying why", err)
s.pid = None

os.chmod(closed, 0o755)
s.write_conf(text=base)
started, err = s.start()
ok(started, "the server starts with a good file", err)
leaders = wait_for(lambda: children_of(s.pid), 10)
s.write_conf(text=base + 'document_root = "%s/htdocs"\n' % closed)
os.chmod(closed, 0o700 if ROOT else 0o000)
s.signal(signal.SIGHUP)
ok(wait_for(lambda: "reload failed: 1 problem" in s.stderr(), 10),
   "a reload to a document root the workers cannot enter is refused", s.stderr())
is_(children_of(s.pid), leaders, "... the old generation keeps serving")
is_(request(s.port, "/").status, 200, "... and answers")
os.chmod(closed, 0o755)
ok(s.stop(), "stops")

done()
