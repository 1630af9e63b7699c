package provision

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBackoffWait(t *testing.T) {
	tests := []struct {
		name      string
		b         Backoff
		n         int
		floor     time.Duration
		min, ceil time.Duration // every wait in [min, ceil]
	}{
		{"first retry", Backoff{Base: 100 * time.Millisecond, Max: time.Minute}, 1, 0, 0, 100 * time.Millisecond},
		{"doubles", Backoff{Base: 100 * time.Millisecond, Max: time.Minute}, 4, 0, 0, 800 * time.Millisecond},
		{"capped", Backoff{Base: 100 * time.Millisecond, Max: time.Second}, 10, 0, 0, time.Second},
		{"no overflow", Backoff{Base: 100 * time.Millisecond, Max: time.Second}, 200, 0, 0, time.Second},
		{"zero value defaults", Backoff{}, 1, 0, 0, 500 * time.Millisecond},
		{"zero value cap 60s", Backoff{}, 40, 0, 0, time.Minute},
		{"Retry-After is a floor", Backoff{Base: time.Millisecond, Max: time.Second}, 1, 7 * time.Second, 7 * time.Second, 7 * time.Second},
		{"floor below the jitter", Backoff{Base: time.Second, Max: time.Minute}, 3, 100 * time.Millisecond, 100 * time.Millisecond, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := time.Duration(1<<62), time.Duration(0)
			for range 2000 {
				d := tt.b.Wait(tt.n, tt.floor)
				lo, hi = min(lo, d), max(hi, d)
			}
			if lo < tt.min || hi > tt.ceil {
				t.Fatalf("waits in [%v, %v], want within [%v, %v]", lo, hi, tt.min, tt.ceil)
			}
			// Full jitter: the waits spread over the whole range, not bunched at the top.
			if tt.min < tt.ceil && (lo > tt.min+(tt.ceil-tt.min)/10 || hi < tt.ceil-(tt.ceil-tt.min)/10) {
				t.Errorf("waits in [%v, %v] do not spread over [%v, %v]", lo, hi, tt.min, tt.ceil)
			}
		})
	}
}

func TestSleepStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleep on a done context = %v, want context.Canceled", err)
	}
}
