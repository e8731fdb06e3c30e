#!/bin/sh
# SPDX-License-Identifier: ISC
# Builds minihttpd from a clean configure and runs the whole test suite (`make check`).
# Extra arguments go to ./configure (e.g. --enable-sanitizers).
set -e
cd "$(dirname "$0")/.."
./autogen.sh >/dev/null
./configure -q "$@"
make -j"$(nproc)" >/dev/null
make -j"$(nproc)" check
