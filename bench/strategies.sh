#!/bin/bash
# SPDX-License-Identifier: ISC
# strategies.sh: minihttpd's ways of handing connections to processes and threads, side by
# side under the same load: prefork with accept none, mutex and passfd, worker with accept
# mutex and queue, and event when mpm/.libs/event.so is built; with Apache's prefork and
# worker from Debian as anchors when apache2 is installed. Pools are sized as in the lecture's
# table (15 processes, or one process of 15 threads; event: one process).
#
# Loads, from ab pinned to CLIENT_CPU while the server is pinned to SERVER_CPU: N requests
# at concurrency C on fresh connections (the lecture's table), then the same with keep-alive
# (ab -k). Every server runs for the whole script; the runs are interleaved (run 1 of each
# strategy, then run 2, ...) so that drift in the machine's load hits all alike, and the
# median of RUNS is kept.
#
# Server CPU time is user+sys of the whole process tree, reaped processes included: per
# process utime+stime+cutime+cstime from /proc/PID/stat, after the load minus before it.
#
# Uses the built tree (or $MINIHTTPD and $MPM_DIR); builds nothing. Needs ab
# (apt-get install apache2-utils) and taskset; the Apache anchors need root and apache2
# (apache2-bin is enough). Not a test. Knobs (environment):
#   N=20000 C=10 RUNS=3 POOL=15 SIZE=4000 SERVER_CPU=0 CLIENT_CPU=1 KEEPALIVE=1
#   STRATEGIES="prefork-none prefork-mutex prefork-passfd worker-mutex worker-queue event
#   apache-prefork apache-worker"  APACHE=/usr/sbin/apache2
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# tree_pids, tree_cpu_all, wait_until, port_open, free_port, median, bench_scratch.
. "$here/lib.sh"

N=${N:-20000}
C=${C:-10}
RUNS=${RUNS:-3}
POOL=${POOL:-15}
SIZE=${SIZE:-4000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
KEEPALIVE=${KEEPALIVE:-1}
MINIHTTPD=${MINIHTTPD:-$top/src/minihttpd}
MPM_DIR=${MPM_DIR:-$top/mpm/.libs}
STRATEGIES=${STRATEGIES:-prefork-none prefork-mutex prefork-passfd worker-mutex worker-queue event apache-prefork apache-worker}
APACHE=${APACHE:-/usr/sbin/apache2}
APACHE_MODS=${APACHE_MODS:-/usr/lib/apache2/modules}
HZ=$(getconf CLK_TCK)

die() { echo "strategies.sh: $*" >&2; exit 1; }
command -v ab >/dev/null || die "ab not found (apt-get install apache2-utils)"
command -v taskset >/dev/null || die "taskset not found (util-linux)"
[ -x "$MINIHTTPD" ] || die "$MINIHTTPD: build minihttpd first (make)"

bench_scratch strategies

root=$work/htdocs
mkdir -p "$root"
head -c "$SIZE" /dev/urandom > "$root/file.bin"
chmod -R a+rX "$root"
ulimit -n "$(ulimit -Hn)"

# The config of strategy $1 ("mpm-accept") on port $2.
conf() {
	local mpm=${1%%-*} accept=${1#*-} sec user=
	case $mpm in
	prefork) sec="prefork {
	accept = \"$accept\"
	start_servers = $POOL
	min_spare_servers = 1
	max_spare_servers = $POOL
	max_servers = $POOL
}" ;;
	worker) sec="worker {
	accept = \"$accept\"
	processes = 1
	threads_per_process = $POOL
}" ;;
	event) sec="event {
	processes = 1
}" ;;
	esac
	[ "$(id -u)" = 0 ] && user='user = "nobody"
group = "nogroup"'
	cat <<-EOF
	mpm_dir = "$MPM_DIR"
	listen = {"127.0.0.1:$2"}
	document_root = "$root"
	mpm = "$mpm"
	pid_file = ""
	access_log = "off"
	$user
	$sec
	EOF
}

# Apache with MPM $3 on port $2, sized like ours and keeping connections alive as long
# (MaxKeepAliveRequests as our max_keepalive_requests, KeepAliveTimeout as ours); its
# access log off, as ours. Started in the background; sets PID[$1].
start_apache() {
	local d=$work/$1 pool
	mkdir -p "$d/run"
	chown nobody:nogroup "$d/run"
	case $3 in
	prefork) pool="StartServers $POOL
MinSpareServers 1
MaxSpareServers $POOL
ServerLimit $POOL
MaxRequestWorkers $POOL" ;;
	worker) pool="StartServers 1
ServerLimit 1
ThreadLimit $POOL
ThreadsPerChild $POOL
MaxRequestWorkers $POOL
MinSpareThreads 1
MaxSpareThreads $POOL" ;;
	esac
	cat > "$d/httpd.conf" <<-EOF
	ServerRoot $d
	ServerName 127.0.0.1
	Listen 127.0.0.1:$2
	PidFile $d/httpd.pid
	DefaultRuntimeDir $d/run
	ErrorLog $d/error.log
	LogLevel warn
	LoadModule mpm_$3_module $APACHE_MODS/mod_mpm_$3.so
	LoadModule authz_core_module $APACHE_MODS/mod_authz_core.so
	User nobody
	Group nogroup
	DocumentRoot $root
	<Directory $root>
		Require all granted
	</Directory>
	EnableSendfile On
	KeepAlive On
	MaxKeepAliveRequests 1000
	KeepAliveTimeout 5
	MaxConnectionsPerChild 0
	$pool
	EOF
	setsid taskset -c "$SERVER_CPU" "$APACHE" -f "$d/httpd.conf" -DFOREGROUND 2>"$d/stderr" &
	PID[$1]=$!
}

