package attack

import (
	"math"
	"math/rand/v2"
	"time"
)

// arrivals draws the due times of a Poisson segment. It is a Poisson
// process conditioned on sending exactly the requests an evenly spaced
// segment sends (N, the same count), the first at the segment's start as
// there: the other N−1 arrival positions, in expected hits, are the order
// statistics of N−1 uniform draws on [0, Hits(D)], mapped to times
// through the inverse of Hits. Their gaps are exponential
// with the segment's rate (exactly so in the limit of many requests, and
// within the noise of a Kolmogorov–Smirnov test at 100), and a ramp
// stays a ramp; unlike an unconditioned process, the count, and so the
// achieved rate, does not vary from seed to seed, which keeps variants
// comparable. The order statistics are drawn one after the other
// (U₍ₖ₊₁₎ = 1 − (1 − U₍ₖ₎)·V^(1/(N−1−k))), in constant memory.
type arrivals struct {
	seg   Segment
	rng   *rand.Rand
	total float64 // Hits(D): expected hits over the segment
	n     uint64  // N, the requests to send
	k     uint64  // order statistics drawn so far
	u     float64 // the k-th, in [0, 1]
	off   time.Duration
	ok    bool
}

// newArrivals returns the arrivals of open segment s, the index-th of its
// pacer, from a generator seeded by seed and index.
func newArrivals(s Segment, seed uint64, index int) *arrivals {
	a := &arrivals{seg: s, total: s.Hits(s.Duration),
		rng: rand.New(rand.NewPCG(seed, 0x9015_5011^uint64(index)))}
	a.n = s.poissonCount()
	return a
}

// poissonCount is the number of requests a Poisson segment sends: as an
// evenly spaced segment sends request n at Hits⁻¹(n) for every
// n < Hits(D), ceil(Hits(D)) requests.
func (s Segment) poissonCount() uint64 {
	if total := s.Hits(s.Duration); total > 0 {
		return uint64(math.Ceil(total - 1e-9))
	}
	return 0
}

// due returns the offset of request n (from 0) into the segment, and
// false when the segment sends fewer than n+1 requests. Calls must not go
// back: n may repeat or grow, as Pace's hits do.
func (a *arrivals) due(n uint64) (time.Duration, bool) {
	if n >= a.n {
		return 0, false
	}
	if n == 0 {
		return 0, true
	}
	for a.k < n {
		v := 1 - a.rng.Float64() // in (0, 1]
		a.u = 1 - (1-a.u)*math.Pow(v, 1/float64(a.n-1-a.k))
		a.k++
		a.off, a.ok = a.seg.offset(a.u * a.total)
		if !a.ok {
			// Rounding at the very end: the last instant of the segment.
			a.off, a.ok = a.seg.Duration-1, true
		}
	}
	return a.off, a.ok
}

// Schedule returns the offsets from the start at which the open-model
// segments of segs are due to send their requests, as a Pacer seeded with
// seed sends them (closed-model segments contribute none). Tests and
// reports use it to check the arrival process without a clock.
func Schedule(segs []Segment, seed uint64) []time.Duration {
	var out []time.Duration
	var start time.Duration
	for i, s := range segs {
		if s.Open() {
			var arr *arrivals
			if s.Poisson {
				arr = newArrivals(s, seed, i)
			}
			for n := uint64(0); ; n++ {
				var off time.Duration
				var ok bool
				if arr != nil {
					off, ok = arr.due(n)
				} else {
					off, ok = s.due(n)
				}
				if !ok {
					break
				}
				out = append(out, start+off)
			}
		}
		start += s.Duration
	}
	return out
}

// Seed sets the seed of the Poisson segments' arrivals; the same seed
// gives the same due times. Call it before the attack.
func (p *Pacer) Seed(seed uint64) { p.seed = seed }
