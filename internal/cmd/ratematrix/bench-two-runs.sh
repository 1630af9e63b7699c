#!/bin/sh
# Two runs of the program at once against one limit, as when a manual wave overlaps the night's
# cron line: the fake on 127.0.0.1 with a token bucket of RATE a second (burst 1, Retry-After),
# run A with ROWS_A rows started first, run B with ROWS_B rows DELAY seconds later, each at
# --rate FLAG (default RATE). Prints each run's wall time and its summary line, and the ideal:
# both done in (ROWS_A + ROWS_B) / RATE seconds from A's start.
#
#	internal/cmd/ratematrix/bench-two-runs.sh [RATE] [ROWS_A] [ROWS_B] [DELAY] [FLAG]
set -eu
rate=${1:-5} rows_a=${2:-300} rows_b=${3:-50} delay=${4:-5} flag=${5:-$rate}
dir=$(mktemp -d)
trap 'kill $fake 2>/dev/null; rm -rf "$dir"' EXIT
cd "$(dirname "$0")/../../.."
go build -o "$dir/ideanote-provision" .
go build -o "$dir/fakeserver" ./internal/cmd/fakeserver
go run ./internal/cmd/gencsv -rows "$rows_a" -o "$dir/a.csv"
go run ./internal/cmd/gencsv -rows "$rows_b" -o "$dir/b0.csv"
sed 's/@/.b@/' "$dir/b0.csv" >"$dir/b.csv" # other people than A's
"$dir/fakeserver" -rate "$rate" >"$dir/fake.env" 2>"$dir/fake.err" &
fake=$!
while ! grep -q TOKEN "$dir/fake.env" 2>/dev/null; do sleep 0.1; done
. "$dir/fake.env"
export IDEANOTE_BASE_URL IDEANOTE_SPACE_ID IDEANOTE_API_TOKEN
run() { # name file
	s=$(date +%s.%N)
	"$dir/ideanote-provision" --rate "$flag" --subdomain acme --progress never \
		--report "$dir/$1.report.csv" "$dir/$2" >/dev/null 2>"$dir/$1.log" || true
	e=$(date +%s.%N)
	echo "$1: $(echo "$e - $s" | bc) s, $(grep -c ',ok,' "$dir/$1.report.csv") ok; $(grep -o 'msg=done.*' "$dir/$1.log" | head -1)"
}
start=$(date +%s.%N)
run A a.csv &
a=$!
sleep "$delay"
run B b.csv
wait $a
end=$(date +%s.%N)
echo "both: $(echo "$end - $start" | bc) s; ideal $(echo "($rows_a + $rows_b) / $rate" | bc -l | cut -c1-6) s"
