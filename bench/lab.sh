#!/bin/bash
# SPDX-License-Identifier: ISC
# lab.sh: regenerates the lecture's first table (the lecture's "Comparing Multi Process/Multi
# Thread Designs", from Stevens' UNP ch. 30): the server CPU time needed to serve the same
# number of requests, each on a fresh connection, with 10 clients at a time, for every
# server model minihttpd has (iterative, fork, inetd in front of minihttpd -i, prefork
# accept none/mutex/passfd, thread, worker mutex/queue, event edge/level, uring, sigio),
# with nginx and Apache (prefork, worker, event) side by side when they are installed.
# Pools are sized as the lecture's: 15 processes or 15 threads.
#
# Server CPU time is user+sys of every process of the server, the dead ones included: per
# process utime+stime+cutime+cstime (a reaped child's time is in its parent's cutime), over
# the live tree, after the load minus before it. That counts fork's per-connection children
# and any pool child replaced meanwhile. The server runs pinned to SERVER_CPU, ab to
# CLIENT_CPU. Each server runs alone; RUNS runs of N requests each, the median kept.
#
# The lecture's "process control CPU time" is a model's time minus the iterative server's:
# the cost of the concurrency itself. Both are shown, with the lecture's figures and, since
# its machine and request count are not ours, both sets as ratios to prefork (none).
#
# Writes bench/results/lab-DATE.md (and lab-latest.md, and lab-latest.png when gnuplot is
# installed) and prints it. Needs root (the servers switch to nobody), ab (apache2-utils)
# and taskset; openbsd-inetd, nginx and apache2 (package apache2-bin is enough) when
# present; gnuplot for the plot. Not a test. Knobs (environment):
#   N=20000 C=10 RUNS=3 SERVER_CPU=0 CLIENT_CPU=1 SIZE=4000 POOL=15
#   MODELS="iterative fork inetd prefork-none ... sigio nginx apache-prefork ..." (default: all)
#   MINIHTTPD=src/minihttpd MPM_DIR=mpm/.libs INETD=/usr/sbin/inetd
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# tree_pids, tree_cpu_all, wait_until, port_open, free_port, median, machine_line,
# mhd_version, machine_brief.
. "$here/lib.sh"

N=${N:-20000}
C=${C:-10}
RUNS=${RUNS:-3}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
SIZE=${SIZE:-4000}
POOL=${POOL:-15}
MINIHTTPD=${MINIHTTPD:-$top/src/minihttpd}
MPM_DIR=${MPM_DIR:-$top/mpm/.libs}
APACHE=${APACHE:-/usr/sbin/apache2}
INETD=${INETD:-/usr/sbin/inetd}
APACHE_MODS=${APACHE_MODS:-/usr/lib/apache2/modules}
HZ=$(getconf CLK_TCK)

die() { echo "lab.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (the servers switch to nobody)"
for tool in ab taskset; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install apache2-utils)"
done
[ -x "$MINIHTTPD" ] || die "build minihttpd first (make)"

# label | how it is started | the lecture's process control CPU time in seconds (or -)
ALL="
iterative|mhd iterative|0
fork|mhd fork|20.90
inetd|inetd|-
prefork-none|mhd prefork none|1.80
prefork-mutex|mhd prefork mutex|1.75
prefork-passfd|mhd prefork passfd|2.58
thread|mhd thread|0.99
worker-mutex|mhd worker mutex|1.93
worker-queue|mhd worker queue|2.05
event-edge|mhd event edge|-
event-level|mhd event level|-
uring|mhd uring|-
sigio|mhd sigio|-
nginx|nginx|-
apache-prefork|apache prefork|-
apache-worker|apache worker|-
apache-event|apache event|-
"
# What the lecture calls each of ours.
lecture_name() {
	case $1 in
	iterative) echo "Iterative (base case)" ;;
	fork) echo "One fork per client request" ;;
	inetd) echo "inetd super server (no figure)" ;;
	prefork-none) echo "Prefork, child calling accept" ;;
	prefork-mutex) echo "Prefork, child calling accept, mutex around" ;;
	prefork-passfd) echo "Prefork, parent passing socket fd to child" ;;
	thread) echo "Thread per client request" ;;
	worker-mutex) echo "Prethreaded, child calling accept (mutex)" ;;
	worker-queue) echo "Prethreaded, main thread calling accept" ;;
	event-*) echo "Reactor (no figure)" ;;
	uring) echo "Proactor (no figure)" ;;
	sigio) echo "Signal-driven I/O (no figure)" ;;
	*) echo "-" ;;
	esac
}

work=$(mktemp -d /tmp/bench-lab.XXXXXX)
chmod 755 "$work"
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

