#!/bin/sh
# SPDX-License-Identifier: ISC
# Builds the Debian package from the files git knows (committed or not) in a clean copy,
# so that the tree's own build is untouched: scripts/build-deb.sh [OUTDIR] (default
# ../deb-build). Prints the path of the .deb; runs lintian on it when installed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$top/../deb-build}" && cd "${1:-$top/../deb-build}" && pwd)
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
src="$out/minihttpd-$version"
rm -rf "$src"
mkdir -p "$src"
(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf - --) | tar -C "$src" -xf -
# Run from a test under `make check`, the outer make's MAKEFLAGS would carry its command
# line (TEST_LOGS: the whole suite) into the package's own `make check` of unit tests.
(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b) \
	>"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log"
	exit 1
}
deb="$out/minihttpd_${version}_$(dpkg --print-architecture).deb"
if command -v lintian >/dev/null; then
	lintian --fail-on error,warning "$deb" "$out/minihttpd_${version}_$(dpkg --print-architecture).changes" >&2
fi
echo "$deb"
