#!/bin/bash
# SPDX-License-Identifier: ISC
# compare.sh: minihttpd's event MPM against nginx, lighttpd and h2o from Debian, on the
# same files, in the same run. Every server runs one worker pinned to SERVER_CPU with
# access logs off; wrk runs pinned to CLIENT_CPU. The runs are interleaved (run 1 of
# every server, then run 2, ...) so that drift in the machine's load hits all alike.
#
# Loads (each RUNS times, the median kept): a 1 KiB file over 50 keep-alive
# connections; the same with a new connection per request; a 10 MiB file over 4
# keep-alive connections. Reported: req/s, MB/s (wrk's, 2^20 bytes), p99 latency, and
# the server's CPU time per request (user+sys of its whole process tree, from /proc).
# Then, one server at a time: the RSS growth of its tree while IDLE_N keep-alive
# connections, each answered once, stay open, and the p99 of the keep-alive load run
# while they do.
#
# Writes bench/results/compare-DATE.md (and compare-latest.md, and compare-latest.png
# when gnuplot is installed) and prints it. Needs root (the servers drop to nobody), wrk,
# nginx (nginx-light), lighttpd, h2o and a C compiler. Not a test: nothing here passes or
# fails. `compare.sh --logs`: the same with every server's access log on, to a file, in
# the combined format (nginx also with buffer=64k as "nginx_buf"; minihttpd also with
# access_log_format = "json" to a file buffered by access_log_buffer = 64k as
# "minihttpd_json", and to syslog as "minihttpd_syslog"; and the event MPM with its log
# off as "minihttpd_off", so that every log's cost is a ratio within one run); written to
# compare-logs-*. lighttpd 1.4.69 buffers its access log itself (one write per ~8 KiB:
# 62 writes for 6,117 lines under strace -c), so of the peers only nginx and h2o write a
# line per request as an unbuffered log does.
# Knobs (environment):
#   DUR=5 RUNS=3 SERVER_CPU=0 CLIENT_CPU=1 IDLE_N=10000 TRIGGERS="edge level uring"
#   (uring: the uring MPM, the proactor, beside event's two triggers; left out when
#   uring.so is not built)
#   SERVERS="nginx lighttpd h2o" MINIHTTPD=src/minihttpd MPM_DIR=mpm/.libs
#   FLOOR=1: also run bench/floor.c, the kernel path's floor (a prebuilt response per
#   request head), so every figure is also a ratio to what no server can go below.
#   BASELINE=DIR: another built minihttpd tree (DIR/src/minihttpd, DIR/mpm/.libs), run
#   as one more anchor ("baseline", event MPM, level-triggered), so that a change is
#   measured before and after in the same interleaved run (SERVERS="" for just the two).
#   MHD_VHOSTS=N: minihttpd (not the baseline) with N virtual hosts configured besides
#   (bench/lib.sh), none of them named by the load's Host.
#   LOADS="ka1k close1k big": the loads to run (a row of a load left out reads nan); the
#   10 MiB load's CPU per request swings by a quarter between runs of 2 s, so it is worth
#   a run of its own: LOADS=big DUR=5 RUNS=5.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# tree_cpu_ticks, tree_rss_kb, wait_until, port_open, free_port, median, machine_line,
# mhd_version, machine_brief, bench_scratch, bench_files.
. "$here/lib.sh"

DUR=${DUR:-5}
RUNS=${RUNS:-3}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
IDLE_N=${IDLE_N:-10000}
TRIGGERS=${TRIGGERS:-edge level$([ -f "${MPM_DIR:-$top/mpm/.libs}/uring.so" ] && echo " uring")}
ANCHORS=${SERVERS-nginx lighttpd h2o}
MINIHTTPD=${MINIHTTPD:-$top/src/minihttpd}
MPM_DIR=${MPM_DIR:-$top/mpm/.libs}
BASELINE=${BASELINE:-}
FLOOR=${FLOOR:-1}
HZ=$(getconf CLK_TCK)
LOGS=0
[ "${1:-}" = --logs ] && LOGS=1

