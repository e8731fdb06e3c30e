# SPDX-License-Identifier: ISC
# minihttpd under a real systemd, as a user runs it (the daemon, its socket activation, and
# minihttpd -i behind the Accept=yes socket). This runs INSIDE the systemd-lab container
# (as root, after boot), over a `make install DESTDIR=...` tree built with --prefix=/usr
# --sysconfdir=/etc; test_systemd.sh starts it. Prints TAP.
set -u

conf=/etc/minihttpd.conf
url=http://127.0.0.1:8080
n=0
failed=0

# t DESCRIPTION COMMAND...: one TAP line; the command's output is shown when it fails.
t() {
	desc=$1
	shift
	n=$((n + 1))
	if "$@" >/tmp/t.out 2>&1; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		sed 's/^/#   /' /tmp/t.out | tail -n 25
		failed=$((failed + 1))
		return 1
	fi
}

# within SECONDS COMMAND...: polls COMMAND until it succeeds, for at most SECONDS.
within() {
	end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

not() { ! "$@"; }
get() { curl -fsS --max-time 5 -o /dev/null "$url${1:-/}"; }
active() { [ "$(systemctl is-active "${1:-minihttpd}")" = active ]; }
inactive() { [ "$(systemctl is-active "${1:-minihttpd}")" = inactive ]; }
main_pid() { systemctl show -p MainPID --value minihttpd; }
status_has() { systemctl show -p StatusText --value minihttpd | grep -qF -- "$1"; }
set_mpm() { sed -i "s/^mpm = .*/mpm = \"$1\"/" "$conf"; }
same_main() { [ "$(main_pid)" = "$1" ]; }

# journal PRIORITY TEXT: a line of the unit, logged by the daemon with syslog(3) in
# facility daemon (SYSLOG_FACILITY=3) at exactly that priority.
journal() {
	journalctl -u minihttpd --no-pager -o cat -p "$1..$1" SYSLOG_FACILITY=3 |
		grep -F -- "$2"
}
journal_ident() {
	journalctl --no-pager -o cat -p "$1..$1" SYSLOG_FACILITY=3 SYSLOG_IDENTIFIER=minihttpd |
		grep -F -- "$2"
}
systemd_said() { journalctl -u minihttpd --no-pager -o cat _PID=1 | grep -F -- "$1"; }

# status_field PID FIELD: the value of a /proc/PID/status field, blanks squeezed.
status_field() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }

# Process $1: www-data with its groups, no capability at all, NO_NEW_PRIVS.
unprivileged() {
	uid=$(id -u www-data)
	gid=$(id -g www-data)
	groups=$(id -G www-data)
	[ "$(status_field "$1" Uid)" = "$uid $uid $uid $uid" ] || { echo "$1 Uid"; return 1; }
	[ "$(status_field "$1" Gid)" = "$gid $gid $gid $gid" ] || { echo "$1 Gid"; return 1; }
	[ "$(status_field "$1" Groups)" = "$groups" ] || { echo "$1 Groups"; return 1; }
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		[ "$(status_field "$1" $c)" = 0000000000000000 ] ||
			{ grep -E '^Cap' "/proc/$1/status"; return 1; }
	done
	[ "$(status_field "$1" NoNewPrivs)" = 1 ] || { echo "$1 NNP"; return 1; }
}

# Every worker (children and grandchildren of the master $1) is unprivileged.
workers_unprivileged() {
	count=0
	for pid in $(ps -o pid= --ppid "$1"); do
		for p in "$pid" $(ps -o pid= --ppid "$pid"); do
			[ -r "/proc/$p/status" ] || continue
			count=$((count + 1))
			unprivileged "$p" || return 1
		done
	done
	echo "$count worker processes checked"
	[ "$count" -gt 0 ]
}

# The master: root, exactly net_bind_service setuid setgid setpcap kill, NO_NEW_PRIVS.
master_restricted() {
	grep -E '^(Uid|Cap|NoNewPrivs)' "/proc/$1/status"
	[ "$(status_field "$1" Uid)" = "0 0 0 0" ] &&
		[ "$(status_field "$1" CapEff)" = 00000000000005e0 ] &&
		[ "$(status_field "$1" CapPrm)" = 00000000000005e0 ] &&
		[ "$(status_field "$1" CapBnd)" = 00000000000005e0 ] &&
		[ "$(status_field "$1" NoNewPrivs)" = 1 ]
}

