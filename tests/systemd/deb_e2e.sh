# SPDX-License-Identifier: ISC
# The Debian package as an operator meets it. Runs INSIDE the systemd-lab container;
# test_deb.sh puts the package and its upgrade in /root/debs (/tmp is a fresh tmpfs there). Prints TAP.
set -u

url=http://127.0.0.1:8080
n=${TAP_START:-0}
failed=0

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
	fi
}
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
status_has() { systemctl show -p StatusText --value minihttpd | grep -qF -- "$1"; }

t "dpkg -i installs the package" dpkg -i /root/debs/minihttpd_old.deb
t "the service is enabled and active" eval \
	'[ "$(systemctl is-enabled minihttpd.service)" = enabled ] && systemctl is-active minihttpd.service'
t "the socket unit is shipped but neither enabled nor started" eval \
	'systemctl cat minihttpd.socket >/dev/null &&
	 [ "$(systemctl is-enabled minihttpd.socket)" = disabled ] &&
	 [ "$(systemctl is-active minihttpd.socket)" = inactive ]'
t "it serves /var/www/minihttpd on port 8080" eval \
	'get / && [ -f /var/www/minihttpd/index.html ]'
t "the workers run as www-data" eval \
	'ps -o user= --ppid "$(systemctl show -p MainPID --value minihttpd)" | grep -qx www-data'
t "/var/log/minihttpd is root:adm" eval '[ "$(stat -c %U:%G /var/log/minihttpd)" = root:adm ]'
t "conffiles: /etc/minihttpd.conf, /etc/default/minihttpd, /etc/logrotate.d/minihttpd" eval \
	'dpkg-query -W -f="\${Conffiles}\n" minihttpd | grep -q "/etc/minihttpd.conf " &&
	 dpkg-query -W -f="\${Conffiles}\n" minihttpd | grep -q "/etc/default/minihttpd " &&
	 dpkg-query -W -f="\${Conffiles}\n" minihttpd | grep -q "/etc/logrotate.d/minihttpd "'

echo "# systemd-analyze security minihttpd (the packaged unit):"
systemd-analyze security minihttpd --no-pager 2>/dev/null | grep -E '✗|Overall' | sed 's/^/#   /'

first=$(sed -n 's/^mpm = "\(.*\)"/\1/p' /etc/minihttpd.conf)
other=prefork
[ "$first" = prefork ] && other=worker
sed -i "s/^mpm = .*/mpm = \"$other\"/" /etc/minihttpd.conf
t "an edit of the conffile (mpm $first -> $other): systemctl reload succeeds" \
	systemctl reload minihttpd
t "... the new MPM serves when it returns" eval 'status_has "mpm $other," && get /'
sed -i 's/^mpm = .*/mpm = "nosuch"/' /etc/minihttpd.conf
t "a reload to a missing MPM fails" not systemctl reload minihttpd
sed -i "s/^mpm = .*/mpm = \"$other\"/" /etc/minihttpd.conf

main=$(systemctl show -p MainPID --value minihttpd)
t "upgrade to the rebuilt package" dpkg -i /root/debs/minihttpd_new.deb
t "... the version is the new one" eval \
	'dpkg-query -W -f="\${Version}" minihttpd | grep -q "+rebuild1$"'
t "... the conffile edit is kept" grep -q "^mpm = \"$other\"" /etc/minihttpd.conf
t "... the service was restarted and serves with it" eval \
	'[ "$(systemctl show -p MainPID --value minihttpd)" != "$main" ] &&
	 within 5 status_has "mpm $other," && get /'
t "... the socket unit is still disabled" \
	eval '[ "$(systemctl is-enabled minihttpd.socket)" = disabled ]'

t "dpkg --purge removes the package" dpkg --purge minihttpd
t "... nothing serves, no minihttpd process is left" eval 'not get / && not pgrep -x minihttpd'
t "... the logs are gone" not test -e /var/log/minihttpd
t "... the conffiles are gone" eval \
	'not test -e /etc/minihttpd.conf && not test -e /etc/default/minihttpd &&
	 not test -e /etc/logrotate.d/minihttpd'
t "... the untouched default page is gone" not test -e /var/www/minihttpd

echo "1..$n"
[ "$failed" = 0 ]
