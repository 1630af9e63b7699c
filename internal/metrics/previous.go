package metrics

import (
	"io"
	"math"
	"os"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// maxPrevious bounds what is read of the file being replaced: ours is well under a
// kilobyte, so anything bigger is not ours.
const maxPrevious = 1 << 20

// previousLastSuccess is the value of the series name in the metrics file at path, or 0
// when the file is missing, unreadable, not in the text format, or has no usable value.
// Any of those only loses the carried-over time, so none is an error: the run's own
// series are still written.
func previousLastSuccess(path, name string) float64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(io.LimitReader(f, maxPrevious))
	if err != nil {
		return 0
	}
	mf := families[name]
	if mf == nil || len(mf.GetMetric()) != 1 {
		return 0
	}
	m := mf.GetMetric()[0]
	var v float64
	switch {
	case m.GetGauge() != nil:
		v = m.GetGauge().GetValue()
	case m.GetUntyped() != nil: // written by hand or by another tool
		v = m.GetUntyped().GetValue()
	default:
		return 0
	}
	if !validTimestamp(v) {
		return 0
	}
	return v
}

// validTimestamp says whether v can be a last success carried over.
func validTimestamp(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0
}