listen_inode() { readlink "/proc/$1/fd/3"; }

mpms=""
for so in /usr/lib/minihttpd/mpm/*.so; do
	[ -e "$so" ] && mpms="$mpms $(basename "$so" .so)"
done
echo "# systemd $(systemctl --version | head -n 1 | cut -d' ' -f2), MPMs installed:$mpms"
first=$(sed -n 's/^mpm = "\(.*\)"/\1/p' "$conf")
echo "# the packaged configuration starts mpm $first"

# --- Units ---------------------------------------------------------------------------

systemctl daemon-reload
t "the units are installed" systemctl cat minihttpd.service minihttpd.socket
verify_clean() {
	out=$(systemd-analyze verify --man=no minihttpd.service minihttpd.socket 2>&1)
	echo "$out"
	[ -z "$out" ]
}
t "systemd-analyze verify finds nothing to say" verify_clean

# --- Start ---------------------------------------------------------------------------

t "systemctl start minihttpd" systemctl start minihttpd
t "it is active" active
t "it serves as soon as systemctl start returns" get /
main=$(main_pid)
t "MainPID ($main) is the pid in /run/minihttpd/minihttpd.pid" \
	[ "$main" = "$(cat /run/minihttpd/minihttpd.pid)" ]
t "STATUS= names the mpm and the generation" within 5 status_has "mpm $first, generation 1:"
t "the master keeps only what a reload needs" master_restricted "$main"
t "the workers run as www-data with no capability" workers_unprivileged "$main"
t "no notification was refused by systemd" \
	not systemd_said "reception only permitted for main PID"

# --- Reloads, switching the MPM --------------------------------------------------------

gen=1
for m in $(printf '%s\n' $mpms | grep -vx "$first") $first; do
	set_mpm "$m"
	gen=$((gen + 1))
	t "mpm = \"$m\": systemctl reload succeeds" systemctl reload minihttpd
	t "mpm $m: serves after the reload" get /
	# No polling: systemctl reload returns only after the master's READY=1 and STATUS=.
	t "mpm $m: STATUS= says generation $gen when systemctl returns" \
		status_has "mpm $m, generation $gen:"
	t "mpm $m: the same master ($main)" same_main "$main"
	t "mpm $m: journal: 'reloaded: generation $gen, mpm $m' at notice" \
		journal 5 "reloaded: generation $gen, mpm $m"
done
t "the old generations have exited" within 15 [ "$(ps -o pid= --ppid "$main" | wc -l)" = 1 ]
t "the new workers run as www-data with no capability" workers_unprivileged "$main"

# --- A broken file ---------------------------------------------------------------------

cp "$conf" /tmp/good.conf
echo 'listen_backlog = plenty' >>"$conf"
line=$(wc -l <"$conf")
t "a broken file: systemctl reload fails" not systemctl reload minihttpd
t "... systemd says the reload failed" systemd_said "Reload failed for minihttpd.service"
t "... the unit stays active with the same master" eval 'active && same_main "$main"'
t "... and the old configuration serves" get /
# Without the -t check (a plain SIGHUP), the daemon refuses the file itself.
systemctl kill -s HUP --kill-who=main minihttpd
refused() { journal 3 "reload failed: $conf:" | grep -q ": invalid integer value for option 'listen_backlog'; still serving"; }
t "SIGHUP with the broken file: 'reload failed: FILE:LINE: problem' at err" within 5 refused
t "... naming the right line ($line)" journal 3 "reload failed: $conf:$line: "
t "... STATUS= says the last reload failed" within 5 status_has "last reload FAILED"
t "... still active and serving" eval 'active && get /'
cp /tmp/good.conf "$conf"
t "the file fixed: systemctl reload succeeds" systemctl reload minihttpd
gen=$((gen + 1))
t "... STATUS= no longer reports a failure" \
	within 5 eval 'status_has "generation $gen:" && ! status_has FAILED'

# --- Reloads the daemon refuses for what only it can see: systemctl reload fails -----------

# ExecReload= is `minihttpd -s reload`: it waits for the master's verdict.
refused_reload() {
	t "$1: systemctl reload fails" not systemctl reload minihttpd
	t "... the reason is in the journal at err: $2" journal 3 "$2"
	t "... the same master, still serving generation $gen" \
		eval 'same_main "$main" && status_has "generation $gen:" && get /'
	cp /tmp/good.conf "$conf"
}
mkdir -m 700 /srv/closed
sed -i 's|^document_root = .*|document_root = "/srv/closed"|' "$conf"
refused_reload "a document root www-data cannot enter" \
	"document_root /srv/closed: uid $(id -u www-data) cannot enter it"
sed -i 's|^access_log = .*|access_log = "/etc/minihttpd-access.log"|' "$conf"
refused_reload "an access log on the read-only /etc" "access_log /etc/minihttpd-access.log: "
systemd-socket-activate -l 127.0.0.1:8097 sleep 300 >/dev/null 2>&1 &
holder=$!
within 5 eval 'ss -Hltn "sport = :8097" | grep -q LISTEN'
sed -i 's|^listen = .*|listen = {"0.0.0.0:8080", "127.0.0.1:8080"}|' "$conf"
t "(a listen that overlaps another: -t says so)" eval \
	'minihttpd -t -q -f "$conf" 2>&1 | grep -q "overlaps \"0.0.0.0:8080\""'
sed -i 's|^listen = .*|listen = {"0.0.0.0:8080", "127.0.0.1:8097"}|' "$conf"
refused_reload "an address another program holds" \
	"listen 127.0.0.1:8097: bind: Address already in use"
kill "$holder"
sed -i 's|^user = .*|user = "nosuchuser"|' "$conf"
refused_reload "an unknown user" 'user "nosuchuser" does not exist'

# --- The access log in LogsDirectory, rotated like logrotate does ------------------------

sed -i 's|^access_log = .*|access_log = "/var/log/minihttpd/access.log"|' "$conf"
t "access_log in /var/log/minihttpd: reload succeeds" systemctl reload minihttpd
gen=$((gen + 1))
get /before-rotation
t "the access log is written under ProtectSystem=strict" \
	within 5 grep -q before-rotation /var/log/minihttpd/access.log
mv /var/log/minihttpd/access.log /var/log/minihttpd/access.log.1
systemctl kill -s USR1 --kill-who=main minihttpd
t "SIGUSR1 reopens it: a new access.log" within 5 [ -e /var/log/minihttpd/access.log ]
# The generation that writes to the rotated file finishes what it has in hand first.
t "... once the new generation serves and the old one has left" within 15 eval \
	'journal 5 "access log /var/log/minihttpd/access.log reopened" >/dev/null &&
	 [ "$(ps -o pid= --ppid "$main" | wc -l)" = 1 ]'
get /after-rotation
t "new lines go to the new file" within 5 grep -q after-rotation /var/log/minihttpd/access.log
t "... not to the rotated one" not grep -q after-rotation /var/log/minihttpd/access.log.1

# --- Sandbox -----------------------------------------------------------------------------

score=$(systemd-analyze security minihttpd --no-pager 2>/dev/null |
	sed -n 's/.*Overall exposure level for minihttpd.service: \([0-9.]*\).*/\1/p')
