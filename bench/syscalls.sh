#!/bin/bash
# SPDX-License-Identifier: ISC
# syscalls.sh: where a request's time goes in the Reactor and in the Proactor (Stevens,
# UNIX Network Programming vol. 1, ch. 30): the event MPM (epoll, level-triggered) and the
# uring MPM (io_uring) on compare.sh's three loads, counted by the kernel's own
# tracepoints (perf stat on the server's process tree while wrk runs) and divided by the
# requests wrk completed. What io_uring should save is system calls (a transition into
# the kernel and back); what it adds is per operation: an io_uring request set up and
# completed, task work to finish it in the server's context, and, for a receive started
# on a socket with nothing in it, an internal poll armed on the socket and later fired.
# The counts show both sides; the CPU µs per request show which wins. docs/lab.md
# ("Reactor and Proactor") reads them.
#
# Counted per request: system calls (raw_syscalls:sys_enter), io_uring_enter calls,
# io_uring requests submitted (io_uring_submit_req) and completions posted
# (io_uring_complete), internal polls armed (io_uring_poll_arm), task work runs
# (io_uring_task_work_run + io_uring_local_work_run), requests handed to io-wq threads
# (io_uring_queue_async_work); and the server's CPU time per request, user+sys of its
# process tree from /proc (io_uring's worker threads are threads of the server).
#
# Writes bench/results/syscalls-DATE.md (and syscalls-latest.md) and prints it. Needs
# root, perf (linux-perf) with tracefs, wrk and taskset; uring.so built. Not a test. The
# operations per request are fixed by the code; how many of them one system call carries
# (io_uring_enter's batching, epoll_pwait's) grows with the load's concurrency and with
# the machine's other work, and the µs move with both. Knobs (environment):
#   DUR=3 RUNS=3 SERVER_CPU=0 CLIENT_CPU=1 MINIHTTPD=src/minihttpd MPM_DIR=mpm/.libs
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# tree_pids, wait_until, port_open, free_port, median, machine_line, mhd_version,
# mhd_event_conf, bench_scratch, bench_files.
. "$here/lib.sh"

DUR=${DUR:-3}
RUNS=${RUNS:-3}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
MINIHTTPD=${MINIHTTPD:-$top/src/minihttpd}
MPM_DIR=${MPM_DIR:-$top/mpm/.libs}
MPMS="level uring"
LOADS="ka1k close1k big"
# Column label | perf events summed into it.
COUNTS="system calls|raw_syscalls:sys_enter
io_uring_enter calls|syscalls:sys_enter_io_uring_enter
io_uring requests submitted|io_uring:io_uring_submit_req
io_uring completions|io_uring:io_uring_complete
internal polls armed|io_uring:io_uring_poll_arm
task work runs|io_uring:io_uring_task_work_run io_uring:io_uring_local_work_run
handed to io-wq|io_uring:io_uring_queue_async_work"

die() { echo "syscalls.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (the server switches to nobody; perf reads tracepoints)"
for tool in perf wrk taskset; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
[ -x "$MINIHTTPD" ] && [ -f "$MPM_DIR/event.so" ] && [ -f "$MPM_DIR/uring.so" ] ||
	die "build minihttpd first (make), with liburing-dev for uring.so"
EVENTS=$(echo "$COUNTS" | cut -d'|' -f2 | paste -sd' ' | tr ' ' ,)
HZ=$(getconf CLK_TCK)
perf stat -x, -e "$EVENTS" -- true 2>/dev/null ||
	die "perf cannot count $EVENTS (tracefs mounted? kernel with io_uring tracepoints?)"

bench_scratch syscalls

root=$work/htdocs
bench_files "$root"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# One run of load $2 against the server of MPM $1: appends to $work/$1.$2 a line
# "requests event=count ... cpu=ticks".
measure() {
	local url="http://127.0.0.1:${PORT[$1]}" args out req t0 t1
	# wrk drops a header without a space after the colon: "Connection: close" exactly.
	case $2 in
	ka1k) args=(-c50 "$url/1k.bin") ;;
	close1k) args=(-c50 -H "Connection: close" "$url/1k.bin") ;;
	big) args=(-c4 "$url/10m.bin") ;;
	esac
	# perf counts the server's threads for exactly as long as wrk runs.
	t0=$(tree_cpu_all "${PID[$1]}")
	out=$(perf stat -x, -o "$work/perf.out" -e "$EVENTS" \
		-p "$(tree_pids "${PID[$1]}" | paste -sd,)" -- \
		taskset -c "$CLIENT_CPU" wrk -t1 -d"${DUR}s" "${args[@]}" 2>&1)
	t1=$(tree_cpu_all "${PID[$1]}")
	req=$(echo "$out" | awk '/requests in/ { print $1 }')
	[ -n "$req" ] && [ "$req" -gt 0 ] || { echo "$1 $2: wrk failed: $out" >&2; return; }
	echo "$req $(awk -F, '$1 + 0 == $1 { printf "%s=%s ", $3, $1 }' "$work/perf.out")" \
		"cpu=$((t1 - t0))" >> "$work/$1.$2"
}

