#!/bin/sh
# SPDX-License-Identifier: ISC
# A short libFuzzer run of each target in fuzz/ (the request parser, the path cleaner, the
# PROXY protocol header, the Forwarded / X-Forwarded-For walk, the access log's formats,
# the Accept-Encoding field, the Host key),
# built as the top Makefile's `fuzz` target builds them, over the checked-in corpus: one
# TAP result per target, "not ok" on a crash, a sanitizer report, a broken invariant
# (the targets abort()), a hang or a build failure. Skips when clang or its libFuzzer
# runtime is missing (Debian 12: clang libclang-rt-14-dev, scripts/install-deps.sh).
#
# FUZZ_SMOKE_SECONDS (default 10) bounds each run; FUZZ_CC (default clang) is the
# compiler; MINIHTTPD_LIBHTTP_SOURCES (set by make check; default: an in-tree build's
# src/libhttp.sources) is the built list of libhttp's C files, which fuzz_path is built
# from. The source tree is only read (it is read-only under distcheck): new inputs and
# crash files go to a directory in /tmp, removed on success, kept and named on failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/.." && pwd)
secs=${FUZZ_SMOKE_SECONDS:-10}
cc=${FUZZ_CC:-clang}
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}

command -v "$cc" >/dev/null 2>&1 || skip "$cc not found (apt-get install clang libclang-rt-14-dev)"
work=$(mktemp -d /tmp/minihttpd-fuzz.XXXXXX) || { echo "Bail out! mktemp failed"; exit 1; }
failed=0
trap '[ "$failed" = 0 ] && rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\n%s\n' \
	'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }' \
	>"$work/probe.c"
"$cc" $flags "$work/probe.c" -o "$work/probe" >/dev/null 2>&1 ||
	skip "$cc cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev)"

libhttp=${MINIHTTPD_LIBHTTP_SOURCES:-$top_srcdir/src/libhttp.sources}
[ -r "$libhttp" ] || { echo "Bail out! $libhttp missing: build the tree first (make)"; exit 1; }
echo "1..7"
n=0
# name, corpus directory, extra compiler arguments
smoke() {
	name=$1 corpus=$2
	shift 2
	n=$((n + 1))
	mkdir -p "$work/$name.new" "$work/$name.art"
	if ! "$cc" $flags -I"$top_srcdir/src" "$@" -o "$work/$name" >"$work/$name.log" 2>&1; then
		failed=1
		sed 's/^/# /' "$work/$name.log" | tail -n 30
		echo "not ok $n - $name: builds with $cc"
		return
	fi
	# Nice: a make -j check runs timing-sensitive tests beside this one. A hang is a
	# failure (-timeout), so is any crash: libFuzzer then exits non-zero.
	start=$(date +%s)
	nice -n 19 "$work/$name" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work/$name.art/" "$work/$name.new" "$corpus" \
		>>"$work/$name.log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
	echo "# $name: ${runs:-?} executions in ${took} s over $(ls "$corpus" | wc -l) seeds," \
		"exit status $rc"
	if [ "$rc" -ne 0 ] || [ -z "$runs" ] || [ "$(ls "$work/$name.art")" ]; then
		failed=1
		grep -v '^#[0-9]' "$work/$name.log" | tail -n 40 | sed 's/^/# /'
		echo "# crash inputs and the log are kept in $work"
		echo "not ok $n - $name: no crash in ${secs} s of fuzzing"
	else
		echo "ok $n - $name: no crash in ${secs} s of fuzzing"
	fi
}

smoke fuzz_parse "$top_srcdir/fuzz/corpus/parse" "$top_srcdir/fuzz/fuzz_parse.c"
# libhttp.la's sources (http_static.c and all it needs); fuzz_path calls only static_path_clean.
smoke fuzz_path "$top_srcdir/fuzz/corpus/path" -D_GNU_SOURCE "$top_srcdir/fuzz/fuzz_path.c" \
	$(cat "$libhttp")
smoke fuzz_proxy "$top_srcdir/fuzz/corpus/proxy" "$top_srcdir/fuzz/fuzz_proxy.c"
smoke fuzz_forwarded "$top_srcdir/fuzz/corpus/forwarded" "$top_srcdir/fuzz/fuzz_forwarded.c"
smoke fuzz_log_format "$top_srcdir/fuzz/corpus/log_format" -D_GNU_SOURCE \
	"$top_srcdir/fuzz/fuzz_log_format.c"
smoke fuzz_accept_encoding "$top_srcdir/fuzz/corpus/accept_encoding" \
	"$top_srcdir/fuzz/fuzz_accept_encoding.c"
smoke fuzz_host "$top_srcdir/fuzz/corpus/host" "$top_srcdir/fuzz/fuzz_host.c"
exit 0