echo "# systemd-analyze security minihttpd: exposure $score"
systemd-analyze security minihttpd --no-pager 2>/dev/null | grep '✗' | sed 's/^/#   /'
t "exposure $score is at most 2.3 (the goal, below 2.0, is not reached)" awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.3) }'
# ProtectClock=yes adds "char-rtc r" by itself; nothing else may be there.
t "DevicePolicy=closed, DeviceAllow= only what ProtectClock= adds" eval \
	'systemctl show -p DeviceAllow -p DevicePolicy minihttpd &&
	 [ "$(systemctl show -p DeviceAllow --value minihttpd)" = "char-rtc r" ] &&
	 [ "$(systemctl show -p DevicePolicy --value minihttpd)" = closed ]'

# --- logrotate, with the packaged file ------------------------------------------------------

t "/var/log/minihttpd is root:adm 0750 (tmpfiles.d), after starts and reloads" \
	eval '[ "$(stat -c %U:%G:%a /var/log/minihttpd)" = root:adm:750 ]'
get /before-logrotate
t "logrotate -f /etc/logrotate.d/minihttpd" logrotate -f /etc/logrotate.d/minihttpd
t "... the new access.log is root:adm 0640" \
	within 5 eval '[ "$(stat -c %U:%G:%a /var/log/minihttpd/access.log)" = root:adm:640 ]'
