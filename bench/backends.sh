#!/bin/bash
# SPDX-License-Identifier: ISC
# backends.sh: regenerates the lecture's second table (TLPI's "poll() vs select() vs epoll
# for N monitored descriptors", table 63-9) with the real server: the event MPM with
# backend = epoll, poll and select, each holding N idle keep-alive connections (each
# answered once, then left open) while it serves a fixed number of requests over one more
# keep-alive connection. Beside them, "uring": not a backend of event but an MPM of its
# own, the proactor (mpm = "uring", processes = 1), holding the same N connections while
# it serves the same requests. Reported: the server's CPU time for those requests
# (user+sys of its whole process tree from /proc, utime+stime+cutime+cstime, after minus
# before), median of RUNS runs. poll and select scan every descriptor on each wait, epoll
# only the ready ones: the cost should grow with N for the first two and stay flat for
# epoll. uring scans no descriptor set either: an idle connection is one receive the
# kernel holds armed on the socket (as epoll's callback is), and only completions are
# reaped, so it should stay flat too.
#
# The lecture measured 100,000 monitoring operations; we measure whole requests, so compare
# the shapes and the ratios between N, not the absolute values. select cannot watch a
# descriptor at or above FD_SETSIZE (1024): larger N is reported n/a.
#
# Writes bench/results/backends-DATE.md (and backends-latest.md, and backends-latest.png
# when gnuplot is installed) and prints it. Needs root (the server switches to nobody),
# ab (apache2-utils), taskset and a C compiler. Not a test. Knobs (environment):
#   REQUESTS=20000 RUNS=3 NS="10 100 1000 10000" BACKENDS="epoll poll select uring"
#   (uring: the uring MPM, left out when uring.so is not built)
#   SERVER_CPU=0 CLIENT_CPU=1 MINIHTTPD=src/minihttpd MPM_DIR=mpm/.libs
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# tree_cpu_all, wait_until, port_open, free_port, median, machine_line, mhd_version.
. "$here/lib.sh"

REQUESTS=${REQUESTS:-20000}
RUNS=${RUNS:-3}
NS=${NS:-10 100 1000 10000}
BACKENDS=${BACKENDS:-epoll poll select$([ -f "${MPM_DIR:-$top/mpm/.libs}/uring.so" ] && echo " uring")}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
MINIHTTPD=${MINIHTTPD:-$top/src/minihttpd}
MPM_DIR=${MPM_DIR:-$top/mpm/.libs}
HZ=$(getconf CLK_TCK)
FD_SETSIZE=1024

die() { echo "backends.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (the server switches to nobody)"
for tool in ab taskset cc; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install apache2-utils)"
done
[ -x "$MINIHTTPD" ] && [ -f "$MPM_DIR/event.so" ] || die "build minihttpd first (make)"

work=$(mktemp -d /tmp/bench-backends.XXXXXX)
chmod 755 "$work"
SPID=
IPID=
cleanup() {
	exec 3>&- 2>/dev/null
	[ -n "$IPID" ] && kill "$IPID" 2>/dev/null
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

root=$work/htdocs
mkdir -p "$root"
head -c 1024 /dev/urandom > "$root/1k.bin"
chmod -R a+rX "$root"
cc -O2 -o "$work/idle_conns" "$here/idle_conns.c" || die "cannot build idle_conns"
# The server and idle_conns each hold the largest N plus a few descriptors.
ulimit -n "$(ulimit -Hn)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# Where io_uring is missing or forbidden the uring MPM's config test says why: stop before
# the first run rather than in the middle.
case " $BACKENDS " in
*" uring "*)
	[ -f "$MPM_DIR/uring.so" ] ||
		die "uring: $MPM_DIR/uring.so is not built (liburing-dev); BACKENDS without it"
	mhd_event_conf 1 "$root" uring >"$work/probe.conf"
	"$MINIHTTPD" -t -f "$work/probe.conf" >"$work/probe.out" 2>&1 ||
		die "uring: $(grep -v 'test failed' "$work/probe.out" | tail -1); BACKENDS without it" ;;
esac

# Starts the server with backend $1 (uring: the uring MPM) on port $2; sets SPID.
start_server() {
	if [ "$1" = uring ]; then
		mhd_event_conf "$2" "$root" uring
	else
		mhd_event_conf "$2" "$root" level "$1"
	fi >"$work/minihttpd.conf"
	taskset -c "$SERVER_CPU" "$MINIHTTPD" -F -f "$work/minihttpd.conf" \
		2>"$work/stderr" &
	SPID=$!
	wait_until port_open "$2" || die "minihttpd ($1) did not start: $(cat "$work/stderr")"
}

