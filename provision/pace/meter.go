package pace

import "time"

// meter counts events in the last meterBuckets x meterBucket, for a rate "now" that is steady
// enough to read on a progress bar.
type meter struct {
	start  time.Time               // the first event
	counts [meterBuckets]int       // events by bucket, a ring
	ends   [meterBuckets]time.Time // end of each bucket's span
}

const (
	meterBuckets = 20
	meterBucket  = 250 * time.Millisecond
)

func (m *meter) add(now time.Time) {
	if m.start.IsZero() {
		m.start = now
	}
	i := m.index(now)
	if end := now.Truncate(meterBucket).Add(meterBucket); !m.ends[i].Equal(end) {
		m.ends[i], m.counts[i] = end, 0
	}
	m.counts[i]++
}

func (m *meter) index(t time.Time) int {
	return int(t.UnixNano()/int64(meterBucket)) % meterBuckets
}

// rate is events a second over the last meterBuckets x meterBucket, or since the first event
// when that is more recent.
func (m *meter) rate(now time.Time) float64 {
	if m.start.IsZero() {
		return 0
	}
	span := meterBuckets * meterBucket
	from := now.Add(-span)
	n := 0
	for i := range m.counts {
		if m.ends[i].After(from) && !m.ends[i].Add(-meterBucket).After(now) {
			n += m.counts[i]
		}
	}
	if since := now.Sub(m.start); since < span {
		span = max(since, meterBucket)
	}
	return float64(n) / span.Seconds()
}