root=$work/htdocs
mkdir -p "$root"
head -c "$SIZE" /dev/urandom > "$root/file.bin"
chmod -R a+rX "$root"
ulimit -n "$(ulimit -Hn)"

# Can model $1 (started as "$2") run on this machine? If not, why is in $work/probe.out.
available() {
	local why=$work/probe.out
	set -- $2
	case $1 in
	mhd) [ -f "$MPM_DIR/$2.so" ] || { echo "$MPM_DIR/$2.so is not built" >"$why"; return 1; }
		# A strategy the module does not know fails the config test, and so does uring
		# where io_uring is missing or forbidden (its check probes the kernel).
		mhd_conf "$work/probe.conf" 1 "$2" "${3:-}"
		"$MINIHTTPD" -t -f "$work/probe.conf" >"$why" 2>&1 ;;
	inetd) [ -x "$INETD" ] || { echo "no $INETD (openbsd-inetd)" >"$why"; return 1; } ;;
	nginx) command -v nginx >/dev/null || { echo "no nginx (nginx-light)" >"$why"; return 1; } ;;
	apache) [ -x "$APACHE" ] && [ -f "$APACHE_MODS/mod_mpm_$2.so" ] ||
		{ echo "no $APACHE with mod_mpm_$2 (apache2-bin)" >"$why"; return 1; } ;;
	esac
}

# mhd_conf FILE PORT MPM [STRATEGY]
mhd_conf() {
	local sec=
	case $3 in
	prefork) sec="prefork {
	accept = \"$4\"
	start_servers = $POOL
	min_spare_servers = 1
	max_spare_servers = $POOL
	max_servers = $POOL
}" ;;
	worker) sec="worker {
	accept = \"$4\"
	processes = 1
	threads_per_process = $POOL
}" ;;
	event) sec="event {
	processes = 1
	trigger = \"$4\"
}" ;;
	sigio) sec="sigio {
	processes = 1
}" ;;
	uring) sec="uring {
	processes = 1
}" ;;
	esac
	cat > "$1" <<-EOF
	mpm_dir = "$MPM_DIR"
	listen = {"127.0.0.1:$2"}
	document_root = "$root"
	mpm = "$3"
	pid_file = ""
	user = "nobody"
	group = "nogroup"
	access_log = "off"
	$sec
	EOF
}

start_mhd() {
	local d=$work/$1
	mkdir -p "$d"
	mhd_conf "$d/minihttpd.conf" "$2" "$3" "${4:-}"
	taskset -c "$SERVER_CPU" "$MINIHTTPD" -F -f "$d/minihttpd.conf" 2>"$d/stderr" &
}

# openbsd-inetd in front of minihttpd -i: a fork, an exec and a config parse per
# connection. -i keeps it in the foreground without -d's per-connection debug output;
# the rate limits (-R, nowait.MAX) are lifted, or it would stop the service mid-run. The
# config's listen is read but unused: inetd owns the port.
start_inetd() {
	local d=$work/$1
	mkdir -p "$d"
	mhd_conf "$d/minihttpd.conf" "$2" fork
	echo "127.0.0.1:$2 stream tcp nowait.1000000 root $MINIHTTPD minihttpd -i" \
		"-f $d/minihttpd.conf" > "$d/inetd.conf"
	taskset -c "$SERVER_CPU" "$INETD" -i -R 1000000 "$d/inetd.conf" 2>"$d/stderr" &
}

start_nginx() {
	local d=$work/$1
	mkdir -p "$d/tmp"
	cat > "$d/nginx.conf" <<-EOF
	worker_processes 1;
	daemon off;
	user nobody nogroup;
	pid $d/nginx.pid;
	error_log $d/error.log;
	events { worker_connections 1024; }
	http {
		access_log off;
		sendfile on;
		default_type application/octet-stream;
		client_body_temp_path $d/tmp;
		server { listen 127.0.0.1:$2; root $root; }
	}
	EOF
	taskset -c "$SERVER_CPU" nginx -c "$d/nginx.conf" -p "$d" -e "$d/error.log" \
		2>"$d/stderr" &
}

# Apache in a directory of its own, its MPM chosen by the module it loads.
start_apache() {
	local d=$work/$1 mpm=$3 pool
	mkdir -p "$d/run"
	chown nobody:nogroup "$d/run"
	case $mpm in
	prefork) pool="StartServers $POOL
MinSpareServers $POOL
MaxSpareServers $((POOL + 1))
ServerLimit $POOL
MaxRequestWorkers $POOL
MaxConnectionsPerChild 0" ;;
	*) pool="StartServers 1