stop_server() {
	kill "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=
}

# One measurement: backend $1 with N=$2 idle connections; appends "seconds failed" to
# $work/$1.$2, or nothing when the idle connections could not all be held.
measure() {
	local b=$1 conns=$2 n port ctl=$work/ctl out=$work/idle_out t0 t1 ab_out failed done_n
	port=$(free_port)
	start_server "$b" "$port"
	rm -f "$ctl" "$out"
	mkfifo "$ctl"
	taskset -c "$CLIENT_CPU" "$work/idle_conns" "$port" "$conns" /1k.bin < "$ctl" > "$out" &
	IPID=$!
	exec 3> "$ctl"
	WAIT_S=120 wait_until grep -q -e '^ready' -e '^failed' "$out"
	if grep -q '^ready' "$out"; then
		# Warm the file and the code paths, outside the measurement.
		taskset -c "$CLIENT_CPU" ab -q -k -n 500 -c 1 "http://127.0.0.1:$port/1k.bin" \
			>/dev/null 2>&1
		t0=$(tree_cpu_all "$SPID")
		ab_out=$(taskset -c "$CLIENT_CPU" ab -q -k -n "$REQUESTS" -c 1 \
			"http://127.0.0.1:$port/1k.bin" 2>&1)
		t1=$(tree_cpu_all "$SPID")
		done_n=$(echo "$ab_out" | awk '/^Complete requests:/ { print $3 }')
		failed=$(echo "$ab_out" | awk '/^Failed requests:/ { f = $3 }
			/^Non-2xx responses:/ { f += $3 } END { print f + 0 }')
		if [ "${done_n:-0}" = "$REQUESTS" ]; then
			awk -v d=$((t1 - t0)) -v hz="$HZ" -v f="$failed" \
				'BEGIN { printf "%.3f %d\n", d / hz, f }' >> "$work/$b.$conns"
		else
			echo "$b N=$conns: ab failed: $ab_out" >&2
		fi
	else
		echo "$b N=$conns: idle connections: $(cat "$out")" >&2
	fi
	exec 3>&-
	wait "$IPID" 2>/dev/null
	IPID=
	stop_server
}

possible() { [ "$1" != select ] || [ "$2" -lt $((FD_SETSIZE - 16)) ]; }

for run in $(seq "$RUNS"); do
	for n in $NS; do
		for b in $BACKENDS; do
			possible "$b" "$n" && measure "$b" "$n"
		done
	done
	echo "run $run of $RUNS done" >&2
done

# Median seconds of backend $1 at N=$2, or why there is none.
cell() {
	if ! possible "$1" "$2"; then
		echo "n/a (FD_SETSIZE)"
	elif [ -s "$work/$1.$2" ]; then
		awk '{ print $1 }' "$work/$1.$2" | median
	else
		echo "failed"
	fi
}
lecture() {
	case $1 in
	10) echo "0.61 0.73 0.41" ;;
	100) echo "2.9 3.0 0.42" ;;
	1000) echo "35 35 0.53" ;;
	10000) echo "990 930 0.66" ;;
	*) echo "- - -" ;;
	esac
}
# $1 / $2 as "x.y×", or "-" when either is not a positive number.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 == a && b + 0 == b && b > 0) printf "%.1f×", a / b; else print "-" }'; }
us() { awk -v s="$1" -v r="$REQUESTS" 'BEGIN { if (s + 0 == s) printf "%.1f", s * 1e6 / r; else print "-" }'; }

