// Package stats holds the statistics sawtooth's reports use besides
// latency quantiles (those come from internal/hist): least-squares line
// fits with their coefficient of determination, the spread of repeated
// measurements, and the Mann-Whitney U test that decides whether two
// sets of repeats differ.
package stats

import (
	"encoding/json"
	"math"
	"sort"

	"golang.org/x/perf/benchmath"
	"gonum.org/v1/gonum/stat"
)

// Sorted returns a sorted copy of xs.
func Sorted(xs []float64) []float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s
}

// Mean returns the arithmetic mean of xs, 0 when xs is empty.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return stat.Mean(xs, nil)
}

// Fit is a least-squares line y = Intercept + Slope·x.
type Fit struct {
	Slope     float64 `json:"slope"`
	Intercept float64 `json:"intercept"`
	// R2 is the coefficient of determination: the fraction of the
	// variance of y the line explains (1 a perfect line, near 0 no
	// linear relation).
	R2 float64 `json:"r2"`
	// N is the number of points fitted.
	N int `json:"n"`
	// ok is true when a line was fitted (see Defined).
	ok bool
}

// Defined reports whether a line was fitted: at least three points whose
// x varies. An undefined Fit is not a slope of 0 but no slope at all.
func (f Fit) Defined() bool { return f.ok }

// MarshalJSON writes an undefined Fit as {"n": N} alone, so that no one
// reads its zero slope as a measured one.
func (f Fit) MarshalJSON() ([]byte, error) {
	type plain struct {
		Slope     *float64 `json:"slope,omitempty"`
		Intercept *float64 `json:"intercept,omitempty"`
		R2        *float64 `json:"r2,omitempty"`
		N         int      `json:"n"`
	}
	p := plain{N: f.N}
	if f.ok {
		p.Slope, p.Intercept, p.R2 = &f.Slope, &f.Intercept, &f.R2
	}
	return json.Marshal(p)
}

// LinearFit fits a line to the points (x[i], y[i]) by ordinary least
// squares (gonum/stat.LinearRegression). With fewer than three points,
// or when x does not vary, it returns a zero Fit with N set.
func LinearFit(x, y []float64) Fit {
	n := len(x)
	if n < 3 || n != len(y) {
		return Fit{N: n}
	}
	if v := stat.Variance(x, nil); v == 0 || math.IsNaN(v) {
		return Fit{N: n}
	}
	alpha, beta := stat.LinearRegression(x, y, nil, false)
	r2 := stat.RSquared(x, y, nil, alpha, beta)
	if math.IsNaN(r2) {
		// y is constant: the line explains all there is to explain.
		r2 = 1
	}
	return Fit{Slope: beta, Intercept: alpha, R2: r2, N: n, ok: true}
}

// Spread summarises repeated measurements of one number.
type Spread struct {
	Values []float64 `json:"values"`
	Min    float64   `json:"min"`
	Median float64   `json:"median"`
	Max    float64   `json:"max"`
}

// NewSpread returns the spread of values (kept in the given order).
func NewSpread(values []float64) Spread {
	s := Spread{Values: append([]float64(nil), values...)}
	if len(values) == 0 {
		return s
	}
	sorted := Sorted(values)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	if n := len(sorted); n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return s
}

// RelRange returns how far, as a fraction of center, the values stray
// from center at most: max(max/center-1, 1-min/center). It returns 0 for
// fewer than two values or a zero center.
func (s Spread) RelRange(center float64) float64 {
	if len(s.Values) < 2 || center == 0 {
		return 0
	}
	return math.Max(math.Abs(s.Max/center-1), math.Abs(1-s.Min/center))
}

// MinRepeats is the fewest repeats on each side for which Compare runs
// a significance test.
const MinRepeats = 3

// DefaultAlpha is the significance level sawtooth uses by default. The
// two-sided Mann-Whitney U test cannot give a p-value below 0.1 with
// three measurements on each side, so with the customary 0.05 three
// repeats could never show a difference; 0.1 means "every repeat of one
// side is beyond every repeat of the other" at n=3.
const DefaultAlpha = 0.1

// Comparison is the outcome of testing two sets of repeats.
type Comparison struct {
	// Tested is false when either side has fewer than MinRepeats values;
	// P and Significant are then meaningless.
	Tested bool    `json:"tested"`
	P      float64 `json:"p"`
	Alpha  float64 `json:"alpha"`
	// Significant is true when P ≤ Alpha: the two sets are unlikely to
	// come from the same distribution.
	Significant bool `json:"significant"`
}

// Compare runs a two-sided Mann-Whitney U test (golang.org/x/perf/benchmath,
// as benchstat does) on two sets of repeated measurements at level alpha.
func Compare(base, other []float64, alpha float64) Comparison {
	if len(base) < MinRepeats || len(other) < MinRepeats {
		return Comparison{Alpha: alpha}
	}
	th := &benchmath.Thresholds{CompareAlpha: alpha}
	s1 := benchmath.NewSample(append([]float64(nil), base...), th)
	s2 := benchmath.NewSample(append([]float64(nil), other...), th)
	c := benchmath.AssumeNothing.Compare(s1, s2)
	p := c.P
	if allEqual(base, other) {
		p = 1
	}
	// The exact p-values of small samples come out a hair above the
	// round numbers they are (0.1 as 0.10000000000000002).
	return Comparison{Tested: true, P: p, Alpha: alpha, Significant: p <= alpha*(1+1e-9)}
}

func allEqual(a, b []float64) bool {
	for _, x := range append(append([]float64(nil), a...), b...) {
		if x != a[0] {
			return false
		}
	}
	return true
}