for m in $MPMS; do
	PORT[$m]=$(free_port)
	mhd_event_conf "${PORT[$m]}" "$root" "$m" > "$work/$m.conf"
	taskset -c "$SERVER_CPU" "$MINIHTTPD" -F -f "$work/$m.conf" 2>"$work/$m.err" &
	PID[$m]=$!
	wait_until port_open "${PORT[$m]}" ||
		die "minihttpd ($m) did not start: $(cat "$work/$m.err")"
	# Warm up: the file cache, the page cache, the buffer ring's pages, the pipes.
	taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d1s "http://127.0.0.1:${PORT[$m]}/1k.bin" >/dev/null
	taskset -c "$CLIENT_CPU" wrk -t1 -c4 -d1s "http://127.0.0.1:${PORT[$m]}/10m.bin" >/dev/null
done
# Interleaved, as compare.sh: drift in the machine's load hits both servers alike.
for run in $(seq "$RUNS"); do
	for load in $LOADS; do
		for m in $MPMS; do
			measure "$m" "$load"
		done
	done
	echo "run $run of $RUNS done" >&2
done

# Median over the runs of the per-request sum of the events $3 (cpu: µs) for MPM $1 and
# load $2.
cell() {
	[ -s "$work/$1.$2" ] || { echo "-"; return; }
	awk -v want=" $3 " -v hz="$HZ" '{
		n = 0
		for (i = 2; i <= NF; i++) {
			split($i, kv, "=")
			if (index(want, " " kv[1] " "))
				n += kv[1] == "cpu" ? kv[2] * 1e6 / hz : kv[2]
		}
		printf "%.2f\n", n / $1 }' "$work/$1.$2" | median
}

report() {
	local load m line
	echo "# System calls and io_uring work per request, by bench/syscalls.sh"
	echo
	echo "- Date: $(date -u +%Y-%m-%dT%H:%MZ); load average before the runs $LOAD0," \
		"after $(cut -d' ' -f1-3 /proc/loadavg)"
	machine_line
	echo "- Versions: $(mhd_version); $(perf --version); wrk" \
		"$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')"
	echo "- Knobs: DUR=$DUR RUNS=$RUNS; minihttpd event MPM (level-triggered epoll) and uring" \
		"MPM, processes = 1, access_log off (bench/lib.sh's mhd_event_conf), pinned to CPU" \
		"$SERVER_CPU; wrk -t1 -c50 pinned to CPU $CLIENT_CPU."
	echo "- Loads, as compare.sh's: a 1 KiB file over 50 keep-alive connections; the same" \
		"with \"Connection: close\" (a new connection per request); a 10 MiB file over 4" \
		"keep-alive connections; ${DUR}s each, after a warm-up of 1 s on each file."
	echo "- Counted by perf stat on every thread of the server's process tree while wrk" \
		"runs, divided by the requests wrk completed; runs interleaved (run 1 of each" \
		"load on each server, then run 2, ...), median of $RUNS. Server CPU: user+sys of" \
		"its process tree from /proc, after minus before, µs per request (one clock" \
		"tick is 1/$HZ s)."
	echo
	echo "| per request | 1 KiB keep-alive: event | uring | 1 KiB new connection: event | uring | 10 MiB: event | uring |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	while IFS='|' read -r label events; do
		line="| $label |"
		for load in $LOADS; do
			for m in $MPMS; do
				line="$line $(cell "$m" "$load" "$events") |"
			done
		done
		echo "$line"
	done <<-EOF
	$COUNTS
	server CPU µs|cpu
	EOF
	echo
	echo "event does its socket I/O with system calls and waits in epoll_pwait; uring" \
		"starts receives and sends as io_uring requests and waits in io_uring_enter, so" \
		"its system calls are io_uring_enter and those the engine still makes itself" \
		"(strace -c -f -p on the server's process tree shows which)."
}

mkdir -p "$here/results"
out=$here/results/syscalls-$(date -u +%Y%m%d-%H%M).md
report > "$out"
cp "$out" "$here/results/syscalls-latest.md"
cat "$out"
echo >&2
echo "written to $out" >&2
