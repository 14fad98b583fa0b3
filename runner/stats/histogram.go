// Package stats aggregates latencies in constant memory: a log-bucketed
// histogram with 1% relative precision and a per-interval, per-class
// timeline built from it, so the harness's memory does not grow with the
// length of a run.
package stats

import (
	"math"
	"time"
)

const (
	// minLatency is the smallest latency told apart; smaller ones fall
	// in the first bucket.
	minLatency = float64(time.Microsecond)
	// growth is the ratio between bucket bounds: quantiles are exact to
	// within 1%.
	growth = 1.02
	// nBuckets covers 1µs to over 10 minutes.
	nBuckets = 1100
)

var logGrowth = math.Log(growth)

// Histogram counts latencies in logarithmic buckets. The zero value is
// empty and ready to use. It is not safe for concurrent use.
type Histogram struct {
	counts [nBuckets]uint32
	n      int64
	max    time.Duration
}

func bucket(d time.Duration) int {
	f := float64(d)
	if f <= minLatency {
		return 0
	}
	i := int(math.Log(f/minLatency)/logGrowth) + 1
	return min(i, nBuckets-1)
}

// upper returns the upper bound of bucket i in nanoseconds.
func upper(i int) float64 {
	return minLatency * math.Pow(growth, float64(i))
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.record(bucket(d), d)
}

// record adds latency d ≥ 0 whose bucket b is already known.
func (h *Histogram) record(b int, d time.Duration) {
	h.counts[b]++
	h.n++
	h.max = max(h.max, d)
}

// Count returns the number of latencies recorded.
func (h *Histogram) Count() int64 { return h.n }

// Max returns the largest latency recorded.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the q-quantile (0 ≤ q ≤ 1) to within 2%, never more
// than Max; 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	if rank >= h.n {
		return h.max
	}
	var seen int64
	for i, c := range h.counts {
		seen += int64(c)
		if seen >= rank {
			// The geometric middle of the bucket.
			v := time.Duration(upper(i) / math.Sqrt(growth))
			switch i {
			case 0:
				v = time.Duration(minLatency)
			case nBuckets - 1: // holds everything above the range
				v = h.max
			}
			return min(v, h.max)
		}
	}
	return h.max
}