die() { echo "compare.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (the servers switch to nobody)"
for tool in wrk taskset cc; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
[ -x "$MINIHTTPD" ] && [ -f "$MPM_DIR/event.so" ] || die "build minihttpd first (make)"

bench_scratch compare

root=$work/htdocs
bench_files "$root"
cc -O2 -o "$work/idle_conns" "$here/idle_conns.c" || die "cannot build idle_conns"
cc -O2 -D_GNU_SOURCE -o "$work/floor_server" "$here/floor.c" || die "cannot build floor"
# Every server may hold IDLE_N connections plus the load's.
ulimit -n "$(ulimit -Hn)"

# nginx, or nginx_buf: the same with a 64 KiB access-log buffer (--logs only).
start_nginx() {
	local d=$work/${2:-nginx} log="access_log off;"
	mkdir -p "$d"
	if [ "$LOGS" = 1 ]; then
		log="access_log $d/access.log combined${3:+ buffer=$3};"
	fi
	cat > "$d/nginx.conf" <<-EOF
	worker_processes 1;
	worker_rlimit_nofile 20000;
	daemon off;
	user nobody nogroup;
	pid $d/nginx.pid;
	error_log $d/error.log;
	events { worker_connections 20000; }
	http {
		$log
		sendfile on;
		tcp_nopush on;
		keepalive_timeout 300;
		keepalive_requests 1000000;
		default_type application/octet-stream;
		client_body_temp_path $d/tmp;
		server { listen 127.0.0.1:$1; root $root; }
	}
	EOF
	taskset -c "$SERVER_CPU" nginx -c "$d/nginx.conf" -p "$d" -e "$d/error.log" \
		2>"$d/stderr" &
}

start_nginx_buf() { start_nginx "$1" nginx_buf 64k; }

start_lighttpd() {
	local d=$work/lighttpd
	mkdir -p "$d"
	chown nobody:nogroup "$d"	# it opens its log after switching user
	cat > "$d/lighttpd.conf" <<-EOF
	server.document-root = "$root"
	server.bind = "127.0.0.1"
	server.port = $1
	server.username = "nobody"
	server.groupname = "nogroup"
	server.errorlog = "$d/error.log"
	server.max-fds = 20000
	server.max-connections = 16384
	server.max-keep-alive-idle = 300
	server.max-keep-alive-requests = 65535
	mimetype.assign = ( "" => "application/octet-stream" )
	EOF
	[ "$LOGS" = 1 ] && cat >> "$d/lighttpd.conf" <<-EOF
	server.modules += ( "mod_accesslog" )
	accesslog.filename = "$d/access.log"
	accesslog.format = "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\""
	EOF
	taskset -c "$SERVER_CPU" lighttpd -D -f "$d/lighttpd.conf" 2>"$d/stderr" &
}

start_h2o() {
	local d=$work/h2o
	mkdir -p "$d"
	chown nobody:nogroup "$d"	# it opens its log after switching user
	cat > "$d/h2o.conf" <<-EOF
	listen:
	  host: 127.0.0.1
	  port: $1
	num-threads: 1
	max-connections: 20000
	http1-request-timeout: 300
	user: nobody
	error-log: $d/error.log
	$([ "$LOGS" = 1 ] && echo "access-log: $d/access.log")
	hosts:
	  default:
	    paths:
	      /:
	        file.dir: $root
	EOF
	taskset -c "$SERVER_CPU" h2o -c "$d/h2o.conf" 2>"$d/stderr" &
}

start_floor() {
	mkdir -p "$work/floor"
	taskset -c "$SERVER_CPU" "$work/floor_server" "$1" "$root" 2>"$work/floor/stderr" &
}

# The same configuration, served by the tree named in BASELINE.
start_baseline() {
	local d=$work/baseline
	mkdir -p "$d"
	MHD_VHOSTS=0 MPM_DIR=$BASELINE/mpm/.libs mhd_event_conf "$1" "$root" level \
		>"$d/minihttpd.conf"
	taskset -c "$SERVER_CPU" "$BASELINE/src/minihttpd" -F -f "$d/minihttpd.conf" \
		2>"$d/stderr" &
}

# minihttpd-edge / minihttpd-level (event), minihttpd-uring (uring)
start_minihttpd() {
	local trig=${2#minihttpd-} d=$work/$2
	mkdir -p "$d"
	[ "$LOGS" = 1 ] && export MHD_ACCESS_LOG=$d/access.log
	mhd_event_conf "$1" "$root" "$trig" >"$d/minihttpd.conf"
	unset MHD_ACCESS_LOG
	taskset -c "$SERVER_CPU" "$MINIHTTPD" -F -f "$d/minihttpd.conf" 2>"$d/stderr" &
}

# --logs: what issue 15 asks to cost at most 1.15x the log off: JSON, to a buffered file.
start_minihttpd_json() {
	local d=$work/minihttpd_json
	mkdir -p "$d"
	MHD_ACCESS_LOG=$d/access.log MHD_ACCESS_LOG_FORMAT=json MHD_ACCESS_LOG_BUFFER=64k \
		mhd_event_conf "$1" "$root" level >"$d/minihttpd.conf"
	taskset -c "$SERVER_CPU" "$MINIHTTPD" -F -f "$d/minihttpd.conf" 2>"$d/stderr" &
}

# --logs: the same server with its log off, the yardstick of the logs' cost in this run.
start_minihttpd_off() {
	local d=$work/minihttpd_off
	mkdir -p "$d"
	mhd_event_conf "$1" "$root" level >"$d/minihttpd.conf"
	taskset -c "$SERVER_CPU" "$MINIHTTPD" -F -f "$d/minihttpd.conf" 2>"$d/stderr" &
}

# --logs: the access log to syslog, an explicit choice (stderr when /dev/log is missing).
start_minihttpd_syslog() {
	local d=$work/minihttpd_syslog
	mkdir -p "$d"
	MHD_ACCESS_LOG=syslog mhd_event_conf "$1" "$root" level >"$d/minihttpd.conf"
	taskset -c "$SERVER_CPU" "$MINIHTTPD" -F -f "$d/minihttpd.conf" 2>"$d/stderr" &
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
SERVERS=""
for s in $ANCHORS; do
	command -v "$s" >/dev/null || die "$s not found (apt-get install nginx-light lighttpd h2o)"
	SERVERS="$SERVERS $s"
done
if [ "$LOGS" = 1 ]; then
	case " $ANCHORS " in *" nginx "*) SERVERS="$SERVERS nginx_buf" ;; esac
	SERVERS="$SERVERS minihttpd_json minihttpd_syslog minihttpd_off"
fi
if [ "$FLOOR" = 1 ]; then
	ANCHORS="$ANCHORS floor"
	SERVERS="$SERVERS floor"
fi
if [ -n "$BASELINE" ]; then
	[ -x "$BASELINE/src/minihttpd" ] && [ -f "$BASELINE/mpm/.libs/event.so" ] ||
		die "BASELINE=$BASELINE: no built minihttpd there"
	ANCHORS="$ANCHORS baseline"
	SERVERS="$SERVERS baseline"
fi
for t in $TRIGGERS; do
	SERVERS="$SERVERS minihttpd-$t"
done

for s in $SERVERS; do
	PORT[$s]=$(free_port)
	case $s in
	minihttpd-*) start_minihttpd "${PORT[$s]}" "$s" ;;
	*) "start_$s" "${PORT[$s]}" ;;
	esac
	PID[$s]=$!
	wait_until port_open "${PORT[$s]}" || die "$s did not start: $(cat "$work"/"$s"/stderr)"
	# Served files are in the page cache and in whatever cache each server keeps.
	taskset -c "$CLIENT_CPU" wrk -t1 -c4 -d1s "http://127.0.0.1:${PORT[$s]}/10m.bin" >/dev/null
	taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d1s "http://127.0.0.1:${PORT[$s]}/1k.bin" >/dev/null
