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

# lab_started RC: after `"$lab" run ... >"$work/out" 2>"$work/err"` exited RC, skips when
# no container could be booted and bails when it ended before any test ran.
lab_started() {
	grep -q '^\(not \)\{0,1\}ok ' "$work/out" && return 0
	sed 's/^/# /' "$work/err" | tail -n 30
	case $1 in
	125) skip "systemd-lab could not boot a container (exit 125)" ;;
	124) bail "systemd-lab timed out before any test ran" ;;
	*) bail "systemd-lab exited $1 before any test ran" ;;
	esac
}

# lab_finished RC: bails unless the test inside the container printed its plan.
lab_finished() {
	grep -q '^1\.\.[0-9]' "$work/out" && return 0
	sed 's/^/# /' "$work/err" | tail -n 30
	bail "the test inside the container did not finish (exit $1)"
}
