package analysis

import (
	"fmt"
	"math"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/stats"
)

// TestMinOneSidedP: the smallest one-sided U-test p-value with n and m
// values is 1/C(n+m, n), and the repeats the gate needs follow from it.
func TestMinOneSidedP(t *testing.T) {
	for _, c := range []struct {
		n, m int
		want float64
	}{{3, 3, 1.0 / 20}, {4, 4, 1.0 / 70}, {5, 5, 1.0 / 252}, {6, 6, 1.0 / 924}, {3, 5, 1.0 / 56}} {
		if got := minOneSidedP(c.n, c.m); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("minOneSidedP(%d, %d) = %v, want %v", c.n, c.m, got, c.want)
		}
	}
	for _, c := range []struct{ k, want int }{{1, 3}, {2, 4}, {3, 4}, {9, 5}, {12, 5}, {13, 6}, {18, 6}, {46, 6}, {47, 7}} {
		if got := RepeatsNeeded(c.k, 0.05); got != c.want {
			t.Errorf("RepeatsNeeded(%d, 0.05) = %d, want %d", c.k, got, c.want)
		}
	}
}

// gateRuns builds a base and a new report of one variant whose gated
// numbers CLASS.p99 (one per class, k of them) have the given per-repeat
// values in milliseconds.
func gateRuns(k int, base, new []float64) (*Report, *Report) {
	mk := func(vals []float64) *Report {
		v := VariantSummary{Name: "v", Repeats: len(vals)}
		for i := range k {
			ms := make([]float64, len(vals))
			for j, x := range vals {
				ms[j] = x / 1e3
			}
			sp := stats.NewSpread(ms)
			v.Metrics = append(v.Metrics, Metric{Name: fmt.Sprintf("c%d.p99", i), Unit: UnitSeconds, Better: BetterLower, Value: sp.Median, Spread: &sp})
		}
		return &Report{Summary: Summary{Scenario: "s", Alpha: stats.DefaultAlpha, Variants: []VariantSummary{v}}}
	}
	return mk(base), mk(new)
}

// TestGate: a clear worsening of every repeat fails the gate when the
// Holm-corrected level can be reached, and informs (never fails) when
// it cannot; a change within the baseline's own spread never fails.
func TestGate(t *testing.T) {
	base := []float64{9.9, 10, 10.1, 10.2, 10.3}
	worse := []float64{11.4, 11.5, 11.6, 11.7, 11.8} // +15%, every repeat beyond every base repeat

	// 12 gated numbers: 1/252 ≤ 0.05/12, so all fail, each at its Holm level.
	b, n := gateRuns(12, base, worse)
	c := Compare(b, n, CompareOptions{})
	if len(c.Regressions) != 12 {
		t.Errorf("12 numbers 15%% worse: %d regressions, want 12; notes %q", len(c.Regressions), c.Notes)
	}
	for i, g := range c.Regressions {
		if math.Abs(g.P-1.0/252) > 1e-9 || g.Level < 0.05/12-1e-12 || g.Level > 0.05+1e-12 {
			t.Errorf("regression %d: p %v at level %v, want p 1/252 at a Holm level between 0.05/12 and 0.05", i, g.P, g.Level)
		}
	}
	// 13: 1/252 > 0.05/13; nothing can fail, and compare says how many
	// repeats it needs.
	b13, n13 := gateRuns(13, base, worse)
	c = Compare(b13, n13, CompareOptions{})
	if len(c.Regressions) != 0 || !hasNote(c.Notes, "use repeat: 6 or more") {
		t.Errorf("13 numbers: %d regressions, notes %q; want none and a note asking for 6 repeats", len(c.Regressions), c.Notes)
	}
	// Below the bound: 15% worse does not fail a 20% bound.
	b, n = gateRuns(2, base, worse)
	if c := Compare(b, n, CompareOptions{MaxRegression: 0.2}); len(c.Regressions) != 0 {
		t.Errorf("15%% worse with a 20%% bound: %d regressions", len(c.Regressions))
	}
	// A baseline repeat 50% below its median: the margin is the spread,
	// and a 15% worsening, significant as it is, is within it.
	wide := []float64{5, 10, 10.1, 10.2, 10.3}
	b, n = gateRuns(2, wide, worse)
	c = Compare(b, n, CompareOptions{MaxRegression: 0.01})
	if len(c.Regressions) != 0 {
		t.Errorf("a worsening within the baseline's spread: %d regressions", len(c.Regressions))
	}
	for _, g := range c.Gate {
		if !g.Worse || math.Abs(g.Margin-(1-5/10.1)) > 1e-9 {
			t.Errorf("gate %+v: want worse by the test, with margin the baseline's spread %.3f", g, 1-5/10.1)
		}
	}
	// Better is never worse: the same numbers the other way round.
	b, n = gateRuns(2, worse, base)
	if c := Compare(b, n, CompareOptions{}); len(c.Regressions) != 0 || c.Gate[0].P < 0.5 {
		t.Errorf("an improvement: %d regressions, one-sided p %v; want none and p near 1", len(c.Regressions), c.Gate[0].P)
	}
	// Two repeats: untested, shown, never failed on.
	b, n = gateRuns(2, base[:2], []float64{50, 60})
	c = Compare(b, n, CompareOptions{})
	if len(c.Regressions) != 0 || !hasNote(c.Notes, "cannot fail the comparison") {
		t.Errorf("2 repeats, 5x worse: %d regressions, notes %q; want none and a note", len(c.Regressions), c.Notes)
	}
}