report() {
	echo "# The lecture's second table, regenerated by bench/backends.sh"
	echo
	echo "- Date: $(date -u +%Y-%m-%dT%H:%MZ); load average before the runs $LOAD0," \
		"after $(cut -d' ' -f1-3 /proc/loadavg)"
	machine_line
	echo "- Versions: $(mhd_version);" \
		"ApacheBench $(ab -V | awk '/Version/ { sub(/,$/, "", $5); print $5; exit }')"
	echo "- Knobs: REQUESTS=$REQUESTS RUNS=$RUNS NS=\"$NS\" BACKENDS=\"$BACKENDS\";" \
		"event MPM, processes = 1, trigger = level, access_log off, max_connections" \
		"20000 (uring: the uring MPM, processes = 1, the same otherwise); server pinned" \
		"to CPU $SERVER_CPU, ab -k -c 1 and idle_conns to CPU $CLIENT_CPU."
	echo "- Load: N idle keep-alive connections (each answered once, then left open)," \
		"then $REQUESTS requests of a 1 KiB file over one more keep-alive connection" \
		"(ab -k -c 1, after 500 warm-up requests)."
	echo "- Server CPU: user+sys of the server's process tree (utime+stime+cutime+cstime" \
		"from /proc, after minus before), in seconds, median of $RUNS runs; µs/request" \
		"in parentheses. Resolution: one clock tick, 1/$HZ s."
	echo
	echo "| N | poll() CPU (s) | select() CPU (s) | epoll CPU (s) | uring MPM CPU (s) | lecture poll() | lecture select() | lecture epoll |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
	for n in $NS; do
		local line="| $n |" b v
		for b in poll select epoll uring; do
			case " $BACKENDS " in
			*" $b "*) v=$(cell "$b" "$n")
				case $v in
				n/a*|failed) line="$line $v |" ;;
				*) line="$line $v ($(us "$v")) |" ;;
				esac ;;
			*) line="$line - |" ;;
			esac
		done
		set -- $(lecture "$n")
		echo "$line $1 | $2 | $3 |"
	done
	echo
	echo "Growth: each column divided by its N = ${NS%% *} value (the lecture's likewise), the" \
		"shape to compare."
	echo
	echo "| N | poll() | select() | epoll | uring MPM | lecture poll() | lecture select() | lecture epoll |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
	local first=${NS%% *} k
	for n in $NS; do
		local line="| $n |"
		for b in poll select epoll uring; do
			case " $BACKENDS " in
			*" $b "*) line="$line $(ratio "$(cell "$b" "$n")" "$(cell "$b" "$first")") |" ;;
			*) line="$line - |" ;;
			esac
		done
		for k in 1 2 3; do
			line="$line $(ratio "$(lecture "$n" | cut -d' ' -f$k)" "$(lecture "$first" | cut -d' ' -f$k)") |"
		done
		echo "$line"
	done
	echo
	echo "The lecture's figures: Kerrisk, The Linux Programming Interface, table 63-9: CPU" \
		"time of 100,000 monitoring operations over N descriptors, one of them ready." \
		"Ours are whole requests served while N others idle, so compare how each column" \
		"grows with N (and epoll against the others), not the absolute values. The uring" \
		"column is not a backend of the event MPM but the uring MPM (the proactor: the" \
		"loop starts receives and sends on an io_uring and reaps their completions), which" \
		"the lecture's table has no figure for; like epoll it scans no descriptor set," \
		"so it should stay flat in N."
	for b in $BACKENDS; do
		for n in $NS; do
			[ -f "$work/$b.$n" ] && awk -v b="$b" -v n="$n" '$2 > 0 { e = 1 }
				END { if (e) print "\nnote: " b " N=" n ": ab reported failed or non-2xx responses" }' \
				"$work/$b.$n"
		done
	done
}

plot() {
	local data=$work/plot.dat cmd=plot i=0 b n v
	: > "$data"
	for b in $BACKENDS; do
		v=$(for n in $NS; do
			v=$(cell "$b" "$n")
			case $v in n/a*|failed) continue ;; esac
			awk -v n="$n" -v v="$v" 'BEGIN { if (v > 0) print n, v }'
		done)
		[ -n "$v" ] || continue
		printf '%s\n\n\n' "$v" >> "$data"
		cmd="$cmd '$data' index $i with linespoints title '$b$([ "$b" = uring ] && echo " MPM")',"
		i=$((i + 1))
	done
	[ "$i" -gt 0 ] || { echo "nothing to plot (no nonzero times)" >&2; return 1; }
	gnuplot <<-EOF
	set terminal png size 800,560
	set output '$1'
	set logscale xy
	set xlabel 'idle keep-alive connections (N)'
	set ylabel 'server CPU seconds for $REQUESTS requests'
	set title 'minihttpd event MPM backends and the uring MPM: cost vs N (bench/backends.sh)'
	set key top left
	${cmd%,}
	EOF
}

mkdir -p "$here/results"
out=$here/results/backends-$(date -u +%Y%m%d-%H%M).md
report > "$out"
cp "$out" "$here/results/backends-latest.md"
cat "$out"
echo >&2
echo "written to $out" >&2
if command -v gnuplot >/dev/null; then
	if plot "$work/plot.png"; then
		mv "$work/plot.png" "$here/results/backends-latest.png"
		echo "plotted $here/results/backends-latest.png" >&2
	fi
fi
