package hist

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exact returns the nearest-rank q-quantile of sorted.
func exact(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted))*(1-1e-14))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func TestQuantileWithinOnePercent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	var all []time.Duration
	for range 200000 {
		// Log-uniform from 1 µs to 1 h.
		d := time.Duration(math.Exp(rng.Float64()*math.Log(3.6e9)) * 1e3)
		h.Record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0, 0.001, 0.1, 0.25, 0.5, 0.9, 0.99, 0.999, 99.99 / 100, 0.99999, 1} {
		got, want := h.Quantile(q), exact(all, q)
		if rel := math.Abs(float64(got)/float64(want) - 1); rel > 0.01 {
			t.Errorf("Quantile(%g) = %v, want %v within 1%% (off by %.3f%%)", q, got, want, rel*100)
		}
	}
	if h.Count() != int64(len(all)) || h.Min() != all[0] || h.Max() != all[len(all)-1] {
		t.Errorf("count, min, max = %d, %v, %v; want %d, %v, %v", h.Count(), h.Min(), h.Max(), len(all), all[0], all[len(all)-1])
	}
	if h.Quantile(0) != all[0] || h.Quantile(1) != all[len(all)-1] {
		t.Errorf("Quantile(0), Quantile(1) = %v, %v; want the exact min %v and max %v", h.Quantile(0), h.Quantile(1), all[0], all[len(all)-1])
	}
}

func TestQuantileNearestRank(t *testing.T) {
	var h Histogram
	// 999 fast requests and one slow one: the p99.9 is the 999th, fast.
	for range 999 {
		h.Record(10 * time.Millisecond)
	}
	h.Record(2 * time.Second)
	if got := h.Quantile(99.9 / 100); math.Abs(float64(got)/float64(10*time.Millisecond)-1) > 0.01 {
		t.Errorf("p99.9 of 999×10ms + 2s = %v, want 10ms within 1%%", got)
	}
	if got := h.Quantile(0.9995); got != 2*time.Second {
		t.Errorf("p99.95 = %v, want the max 2s", got)
	}
}

func TestMergeEqualsRecordingAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var a, b, all Histogram
	for i := range 10000 {
		d := time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond))
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
		all.Record(d)
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	m.Merge(&Histogram{})
	if m.Count() != all.Count() || m.Min() != all.Min() || m.Max() != all.Max() {
		t.Fatalf("merged count, min, max = %d, %v, %v; want %d, %v, %v", m.Count(), m.Min(), m.Max(), all.Count(), all.Min(), all.Max())
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		if m.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged Quantile(%g) = %v, want %v", q, m.Quantile(q), all.Quantile(q))
		}
	}
}

func TestEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Count() != 0 || h.Max() != 0 {
		t.Errorf("empty histogram: Quantile(0.5), Count, Max = %v, %d, %v; want zeros", h.Quantile(0.5), h.Count(), h.Max())
	}
	h.Record(-time.Second)
	h.Record(500 * time.Nanosecond)
	h.Record(2 * time.Hour)
	h.Record(3 * time.Hour)
	if h.Min() != 0 {
		t.Errorf("negative duration: Min = %v, want 0", h.Min())
	}
	if got := h.Quantile(0.5); got != time.Microsecond {
		t.Errorf("median of 0, 500ns, 2h, 3h = %v, want 1µs (the first bucket)", got)
	}
	if got := h.Quantile(0.75); got != 3*time.Hour {
		t.Errorf("p75 beyond an hour = %v, want the max 3h (the last bucket)", got)
	}
}

func TestBucketBounds(t *testing.T) {
	if nBuckets != 1114 {
		t.Errorf("nBuckets = %d, want 1114 (1 µs to 1 h at 2%% per bucket)", nBuckets)
	}
	for _, d := range []time.Duration{time.Microsecond + 1, time.Millisecond, time.Second, time.Hour} {
		i := bucket(d)
		lo, hi := minValue*math.Pow(growth, float64(i-1)), minValue*math.Pow(growth, float64(i))
		if f := float64(d); f <= lo*(1-1e-12) || f > hi*(1+1e-12) {
			t.Errorf("bucket(%v) = %d spanning (%g, %g] ns", d, i, lo, hi)
		}
	}
	if bucket(time.Hour) == nBuckets-1 || bucket(2*time.Hour) != nBuckets-1 {
		t.Errorf("bucket(1h), bucket(2h) = %d, %d; want a regular bucket and the last (%d)", bucket(time.Hour), bucket(2*time.Hour), nBuckets-1)
	}
}

// BenchmarkRecord records one duration.
func BenchmarkRecord(b *testing.B) {
	var h Histogram
	d := 3 * time.Millisecond
	for b.Loop() {
		h.Record(d)
		d += 7
	}
}

// TestReset checks that a reset histogram is empty and records afresh.
func TestReset(t *testing.T) {
	var h Histogram
	h.Record(time.Second)
	h.Record(time.Millisecond)
	h.Reset()
	if h.Count() != 0 || h.Max() != 0 || h.Min() != 0 || h.Quantile(0.5) != 0 {
		t.Fatalf("after Reset: count %d max %v min %v", h.Count(), h.Max(), h.Min())
	}
	h.Record(2 * time.Millisecond)
	if h.Count() != 1 || h.Max() != 2*time.Millisecond || h.Min() != 2*time.Millisecond {
		t.Errorf("after Reset and Record: count %d max %v min %v", h.Count(), h.Max(), h.Min())
	}
}