ServerLimit 1
ThreadLimit $POOL
ThreadsPerChild $POOL
MaxRequestWorkers $POOL
MinSpareThreads 1
MaxSpareThreads $((POOL + 1))
MaxConnectionsPerChild 0" ;;
	esac
	cat > "$d/httpd.conf" <<-EOF
	ServerRoot $d
	ServerName 127.0.0.1
	Listen 127.0.0.1:$2
	PidFile $d/httpd.pid
	DefaultRuntimeDir $d/run
	ErrorLog $d/error.log
	LogLevel warn
	LoadModule mpm_${mpm}_module $APACHE_MODS/mod_mpm_$mpm.so
	LoadModule authz_core_module $APACHE_MODS/mod_authz_core.so
	User nobody
	Group nogroup
	DocumentRoot $root
	<Directory $root>
		Require all granted
	</Directory>
	EnableSendfile On
	KeepAlive Off
	$pool
	EOF
	setsid taskset -c "$SERVER_CPU" "$APACHE" -f "$d/httpd.conf" -DFOREGROUND 2>"$d/stderr" &
}

# One ab run against port $2; appends "cpu_s req_per_s failed" to $work/$1.runs.
measure() {
	local t0 t1 n0 out done_n failed rps
	n0=$(tree_pids "$server_pid" | wc -l)
	t0=$(tree_cpu_all "$server_pid")
	out=$(taskset -c "$CLIENT_CPU" ab -q -r -s 30 -n "$N" -c "$C" \
		"http://127.0.0.1:$2/file.bin" 2>&1)
	# Children that just served the last requests may not be reaped yet.
	wait_until sh -c ". '$here/lib.sh'; [ \$(tree_pids $server_pid | wc -l) -le $n0 ]"
	t1=$(tree_cpu_all "$server_pid")
	done_n=$(echo "$out" | awk '/^Complete requests:/ { print $3 }')
	failed=$(echo "$out" | awk '/^Failed requests:/ { f = $3 } /^Non-2xx/ { f += $3 }
		END { print f + 0 }')
	rps=$(echo "$out" | awk '/^Requests per second:/ { print $4 }')
	if [ -z "$done_n" ]; then
		echo "$1: ab failed: $(echo "$out" | tail -3)" >&2
		return
	fi
	failed=$((failed + N - done_n))
	echo "$(awk -v d=$((t1 - t0)) -v hz="$HZ" 'BEGIN { printf "%.2f", d / hz }')" \
		"$rps" "$failed" >> "$work/$1.runs"
}

run_model() {
	local label=$1 how=$2 port
	set -- $how
	port=$(free_port)
	case $1 in
	mhd) start_mhd "$label" "$port" "$2" "${3:-}" ;;
	inetd) start_inetd "$label" "$port" ;;
	nginx) start_nginx "$label" "$port" ;;
	apache) start_apache "$label" "$port" "$2" ;;
	esac
	server_pid=$!
	if ! wait_until port_open "$port"; then
		echo "$label did not start: $(cat "$work/$label/stderr" "$work/$label/error.log" \
			2>/dev/null | tail -3)" >&2
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
		server_pid=
		return
	fi
	# Warm up: the page cache, the pools, the servers' own caches.
	taskset -c "$CLIENT_CPU" ab -q -r -n 2000 -c "$C" "http://127.0.0.1:$port/file.bin" \
		>/dev/null 2>&1
	for _ in $(seq "$RUNS"); do
		measure "$label" "$port"
	done
	kill "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=
	echo "$label: $(cat "$work/$label.runs" 2>/dev/null | tr '\n' ';')" >&2
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
WANT=${MODELS:-$(echo "$ALL" | cut -d'|' -f1)}
ROWS=
for label in $WANT; do
	line=$(echo "$ALL" | grep "^$label|") || die "unknown model $label"
	how=$(echo "$line" | cut -d'|' -f2)
	rm -f "$work/probe.out"
	if ! available "$label" "$how"; then
		echo "$label: not available here, skipped$([ -s "$work/probe.out" ] &&
			grep -v 'test failed' "$work/probe.out" | tail -1 | sed 's/^/: /')" >&2
		continue
	fi
	run_model "$label" "$how"
	ROWS="$ROWS $label"
done

med() { [ -f "$work/$1.runs" ] && awk -v c="$2" '{ print $c }' "$work/$1.runs" | median || echo nan; }
lecture_of() { echo "$ALL" | grep "^$1|" | cut -d'|' -f3; }
base=$(med iterative 1)
ref=$(med prefork-none 1)
lecture_ref=1.80

versions() {
	echo "- Versions: $(mhd_version)$(command -v nginx >/dev/null &&
		nginx -v 2>&1 | sed 's/.*: /; /')$([ -x "$APACHE" ] && "$APACHE" -v |
		awk -F': ' '/^Server version/ { print "; " $2 }');" \
		"ApacheBench $(ab -V | awk '/Version/ { sub(/,$/, "", $5); print $5; exit }')"
}

