#!/bin/sh
# SPDX-License-Identifier: ISC
# The Debian package under a real systemd: builds it with scripts/build-deb.sh
# (dpkg-buildpackage -us -uc -b, then lintian), makes an upgrade of it (the same files,
# a higher version, as a rebuild would be), and has systemd-lab run deb_e2e.sh: install,
# serve, reload with an MPM switch, upgrade keeping a conffile edit, purge. Prints TAP;
# skips without the lab, root or dpkg-buildpackage and debhelper.
# SYSTEMD_LAB: see lab.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# The lab, skip() and bail().
. "$here/lab.sh"
command -v dpkg-buildpackage >/dev/null && [ -e /usr/share/perl5/Debian/Debhelper/Dh_Lib.pm ] ||
	skip "dpkg-buildpackage or debhelper missing (scripts/install-deps.sh installs them)"
[ -d "$top_srcdir/.git" ] || [ -f "$top_srcdir/.git" ] ||
	skip "not a git checkout: scripts/build-deb.sh packages the files git knows"
echo "# systemd-lab: $lab ($from)"

work=$(mktemp -d /tmp/minihttpd-deb.XXXXXX) || bail "mktemp failed"
trap 'rm -rf "$work"' EXIT INT TERM
chmod 755 "$work"
started=$(date +%s)

deb=$("$top_srcdir/scripts/build-deb.sh" "$work/build" 2>"$work/lintian") || {
	sed 's/^/# /' "$work/lintian" | tail -n 40
	bail "the package does not build, or lintian reports an error or a warning"
}
# Printed once the lab has run, so that a lab that cannot boot still gives a plain SKIP.
n=2
{
	echo "ok 1 - dpkg-buildpackage -us -uc -b builds $(basename "$deb") in $(($(date +%s) - started)) s"
	echo "ok 2 - lintian reports no error and no warning"
	sed 's/^/#   /' "$work/lintian"
} >"$work/pre"

# The upgrade: the same files under a higher version.
mkdir -p "$work/stage/root/debs" "$work/x"
cp "$deb" "$work/stage/root/debs/minihttpd_old.deb"
dpkg-deb -R "$deb" "$work/x"
sed -i 's/^Version: .*/&+rebuild1/' "$work/x/DEBIAN/control"
dpkg-deb -b "$work/x" "$work/stage/root/debs/minihttpd_new.deb" >/dev/null ||
	bail "cannot make the upgrade package"

# TAP_START: its numbers follow the two tests above.
"$lab" run -q -t 240 --packages libconfuse2,liburing2,logrotate -e TAP_START=$n "$work/stage" \
	--script "$here/deb_e2e.sh" \
	>"$work/out" 2>"$work/err"
rc=$?
lab_started "$rc"
cat "$work/pre" "$work/out"
lab_finished "$rc"
echo "# Debian package test: $(($(date +%s) - started)) s in all"
exit 0
