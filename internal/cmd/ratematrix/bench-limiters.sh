#!/bin/sh
# The matrix against real limiters on 127.0.0.1, in front of internal/cmd/fakeserver: nginx
# limit_req (strict; burst of a second nodelay; burst delayed), HAProxy stick-table http_req_rate with
# deny 429 (refused requests counted; without and with Retry-After), and express-rate-limit
# (draft-7, draft-6 and legacy headers). Each allows RATE requests a second (the windows 3 s
# worth per 3 s); the pool sends ROWS rows at --rate x1, x2, x5 and 0 through each.
#
#	internal/cmd/ratematrix/bench-limiters.sh [RATE] [ROWS] [MULTS]   # default 20 200 1,2,5,0
#	LIMITERS="nginx-strict haproxy-counted" internal/cmd/ratematrix/bench-limiters.sh 1 120 1
#
# It installs nginx-light and haproxy with apt-get, and express-rate-limit with npm in a
# temporary folder, when they are missing. Not run by go test.
set -eu
rate=${1:-20} rows=${2:-200} mults=${3:-1,2,5,0}
limiters=${LIMITERS:-nginx-strict nginx-burst-nodelay nginx-burst-delay haproxy-counted haproxy-counted-ra express-draft7 express-draft6 express-legacy}
base=${PORT_BASE:-18100}
repo=$(cd "$(dirname "$0")/../../.." && pwd)
dir=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

command -v nginx >/dev/null && command -v haproxy >/dev/null || {
	apt-get update >/dev/null && apt-get install -y nginx-light haproxy >/dev/null
}
(cd "$dir" && npm init -y >/dev/null && npm install --silent express-rate-limit express >/dev/null)
cp "$repo/internal/cmd/ratematrix/limiters/erl.js" "$dir/"

cd "$repo"
go build -o "$dir/fakeserver" ./internal/cmd/fakeserver
go build -o "$dir/ratematrix" ./internal/cmd/ratematrix
"$dir/fakeserver" -rate 0 -latency 2ms >"$dir/fake.env" 2>"$dir/fake.log" &
pids="$pids $!"
while ! grep -q TOKEN "$dir/fake.env" 2>/dev/null; do sleep 0.1; done
fake=$(sed -n 's|export IDEANOTE_BASE_URL=http://||p' "$dir/fake.env")
window=$(echo "$rate * 3" | bc | cut -d. -f1) # requests per 3 s
burst=$(echo "$rate" | cut -d. -f1)            # a second's worth

# nginx: one zone a server, every request under one key (the port).
mkdir -p "$dir/nginx"
cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 512; }
http {
	access_log off;
	client_body_temp_path $dir/nginx/body; proxy_temp_path $dir/nginx/proxy;
	fastcgi_temp_path $dir/nginx/fcgi; uwsgi_temp_path $dir/nginx/uwsgi; scgi_temp_path $dir/nginx/scgi;
	limit_req_status 429;
	limit_req_zone \$server_port zone=strict:1m rate=${rate}r/s;
	limit_req_zone \$server_port zone=nodelay:1m rate=${rate}r/s;
	limit_req_zone \$server_port zone=delay:1m rate=${rate}r/s;
	upstream fake { server $fake; keepalive 32; }
	proxy_http_version 1.1;
	proxy_set_header Connection "";
	server { listen 127.0.0.1:$((base + 1)); location / { limit_req zone=strict; proxy_pass http://fake; } }
	server { listen 127.0.0.1:$((base + 2)); location / { limit_req zone=nodelay burst=$burst nodelay; proxy_pass http://fake; } }
	server { listen 127.0.0.1:$((base + 3)); location / { limit_req zone=delay burst=$burst; proxy_pass http://fake; } }
}
CONF
nginx -p "$dir/nginx" -c "$dir/nginx.conf" &
pids="$pids $!"

# HAProxy: a stick-table counting every request, refused ones too, over 3 s.
cat >"$dir/haproxy.cfg" <<CONF
global
	maxconn 512
defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
backend fake
	server s1 $fake
backend counted
	stick-table type integer size 10 expire 30s store http_req_rate(3s)
backend counted-ra
	stick-table type integer size 10 expire 30s store http_req_rate(3s)
frontend f-counted
	bind 127.0.0.1:$((base + 4))
	http-request track-sc0 int(1) table counted
	http-request deny deny_status 429 if { sc_http_req_rate(0) gt $window }
	default_backend fake
frontend f-counted-ra
	bind 127.0.0.1:$((base + 5))
	http-request track-sc0 int(1) table counted-ra
	http-request deny deny_status 429 hdr Retry-After 3 if { sc_http_req_rate(0) gt $window }
	default_backend fake
CONF
haproxy -f "$dir/haproxy.cfg" -db &
pids="$pids $!"

# express-rate-limit: a window of 3 s from its first request, one key for the run.
port=$((base + 6))
for std in draft-7 draft-6 legacy; do
	(cd "$dir" && PORT=$port UPSTREAM=http://$fake LIMIT=$window WINDOW_MS=3000 STANDARD=$std exec node erl.js) &
	pids="$pids $!"
	port=$((port + 1))
done
sleep 2
for p in $pids; do
	kill -0 "$p" 2>/dev/null || { echo "bench-limiters: a limiter did not start (are ports $((base + 1))-$((base + 8)) free? PORT_BASE moves them)" >&2; exit 1; }
done

echo "$rows rows, server $rate/s, 8 workers, fake latency 2 ms; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| limiter | --rate | requests | 429s | wall / N/R | rows failed | goal |"
echo "|---|---|---|---|---|---|---|"
for name in $limiters; do
	case $name in
	nginx-strict) port=$((base + 1)) ;;
	nginx-burst-nodelay) port=$((base + 2)) ;;
	nginx-burst-delay) port=$((base + 3)) ;;
	haproxy-counted) port=$((base + 4)) ;;
	haproxy-counted-ra) port=$((base + 5)) ;;
	express-draft7) port=$((base + 6)) ;;
	express-draft6) port=$((base + 7)) ;;
	express-legacy) port=$((base + 8)) ;;
	*) echo "unknown limiter $name" >&2; exit 2 ;;
	esac
	"$dir/ratematrix" -target "http://127.0.0.1:$port" -label "$name" -server-rate "$rate" -rows "$rows" \
		-rates "$mults" -header=false ${TRACE:+-trace}
done