t "... the master reopened it (minihttpd -s reopen in postrotate)" within 15 eval \
	'curl -s -o /dev/null "$url/after-logrotate" && grep -q after-logrotate /var/log/minihttpd/access.log'

# --- Stop --------------------------------------------------------------------------------

t "systemctl stop minihttpd" systemctl stop minihttpd
t "it is inactive" inactive
t "nothing serves any more" not get /
t "no minihttpd process is left" not pgrep -x minihttpd
t "the pid file is gone" not test -e /run/minihttpd/minihttpd.pid
t "/run/minihttpd is kept (RuntimeDirectoryPreserve=)" test -d /run/minihttpd
t "minihttpd started by hand finds it, and serves" eval 'minihttpd -f "$conf" && get /'
t "minihttpd -s stop stops it" eval 'minihttpd -s stop -f "$conf" && within 15 not pgrep -x minihttpd'

# --- The journal as the operator reads it ---------------------------------------------------

t "journal: 'started: pid $main, mpm $first' at notice" journal 5 "started: pid $main, mpm $first"
t "journal: 'listening on 0.0.0.0:8080' at info" journal 6 "listening on 0.0.0.0:8080"
t "journal: every reload at notice" \
	[ "$(journal 5 'reloaded: generation' | wc -l)" = "$((gen - 1))" ]
t "journal: the stop at notice" journal 5 "SIGTERM: stopping gracefully"
t "journal: 'stopped' at notice (by identifier)" journal_ident 5 "stopped"
t "journal: systemd's own start, reloads and stop" eval \
	'systemd_said "Started minihttpd.service" && systemd_said "Reloaded minihttpd.service" &&
	 systemd_said "Stopped minihttpd.service"'
echo "# journalctl -u minihttpd (access log lines left out), priority and facility:"
journalctl -u minihttpd --no-pager -o json --output-fields=PRIORITY,SYSLOG_FACILITY,MESSAGE |
	sed -n 's/.*"PRIORITY":"\([0-9]\)".*"MESSAGE":"\([^"]*\)".*/\1 \2/p;
		s/.*"MESSAGE":"\([^"]*\)".*"PRIORITY":"\([0-9]\)".*/\2 \1/p' |
	grep -v '"GET \|GET /' | sed 's/^/#   /'

# --- A start that fails: why, at err; no restart loop ----------------------------------------

echo 'listen_backlog = plenty' >>"$conf"
line=$(wc -l <"$conf")
t "a broken file: systemctl start fails" not systemctl start minihttpd
t "... journalctl -p err says FILE:LINE (-t's stderr, <3>)" \
	eval 'journalctl -u minihttpd --no-pager -o cat -p err | grep -F "$conf:$line: "'
t "... it is not restarted (Restart=on-abort)" eval \
	'[ "$(systemctl show -p NRestarts --value minihttpd)" = 0 ] &&
	 [ "$(systemctl is-active minihttpd)" = failed ]'
cp /tmp/good.conf "$conf"
systemctl reset-failed minihttpd

# --- The config path in one place: /etc/default/minihttpd -----------------------------------

sed 's|^listen = .*|listen = {"127.0.0.1:8096"}|' "$conf" >/etc/minihttpd-alt.conf
echo "MINIHTTPD_CONF=/etc/minihttpd-alt.conf" >>/etc/default/minihttpd
t "MINIHTTPD_CONF in /etc/default/minihttpd: start, reload use that file" eval \
	'systemctl start minihttpd && curl -fsS -o /dev/null http://127.0.0.1:8096/ &&
	 systemctl reload minihttpd && not get /'