done

# "; nginx/1.22.1; lighttpd/1.4.69; h2o 2.2.5": the anchors of this run.
versions() {
	local s
	for s in $ANCHORS; do
		case $s in
		nginx) nginx -v 2>&1 | sed 's/.*: /; /' ;;
		lighttpd) lighttpd -v 2>&1 | awk 'NR == 1 { print "; " $1 }' ;;
		h2o) h2o --version 2>&1 | awk 'NR == 1 { print "; h2o " $3 }' ;;
		floor) echo "; floor (bench/floor.c)" ;;
		baseline) echo "; baseline $("$BASELINE/src/minihttpd" -V 2>&1 | head -1)$(
			git -C "$BASELINE" describe --always --dirty 2>/dev/null |
			sed 's/^/ (git /; s/$/)/')" ;;
		esac
	done | tr -d '\n'
}

# wrk's units to plain numbers: latency in microseconds, transfer in MiB.
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
	f = (u == "s") ? 1e6 : (u == "ms") ? 1e3 : 1; printf "%.0f", n * f }'; }
to_mib() { awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
	f = (u == "GB") ? 1024 : (u == "MB") ? 1 : (u == "KB") ? 1 / 1024 : 1 / 1048576;
	printf "%.1f", n * f }'; }

# One wrk run against server $1 with load $2; appends "reqs mib p99 us errors" to a file.
measure() {
	local s=$1 load=$2 url="http://127.0.0.1:${PORT[$1]}" args out t0 t1 req
	# wrk drops a header without a space after the colon: "Connection: close" exactly.
	case $load in
	ka1k) args=(-c50 "$url/1k.bin") ;;
	close1k) args=(-c50 -H "Connection: close" "$url/1k.bin") ;;
	big) args=(-c4 "$url/10m.bin") ;;
	esac
	t0=$(tree_cpu_ticks "${PID[$s]}")
	out=$(taskset -c "$CLIENT_CPU" wrk -t1 -d"${DUR}s" --latency "${args[@]}" 2>&1)
	t1=$(tree_cpu_ticks "${PID[$s]}")
	req=$(echo "$out" | awk '/requests in/ { print $1 }')
	[ -n "$req" ] && [ "$req" -gt 0 ] || { echo "$s $load: wrk failed: $out" >&2; return; }
	echo "$(echo "$out" | awk '/^Requests\/sec/ { print $2 }')" \
		"$(to_mib "$(echo "$out" | awk '/^Transfer\/sec/ { print $2 }')")" \
		"$(to_us "$(echo "$out" | awk '$1 == "99%" { print $2 }')")" \
		"$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v r="$req" 'BEGIN { printf "%.2f", d * 1e6 / hz / r }')" \
		"$(echo "$out" | awk '/Socket errors|Non-2xx/ { e = 1 } END { print e + 0 }')" \
		>> "$work/$s.$load"
}