# One ab run of strategy $1 with ab options $2; appends "cpu_s req_per_s failed" to
# $work/$1.$3.
measure() {
	local pid=${PID[$1]} t0 t1 out done_n failed rps
	t0=$(tree_cpu_all "$pid")
	out=$(taskset -c "$CLIENT_CPU" ab -q -r -s 30 $2 -n "$N" -c "$C" \
		"http://127.0.0.1:${PORT[$1]}/file.bin" 2>&1)
	t1=$(tree_cpu_all "$pid")
	done_n=$(echo "$out" | awk '/^Complete requests:/ { print $3 }')
	failed=$(echo "$out" | awk '/^Failed requests:/ { f = $3 } /^Non-2xx/ { f += $3 }
		END { print f + 0 }')
	rps=$(echo "$out" | awk '/^Requests per second:/ { print $4 }')
	if [ -z "$done_n" ]; then
		echo "$1: ab failed: $(echo "$out" | tail -3)" >&2
		return
	fi
	echo "$(awk -v d=$((t1 - t0)) -v hz="$HZ" 'BEGIN { printf "%.2f", d / hz }')" \
		"$rps" "$((failed + N - done_n))" >> "$work/$1.$3"
}

started=
for s in $STRATEGIES; do
	mpm=${s#*-}
	case $s in
	apache-*)
		if [ "$(id -u)" != 0 ] || [ ! -x "$APACHE" ] || [ ! -f "$APACHE_MODS/mod_mpm_$mpm.so" ]
		then
			echo "skipping $s: needs root and $APACHE with mod_mpm_$mpm" >&2
			continue
		fi
		PORT[$s]=$(free_port)
		start_apache "$s" "${PORT[$s]}" "$mpm" ;;
	*)
		mpm=${s%%-*}
		[ -f "$MPM_DIR/$mpm.so" ] || { echo "skipping $s: no $MPM_DIR/$mpm.so" >&2; continue; }
		PORT[$s]=$(free_port)
		mkdir -p "$work/$s"
		conf "$s" "${PORT[$s]}" > "$work/$s/minihttpd.conf"
		if ! "$MINIHTTPD" -t -f "$work/$s/minihttpd.conf" >/dev/null 2>&1; then
			echo "skipping $s: $("$MINIHTTPD" -t -f "$work/$s/minihttpd.conf" 2>&1 |
				head -1)" >&2
			continue
		fi
		taskset -c "$SERVER_CPU" "$MINIHTTPD" -F -f "$work/$s/minihttpd.conf" \
			2>"$work/$s/stderr" &
		PID[$s]=$! ;;
	esac
	wait_until port_open "${PORT[$s]}" || die "$s did not start: $(cat "$work/$s/stderr")"
	# Warm up: pages faulted in, pools grown, caches filled.
	taskset -c "$CLIENT_CPU" ab -q -n 2000 -c "$C" "http://127.0.0.1:${PORT[$s]}/file.bin" \
		>/dev/null 2>&1
	started="$started $s"
done
[ -n "$started" ] || die "no strategy could be started"

loads="fresh"
[ "$KEEPALIVE" = 1 ] && loads="fresh keepalive"
for run in $(seq "$RUNS"); do
	for load in $loads; do
		for s in $started; do
			opt=
			[ "$load" = keepalive ] && opt=-k
			measure "$s" "$opt" "$load"
		done
	done
	echo "run $run of $RUNS done" >&2
done

# Median of column $3 of $work/$1.$2.
med() {
	[ -f "$work/$1.$2" ] && awk -v c="$3" '{ print $c }' "$work/$1.$2" | median || echo nan
}

ref=$(med prefork-none fresh 1)
echo "## minihttpd accept strategies, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "$(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)); server on CPU" \
	"$SERVER_CPU, ab on CPU $CLIENT_CPU; $N requests of $SIZE bytes at concurrency $C;" \
	"median of $RUNS runs. CPU: user+sys of the server's whole process tree. Pools:" \
	"prefork $POOL processes, worker 1 process x $POOL threads, event 1 process; Apache's" \
	"prefork and worker sized alike, access logs off everywhere."
echo
printf '| Strategy | req/s (new conn.) | server CPU s | µs CPU/request | CPU vs prefork none |'
[ "$KEEPALIVE" = 1 ] && printf ' req/s (keep-alive) | server CPU s (keep-alive) |'
printf ' failed |\n|---|---:|---:|---:|---:|'
[ "$KEEPALIVE" = 1 ] && printf -- '---:|---:|'
printf -- '---:|\n'
for s in $started; do
	cpu=$(med "$s" fresh 1)
	printf '| %s | %s | %s | %s | %s |' "$s" "$(med "$s" fresh 2)" "$cpu" \
		"$(awk -v c="$cpu" -v n="$N" 'BEGIN { printf "%.1f", c * 1e6 / n }')" \
		"$(awk -v c="$cpu" -v r="$ref" 'BEGIN { if (r + 0 > 0) printf "%.2f", c / r; else print "-" }')"
	[ "$KEEPALIVE" = 1 ] && printf ' %s | %s |' "$(med "$s" keepalive 2)" "$(med "$s" keepalive 1)"
	failed=$(cat "$work/$s".* 2>/dev/null | awk '{ f += $3 } END { print f + 0 }')
	printf ' %s |\n' "$failed"
done
