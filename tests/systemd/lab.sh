# SPDX-License-Identifier: ISC
# Sourced by the tests that boot systemd-lab (test_systemd.sh, test_deb.sh): where the lab
# is, said once, and the TAP skip and bail-out they share. Sets here, top_srcdir, lab and
# from; skips unless the lab is there and this is root.
#
# SYSTEMD_LAB=/path/to/systemd-lab overrides where the lab is looked for (default:
# ../shared/tools/systemd-lab next to the source tree); SYSTEMD_LAB=no skips.
top_srcdir=$(cd "$here/../.." && pwd)
if [ -n "${SYSTEMD_LAB:-}" ]; then
	lab=$SYSTEMD_LAB
	from="from SYSTEMD_LAB"
else
	lab=$top_srcdir/../shared/tools/systemd-lab
	from="the default beside the source tree; SYSTEMD_LAB=/path/to/systemd-lab sets another"
fi

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}
bail() {
	echo "Bail out! $*"
	exit 1
}

[ "$lab" != no ] || skip "SYSTEMD_LAB=no"
[ -x "$lab" ] || skip "systemd-lab not found at $lab ($from)"
[ "$(id -u)" = 0 ] || skip "systemd-lab needs root"
