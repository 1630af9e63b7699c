package ideanote

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

func TestQuota(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 15, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   *provision.Quota
	}{
		{"none", http.Header{"Retry-After": {"3"}}, nil},
		{"IETF draft, separate fields", http.Header{"Ratelimit-Limit": {"60"}, "Ratelimit-Remaining": {"12"}, "Ratelimit-Reset": {"45"}, "Ratelimit-Policy": {"60;w=60"}},
			&provision.Quota{Limit: 60, Remaining: 12, Reset: 45 * time.Second, Window: time.Minute}},
		{"IETF draft, limit with a policy", http.Header{"Ratelimit-Limit": {"100, 100;w=10"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"4"}},
			&provision.Quota{Limit: 100, Remaining: 0, Reset: 4 * time.Second}},
		{"IETF draft, structured items", http.Header{"Ratelimit-Policy": {`"default";q=60;w=60`}, "Ratelimit": {`"default";r=50;t=30`}},
			&provision.Quota{Limit: 60, Remaining: 50, Reset: 30 * time.Second, Window: time.Minute}},
		{"X-RateLimit, Unix time", http.Header{"X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Remaining": {"4999"}, "X-Ratelimit-Reset": {"1740830460"}},
			&provision.Quota{Limit: 5000, Remaining: 4999, Reset: 45 * time.Second}},
		{"X-RateLimit, Unix time in ms", http.Header{"X-Ratelimit-Limit": {"10"}, "X-Ratelimit-Remaining": {"1"}, "X-Ratelimit-Reset": {"1740830416500"}},
			&provision.Quota{Limit: 10, Remaining: 1, Reset: 1500 * time.Millisecond}},
		{"X-RateLimit, seconds, no remaining", http.Header{"X-Ratelimit-Limit": {"10"}, "X-Ratelimit-Reset": {"2"}},
			&provision.Quota{Limit: 10, Remaining: 10, Reset: 2 * time.Second}},
		{"reset in the past", http.Header{"X-Ratelimit-Limit": {"10"}, "X-Ratelimit-Remaining": {"3"}, "X-Ratelimit-Reset": {"1740830000"}},
			&provision.Quota{Limit: 10, Remaining: 3}},
		{"unreadable", http.Header{"Ratelimit-Limit": {"many"}}, nil},
		// A Reset past an hour is no window to wait for: it would keep the limit unused all run.
		{"reset in the year 5138", http.Header{"X-Ratelimit-Limit": {"60"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"99999999999"}},
			&provision.Quota{Limit: 60, Remaining: 0}},
		{"reset in ms, in the year 2286", http.Header{"X-Ratelimit-Limit": {"60"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"9999999999999"}},
			&provision.Quota{Limit: 60, Remaining: 0}},
		{"a delta in milliseconds", http.Header{"Ratelimit-Limit": {"60"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"60000"}},
			&provision.Quota{Limit: 60, Remaining: 0}},
		{"an hour", http.Header{"Ratelimit-Limit": {"5000"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"3600"}},
			&provision.Quota{Limit: 5000, Remaining: 0, Reset: time.Hour}},
		{"past int64", http.Header{"X-Ratelimit-Limit": {"1e30"}, "X-Ratelimit-Remaining": {"5"}, "X-Ratelimit-Reset": {"1e30"}},
			&provision.Quota{Limit: 0, Remaining: 5}},
		// As express-rate-limit 8.7 sends them (BENCHMARKS.md).
		{"express-rate-limit draft-7", http.Header{"Ratelimit-Policy": {"60;w=3"}, "Ratelimit": {"limit=60, remaining=59, reset=3"}},
			&provision.Quota{Limit: 60, Remaining: 59, Reset: 3 * time.Second, Window: 3 * time.Second}},
		{"express-rate-limit draft-6", http.Header{"Ratelimit-Policy": {"60;w=3"}, "Ratelimit-Limit": {"60"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"2"}},
			&provision.Quota{Limit: 60, Remaining: 0, Reset: 2 * time.Second, Window: 3 * time.Second}},
		// A window of 3 s from 12:00:12.186: reset at 12:00:15.186, sent rounded up.
		{"express-rate-limit legacy, Unix time rounded up", http.Header{"X-Ratelimit-Limit": {"60"}, "X-Ratelimit-Remaining": {"59"}, "X-Ratelimit-Reset": {"1740830419"}},
			&provision.Quota{Limit: 60, Remaining: 59, Reset: 3 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			at := now
			if strings.Contains(tt.name, "rounded up") {
				at = now.Add(186 * time.Millisecond)
			}
			if got := quota(tt.header, at); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("quota = %+v, want %+v", got, tt.want)
			}
		})
	}
}
