package plant

import (
	"slices"
	"sync"
	"testing"
)

// TestEachReturnsAfterItsSubtests: a caller reads plant.Each(t, ...) as a call that is done
// when it returns, and may check or clean up after it; that holds only if every way has run.
func TestEachReturnsAfterItsSubtests(t *testing.T) {
	var (
		mu  sync.Mutex
		ran []string
	)
	Each(t, func(t *testing.T, how func(t *testing.T, victim, at string)) {
		mu.Lock()
		defer mu.Unlock()
		ran = append(ran, t.Name())
	})
	mu.Lock()
	defer mu.Unlock()
	want := []string{t.Name() + "/a_symbolic_link", t.Name() + "/another_user's_file"}
	if !slices.Equal(ran, want) {
		t.Errorf("when Each returned, ran %q, want %q", ran, want)
	}
}
