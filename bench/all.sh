#!/bin/bash
# SPDX-License-Identifier: ISC
# all.sh: the laboratory in one command. Runs lab.sh (the lecture's first table), backends.sh
# (its second), compare.sh (the event and uring MPMs against nginx, lighttpd, h2o and the
# floor) and syscalls.sh (event against uring, system calls and io_uring work per
# request), each writing its tables and plots into results/, then rewrites docs/lab.md
# from the latest of each, so the page in the repository shows what this machine
# measured. The page's prose is not generated: notes/*.md, each put after the table it
# explains; its figures name the results file they come from.
#
# Needs what the four scripts need (root, ab, wrk, perf, gnuplot, openbsd-inetd, nginx,
# lighttpd, h2o, apache2; bench/README.md). About an hour on 2 cores with the defaults,
# most of it lab.sh's fork and inetd rows; each script's knobs pass through the
# environment. Stop other work first: every results file records the load average, and
# other work shows in the figures. DOCS_ONLY=1 only rewrites the page.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

if [ -z "${DOCS_ONLY:-}" ]; then
	for script in lab backends compare syscalls; do
		echo "all.sh: running $script.sh" >&2
		"$here/$script.sh"
	done
fi

# The hand-written text $1 (notes/$1.md) as it stands.
notes() {
	[ -f "$here/notes/$1.md" ] || { echo "all.sh: $here/notes/$1.md is missing" >&2; exit 1; }
	printf '\n'
	cat "$here/notes/$1.md"
}

# One section per results file: its own title and text, then its plot.
section() {
	local md=$here/results/$1-latest.md png=$1-latest.png title=$2 alt=$3

	[ -f "$md" ] || { echo "all.sh: $md is missing" >&2; exit 1; }
	printf '\n## %s\n\n' "$title"
	tail -n +2 "$md" | sed '/./,$!d'
	if [ -f "$here/results/$png" ]; then
		printf '\n![%s](../bench/results/%s)\n' "$alt" "$png"
	fi
}

{
	cat <<-'EOF'
	# The lecture's tables, reproduced

	Written by `bench/all.sh` from the latest results in `bench/results/` (regenerate
	with it, or run `bench/lab.sh`, `bench/backends.sh`, `bench/compare.sh` one at a time
	and then `DOCS_ONLY=1 bench/all.sh`; `bench/syscalls.sh` likewise). The lecture's two
	tables each stand next to the lecture's figures, then the event and uring MPMs against
	nginx, lighttpd, h2o and the floor server, what a request costs each of the two in
	system calls and io_uring work, and what the Reactor and the Proactor do differently.
	Results vary by machine: compare shapes and ratios measured in the same run.
	EOF
	section lab "Table 1: process-control CPU time per server model" \
		"Server CPU per request, per model"
	notes table1
	section backends "Table 2: poll(), select(), epoll and the uring MPM against idle connections" \
		"CPU time vs N"
	section compare "The event and uring MPMs against nginx, lighttpd, h2o and the floor: throughput, latency, CPU, memory" \
		"Throughput, latency, CPU and memory per server"
	section syscalls "System calls and io_uring work per request: event against uring" ""
	notes proactor
} >"$top/docs/lab.md.new"
mv "$top/docs/lab.md.new" "$top/docs/lab.md"
echo "all.sh: wrote $top/docs/lab.md" >&2
