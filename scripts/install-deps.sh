#!/bin/sh
# SPDX-License-Identifier: ISC
# Installs what building and testing minihttpd needs on Debian 12 (run as root, or with
# sudo available). clang and its libFuzzer runtime are for tests/fuzz_smoke.sh and
# `make fuzz`; valgrind for tests/integration/test_valgrind_reloads.py. Benchmarks have
# their own list: bench/README.md. debhelper and lintian build and check
# the Debian package (dpkg-buildpackage -us -uc -b; tests/systemd/test_deb.sh).
set -e
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
	build-essential autoconf automake libtool pkg-config \
	libconfuse-dev libsystemd-dev libcap-dev \
	python3 curl mandoc ca-certificates \
	clang libclang-rt-14-dev valgrind \
	debhelper dpkg-dev fakeroot lintian >/dev/null
