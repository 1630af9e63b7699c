package tick

import (
	"testing"
	"testing/synctest"
	"time"
)

func TestEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stop, done := make(chan struct{}), make(chan struct{})
		var calls []time.Duration
		start := time.Now()
		go func() {
			defer close(done)
			Every(time.Second, stop, func() { calls = append(calls, time.Since(start)) })
		}()
		time.Sleep(3500 * time.Millisecond)
		close(stop)
		<-done
		want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
		if len(calls) != len(want) {
			t.Fatalf("called at %v, want %v", calls, want)
		}
		for i := range want {
			if calls[i] != want[i] {
				t.Errorf("call %d at %v, want %v", i, calls[i], want[i])
			}
		}
		time.Sleep(2 * time.Second)
		if len(calls) != len(want) {
			t.Errorf("called after stop: %v", calls)
		}
	})
}