LOADS=${LOADS:-ka1k close1k big}
for run in $(seq "$RUNS"); do
	for load in $LOADS; do
		for s in $SERVERS; do
			measure "$s" "$load"
		done
	done
	echo "run $run of $RUNS done" >&2
done

# The idle keep-alive connections, one server at a time.
idle() {
	local s=$1 base rss ctl=$work/$1.ctl out=$work/$1.idle_out p99
	base=$(tree_rss_kb "${PID[$s]}")
	mkfifo "$ctl"
	taskset -c "$CLIENT_CPU" "$work/idle_conns" "${PORT[$s]}" "$IDLE_N" /1k.bin \
		< "$ctl" > "$out" &
	local ipid=$!
	exec 3> "$ctl"
	WAIT_S=300 wait_until grep -q -e '^ready' -e '^failed' "$out"
	if grep -q '^ready' "$out"; then
		rss=$(tree_rss_kb "${PID[$s]}")
		# A server that cannot take 50 more (lighttpd keeps 2 descriptors per
		# connection) answers nothing: its p99 is n/a, not 0.
		p99=$(for run in $(seq "$RUNS"); do
			taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d"${DUR}s" --latency \
				"http://127.0.0.1:${PORT[$s]}/1k.bin" |
				awk '$1 == "99%" { p = $2 } /requests in/ { n = $1 }
				     END { if (n > 0) print p }'
		done | while read -r v; do to_us "$v"; echo; done | median)
		echo "$(( (rss - base) ))" "${p99/nan/n/a}" > "$work/$s.idle"
	else
		echo "$s: idle connections: $(cat "$out")" >&2
	fi
	exec 3>&-
	wait "$ipid" 2>/dev/null
	rm -f "$ctl"
}
# The floor holds an 8 KiB buffer per connection by design: its memory is no floor.
for s in $SERVERS; do
	[ "$s" = floor ] || idle "$s"
