# SPDX-License-Identifier: ISC
"""max_connections_per_client never refuses a strictly sequential client: one that sends
its request with "Connection: close", reads the answer, closes and reconnects at once
must find its previous connections given back (issue 19: with a limit of 2, 2 of 3,000
requests got 503 on prefork and 7 on fork, the count being given back only after the
answer went out, and a client quick enough could outrun that). Every other request is
for a file too large to be inlined, sent with sendfile(2)."""

import socket
import time

from mhd import Server, clean_log, done, is_, ok, read_response

REQUESTS = 3000
FILES = {"index.html": "<h1>small</h1>\n", "big.bin": "x" * 100000}
DEADLINE = 240.0    # seconds for one MPM's run; a run that needs longer fails
MPMS = {
    "prefork": "prefork {\n start_servers = 4\n min_spare_servers = 2\n}",
    "fork": None,
}


def run(port, source):
    """Statuses other than 200 (or errors), and the requests made, within the deadline."""
    bad, end, n = [], time.monotonic() + DEADLINE, 0
    while n < REQUESTS and time.monotonic() < end:
        n += 1
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10,
                                          source_address=(source, 0)) as s:
                name = "big.bin" if n % 2 else "index.html"
                s.sendall(b"GET /%s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                          % name.encode())
                r = read_response(s.makefile("rb"))
                if not r or r.status != 200 or r.body != FILES[name].encode():
                    bad.append((name, r.status) if r else None)
        except OSError as e:
            bad.append(repr(e))
    return bad, n


for mpm, section in MPMS.items():
    s = Server(mpm=mpm, mpm_section=section, files=FILES,
               extra="max_connections_per_client = 2")
    started, err = s.start()
    ok(started, "%s: starts with max_connections_per_client = 2" % mpm, err)
    if not started:
        continue
    began = time.monotonic()
    bad, n = run(s.port, "127.0.0.5")
    is_(n, REQUESTS, "%s: %d sequential requests made within %.0f s (%.1f s)"
        % (mpm, REQUESTS, DEADLINE, time.monotonic() - began))
    is_(len(bad), 0, "%s: none refused or failed" % mpm)
    if bad:
        print("#   %r" % bad[:10])
    ok(s.stop(), "%s: clean stop" % mpm)
    clean_log(s, mpm)

done()
