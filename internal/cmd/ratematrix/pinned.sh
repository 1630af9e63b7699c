#!/bin/sh
# Moves each constant of provision/pace up and down, one at a time, in a copy of the
# repository, and says whether go test ./provision/pace fails (the constant is pinned by a
# test) or not (it is not: pin it, or it goes).
#
#	internal/cmd/ratematrix/pinned.sh
set -eu
repo=$(cd "$(dirname "$0")/../../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp -r "$repo/." "$dir/"
cd "$dir"
# file|declaration as written|moved up|moved down
while IFS='|' read -r file from up down; do
	[ -n "$file" ] || continue
	for to in "$up" "$down"; do
		cp "$file" "$file.orig"
		grep -qF "$from" "$file" || { echo "not found: $from" >&2; exit 2; }
		python3 -c 'import sys; p,a,b=sys.argv[1:]; s=open(p).read(); open(p,"w").write(s.replace(a,b,1))' "$file" "$from" "$to"
		if go test -count=1 ./provision/pace >/dev/null 2>&1; then verdict="NOT pinned"; else verdict=pinned; fi
		mv "$file.orig" "$file"
		printf '%-48s -> %-48s %s\n' "$from" "$to" "$verdict"
	done
done <<'LIST'
provision/pace/finder.go|StartRate = 10|StartRate = 12|StartRate = 8
provision/pace/finder.go|fastStep = 32|fastStep = 40|fastStep = 24
provision/pace/finder.go|fastTick = time.Second|fastTick = 1200 * time.Millisecond|fastTick = 800 * time.Millisecond
provision/pace/finder.go|maxRate = 1e6|maxRate = 1e7|maxRate = 1e5
provision/pace/finder.go|rampGrowth = 2.231|rampGrowth = 2.5|rampGrowth = 2.0
provision/pace/finder.go|fineGrowth = rampGrowth / 4|fineGrowth = rampGrowth / 3|fineGrowth = rampGrowth / 5
provision/pace/finder.go|climbGrowth = 0.00995|climbGrowth = 0.012|climbGrowth = 0.008
provision/pace/finder.go|probeGrowth = 0.0000332|probeGrowth = 0.00004|probeGrowth = 0.000025
provision/pace/finder.go|margin    = 0.015|margin    = 0.018|margin    = 0.012
provision/pace/finder.go|maxMargin = 0.08|maxMargin = 0.1|maxMargin = 0.06
provision/pace/finder.go|noRetryAfter    = 250 * time.Millisecond|noRetryAfter    = 300 * time.Millisecond|noRetryAfter    = 200 * time.Millisecond
provision/pace/finder.go|maxNoRetryAfter = time.Minute|maxNoRetryAfter = 2 * time.Minute|maxNoRetryAfter = 30 * time.Second
provision/pace/finder.go|fewAccepted = 10|fewAccepted = 12|fewAccepted = 8
provision/pace/finder.go|shortSpan = 1.0|shortSpan = 1.2|shortSpan = 0.8
provision/pace/finder.go|reopenProbe = 400 * time.Millisecond|reopenProbe = 500 * time.Millisecond|reopenProbe = 300 * time.Millisecond
provision/pace/finder.go|minReopen   = 3 * time.Second|minReopen   = 4 * time.Second|minReopen   = 2 * time.Second
provision/pace/finder.go|maxReopen   = 10 * time.Second|maxReopen   = 12 * time.Second|maxReopen   = 8 * time.Second
provision/pace/finder.go|maxBusy = 8 * time.Second|maxBusy = 10 * time.Second|maxBusy = 6 * time.Second
provision/pace/finder.go|busyLifted = 2|busyLifted = 3|busyLifted = 1
provision/pace/pacer.go|const gapSlack = 0.01|const gapSlack = 0.012|const gapSlack = 0.008
provision/pace/pacer.go|const keepGapsFrom = 100 * time.Millisecond|const keepGapsFrom = 120 * time.Millisecond|const keepGapsFrom = 80 * time.Millisecond
LIST