done

# Column $2 (1-based) of the runs of server $1 under load $2, median.
med() { [ -f "$work/$1.$2" ] && awk -v c="$3" '{ print $c }' "$work/$1.$2" | median || echo nan; }
idle_val() { [ -f "$work/$1.idle" ] && awk -v c="$2" '{ print $c }' "$work/$1.idle" || echo nan; }

# One table row: label, then a value per server from the command "$2 SERVER".
row() {
	local label=$1 getter=$2 fmt=$3 line
	line="| $label |"
	for s in $SERVERS; do
		line="$line $(printf "$fmt" "$($getter "$s")") |"
	done
	echo "$line"
}
ratios() {
	local label=$1 getter=$2 line m
	for t in $TRIGGERS; do
		m=$($getter "minihttpd-$t")
		line="| $label, minihttpd-$t / anchor |"
		for s in $SERVERS; do
			case $s in
			# Every minihttpd against the others too (uring / event), but itself.
			"minihttpd-$t") line="$line |" ;;
			*) line="$line $(awk -v a="$m" -v b="$($getter "$s")" \
				'BEGIN { if (a + 0 == 0 || b + 0 == 0) print "-"; else printf "%.2f", a / b }') |" ;;
			esac
		done
		echo "$line"
	done
}

for load in $LOADS; do
	eval "rps_$load() { med \$1 $load 1; }; mib_$load() { med \$1 $load 2; }"
	eval "p99_$load() { med \$1 $load 3; }; us_$load() { med \$1 $load 4; }"
done
rss_idle() { idle_val "$1" 1 | awk '$1 == "nan" { print; next } { printf "%+.1f", $1 / 1024 }'; }
p99_idle() { idle_val "$1" 2; }

log_lines() {
	if [ -f "$work/$1/access.log" ]; then wc -l < "$work/$1/access.log"; else echo "-"; fi
}

logs_said() {
	if [ "$LOGS" = 1 ]; then
		echo "access logs on, each to a file in the combined format (nginx_buf: with" \
			"buffer=64k; minihttpd_json: json, access_log_buffer = 64k;" \
			"minihttpd_syslog: to syslog, or stderr without /dev/log;" \
			"minihttpd_off: no log, the same run's yardstick; the floor logs" \
			"nothing; lighttpd buffers its log itself, about 8 KiB per write)"
	else
		echo "access logs off"
	fi
}

