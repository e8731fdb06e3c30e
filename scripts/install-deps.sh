#!/bin/sh
# SPDX-License-Identifier: ISC
# Installs what building and testing minihttpd needs on Debian 12 (run as root, or with
# sudo available). liburing-dev builds the uring MPM (configure skips it without);
# clang and its libFuzzer runtime are for tests/fuzz_smoke.sh and `make fuzz`; valgrind
# for tests/integration/test_valgrind_reloads.py; openbsd-inetd for
# tests/integration/test_inetd.py, which runs its own inetd in the foreground (the
# system's is kept from starting, below); debhelper, fakeroot and lintian build and check
# the Debian package (dpkg-buildpackage -us -uc -b; tests/systemd/test_deb.sh); haproxy
# and nginx for tests/integration/test_fleet.py and test_fleet_nginx.py, which run their
# own in the foreground (the system's are kept from starting, as inetd's);
# prometheus-apache-exporter (3 MB) for tests/integration/test_metrics.py, which starts
# it against the status page. That test also runs `promtool check metrics` where the
# prometheus package is installed, but does not install it here: 96 MB for one check.
# wrk for tests/integration/test_sites.py's reload under 20 busy connections (skipped without).
# Benchmarks have their own list: bench/README.md.
set -e
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# openbsd-inetd's, haproxy's, nginx's and prometheus-apache-exporter's packages start and
# enable their services: a build machine wants none of them listening. A policy-rc.d that refuses every start covers both sysvinit and systemd
# (invoke-rc.d asks it); one already there (a container's) is left as it is.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e $POLICY ]; then
	trap '$SUDO rm -f $POLICY' EXIT
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee $POLICY >/dev/null
	$SUDO chmod 755 $POLICY
fi
$SUDO apt-get install -y -qq --no-install-recommends openbsd-inetd haproxy nginx \
	prometheus-apache-exporter >/dev/null
if [ -d /run/systemd/system ]; then
	$SUDO systemctl disable --now inetd.service haproxy.service nginx.service \
		prometheus-apache-exporter.service >/dev/null 2>&1 || true
fi
$SUDO apt-get install -y -qq --no-install-recommends \
	build-essential autoconf automake libtool pkg-config \
	libconfuse-dev libsystemd-dev libcap-dev libcrypt-dev liburing-dev \
	python3 curl mandoc ca-certificates wrk \
	clang libclang-rt-14-dev valgrind \
	debhelper dpkg-dev fakeroot lintian >/dev/null
