package toolkit

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFloats(t *testing.T) {
	got, err := Floats("20, 0,1.5")
	if err != nil || !slices.Equal(got, []float64{20, 0, 1.5}) {
		t.Errorf("Floats = %v, %v; want [20 0 1.5]", got, err)
	}
	for _, bad := range []string{"", "x", "-1", "1,,2", "NaN"} {
		if got, err := Floats(bad); err == nil {
			t.Errorf("Floats(%q) = %v, want an error", bad, got)
		}
	}
}

// TestFakeIdeanote checks that the fake tells the time of its first request, and that Env
// points at it.
func TestFakeIdeanote(t *testing.T) {
	srv, first := NewFakeIdeanote(0)
	srv.Start()
	defer srv.Close()
	env := Env(srv)
	if len(env) != 3 || env[0] != "IDEANOTE_BASE_URL="+srv.URL || !strings.HasPrefix(env[1], "IDEANOTE_SPACE_ID=") {
		t.Errorf("Env = %d entries, want the base URL, the space and the token", len(env))
	}
	before := time.Now()
	for range 2 {
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	select {
	case at := <-first:
		if at.Before(before) {
			t.Errorf("first request at %v, before it was sent (%v)", at, before)
		}
	default:
		t.Fatal("no time of the first request")
	}
	select {
	case <-first:
		t.Error("a second time: only the first request is told")
	default:
	}
}