report() {
	echo "# The lecture's first table, regenerated by bench/lab.sh"
	echo
	echo "- Date: $(date -u +%Y-%m-%dT%H:%MZ); load average before the runs $LOAD0," \
		"after $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows in" \
		"req/s far more than in CPU time)"
	machine_line
	versions
	echo "- Load: $N requests of a $SIZE-byte file, each on a new connection" \
		"(ab -n $N -c $C, HTTP/1.0), $C at a time; pools of $POOL processes or threads;" \
		"server pinned to CPU $SERVER_CPU, ab to CPU $CLIENT_CPU; access logs off."
	echo "- Server CPU: user+sys of every server process, reaped ones included" \
		"(utime+stime+cutime+cstime over the process tree, after minus before); median" \
		"of $RUNS runs."
	echo "- Control: CPU above the iterative server's, the lecture's \"process control CPU" \
		"time\". Ratios are to prefork (none), ours and the lecture's, since the lecture's" \
		"machine and request count differ from ours."
	echo
	echo "| Model | The lecture's name | Server CPU (s) | µs/request | Control (s) | Ratio to prefork | Lecture's control (s) | Lecture's ratio | req/s | Failed |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for label in $ROWS; do
		local cpu rps failed lecture
		cpu=$(med "$label" 1)
		rps=$(med "$label" 2)
		failed=$(awk '{ s += $3 } END { print s + 0 }' "$work/$label.runs" 2>/dev/null)
		lecture=$(lecture_of "$label")
		awk -v l="$label" -v sn="$(lecture_name "$label")" -v cpu="$cpu" -v rps="$rps" \
			-v f="$failed" -v base="$base" -v ref="$ref" -v lec="$lecture" \
			-v sref="$lecture_ref" -v n="$N" 'BEGIN {
			ctl = "-"; rat = "-"; srat = "-"; us = "-"
			if (base != "nan" && cpu != "nan")
				ctl = sprintf("%.2f", cpu - base)
			if (ctl != "-" && ref != "nan" && ref - base > 0)
				rat = sprintf("%.2f", (cpu - base) / (ref - base))
			if (lec != "-")
				srat = sprintf("%.2f", lec / sref)
			if (cpu != "nan")
				us = sprintf("%.1f", cpu * 1e6 / n)
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %s |\n",
				l, sn, cpu, us, ctl, rat, lec, srat, rps, f }'
	done
	echo
	echo "The lecture's figures: Stevens, UNIX Network Programming vol. 1, 3rd ed., fig. 30.1" \
		"(as quoted by the lecture), with 10 clients and pools of 15."
}

# A bar per model: server CPU µs per request, minihttpd's models in one colour, nginx and
# Apache in another, the value over each bar.
plot() {
	local data=$work/plot.dat i=0 label us
	: > "$data"
	for label in $ROWS; do
		us=$(med "$label" 1 | awk -v n="$N" '$1 != "nan" { printf "%.1f", $1 * 1e6 / n }')
		[ -n "$us" ] || continue
		case $label in
		nginx|apache-*) echo "$i $label - $us $us" ;;
		*) echo "$i $label $us - $us" ;;
		esac >> "$data"
		i=$((i + 1))
	done
	[ "$i" -gt 0 ] || { echo "nothing to plot" >&2; return 1; }
	gnuplot <<-EOF
	set terminal png size 900,600
	set output '$1'
	set title "bench/lab.sh: server CPU per request, each on a new connection ($N requests, $C at a time, median of $RUNS)\n$(machine_brief), $(date -u +%Y-%m-%d)"
	set datafile missing '-'
	set style fill solid 0.8 border -1
	set boxwidth 0.7
	set xtics rotate by -40 nomirror
	set grid ytics
	set yrange [0:*]
	set offsets 0.5, 0.5, graph 0.06, 0
	set ylabel 'server CPU µs per request (user+sys, all processes)'
	set key top right
	plot '$data' using 1:3:xtic(2) with boxes lc rgb '#3a6fb0' title 'minihttpd MPMs', \
	     '' using 1:4 with boxes lc rgb '#c8642a' title 'nginx, Apache', \
	     '' using 1:5:(sprintf('%.0f', \$5)) with labels offset 0,0.8 notitle
	EOF
}

mkdir -p "$here/results"
out=$here/results/lab-$(date -u +%Y%m%d-%H%M).md
report > "$out"
cp "$out" "$here/results/lab-latest.md"
cat "$out"
echo >&2
echo "written to $out" >&2
if command -v gnuplot >/dev/null; then
	if plot "$work/plot.png"; then
		mv "$work/plot.png" "$here/results/lab-latest.png"
		echo "plotted $here/results/lab-latest.png" >&2
	fi
fi
