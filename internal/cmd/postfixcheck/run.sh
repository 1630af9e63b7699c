#!/usr/bin/env bash
# Mails the links of a provisioning run through a real Postfix, limited as a provider limits a
# sender, and checks what arrives. Not run by `go test`: it installs a package and takes minutes.
#
#   sudo internal/cmd/postfixcheck/run.sh [--people N] [--port PORT] [--no-quota]
#       [--keep-postfix] [--snakeoil] [--maillog FILE]
#
# On a Debian machine, as root, from anywhere in the repository. It installs Postfix when it is
# not there (and purges it at the end, unless --keep-postfix), runs a private instance under a
# temporary folder (its own main.cf, master.cf, queue and log), listening on 127.0.0.1:PORT only
# (default 2525), with STARTTLS (a certificate made for 127.0.0.1, trusted by the run through
# SSL_CERT_FILE; --snakeoil: Debian's own, which the run takes unchecked on loopback), delivering example.com to one
# Maildir per person and refusing every other destination; a client may send 10 messages a
# minute (Postfix then answers "450 4.7.1 Error: too much mail from 127.0.0.1" to MAIL FROM).
# It provisions N people (default 40) against the stand-in API, with --mail at the default mail
# rate, and checks: exit 0, everyone `sent`, one message per person, over TLS, holding their own
# link and no one else's, and counts the 450s. Then, unless --no-quota, a second run in which one
# recipient is answered "550 5.4.5 Daily sending quota exceeded" at RCPT TO must stop with exit
# 3, that person and the rest `not_attempted`. It stops Postfix and removes the temporary folder
# on exit, whatever happened (--maillog FILE keeps a copy of Postfix's log: when each message was
# taken or refused). Exit 0 when every check passed, 1 otherwise.
set -euo pipefail

people=40
port=2525
quota=1
keep_postfix=0
snakeoil=0
maillog=
while [ $# -gt 0 ]; do
	case $1 in
	--people) people=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--no-quota) quota=0; shift ;;
	--keep-postfix) keep_postfix=1; shift ;;
	--snakeoil) snakeoil=1; shift ;;
	--maillog) maillog=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "postfixcheck: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done

