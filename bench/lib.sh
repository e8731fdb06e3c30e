# SPDX-License-Identifier: ISC
# lib.sh: helpers shared by the bench scripts, sourced (POSIX sh + /proc, but for
# bench_scratch, which is bash): the process tree of a server, its CPU time and its
# resident memory, small waits, the scratch directory and its files, and the machine and
# version as results headers and plot titles name them. No fixed sleeps: every wait polls
# a condition with a bound.

# The pids of $1 and all its descendants, one per line.
tree_pids() {
	todo=$1
	while [ -n "$todo" ]; do
		next=
		for p in $todo; do
			[ -d "/proc/$p" ] || continue
			echo "$p"
			kids=$(cat /proc/"$p"/task/*/children 2>/dev/null)
			next="$next $kids"
		done
		todo=$(echo $next)
	done
}

# utime + stime of the tree of $1, in clock ticks (fields 14 and 15 of /proc/PID/stat;
# the command name is cut off first since it may contain spaces).
tree_cpu_ticks() {
	total=0
	for p in $(tree_pids "$1"); do
		t=$(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null | awk '{print $12 + $13}')
		total=$((total + ${t:-0}))
	done
	echo "$total"
}

# Resident set of the tree of $1, in KiB.
tree_rss_kb() {
	total=0
	for p in $(tree_pids "$1"); do
		r=$(awk '/^VmRSS:/ {print $2}' /proc/"$p"/status 2>/dev/null)
		total=$((total + ${r:-0}))
	done
	echo "$total"
}

# utime+stime+cutime+cstime over the live tree of $1, in clock ticks: the CPU time of the
# whole server, processes that have exited and been reaped included.
tree_cpu_all() {
	local total=0 t p
	for p in $(tree_pids "$1"); do
		t=$(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null | awk '{print $12 + $13 + $14 + $15}')
		total=$((total + ${t:-0}))
	done
	echo "$total"
}

# Polls "$@" every 50 ms until it succeeds or $WAIT_S seconds (default 10) pass.
wait_until() {
	n=$(( ${WAIT_S:-10} * 20 ))
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		n=$((n - 1))
		sleep 0.05
	done
	return 1
}

port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A TCP port nobody listens on, from the kernel (bind to port 0).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The "- Machine:" line of a results header: CPU model and count, memory, kernel, Debian.
machine_line() {
	echo "- Machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
		"$(nproc) CPUs, $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo);" \
		"Linux $(uname -r); Debian $(cat /etc/debian_version 2>/dev/null)"
}

# minihttpd's version line; when $MINIHTTPD is the tree's own build, with the tree's
# commit ("-dirty": with uncommitted changes).
mhd_version() {
	echo "$("$MINIHTTPD" -V 2>&1 | head -1)$([ "$MINIHTTPD" -ef "$top/src/minihttpd" ] &&
		git -C "$top" describe --always --dirty 2>/dev/null | sed 's/^/ (git /; s/$/)/')"
}

# The machine in a few words, for a plot's title.
machine_brief() {
	echo "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs," \
		"Linux $(uname -r | cut -d- -f1)"
}

# Median of the numbers on stdin.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# mhd_event_conf PORT ROOT TRIGGER [BACKEND]: prints the config every event-MPM benchmark
# runs: one process, access log off (MHD_ACCESS_LOG=PATH|syslog: on, combined format or
# MHD_ACCESS_LOG_FORMAT's; MHD_ACCESS_LOG_BUFFER=64k: buffered, for a tree that has it),
# keep-alive connections that neither expire nor run out of requests during a run,
# MPM_DIR's modules. MHD_VHOSTS=N: N server blocks more, on the same root, that the
# benchmark's Host (127.0.0.1:PORT) names none of: the default server is then found
# after every probe a lookup makes. TRIGGER "uring": the same with the uring MPM (the
# proactor).
mhd_event_conf() {
	local mpm=event
	[ "$3" = uring ] && mpm=uring
	cat <<-EOF
	mpm_dir = "$MPM_DIR"
	listen = {"127.0.0.1:$1"}
	document_root = "$2"
	mpm = "$mpm"
	pid_file = ""
	user = "nobody"
	group = "nogroup"
	access_log = "${MHD_ACCESS_LOG:-off}"
	access_log_format = "${MHD_ACCESS_LOG_FORMAT:-combined}"
	$([ -z "${MHD_ACCESS_LOG_BUFFER:-}" ] || echo "access_log_buffer = $MHD_ACCESS_LOG_BUFFER")
	keepalive_timeout = 300
	max_keepalive_requests = 1000000
	$mpm {
		processes = 1
		max_connections = 20000
	EOF
	[ "$mpm" = uring ] || printf 'trigger = "%s"\n' "$3"
	[ -z "${4:-}" ] || printf 'backend = "%s"\n' "$4"
	echo "}"
	for i in $(seq 1 "${MHD_VHOSTS:-0}"); do
		printf 'server "site%d.example" {\n\taliases = {"*.site%d.example"}\n' "$i" "$i"
		printf '\tdocument_root = "%s"\n}\n' "$2"
	done
}

# For the bash scripts that run several servers: a scratch directory $work for script
# $1, and the arrays PID and PORT (by server name); whatever way the script ends, every
# server in PID is killed and $work removed.
bench_scratch() {
	work=$(mktemp -d "/tmp/bench-$1.XXXXXX") || exit 1
	chmod 755 "$work"
	declare -gA PID PORT
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}
bench_cleanup() {
	local s
	for s in "${!PID[@]}"; do
		kill "${PID[$s]}" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$work"
}

# The loads' files under $1: a 1 KiB and a 10 MiB file of random bytes, readable by all.
bench_files() {
	mkdir -p "$1"
	head -c 1024 /dev/urandom > "$1/1k.bin"
	head -c $((10 << 20)) /dev/urandom > "$1/10m.bin"
	chmod -R a+rX "$1"
}
