// Package tick runs a function at a fixed interval until told to stop: the loop behind the
// report's periodic sync, the state's periodic flush and the progress bar's redraws.
package tick

import "time"

// Every calls f every d until stop is closed. A call in progress when stop closes ends first.
func Every(d time.Duration, stop <-chan struct{}, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			f()
		}
	}
}