say() { printf 'postfixcheck: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: it installs and starts Postfix"
command -v apt-get >/dev/null || die "needs apt-get (Debian or Ubuntu)"
command -v go >/dev/null || die "needs go on PATH"
repo=$(cd "$(dirname "$0")/../../.." && pwd)
[ -f "$repo/go.mod" ] || die "cannot find the repository root from $0"

installed_postfix=0
had_aliases=0
[ -e /etc/aliases ] && had_aliases=1
if ! dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -q 'install ok installed'; then
	say "installing postfix (debconf: No configuration; the Debian instance is not configured nor started)"
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix ssl-cert >/dev/null
	installed_postfix=1
fi
[ -r /etc/ssl/private/ssl-cert-snakeoil.key ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q ssl-cert >/dev/null
[ -r /etc/ssl/private/ssl-cert-snakeoil.key ] || make-ssl-cert generate-default-snakeoil

# Nothing may already listen on the port: the run must talk to this instance.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	die "127.0.0.1:$port is in use: choose another with --port"
fi

t=$(mktemp -d /tmp/postfixcheck.XXXXXX)
conf=$t/conf
started=0
fakepid=
cleanup() {
	set +e
	[ -n "$fakepid" ] && kill "$fakepid" 2>/dev/null && wait "$fakepid" 2>/dev/null
	if [ "$started" = 1 ]; then
		postfix -c "$conf" stop >/dev/null 2>&1
		# master waits for its children; give it a few seconds before removing its queue.
		for _ in $(seq 50); do
			[ -f "$t/queue/pid/master.pid" ] && kill -0 "$(tr -d ' ' <"$t/queue/pid/master.pid")" 2>/dev/null || break
			sleep 0.2
		done
	fi
	[ -n "$maillog" ] && cp "$t/maillog" "$maillog"
	[ -n "${POSTFIXCHECK_KEEP:-}" ] || rm -rf "$t"
	if [ "$installed_postfix" = 1 ] && [ "$keep_postfix" = 0 ]; then
		say "purging postfix, which this script installed (--keep-postfix keeps it)"
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q postfix >/dev/null 2>&1
		# Its postinst creates /etc/aliases, which the purge leaves.
		[ "$had_aliases" = 1 ] || rm -f /etc/aliases
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

chmod 711 "$t"
mkdir -p "$conf" "$t/queue" "$t/data" "$t/maildir" "$t/bin"
chown postfix "$t/data"
# virtual(8) delivers as nobody: the Maildirs are its.
chown nobody:nogroup "$t/maildir"

# A certificate for 127.0.0.1, trusted through SSL_CERT_FILE (read by Go). On loopback the run
# takes TLS without checking the certificate: --snakeoil gives Postfix Debian's own, which names
# the host only, and shows the run mails through it all the same.
if [ "$snakeoil" = 1 ]; then
	cert=/etc/ssl/certs/ssl-cert-snakeoil.pem key=/etc/ssl/private/ssl-cert-snakeoil.key
else
	cert=$conf/cert.pem key=$conf/key.pem
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$key" -out "$cert" 2>/dev/null
	chmod 600 "$key"
	export SSL_CERT_FILE=$cert
fi

# Each person gets a Maildir of their own, named by their local part; any other address of
# example.com goes to "other", so that a message sent to a wrong address is still seen.
cat >"$conf/vmailbox" <<'EOF'
/^([a-z0-9._+-]+)@example\.com$/	example.com/${1}/
/@example\.com$/	example.com/other/
EOF
: >"$conf/quota"

cat >"$conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $t/queue
data_directory = $t/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfixcheck.invalid
mydomain = invalid
myorigin = \$myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
maillog_file = $t/maillog
maillog_file_prefixes = $t
alias_maps =
alias_database =
biff = no

# Never relay: example.com is delivered here, every other destination is refused at RCPT
# (reject_unauth_destination) and would go to the error transport if it got through.
mynetworks = 127.0.0.0/8
relayhost =
relay_domains =
default_transport = error:postfixcheck delivers example.com only
relay_transport = error:postfixcheck delivers example.com only
local_transport = error:postfixcheck delivers example.com only
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:$conf/quota, permit

virtual_mailbox_domains = example.com
virtual_mailbox_base = $t/maildir
virtual_mailbox_maps = regexp:$conf/vmailbox
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)

smtpd_tls_security_level = may
smtpd_tls_cert_file = $cert
smtpd_tls_key_file = $key
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes

# A provider's limit on a sender: 10 messages a minute from one client. anvil exempts the
# clients of smtpd_client_event_limit_exceptions, by default \$mynetworks: none here.
smtpd_client_message_rate_limit = 10
anvil_rate_time_unit = 60s
smtpd_client_event_limit_exceptions =
EOF

# No chroot: the queue is under the temporary folder.
cat >"$conf/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
smtp       unix  - - n -  - smtp
relay      unix  - - n -  - smtp
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
local      unix  - n n -  - local
virtual    unix  - n n -  - virtual
lmtp       unix  - - n -  - lmtp
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF

version=$(postconf -c "$conf" -h mail_version)
postfix -c "$conf" check || { cat "$t/maillog" >&2 2>/dev/null; die "postfix check failed"; }
postfix -c "$conf" start >/dev/null 2>&1 || { cat "$t/maillog" >&2 2>/dev/null; die "postfix did not start"; }
started=1
# master listens before `postfix start` returns. No connection to check it: a connection from
# 127.0.0.1 would open anvil's window, which counts from a client's first connection.
say "Postfix $version on 127.0.0.1:$port, under $t"

say "building"
(cd "$repo" && go build -o "$t/bin/ideanote-provision" . &&
	go build -o "$t/bin/fakeserver" ./internal/cmd/fakeserver &&
	go build -o "$t/bin/gencsv" ./internal/cmd/gencsv &&
	go build -o "$t/bin/postfixcheck" ./internal/cmd/postfixcheck)

"$t/bin/fakeserver" -rate 0 >"$t/fakeserver.env" 2>"$t/fakeserver.log" &
fakepid=$!
for _ in $(seq 50); do
	grep -q IDEANOTE_API_TOKEN "$t/fakeserver.env" 2>/dev/null && break
	sleep 0.1
done
# shellcheck disable=SC1091
. "$t/fakeserver.env"
"$t/bin/gencsv" -rows "$people" -o "$t/people.csv"

# provision DIR: the one cron line, with --mail at the default mail rate; sets status and wall.
provision() {
	mkdir -p "$1"
	local start
	start=$EPOCHREALTIME
	set +e
	(cd "$1" && "$t/bin/ideanote-provision" "$t/people.csv" --subdomain acme \
		--mail --from 'IT <it@example.com>' --smtp-url "smtp://127.0.0.1:$port" \
		--log-format json --progress never --metrics-file "$1/metrics.prom" 2>"$1/run.log")
	status=$?
	set -e
	wall=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
}

# limited: how many MAIL FROM Postfix refused for the rate limit so far.
limited() { grep -c 'Message delivery request rate limit exceeded' "$t/maillog" || true; }

say "run 1: $people people, --mail at the default rate, through 10 messages a minute"
provision "$t/run1"
limited1=$(limited)
printf 'run 1: exit %s, wall %s s, 450 4.7.1 from Postfix %s\n' "$status" "$wall" "$limited1"
tail -n 3 "$t/run1/run.log" | cut -c1-400 >&2
ok=1
[ "$status" = 0 ] || { say "run 1: exit $status, want 0"; ok=0; }
# Wait for the queue to deliver everything accepted before counting the Maildirs.
for _ in $(seq 100); do
	[ -z "$(find "$t/queue/incoming" "$t/queue/active" "$t/queue/deferred" -type f 2>/dev/null)" ] && break
	sleep 0.2
done
"$t/bin/postfixcheck" -report "$t/run1/report.csv" -maildir "$t/maildir/example.com" -want-sent "$people" || ok=0

# The exact reply, at its stage: a session of its own, one MAIL FROM after another (no message
# is sent: RSET after each), until Postfix refuses one. The run's window may still be open.
say "probe: MAIL FROM until refused"
probe() {
	exec 3<>"/dev/tcp/127.0.0.1/$port"
	local line i
	read -r line <&3
	printf 'EHLO probe.invalid\r\n' >&3
	while read -r line <&3; do [[ $line == 250-* ]] || break; done
	for i in $(seq 12); do
		printf 'MAIL FROM:<it@example.com>\r\n' >&3
		read -r line <&3
		printf 'MAIL FROM #%d: %s\n' "$i" "${line%$'\r'}"
		[[ $line == 250* ]] || break
		printf 'RSET\r\n' >&3
		read -r line <&3
	done
	printf 'QUIT\r\n' >&3
	exec 3>&-
}
probe
limited_probe=$(limited)
say "the run's metrics of 4xx answers:"
grep -E '^ideanote_mail_[a-z_]*(4xx|throttl|deferred|retr)' "$t/run1/metrics.prom" >&2 || true

if [ "$quota" = 1 ]; then
	# One person, the 8th (or the last of fewer), is refused at RCPT TO as a provider refuses a
	# sender over its daily quota: the run must stop there, not fail the rest one by one.
	victim=$(sed -n "$((people < 8 ? people + 1 : 9))p" "$t/people.csv" | cut -d, -f1)
	printf '%s 550 5.4.5 Daily sending quota exceeded\n' "$victim" >"$conf/quota"
	# The reload restarts anvil too: run 2 starts with a fresh count of messages.
	postfix -c "$conf" reload >/dev/null 2>&1
	sleep 1
	say "run 2: quota spent at $victim"
	before=$(find "$t/maildir" -path '*/new/*' -type f | wc -l)
	provision "$t/run2"
	for _ in $(seq 100); do
		[ -z "$(find "$t/queue/incoming" "$t/queue/active" "$t/queue/deferred" -type f 2>/dev/null)" ] && break
		sleep 0.2
	done
	after=$(find "$t/maildir" -path '*/new/*' -type f | wc -l)
	printf 'run 2: exit %s, wall %s s, 450 4.7.1 from Postfix %s, delivered %s\n' "$status" "$wall" "$(($(limited) - limited_probe))" "$((after - before))"
	tail -n 3 "$t/run2/run.log" | cut -c1-400 >&2
	grep -h "$victim" "$t/maillog" | grep -o 'reject: RCPT from.*' | head -n 1 >&2 || true
	[ "$status" = 3 ] || { say "run 2: exit $status, want 3"; ok=0; }
	"$t/bin/postfixcheck" -report "$t/run2/report.csv" -quota "$victim" || ok=0
fi

if [ "$ok" = 1 ]; then say "PASS (Postfix $version)"; else say "FAIL (Postfix $version); maillog:"; tail -n 20 "$t/maillog" >&2; exit 1; fi
