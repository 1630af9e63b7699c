#!/bin/sh
# The program at --rate 0 against the fake without a limit on 127.0.0.1, against a naive Python
# thread pool sending the same rows (a connection a request, and keep-alive): 2,000 rows, 16 workers by default, each run -n times.
#
#	internal/cmd/ratematrix/bench-unlimited.sh [rows] [workers] [runs]
set -eu
rows=${1:-2000} workers=${2:-16} runs=${3:-3}
dir=$(mktemp -d)
trap 'kill $fake 2>/dev/null; rm -rf "$dir"' EXIT
cd "$(dirname "$0")/../../.."
go build -o "$dir/ideanote-provision" .
go build -o "$dir/fakeserver" ./internal/cmd/fakeserver
go run ./internal/cmd/gencsv -rows "$rows" -o "$dir/people.csv"
"$dir/fakeserver" -rate 0 >"$dir/fake.env" 2>/dev/null &
fake=$!
while ! grep -q TOKEN "$dir/fake.env" 2>/dev/null; do sleep 0.1; done
. "$dir/fake.env"
export IDEANOTE_BASE_URL IDEANOTE_SPACE_ID IDEANOTE_API_TOKEN
for i in $(seq "$runs"); do
	rm -f "$dir/dry.csv"
	start=$(date +%s.%N)
	"$dir/ideanote-provision" --dry-run --subdomain acme --progress never --report "$dir/dry.csv" "$dir/people.csv" >/dev/null 2>&1
	end=$(date +%s.%N)
	echo "ideanote-provision --dry-run (start, read, report; no request): $(echo "$end - $start" | bc) s"
	rm -f "$dir/report.csv"
	start=$(date +%s.%N)
	"$dir/ideanote-provision" --rate 0 --concurrency "$workers" --subdomain acme --progress never \
		--report "$dir/report.csv" "$dir/people.csv" >/dev/null 2>&1
	end=$(date +%s.%N)
	echo "ideanote-provision --rate 0 --concurrency $workers: $rows rows, $(grep -c ',ok,' "$dir/report.csv") ok, $(echo "$end - $start" | bc) s"
	python3 internal/cmd/ratematrix/peer.py "$dir/people.csv" "$workers" urllib
	python3 internal/cmd/ratematrix/peer.py "$dir/people.csv" "$workers" keepalive
done
