#!/bin/sh
# SPDX-License-Identifier: ISC
# Generates ./configure from configure.ac (needs autoconf, automake, libtool, pkg-config).
set -e
cd "$(dirname "$0")"
mkdir -p m4
exec autoreconf -fi