report() {
	local header="| load / metric |" sep="|---|" s load
	echo "# The event MPM against nginx, lighttpd and h2o, by bench/compare.sh"
	echo
	echo "- Date: $(date -u +%Y-%m-%dT%H:%MZ); load average before the runs $LOAD0," \
		"after $(cut -d' ' -f1-3 /proc/loadavg)"
	machine_line
	echo "- Versions: $(mhd_version)$(versions); wrk" \
		"$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')"
	echo "- Knobs: DUR=$DUR RUNS=$RUNS IDLE_N=$IDLE_N TRIGGERS=\"$TRIGGERS\"" \
		"SERVERS=\"$ANCHORS\"; one worker process (or thread) per server, pinned to CPU" \
		"$SERVER_CPU; wrk -t1 pinned to CPU $CLIENT_CPU; $(logs_said); minihttpd: event" \
		"MPM (minihttpd-edge, -level), uring MPM (minihttpd-uring), processes = 1."
	echo "- Loads, each run ${DUR}s, interleaved (run 1 of every server, then run 2, ...)," \
		"median of $RUNS: a 1 KiB file over 50 keep-alive connections; the same with" \
		"\"Connection: close\" (a new connection per request); a 10 MiB file over 4" \
		"keep-alive connections. MB/s is wrk's (2^20 bytes); p99 is wrk's latency" \
		"percentile."
	echo "- Server CPU: user+sys of the server's process tree from /proc, after minus" \
		"before, divided by the requests wrk completed."
	echo "- Idle: one server at a time, $IDLE_N keep-alive connections each answered once" \
		"and left open (bench/idle_conns.c): the growth of the tree's RSS, and the p99 of" \
		"the keep-alive load (median of $RUNS) while they stay open."
	echo
	for s in $SERVERS; do
		header="$header $s |"
		sep="$sep---:|"
	done
	echo "$header"
	echo "$sep"
	row "1 KiB keep-alive, 50 conns: req/s" rps_ka1k "%.0f"
	row "1 KiB keep-alive: p99 µs" p99_ka1k "%s"
	row "1 KiB keep-alive: server µs/request" us_ka1k "%s"
	ratios "1 KiB keep-alive: µs/request" us_ka1k
	row "1 KiB new conn per request: req/s" rps_close1k "%.0f"
	row "1 KiB new conn per request: p99 µs" p99_close1k "%s"
	row "1 KiB new conn per request: server µs/request" us_close1k "%s"
	ratios "1 KiB new conn: µs/request" us_close1k
	row "10 MiB keep-alive, 4 conns: MB/s" mib_big "%s"
	row "10 MiB keep-alive: p99 µs" p99_big "%s"
	row "10 MiB keep-alive: server µs/request" us_big "%s"
	ratios "10 MiB: MB/s" mib_big
	ratios "10 MiB: server µs/request (CPU per MiB)" us_big
	[ "$LOGS" = 1 ] && row "access-log lines written (proof the log was on)" log_lines "%s"
	row "RSS growth, $IDLE_N idle keep-alive conns: MiB" rss_idle "%s"
	row "p99 µs of the keep-alive load with them open (median)" p99_idle "%s"
	ratios "p99 with $IDLE_N idle" p99_idle
	for s in $SERVERS; do
		for load in $LOADS; do
			[ -f "$work/$s.$load" ] && awk -v s="$s" -v l="$load" '$5 > 0 { e = 1 }
				END { if (e) print "\nnote: " s " " l ": wrk reported socket errors or non-2xx" }' \
				"$work/$s.$load"
		done
		if [ "$(p99_idle "$s")" = n/a ]; then
			echo
			echo "note: $s answered none of the keep-alive load while the $IDLE_N idle" \
				"connections were open (n/a; lighttpd holds two descriptors per connection)"
		fi
	done
	echo
	echo "Targets (issues 17 and 18), access logs off: event's µs/request at most 1.10×" \
		"the floor's (keep-alive) and 1.15× (new connection), and at most 0.95× the best" \
		"of nginx, lighttpd and h2o on both; 10 MiB: event's server µs per request (CPU" \
		"per MiB) at most 0.9× the best peer's; 10000 idle: event's RSS growth at most" \
		"+1.4 MiB with a p99 no worse than h2o's; uring at most 1.0× event and 1.15× the" \
		"floor on both 1 KiB loads, and its idle growth at most event's. With --logs:" \
		"event (combined, to a file, unbuffered) at most 0.9× the best peer on the" \
		"keep-alive load; minihttpd_json (buffered) at most 1.15× minihttpd_off. Ratios:" \
		"minihttpd's value divided by the anchor's (lower is better for µs and p99," \
		"higher for MB/s)."
}