systemctl stop minihttpd
sed -i '/^MINIHTTPD_CONF=/d' /etc/default/minihttpd

# --- Socket activation ---------------------------------------------------------------------

set_mpm prefork
t "systemctl start minihttpd.socket" systemctl start minihttpd.socket
t "the service waits for the first connection" inactive minihttpd.service
t "the first connection starts it, and is served" get /
t "the service is active" within 5 active minihttpd.service
main=$(main_pid)
t "journal: it uses the socket systemd passed" \
	journal 5 "socket activation: serving the 1 socket systemd passed"
sock=$(listen_inode "$main")
t "fd 3 of the master is systemd's socket ($sock)" eval 'case "$sock" in socket:*) ;; *) false;; esac'
set_mpm "${mpms##* }"
sed -i 's|^listen = .*|listen = {"127.0.0.1:8099"}|' "$conf"
t "reload (mpm${mpms##* }, another listen) succeeds" systemctl reload minihttpd
t "... the same socket after the reload" [ "$(listen_inode "$main")" = "$sock" ]
t "... which serves" get /
t "... and listen is not used with systemd's sockets" \
	not curl -fsS --max-time 2 -o /dev/null http://127.0.0.1:8099/
t "stopping the service leaves the socket listening" \
	eval 'systemctl stop minihttpd.service && active minihttpd.socket'
t "the next connection starts the service again" get /
t "... a new master" eval '! same_main "$main" && active'

# Network isolation: with systemd's sockets the service needs no network of its own.
mkdir -p /etc/systemd/system/minihttpd.service.d
cat >/etc/systemd/system/minihttpd.service.d/socket-only.conf <<'EOF'
[Service]
PrivateNetwork=yes
CapabilityBoundingSet=~CAP_NET_BIND_SERVICE
RestrictAddressFamilies=AF_UNIX
EOF
systemctl daemon-reload
systemctl stop minihttpd.service
t "socket-only drop-in (PrivateNetwork=yes): the next connection is served" get /
t "... reload works there too" eval 'systemctl reload minihttpd && get /'
score=$(systemd-analyze security minihttpd --no-pager 2>/dev/null |
	sed -n 's/.*Overall exposure level for minihttpd.service: \([0-9.]*\).*/\1/p')
echo "# systemd-analyze security with socket-only.conf: exposure $score"
t "... exposure $score is below 2.0" awk -v s="$score" 'BEGIN { exit !(s != "" && s < 2.0) }'
t "stop the socket and the service" \
	eval 'systemctl stop minihttpd.socket minihttpd.service && inactive && inactive minihttpd.socket'

# The unprivileged variant minihttpd(8) documents: one uid for master and workers.
rm /etc/systemd/system/minihttpd.service.d/socket-only.conf
cat >/etc/systemd/system/minihttpd.service.d/unprivileged.conf <<'EOF'
[Service]
User=www-data
Group=www-data
CapabilityBoundingSet=
PrivateNetwork=yes
PrivateUsers=yes
IPAddressDeny=any
RestrictAddressFamilies=AF_UNIX
SystemCallFilter=~@privileged
ExecReload=
ExecReload=/bin/kill -HUP $MAINPID
EOF
systemctl daemon-reload
# One uid: the master opens the access log as www-data, which /var/log/minihttpd
# (root:adm 0750) keeps out; minihttpd(8) says to log to stderr, the journal, there.
sed -i 's|^access_log = .*|access_log = "stderr"|' "$conf"
systemctl start minihttpd.socket
t "unprivileged variant: the first connection is served" get / ||
	journalctl -u minihttpd -n 15 --no-pager -o cat | sed 's/^/#   journal: /'
www=$(id -u www-data)
t "... the master runs as www-data" eval \
	'[ "$(status_field "$(main_pid)" Uid)" = "$www $www $www $www" ]'
t "... minihttpd -s reload says why it cannot judge (PrivateUsers=)" eval \
	'systemd-run --wait -q -P -p User=www-data -p PrivateUsers=yes \
		minihttpd -s reload -f "$conf" 2>&1 | grep -q "its verdict cannot be read"'
