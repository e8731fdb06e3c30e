# SPDX-License-Identifier: ISC
"""Helpers for minihttpd's integration tests: TAP output, a temporary server instance
(config, document root, free loopback port), raw and parsed HTTP exchanges, and waits
on conditions with bounded timeouts (never a fixed sleep)."""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BINARY = os.environ.get("MINIHTTPD", "minihttpd")
MPM_DIR = os.environ.get("MINIHTTPD_MPM_DIR", "")

_n = 0
_failed = 0


def ok(cond, name, diag=None):
    global _n, _failed
    _n += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (_n, name), flush=True)
    if not cond:
        _failed += 1
        if diag:
            for line in str(diag).splitlines():
                print("#   " + line)
    return cond


def is_(got, want, name):
    return ok(got == want, name, "got %r, want %r" % (got, want))


def skip_all(reason):
    print("1..0 # SKIP " + reason)
    sys.exit(0)


def done():
    print("1..%d" % _n, flush=True)
    sys.exit(1 if _failed else 0)


def wait_for(cond, timeout=10.0, interval=0.02):
    """Polls cond() until it is true or timeout seconds pass; returns its last value."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(interval)


def after_start_probe(read, counts, timeout=10.0):
    """Waits until Server.start()'s probe (a connection without a request) is counted and
    closed; returns the first reading that shows it, or None. read() makes one request on
    a connection of its own (a status page, a scrape) and returns (fields, bytes); counts
    (fields) gives the connections open, accepted and answered. A process that accepted
    the probe may run only after later connections, so "one open" alone proves nothing.
    Connections are counted when accepted and requests once answered: with the probe
    counted, the accepted are the reads made so far, this one included, plus the probe,
    and the answered the reads made before this one."""
    asked = [0]

    def over():
        asked[0] += 1
        fields, n = read()
        return (fields, n) if counts(fields) == (1, asked[0] + 1, asked[0] - 1) else None
    return wait_for(over, timeout)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_accepts(port, host="127.0.0.1"):
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def children_of(pid):
    """Direct children of pid, from /proc."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                kids.append(int(entry))
        except OSError:
            pass
    return kids


def descendants_of(pid):
    out, todo = [], [pid]
    while todo:
        for k in children_of(todo.pop()):
            out.append(k)
            todo.append(k)
    return out



def proc_state(pid):
    """The state letter of pid in /proc (R, S, Z...), or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def alive(pid):
    """Whether pid exists and is not a zombie."""
    return proc_state(pid) not in (None, "Z")


def tsan(pid):
    """Whether pid runs under ThreadSanitizer, which starts threads of its own."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return "libtsan" in f.read()
    except OSError:
        return False


def accept_queue(port):
    """Connections waiting in the accept queue of 127.0.0.1:port (a LISTEN socket's
    rx_queue); -1 when there is no such listener."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == "0100007F:%04X" % port and fields[3] == "0A":
                return int(fields[4].split(":")[1], 16)
    return -1


def built_mpms():
    """The MPMs of this build: every NAME.so in MPM_DIR, sorted. Tests loop over this, never
    over a list of names, so that a new module is tested without touching a test file."""
    try:
        names = os.listdir(MPM_DIR)
    except OSError:
        return []
    return sorted(n[:-3] for n in names if n.endswith(".so"))


class NotApplicable:
    """A table entry for an MPM that a scenario does not concern, saying why."""

    def __init__(self, why):
        self.why = why


def per_mpm(table, scenario):
    """(mpm, entry) for each built MPM, from a table keyed by MPM name that says what the
    scenario needs to know of it (how to configure its limit...). A built MPM missing from
    the table fails the test: a new MPM cannot go untested for want of an entry. An entry
    NotApplicable(why) skips it, saying why."""
    out = []
    for mpm in built_mpms():
        if mpm not in table:
            ok(False, "%s: %s: the table of this scenario has no entry for it; add one"
               % (mpm, scenario))
        elif isinstance(table[mpm], NotApplicable):
            ok(True, "%s: %s # SKIP %s" % (mpm, scenario, table[mpm].why))
        else:
            out.append((mpm, table[mpm]))
    return out


def leaders_of(server):
    """The live generation leaders: the master's children."""
    return [p for p in children_of(server.pid) if alive(p)] if server.pid else []


def workers_of(server):
    """The live processes of every generation's leader (the pool's workers)."""
    return sorted(p for l in leaders_of(server) for p in children_of(l) if alive(p))


def sockets_of(pid):
    """How many sockets pid holds open: the connections an event loop holds, and its
    listeners and channels, which a test counts once before to subtract."""
    n = 0
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return 0
    for fd in fds:
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return n


def log_count(server, text):
    """How many times text occurs in the server's stderr (its log echo)."""
    return server.stderr().count(text)