# Six panels, a bar (or a cluster of bars) per server: throughput, p99 latency and CPU
# per request of the 1 KiB loads, MB/s and CPU per request of the 10 MiB load, and the
# memory the idle connections cost.
plot() {
	local data=$work/plot.dat s
	num() { awk -v v="$1" 'BEGIN { if (v + 0 == v && v != "") print v; else print "-" }'; }
	: > "$data"
	for s in $SERVERS; do
		echo "$s $(num "$(rps_ka1k "$s")") $(num "$(rps_close1k "$s")")" \
			"$(num "$(p99_ka1k "$s")") $(num "$(p99_close1k "$s")")" \
			"$(num "$(us_ka1k "$s")") $(num "$(us_close1k "$s")")" \
			"$(num "$(mib_big "$s")") $(num "$(p99_idle "$s")")" \
			"$(num "$(rss_idle "$s")") $(num "$(us_big "$s")")" >> "$data"
	done
	gnuplot <<-EOF
	set terminal png size 1200,820
	set output '$1'
	set datafile missing '-'
	set style data histograms
	set style histogram clustered gap 1
	set style fill solid 0.8 border -1
	set boxwidth 0.9
	set grid ytics
	set yrange [0:*]
	set xtics nomirror rotate by -25
	set key top left font ',9' opaque
	set offsets 0, 0, graph 0.2, 0
	set multiplot layout 2,3 title "bench/compare.sh: the event MPM against nginx, lighttpd, h2o (median of $RUNS runs of ${DUR}s, one worker each)\n$(machine_brief), $(date -u +%Y-%m-%d)"
	set title '1 KiB: requests per second (higher is better)'
	plot '$data' using 2:xtic(1) lc rgb '#3a6fb0' title 'keep-alive, 50 conns', \
	     '' using 3 lc rgb '#c8642a' title 'new conn per request'
	set title '1 KiB: p99 latency, µs (lower is better)'
	plot '$data' using 4:xtic(1) lc rgb '#3a6fb0' title 'keep-alive', \
	     '' using 5 lc rgb '#c8642a' title 'new conn', \
	     '' using 9 lc rgb '#6a9a3a' title 'keep-alive, $IDLE_N idle open'
	set title '1 KiB: server CPU µs per request (lower is better)'
	plot '$data' using 6:xtic(1) lc rgb '#3a6fb0' title 'keep-alive', \
	     '' using 7 lc rgb '#c8642a' title 'new conn'
	set title '10 MiB over 4 keep-alive conns: MB/s (higher is better)'
	plot '$data' using 8:xtic(1) lc rgb '#3a6fb0' notitle
	set title '10 MiB: server CPU µs per request (lower is better)'
	plot '$data' using 11:xtic(1) lc rgb '#3a6fb0' notitle
	set title 'RSS growth with $IDLE_N idle keep-alive conns, MiB'
	set yrange [*:*]
	plot '$data' using 10:xtic(1) lc rgb '#7a4a9a' notitle
	unset multiplot
	EOF
}

mkdir -p "$here/results"
name=compare
[ "$LOGS" = 1 ] && name=compare-logs
out=$here/results/$name-$(date -u +%Y%m%d-%H%M).md
report > "$out"
cat "$out"
echo >&2
echo "written to $out" >&2
# docs/lab.md shows the latest whole run: a run of some loads only does not replace it.
if [ "$LOADS" != "ka1k close1k big" ]; then
	echo "LOADS=\"$LOADS\": $name-latest.md and .png left as they were" >&2
	exit 0
fi
cp "$out" "$here/results/$name-latest.md"
if command -v gnuplot >/dev/null; then
	if plot "$work/plot.png"; then
		mv "$work/plot.png" "$here/results/$name-latest.png"
		echo "plotted $here/results/$name-latest.png" >&2
	fi
fi
