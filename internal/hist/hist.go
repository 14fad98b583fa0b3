// Package hist counts durations in a histogram of logarithmic buckets:
// constant memory however many durations it holds, quantiles to within 1%
// from 1 µs to 1 h, the exact count, minimum and maximum, and merging of
// histograms (say the repeats of a run).
package hist

import (
	"math"
	"time"
)

const (
	// minValue is the upper bound of the first bucket: durations up to
	// it are not told apart.
	minValue = float64(time.Microsecond)
	// growth is the ratio between consecutive bucket bounds. A bucket's
	// geometric middle is within √growth−1 < 1% of anything in it.
	growth = 1.02
	// maxValue is the largest duration quantiles are precise for; longer
	// ones share the last bucket.
	maxValue = float64(time.Hour)
)

var (
	logGrowth = math.Log(growth)
	// nBuckets is the first bucket, the log buckets up to maxValue, and
	// the last one for everything longer: 1,114 in all.
	nBuckets = int(math.Ceil(math.Log(maxValue/minValue)/logGrowth)) + 2
)

// Histogram counts durations. The zero value is empty and ready to use.
// It is not safe for concurrent use.
type Histogram struct {
	counts   []uint64 // allocated on the first Record or Merge
	n        int64
	min, max time.Duration
}

// bucket returns the bucket of d: 0 for d ≤ 1 µs, i for
// 1 µs·growth^(i-1) < d ≤ 1 µs·growth^i, and the last for anything
// beyond an hour.
func bucket(d time.Duration) int {
	f := float64(d)
	if f <= minValue {
		return 0
	}
	i := int(math.Ceil(math.Log(f/minValue) / logGrowth))
	return min(max(i, 1), nBuckets-1)
}

// Record adds one duration; a negative one counts as 0.
func (h *Histogram) Record(d time.Duration) {
	d = max(d, 0)
	if h.counts == nil {
		h.counts = make([]uint64, nBuckets)
	}
	h.counts[bucket(d)]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	h.max = max(h.max, d)
	h.n++
}

// Reset empties h and keeps its buckets' memory for reuse.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.n, h.min, h.max = 0, 0, 0
}

// Merge adds every duration of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, nBuckets)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
}

// Count returns the number of durations recorded.
func (h *Histogram) Count() int64 { return h.n }

// Min returns the smallest duration recorded, 0 when empty.
func (h *Histogram) Min() time.Duration { return h.min }

// Max returns the largest duration recorded, 0 when empty.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the q-quantile (0 ≤ q ≤ 1) by the nearest-rank
// method: the smallest recorded duration such that at least a fraction q
// of them are less than or equal to it. It is that duration to within 1%
// when it lies between 1 µs and 1 h (to within 1 µs below), and exact
// when it is the minimum or the maximum (q = 1 is always Max). It
// returns 0 when empty.
//
// A q computed in floating point (99.9/100 is 0.9990000000000001) is
// taken at its decimal value: a rank a rounding error above a whole
// number is that number.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n) * (1 - 1e-14)))
	rank = min(max(rank, 1), h.n)
	switch rank {
	case 1:
		return h.min
	case h.n:
		return h.max
	}
	var seen int64
	for i, c := range h.counts {
		seen += int64(c)
		if seen < rank {
			continue
		}
		var v time.Duration
		switch i {
		case 0:
			v = time.Duration(minValue)
		case nBuckets - 1: // everything beyond an hour
			v = h.max
		default: // the bucket's geometric middle
			v = time.Duration(math.Round(minValue * math.Pow(growth, float64(i)-0.5)))
		}
		return min(max(v, h.min), h.max)
	}
	return h.max
}