t "... reload (a plain SIGHUP there) works" eval \
	'systemctl reload minihttpd && within 10 status_has "generation 2:" && get /'
score=$(systemd-analyze security minihttpd --no-pager 2>/dev/null |
	sed -n 's/.*Overall exposure level for minihttpd.service: \([0-9.]*\).*/\1/p')
echo "# systemd-analyze security, unprivileged variant: exposure $score"
t "... exposure $score is at most 1.0" awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 1.0) }'
systemctl stop minihttpd.socket minihttpd.service
rm /etc/systemd/system/minihttpd.service.d/unprivileged.conf
systemctl daemon-reload
t "nothing listens any more" not get /

# --- inetd style: minihttpd-inetd.socket (Accept=yes) and minihttpd -i ---------------------

iurl=http://127.0.0.1:8081
# Each instance reads the file afresh: the access log it writes is the file's, now.
sed -i 's|^access_log = .*|access_log = "/var/log/minihttpd/access.log"|' "$conf"
iget() { curl -fsS --max-time 5 -o /dev/null "$iurl${1:-/}"; }
icode() { curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$iurl$1"; }
instances() { systemctl list-units --all --no-legend 'minihttpd-inetd@*' | grep -c . ; }
verify_inetd() {
	out=$(systemd-analyze verify --man=no minihttpd-inetd.socket minihttpd-inetd@x.service 2>&1)
	echo "$out"
	[ -z "$out" ]
}
t "inetd units: systemd-analyze verify finds nothing to say" verify_inetd
t "systemctl start minihttpd-inetd.socket" systemctl start minihttpd-inetd.socket
t "a connection is served by an instance of minihttpd-inetd@" iget /
t "... and a 404 too" eval '[ "$(icode /inetd-probe-1)" = 404 ]'
# curl's num_connects: 1 for the first transfer, 0 when the second reused the connection.
t "keep-alive: two requests on one connection" eval \
	'[ "$(curl -fsS --max-time 5 -o /dev/null -o /dev/null -w "%{num_connects}" \
		"$iurl/" "$iurl/")" = 10 ]'
t "each instance exits with its connection" within 10 [ "$(instances)" = 0 ]
t "the requests are in the access log" \
	within 5 grep -q '"GET /inetd-probe-1 HTTP/1.1" 404' /var/log/minihttpd/access.log
exec 5<>/dev/tcp/127.0.0.1/8081
ipid() { pgrep -f '^/usr/sbin/minihttpd -i '; }
t "a held connection is one minihttpd -i process" within 5 ipid
t "... running as www-data with no capability" unprivileged "$(ipid)"
t "... in a private network namespace" \
	not [ "$(readlink /proc/1/ns/net)" = "$(readlink "/proc/$(ipid)/ns/net")" ]
exec 5>&-
t "... which exits when the client closes" within 10 not ipid
t "no instance failed" eval '! systemctl list-units --failed --no-legend | grep -q minihttpd-inetd'
score=$(systemd-analyze security minihttpd-inetd@x.service --no-pager 2>/dev/null |
	sed -n 's/.*Overall exposure level for minihttpd-inetd@x.service: \([0-9.]*\).*/\1/p')
echo "# systemd-analyze security minihttpd-inetd@.service: exposure $score"
systemd-analyze security minihttpd-inetd@x.service --no-pager 2>/dev/null | grep '✗' |
	sed 's/^/#   /'
t "exposure $score is below 2.0" awk -v s="$score" 'BEGIN { exit !(s != "" && s < 2.0) }'
t "stop minihttpd-inetd.socket" eval 'systemctl stop minihttpd-inetd.socket && not iget /'
# Started by hand without a connection: refused, and said in the journal at err.
t "minihttpd -i with stdin not a socket: exit 1" eval \
	'/usr/sbin/minihttpd -i -f "$conf" </dev/null 2>/dev/null; [ $? = 1 ]'
t "... the journal says why, at err" within 5 \
	journal_ident 3 "inetd: -i: standard input is /dev/null, not a connected stream socket"

echo "1..$n"
[ "$failed" = 0 ]