def reload(server, timeout=15.0, what="reloaded: generation"):
    """SIGHUP, then a bounded wait for one more log line with what; True when it came."""
    n = log_count(server, what)
    server.signal(signal.SIGHUP)
    return bool(wait_for(lambda: log_count(server, what) > n, timeout))


def generation_gone(leaders, timeout=20.0):
    """Waits until every leader in leaders (children_of(server.pid) taken before a
    reload) has exited; True if they did. Until then the old generation may still take a
    connection it found queued as it stopped, and answer it with the old configuration."""
    return bool(wait_for(lambda: not any(alive(p) for p in leaders), timeout))


STATUS_PATH = "/server-status"


def parse_auto(text):
    """The status page's text form (?auto, minihttpd -S) as a dict of strings."""
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition(":")
        if sep:
            out[k] = v.strip()
    return out


def status_num(d, key):
    """A numeric field of parse_auto()'s dict; -1 when missing or not a number."""
    try:
        return int(d[key])
    except (KeyError, ValueError):
        return -1


def status_auto(port, path=STATUS_PATH, source=None, timeout=5.0):
    """The status page's ?auto fields on a connection of its own, {} unless it answered 200.
    source: the client address to connect from (127.0.0.0/8 has many)."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                     source_address=(source, 0) if source else None)
    except OSError:
        return {}
    try:
        s.sendall(("GET %s?auto HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                   % path).encode())
        r = read_response(s.makefile("rb"))
    except (OSError, ValueError):
        return {}
    finally:
        s.close()
    return parse_auto(r.body.decode()) if r and r.status == 200 else {}


def clean_log(server, name):
    """Every process shares the master's stderr: a sanitizer report there fails the test."""
    err = server.stderr()
    ok("Sanitizer" not in err and "runtime error" not in err,
       "%s: no sanitizer report from any process" % name, err[-2000:])

_servers = []


