# SPDX-License-Identifier: ISC
"""Conditional requests (RFC 9110 section 13) and ranges (section 14): If-None-Match,
If-Modified-Since, If-Match, If-Unmodified-Since with 304/412 in the order of section
13.2.2; single, open and suffix ranges (206), unsatisfiable ranges (416 with
Content-Range: bytes */LEN), several ranges (200 whole: the documented choice), invalid
Range ignored, If-Range, and HEAD."""

import calendar
import os

from mhd import Server, done, exchange, is_, ok, parse_responses, request

MTIME = calendar.timegm((2020, 1, 2, 3, 4, 5))
LM = "Thu, 02 Jan 2020 03:04:05 GMT"
OLDER = "Wed, 01 Jan 2020 00:00:00 GMT"
NEWER = "Fri, 03 Jan 2020 00:00:00 GMT"
FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"
DATA = b"0123456789abcdefghijklmnopqrstuvwxyz"
LEN = len(DATA)
BIG = bytes((i * 13 + i // 256) & 0xff for i in range(200000))

s = Server(mpm="prefork", files={"index.html": "i\n", "f.txt": DATA, "big.bin": BIG})
for name in ("f.txt", "big.bin"):
    os.utime(os.path.join(s.root, name), (MTIME, MTIME))
started, err = s.start()
ok(started, "server starts", err)
p = s.port

base = request(p, "/f.txt")
ETAG = base.header("etag")
ok(base.status == 200 and ETAG and ETAG.startswith('"'), "a strong ETag to work with", ETAG)
is_(base.header("last-modified"), LM, "Last-Modified is the file's mtime")


def get(headers, path="/f.txt", method="GET"):
    return request(p, path, method=method, headers=headers)


def not_modified(headers, what):
    """304 with the validators and nothing after the head (read to EOF)."""
    head = "".join("%s: %s\r\n" % kv for kv in headers.items())
    raw = exchange(p, ("GET /f.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n"
                       % head).encode())
    resps, rest = parse_responses(raw)
    r = resps[0] if resps else None
    ok(r is not None and r.status == 304, what + ": 304", raw[:200])
    if r is None:
        return
    is_(r.header("etag"), ETAG, what + ": 304 carries the ETag")
    is_(r.header("last-modified"), LM, what + ": 304 carries Last-Modified")
    is_(rest, b"", what + ": 304 has no body")


def status(headers, want, what, path="/f.txt", method="GET"):
    r = get(headers, path, method)
    is_(r.status, want, "%s: %d" % (what, want))
    return r


# If-None-Match (weak comparison, section 13.1.2).
not_modified({"If-None-Match": ETAG}, "If-None-Match matching")
not_modified({"If-None-Match": '"nope", %s , "other"' % ETAG}, "If-None-Match list")
not_modified({"If-None-Match": "*"}, "If-None-Match: *")
not_modified({"If-None-Match": "W/" + ETAG}, "If-None-Match weak tag (weak comparison)")
r = status({"If-None-Match": '"nope"'}, 200, "If-None-Match not matching")
is_(r.body, DATA, "If-None-Match not matching: the body")
status({"If-None-Match": ETAG[1:]}, 200, "If-None-Match malformed (unquoted): not matching")
r = get({"If-None-Match": ETAG}, method="HEAD")
is_(r.status, 304, "If-None-Match on HEAD: 304")

# If-Modified-Since.
not_modified({"If-Modified-Since": LM}, "If-Modified-Since equal")
not_modified({"If-Modified-Since": NEWER}, "If-Modified-Since newer")
status({"If-Modified-Since": OLDER}, 200, "If-Modified-Since older")
status({"If-Modified-Since": "yesterday"}, 200, "If-Modified-Since invalid date ignored")
status({"If-Modified-Since": LM + " extra"}, 200, "If-Modified-Since with trailing junk ignored")
status({"If-Modified-Since": FUTURE}, 200, "If-Modified-Since in the future ignored")
not_modified({"If-Modified-Since": "Thursday, 02-Jan-20 03:04:05 GMT"},
             "If-Modified-Since in RFC 850 form")
not_modified({"If-Modified-Since": "Thu Jan  2 03:04:05 2020"},
             "If-Modified-Since in asctime form")

# Precedence: If-None-Match, when present, decides instead of If-Modified-Since.
r = status({"If-None-Match": '"nope"', "If-Modified-Since": LM}, 200,
           "If-None-Match (no match) beats If-Modified-Since (equal)")
not_modified({"If-None-Match": ETAG, "If-Modified-Since": OLDER},
             "If-None-Match (match) beats If-Modified-Since (older)")

# If-Match (strong comparison) and If-Unmodified-Since.
r = status({"If-Match": '"nope"'}, 412, "If-Match not matching")
ok(r.header("content-length") == str(len(r.body)) and b"412" in r.body,
   "412 has a small body with Content-Length")
status({"If-Match": ETAG}, 200, "If-Match matching")
status({"If-Match": '"a", %s' % ETAG}, 200, "If-Match list")
status({"If-Match": "*"}, 200, "If-Match: * on an existing file")
status({"If-Match": "W/" + ETAG}, 412, "If-Match with a weak tag (strong comparison)")
status({"If-Match": "*"}, 404, "If-Match: * on a missing file", path="/missing")
status({"If-Unmodified-Since": OLDER}, 412, "If-Unmodified-Since older")
status({"If-Unmodified-Since": LM}, 200, "If-Unmodified-Since equal")
status({"If-Unmodified-Since": NEWER}, 200, "If-Unmodified-Since newer")
status({"If-Unmodified-Since": "garbage"}, 200, "If-Unmodified-Since invalid ignored")
status({"If-Match": ETAG, "If-Unmodified-Since": OLDER}, 200,
       "If-Match (match) beats If-Unmodified-Since (older)")
status({"If-Match": '"nope"', "If-Unmodified-Since": NEWER}, 412,
       "If-Match (no match) fails whatever If-Unmodified-Since says")
status({"If-Match": '"nope"', "If-None-Match": ETAG}, 412,
       "If-Match is evaluated before If-None-Match")
status({"If-Unmodified-Since": OLDER, "If-Modified-Since": LM}, 412,
       "If-Unmodified-Since is evaluated before If-Modified-Since")


# Ranges.
def partial(rng, first, last, what, path="/f.txt", data=DATA, headers=None):
    h = {"Range": rng}
    h.update(headers or {})
    r = get(h, path)
    is_(r.status, 206, what + ": 206")
    is_(r.header("content-range"), "bytes %d-%d/%d" % (first, last, len(data)),
        what + ": Content-Range")
    is_(r.header("content-length"), str(last - first + 1), what + ": Content-Length")
    is_(r.body, data[first:last + 1], what + ": the bytes")
    return r


r = partial("bytes=0-9", 0, 9, "bytes=0-9")
ok(r.header("etag") == ETAG and r.header("last-modified") == LM, "206 carries the validators")
partial("bytes=10-", 10, LEN - 1, "bytes=10-")
partial("bytes=-5", LEN - 5, LEN - 1, "bytes=-5")
partial("bytes=0-0", 0, 0, "bytes=0-0")
partial("bytes=30-1000", 30, LEN - 1, "bytes=30-1000 (last past the end)")
partial("bytes=-1000", 0, LEN - 1, "bytes=-1000 (suffix longer than the file)")
partial("Bytes = 2-3".replace(" = ", "="), 2, 3, "range unit is case-insensitive")
partial("bytes=100000-100099", 100000, 100099, "range inside a large file", path="/big.bin",
        data=BIG)

for rng in ("bytes=%d-" % LEN, "bytes=1000-2000", "bytes=-0", "bytes=%d-,%d-" % (LEN, LEN + 5)):
    r = get({"Range": rng})
    is_(r.status, 416, "%s: 416" % rng)
    is_(r.header("content-range"), "bytes */%d" % LEN, "%s: Content-Range: bytes */LEN" % rng)
    is_(r.header("content-length"), str(len(r.body)), "%s: 416 has Content-Length" % rng)

for rng in ("bytes=0-1,5-6", "bytes=0-1, 30-"):
    r = get({"Range": rng})
    ok(r.status == 200 and r.body == DATA and r.header("content-range") is None,
       "%s: several ranges get the whole file (200)" % rng)

for rng in ("bytes=abc", "bytes=5-2", "items=0-1", "bytes=", "bytes=-", "bytes 0-1",
            "bytes=0-1;x", "bytes=1-2-3"):
    r = get({"Range": rng})
    ok(r.status == 200 and r.body == DATA and r.header("content-range") is None,
       "invalid Range %r is ignored: 200" % rng, "%d %s" % (r.status, r.header("content-range")))

# If-Range (section 13.1.5).
partial("bytes=0-3", 0, 3, "If-Range matching ETag", headers={"If-Range": ETAG})
partial("bytes=0-3", 0, 3, "If-Range matching Last-Modified", headers={"If-Range": LM})
for v, what in (('"other"', "another ETag"), ("W/" + ETAG, "a weak ETag"),
                (OLDER, "another date"), ("junk", "junk")):
    r = get({"Range": "bytes=0-3", "If-Range": v})
    ok(r.status == 200 and r.body == DATA, "If-Range with %s: the whole file (200)" % what)

# Preconditions come before Range.
not_modified({"If-None-Match": ETAG, "Range": "bytes=0-3"}, "If-None-Match with Range")
status({"If-Match": '"nope"', "Range": "bytes=0-3"}, 412, "If-Match failing with Range")

# HEAD: range handling is defined for GET only (section 14.2), so Range is ignored.
raw = exchange(p, b"HEAD /f.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=0-3\r\n"
               b"Connection: close\r\n\r\n")
resps, rest = parse_responses(raw, head_only=(0,))
ok(resps and resps[0].status == 200 and resps[0].header("content-length") == str(LEN) and
   resps[0].header("content-range") is None and rest == b"",
   "HEAD with Range: 200 with the full length, no body", raw[:300])
raw = exchange(p, b"HEAD /f.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=99-\r\n"
               b"Connection: close\r\n\r\n")
ok(raw.startswith(b"HTTP/1.1 200 "), "HEAD with an unsatisfiable Range: still 200", raw[:100])

ok(s.stop(), "server stops cleanly")
done()
