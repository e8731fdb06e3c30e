#!/bin/sh
# SPDX-License-Identifier: ISC
# End to end under a real systemd: builds the source tree with the paths of an installed
# system (--prefix=/usr --sysconfdir=/etc), runs `make install DESTDIR=...`, and hands
# the result to systemd-lab, which boots a container whose PID 1 is systemd 252 and runs
# e2e.sh there (systemctl start/reload/stop, MPM switches, a broken file, log rotation,
# socket activation, journalctl). Prints TAP; skips when systemd-lab is absent, when not
# root, or when no container can be booted.
# SYSTEMD_LAB: see lab.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# The lab, skip() and bail().
. "$here/lab.sh"
echo "# systemd-lab: $lab ($from)"

work=$(mktemp -d /tmp/minihttpd-systemd.XXXXXX) || bail "mktemp failed"
trap 'rm -rf "$work"' EXIT INT TERM
chmod 755 "$work"
started=$(date +%s)

# A private copy configured for /usr and /etc: the tree under test may be configured (or
# read-only, under distcheck) for other paths, and the units and the sample config must
# name the paths they will have inside the container.
echo "# building $top_srcdir with --prefix=/usr --sysconfdir=/etc in $work"
mkdir "$work/src" "$work/stage"
(cd "$top_srcdir" && tar --exclude=.git --exclude='*.o' --exclude='*.lo' --exclude=.libs \
	-cf - .) | tar -C "$work/src" -xf - || bail "cannot copy $top_srcdir"
chmod -R u+w "$work/src"
(
	cd "$work/src" || exit 1
	if [ -f Makefile ]; then
		make distclean >/dev/null 2>&1 || exit 1
	fi
	./configure -q --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
		--with-systemdsystemunitdir=/lib/systemd/system &&
		make -j2 &&
		make install DESTDIR="$work/stage"
) >"$work/build.log" 2>&1 || {
	sed 's/^/# /' "$work/build.log" | tail -n 40
	bail "the build with system paths failed"
}
echo "# built and installed in $(($(date +%s) - started)) s"

# libconfuse is the one runtime library a minimal Debian lacks: the lab image gets it the
# way a user's system would, as a package (the lab caches one image per package set);
# logrotate, to run the packaged logrotate file.
"$lab" run -q -t 240 --packages libconfuse2,liburing2,logrotate "$work/stage" --script "$here/e2e.sh" \
	>"$work/out" 2>"$work/err"
rc=$?
lab_started "$rc"
cat "$work/out"
[ "$rc" = 124 ] && bail "systemd-lab timed out (240 s)"
lab_finished "$rc"
echo "# systemd end-to-end test: $(($(date +%s) - started)) s in all"
exit 0
