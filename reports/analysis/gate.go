package analysis

import (
	"fmt"
	"math"
	"sort"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
	"github.com/sawtooth-dev/sawtooth/reports/stats"
)

// DefaultGateAlpha is the family-wise false-alarm rate of compare's gate:
// the chance that two runs of the same code fail it, over all its gated
// numbers together.
const DefaultGateAlpha = 0.05

// The gate (docs/ci.md) fails a comparison on a gated number only when
//
//  1. both sides have at least stats.MinRepeats repeats, so a test can be
//     run at all (an untested change is shown, never failed on);
//  2. a one-sided Mann-Whitney U test of the repeats says the number got
//     worse, at the Holm-corrected level over every gated number of every
//     variant (so the family of tests, not each test, has the false-alarm
//     rate alpha);
//  3. the change is larger than the bound (--max-regression), than the
//     unit's absolute floor (1 ms, 0.1 percentage point, 1 MiB), and
//     than the baseline's own spread: the median of the new repeats lies
//     further from the baseline's median than any baseline repeat does.

// Gated reports whether a regression of metric name can fail a
// comparison, as the metric catalogue says (metric.Def.Gated).
func Gated(name string) bool {
	d, ok := metric.Lookup(name)
	return ok && d.Gated
}

// GateTest is the gate's verdict on one gated number of one variant.
type GateTest struct {
	Delta
	// Tested is true when both sides had enough repeats for a test.
	Tested bool `json:"tested"`
	// P is the one-sided p-value of "the new run is worse" (Mann-Whitney
	// U, from the two-sided test's p), and Level the Holm-corrected level
	// it was held to; Worse is true when P ≤ Level.
	P     float64 `json:"p"`
	Level float64 `json:"level"`
	Worse bool    `json:"worse"`
	// Margin is the smallest worsening that fails the gate: the larger
	// of the bound and the baseline's relative spread.
	Margin float64 `json:"margin"`
	// MedianWorsening is how much worse the new repeats' median is than
	// the baseline's, as a fraction of the baseline's.
	MedianWorsening float64 `json:"median_worsening"`
}

// oneSided turns the two-sided p of a Mann-Whitney U test into the
// one-sided p of a worsening: the U statistic's null distribution is
// symmetric, so the tail in the observed direction holds half of p.
func oneSided(p2 float64, worse bool) float64 {
	if worse {
		return p2 / 2
	}
	return 1 - p2/2
}

// minOneSidedP is the smallest one-sided p-value a Mann-Whitney U test
// can give with n and m values: 1 / C(n+m, n), every value of one side
// beyond every value of the other.
func minOneSidedP(n, m int) float64 {
	c := 1.0
	for i := 1; i <= n; i++ {
		c = c * float64(m+i) / float64(i)
	}
	return 1 / c
}

// RepeatsNeeded returns the fewest repeats per side with which the gate
// can show a change among k gated numbers at family-wise level alpha.
func RepeatsNeeded(k int, alpha float64) int {
	n := stats.MinRepeats
	for k > 0 && minOneSidedP(n, n) > alpha/float64(k)*(1+1e-9) && n < 1000 {
		n++
	}
	return n
}

// medianWorsening is how much worse the median of new's values is than
// base's median, by the direction better (as Delta.Worsening).
func medianWorsening(b, n Metric) (w, spread float64) {
	bs, ns := stats.NewSpread(b.values()), stats.NewSpread(n.values())
	d := Delta{Better: n.Better, Base: bs.Median, Value: ns.Median}
	return d.Worsening(), bs.RelRange(bs.Median)
}

// gate runs the gate over the gated deltas of c: Holm's step-down
// procedure over the one-sided p-values of every tested gated number,
// then the margins. It fills c.Gate and c.Regressions, and notes what
// the repeats could not test.
func (c *RunComparison) gate() {
	var idx []int // indexes into c.Gate of tested numbers
	untested := 0
	minP := 1.0 // the smallest p any tested number could have
	for _, d := range c.Deltas {
		if !Gated(d.Metric) {
			continue
		}
		b, _ := c.Base.variant(d.Variant).Metric(d.Metric)
		n, _ := c.New.variant(d.Variant).Metric(d.Metric)
		g := GateTest{Delta: d, Tested: d.Test.Tested, P: 1}
		var spread float64
		g.MedianWorsening, spread = medianWorsening(b, n)
		g.Margin = math.Max(c.MaxRegression, spread)
		if g.Tested {
			g.P = oneSided(d.Test.P, g.MedianWorsening > 0)
			idx = append(idx, len(c.Gate))
			minP = math.Min(minP, minOneSidedP(len(b.values()), len(n.values())))
		} else {
			untested++
		}
		c.Gate = append(c.Gate, g)
	}
	k := len(idx)
	sort.SliceStable(idx, func(i, j int) bool { return c.Gate[idx[i]].P < c.Gate[idx[j]].P })
	rejecting := true
	for rank, i := range idx {
		g := &c.Gate[i]
		g.Level = c.Alpha / float64(k-rank)
		// Holm: reject in order of p until the first that is not.
		rejecting = rejecting && g.P <= g.Level*(1+1e-9)
		g.Worse = rejecting
	}
	for _, g := range c.Gate {
		if g.Worse && g.MedianWorsening > g.Margin && g.Worsening() > c.MaxRegression && math.Abs(g.Value-g.Base) > floor(g.Unit) {
			c.Regressions = append(c.Regressions, g)
		}
	}
	if untested > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("%d gated number(s) had fewer than %d repeats on a side: they are shown, not tested, and cannot fail the comparison (set repeat: %d or more)",
			untested, stats.MinRepeats, RepeatsNeeded(k+untested, c.Alpha)))
	}
	if k > 0 && minP > c.Alpha/float64(k)*(1+1e-9) {
		c.Notes = append(c.Notes, fmt.Sprintf("with these repeats no change among %d gated numbers can reach the gate's level (%.3g/%d): the comparison informs but cannot fail; use repeat: %d or more on both sides",
			k, c.Alpha, k, RepeatsNeeded(k, c.Alpha)))
	}
}

// Comparable returns an error saying why base and new should not be
// compared: runs of different scenarios, or a --quick run against a full
// one (its phases were a tenth as long). compare refuses them unless
// forced.
func Comparable(base, new *Report) error {
	bs, ns := base.Summary, new.Summary
	if bs.Scenario != ns.Scenario {
		return fmt.Errorf("the runs are of different scenarios (%q and %q)", bs.Scenario, ns.Scenario)
	}
	if bs.Quick != ns.Quick {
		quick := func(q bool) string {
			if q {
				return "--quick"
			}
			return "full"
		}
		return fmt.Errorf("the base run is %s and the new run %s: their phases differ in length", quick(bs.Quick), quick(ns.Quick))
	}
	return nil
}