class Server:
    """A minihttpd instance on a free loopback port, with its own config and files."""

    def __init__(self, mpm="prefork", extra="", mpm_section=None, files=None,
                 port=None, listen=None):
        self.dir = tempfile.mkdtemp(prefix="minihttpd-test.")
        os.chmod(self.dir, 0o755)
        self.root = os.path.join(self.dir, "htdocs")
        os.mkdir(self.root)
        self.port = port or free_port()
        self.listen = listen or ["127.0.0.1:%d" % self.port]
        self.mpm = mpm
        self.extra = extra
        self.mpm_section = mpm_section
        self.conf = os.path.join(self.dir, "minihttpd.conf")
        self.pid_file = os.path.join(self.dir, "minihttpd.pid")
        self.log = os.path.join(self.dir, "stderr.log")
        self.proc = None
        self.pid = None
        files = files if files is not None else {"index.html": "<h1>hello</h1>\n"}
        for name, content in files.items():
            path = os.path.join(self.root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(path, mode) as f:
                f.write(content)
        self.write_conf()
        _servers.append(self)

    def conf_text(self, mpm=None, extra=None, listen=None):
        mpm = mpm or self.mpm
        user = "nobody" if os.geteuid() == 0 else ""
        lines = [
            'mpm_dir = "%s"' % MPM_DIR,
            "listen = {%s}" % ", ".join('"%s"' % l for l in (listen or self.listen)),
            'document_root = "htdocs"',
            'mpm = "%s"' % mpm,
            'pid_file = "%s"' % self.pid_file,
            'access_log = "%s"' % os.path.join(self.dir, "access.log"),
            "graceful_timeout = 10",
        ]
        if user:
            lines += ['user = "nobody"', 'group = "nogroup"']
        lines.append(self.extra if extra is None else extra)
        if self.mpm_section:
            lines.append(self.mpm_section)
        return "\n".join(lines) + "\n"

    def write_conf(self, text=None, **kw):
        with open(self.conf, "w") as f:
            f.write(text if text is not None else self.conf_text(**kw))
        if os.geteuid() == 0:
            # Workers run as nobody: everything they serve must be world-readable.
            os.chmod(self.dir, 0o755)
            for base, dirs, names in os.walk(self.root):
                for d in dirs:
                    os.chmod(os.path.join(base, d), 0o755)
                for n in names:
                    p = os.path.join(base, n)
                    if os.stat(p).st_mode & 0o777 != 0:
                        os.chmod(p, os.stat(p).st_mode | 0o444)

    def start(self, foreground=True, timeout=10.0, expect_fail=False, preexec=None,
              prefix=()):
        """Starts the server; returns (ok, stderr text). preexec: a function run in the
        child before exec (e.g. to lower an rlimit the server then inherits). prefix: a
        command that runs the server (e.g. setpriv ...).
        expect_fail: the start should fail, so its exit is waited for: a server that
        fails after binding accepts connections for a moment, and would look started."""
        args = [BINARY, "-f", self.conf]
        if foreground:
            args.insert(1, "-F")
        args = list(prefix) + args
        err = open(self.log, "wb")
        out = open(os.path.join(self.dir, "stdout.log"), "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=err,
                                     preexec_fn=preexec)
        out.close()
        if foreground:
            self.pid = self.proc.pid
            if expect_fail:
                wait_for(lambda: self.proc.poll() is not None, timeout)
                started = self.proc.poll() is None
            else:
                up = wait_for(lambda: self.proc.poll() is not None or port_accepts(self.port),
                              timeout)
                started = up and self.proc.poll() is None
        else:
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                rc = None
            started = rc == 0
            if started:
                self.pid = int(open(self.pid_file).read())
        err.close()
        return started, self.stderr()

    def stderr(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def signal(self, sig):
        os.kill(self.pid, sig)

    def stop(self, timeout=15.0):
        """SIGTERM to the master, bounded wait, SIGKILL to what is left; returns True if it
        exited by itself and every worker is gone."""
        if not self.pid:
            return True
        procs = [self.pid] + descendants_of(self.pid)
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        if self.proc and self.proc.pid == self.pid:
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        clean = wait_for(lambda: not any(pid_alive(p) and not _zombie(p) for p in procs),
                         timeout)
        for p in procs:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.pid = None
        return bool(clean)

    def cleanup(self):
        self.stop(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


def _zombie(pid):
    return proc_state(pid) in (None, "Z")


@atexit.register
def _cleanup_all():
    for s in _servers:
        s.cleanup()


def exchange(port, data, timeout=5.0, host="127.0.0.1", shut=False):
    """Sends raw bytes and reads until the server closes or timeout; returns bytes."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)
    finally:
        s.close()


class Response:
    def __init__(self, status, reason, headers, body, version):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lower name, value)
        self.body = body
        self.version = version

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None


def read_response(sock_file, head_only=False):
    """Reads one response from a socket file object; None on EOF."""
    line = sock_file.readline()
    if not line:
        return None
    version, status, reason = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers = []
    while True:
        h = sock_file.readline().decode("latin-1")
        if h in ("\r\n", "\n", ""):
            break
        k, v = h.split(":", 1)
        headers.append((k.strip().lower(), v.strip()))
    r = Response(int(status), reason, headers, b"", version)
    length = r.header("content-length")
    if not head_only and length is not None:
        r.body = sock_file.read(int(length))
    return r


def request(port, path="/", method="GET", headers=None, timeout=5.0, version="1.1",
            host="127.0.0.1"):
    """One request on a fresh connection; returns a Response."""
    hdrs = {"Host": "127.0.0.1:%d" % port, "Connection": "close"}
    hdrs.update(headers or {})
    text = "%s %s HTTP/%s\r\n" % (method, path, version)
    text += "".join("%s: %s\r\n" % kv for kv in hdrs.items() if kv[1] is not None)
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall((text + "\r\n").encode("latin-1"))
        f = s.makefile("rb")
        return read_response(f, head_only=(method == "HEAD"))
    finally:
        s.close()


# Helpers added for the HTTP conformance tests (test_http_*.py, test_timeouts_log.py).



def parse_responses(data, head_only=()):
    """Splits raw bytes into Responses, framed by Content-Length (no body for 1xx, 204,
    304, or the responses whose 0-based index is in head_only). Returns (responses, rest):
    rest is what did not form a complete response."""
    out = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        lines = data[:end].decode("latin-1").split("\r\n")
        try:
            version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
            status = int(status)
            headers = []
            for h in lines[1:]:
                k, v = h.split(":", 1)
                headers.append((k.strip().lower(), v.strip()))
        except ValueError:
            break
        r = Response(status, reason, headers, b"", version)
        body_len = 0
        if status >= 200 and status not in (204, 304) and len(out) not in head_only:
            body_len = int(r.header("content-length") or 0)
        if len(data) < end + 4 + body_len:
            break
        r.body = data[end + 4:end + 4 + body_len]
        out.append(r)
        data = data[end + 4 + body_len:]
    return out, data


class Conn:
    """One client connection kept open across requests."""

    def __init__(self, port, timeout=5.0, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode("latin-1"))

    def response(self, head_only=False):
        """The next response, or None on EOF."""
        return read_response(self.file, head_only)

    def rest(self):
        """Everything until the server closes (b"" at once if it already did); raises
        socket.timeout if it does not close within the socket's timeout."""
        return self.file.read()

    def closed(self, timeout=5.0):
        """Whether the server closes the connection within timeout seconds, sending nothing
        more."""
        self.sock.settimeout(timeout)
        try:
            return self.file.read(1) == b""
        except OSError:
            return False

    def close(self):
        self.file.close()
        self.sock.close()


def get_raw(port, data, timeout=5.0):
    """Sends raw bytes on a fresh connection; returns (first Response or None, raw bytes).
    Reads until the server closes or timeout."""
    raw = exchange(port, data, timeout=timeout)
    resps, _ = parse_responses(raw)
    return (resps[0] if resps else None), raw
