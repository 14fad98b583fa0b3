package attack

import (
	"math"
	"slices"
	"sort"
	"testing"
	"time"
)

// ksExponential returns the Kolmogorov–Smirnov statistic of gaps (in
// seconds) against the exponential distribution of the given rate, and
// its critical value at the 1% level (Stephens' approximation).
func ksExponential(gaps []float64, rate float64) (d, crit float64) {
	x := slices.Clone(gaps)
	sort.Float64s(x)
	n := float64(len(x))
	for i, v := range x {
		f := 1 - math.Exp(-rate*v)
		d = math.Max(d, math.Max(float64(i+1)/n-f, f-float64(i)/n))
	}
	crit = 1.628 / (math.Sqrt(n) + 0.12 + 0.11/math.Sqrt(n))
	return d, crit
}

func gapsOf(due []time.Duration) []float64 {
	var g []float64
	for i := 1; i < len(due); i++ {
		g = append(g, (due[i] - due[i-1]).Seconds())
	}
	return g
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// simulateSeeded runs a seeded pacer on a virtual clock, as simulate does.
func simulateSeeded(t *testing.T, segs []Segment, seed uint64) []time.Duration {
	t.Helper()
	p := NewPacer(segs, nil)
	p.Seed(seed)
	base := time.Unix(1000, 0)
	var elapsed time.Duration
	p.now = func() time.Time { return base.Add(elapsed) }
	p.fakeSleep = func(d time.Duration) { elapsed += d }
	var sent []time.Duration
	for hits := uint64(0); ; hits++ {
		if _, stop := p.Pace(elapsed, hits); stop {
			return sent
		}
		due, ok := p.Due(hits)
		if !ok {
			t.Fatalf("request %d has no due time", hits)
		}
		sent = append(sent, due.Sub(base))
	}
}

// The heavy stream: 5 req/s for 20 s. Poisson gaps pass a KS test
// against the exponential at 5/s at the 1% level, their mean is within
// 5% of 200 ms, the count is the uniform stream's (100, so the achieved
// rate is exact), and the seed fixes the schedule. On the planned send
// times, not on a clock.
func TestPoissonArrivals(t *testing.T) {
	const rate = 5.0
	segs := []Segment{{Name: "heavy", Duration: 20 * time.Second, From: rate, To: rate, Poisson: true}}
	due := Schedule(segs, 42)
	if len(due) != 100 {
		t.Fatalf("%d requests planned, want 100 (5/s for 20s)", len(due))
	}
	if !slices.IsSorted(due) || due[0] < 0 || due[len(due)-1] >= 20*time.Second {
		t.Fatalf("due times out of order or outside the phase: first %v last %v", due[0], due[len(due)-1])
	}
	gaps := gapsOf(due)
	d, crit := ksExponential(gaps, rate)
	t.Logf("seed 42: KS D = %.4f (critical %.4f at 1%%), mean gap %.4fs", d, crit, mean(gaps))
	if d > crit {
		t.Errorf("KS statistic %.4f above the 1%% critical value %.4f: gaps are not exponential at %g/s", d, crit, rate)
	}
	if m := mean(gaps); math.Abs(m-1/rate) > 0.05/rate {
		t.Errorf("mean gap %.4fs, want %.4fs ± 5%%", m, 1/rate)
	}
	if !slices.Equal(due, Schedule(segs, 42)) {
		t.Error("the same seed gave a different schedule")
	}
	if slices.Equal(due, Schedule(segs, 43)) {
		t.Error("another seed gave the same schedule")
	}
	// The pacer sends on exactly that schedule.
	if got := simulateSeeded(t, segs, 42); !slices.Equal(got, due) {
		t.Errorf("the pacer's due times differ from Schedule's (%d vs %d requests)", len(got), len(due))
	}

	// Uniform: evenly spaced, every gap 200 ms.
	segs[0].Poisson = false
	for i, g := range gapsOf(Schedule(segs, 42)) {
		if math.Abs(g-1/rate) > 1e-6 {
			t.Fatalf("uniform gap %d = %vs, want 0.2s", i, g)
		}
	}
}

// The false-alarm rate of that KS test over many seeds is near its 1%
// level (the order statistics are not quite independent exponentials),
// and the mean gap strays beyond 5% for fewer than 1% of seeds (only when
// the last of the 99 random arrivals falls more than 1.2 s before the
// end: 0.94^99 ≈ 0.2%); a ramp stays a ramp.
func TestPoissonFalseAlarms(t *testing.T) {
	const seeds = 1000
	segs := []Segment{{Duration: 20 * time.Second, From: 5, To: 5, Poisson: true}}
	fails, meanOff := 0, 0
	for seed := uint64(1); seed <= seeds; seed++ {
		gaps := gapsOf(Schedule(segs, seed))
		if d, crit := ksExponential(gaps, 5); d > crit {
			fails++
		}
		if math.Abs(mean(gaps)-0.2) > 0.01 {
			meanOff++
		}
	}
	t.Logf("KS at 1%%: %d of %d seeds rejected; mean gap off by more than 5%%: %d", fails, seeds, meanOff)
	if fails > 25 {
		t.Errorf("KS rejected %d of %d seeds at the 1%% level, want about 10", fails, seeds)
	}
	if meanOff > seeds/100 {
		t.Errorf("mean gap off by more than 5%% for %d of %d seeds", meanOff, seeds)
	}

	ramp := []Segment{{Duration: 10 * time.Second, From: 0, To: 200, Poisson: true}}
	due := Schedule(ramp, 7)
	if len(due) != 1000 {
		t.Fatalf("ramp: %d requests, want 1000", len(due))
	}
	first := 0
	for _, d := range due {
		if d < 5*time.Second {
			first++
		}
	}
	// A quarter of the requests fall in the first half of a ramp from 0.
	if first < 200 || first > 300 {
		t.Errorf("ramp: %d of 1000 requests in the first half, want about 250", first)
	}
}

// The two streams, 100 and 5 req/s for 20 s, each on its own
// pacer: 2,000 and 100 requests (the rates exactly), evenly spaced at 10
// and 200 ms with arrival uniform.
func TestTwoStreamsSchedule(t *testing.T) {
	for _, c := range []struct {
		rate float64
		n    int
	}{{100, 2000}, {5, 100}} {
		segs := []Segment{{Duration: 20 * time.Second, From: c.rate, To: c.rate}}
		due := simulateSeeded(t, segs, 1)
		if len(due) != c.n {
			t.Errorf("%g req/s for 20s: %d requests, want %d", c.rate, len(due), c.n)
		}
		for i, g := range gapsOf(due) {
			if math.Abs(g-1/c.rate) > 1e-6 {
				t.Fatalf("%g req/s: gap %d = %vs, want %vs", c.rate, i, g, 1/c.rate)
			}
		}
	}
}
