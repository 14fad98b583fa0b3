package reports

import (
	"fmt"
	"io"
	"math"
)

// DefaultMaxRegression is the worsening, as a fraction, that Compare
// tolerates by default.
const DefaultMaxRegression = 0.10

// CompareOptions configure Compare.
type CompareOptions struct {
	// MaxRegression is the largest worsening tolerated, as a fraction
	// (0.1 is 10%); DefaultMaxRegression when 0.
	MaxRegression float64
	// Alpha is the gate's family-wise false-alarm rate, over every gated
	// number of every variant; DefaultGateAlpha when 0.
	Alpha float64
}

// RunComparison compares two runs of the same scenario, variant by
// variant (say the main branch's and a pull request's).
type RunComparison struct {
	Base, New     *Report
	MaxRegression float64
	Alpha         float64
	// Deltas compare every directional metric of every variant present
	// in both runs; Delta.Variant is the variant.
	Deltas []Delta
	// Gate is the gate's verdict on every gated number (see gate.go and
	// docs/ci.md).
	Gate []GateTest
	// Regressions are the gated numbers that failed the gate: worse by a
	// one-sided Mann-Whitney U test at the Holm-corrected level, by more
	// than MaxRegression, the baseline's spread and a small absolute
	// floor (1 ms, 0.1 percentage points of errors, 1 MiB).
	Regressions []GateTest
	// Notes are caveats: variants in one run only, a different scenario,
	// too few repeats for a significance test.
	Notes []string
}

// floor is the smallest absolute change of a unit worth failing on.
func floor(unit string) float64 {
	switch unit {
	case UnitSeconds:
		return 1e-3
	case UnitRatio:
		return 1e-3
	case UnitBytes:
		return 1 << 20
	}
	return 0
}

// Worsening returns how much worse d.Value is than d.Base as a fraction
// of d.Base, by the metric's direction (negative when better; +Inf when
// Base is 0 and Value is worse).
func (d Delta) Worsening() float64 {
	diff := d.Value - d.Base
	if d.Better == BetterHigher {
		diff = -diff
	}
	if d.Base == 0 {
		switch {
		case diff > 0:
			return math.Inf(1)
		case diff < 0:
			return math.Inf(-1)
		}
		return 0
	}
	return diff / math.Abs(d.Base)
}

// Compare compares run new with run base.
func Compare(base, new *Report, opts CompareOptions) *RunComparison {
	if opts.MaxRegression == 0 {
		opts.MaxRegression = DefaultMaxRegression
	}
	if opts.Alpha == 0 {
		opts.Alpha = DefaultGateAlpha
	}
	c := &RunComparison{Base: base, New: new, MaxRegression: opts.MaxRegression, Alpha: opts.Alpha}
	if base.Summary.Scenario != new.Summary.Scenario {
		c.Notes = append(c.Notes, fmt.Sprintf("the runs are of different scenarios (%q and %q)", base.Summary.Scenario, new.Summary.Scenario))
	}
	for i := range new.Summary.Variants {
		nv := &new.Summary.Variants[i]
		bv := base.variant(nv.Name)
		if bv == nil {
			c.Notes = append(c.Notes, fmt.Sprintf("variant %s is only in the new run", nv.Name))
			continue
		}
		c.Deltas = append(c.Deltas, compareVariants(bv, nv, nv.Name, base.Summary.Alpha)...)
	}
	for _, bv := range base.Summary.Variants {
		if new.variant(bv.Name) == nil {
			c.Notes = append(c.Notes, fmt.Sprintf("variant %s is only in the base run", bv.Name))
		}
	}
	c.gate()
	return c
}

// RegressionText says which number regressed and by how much, e.g.
// "max-requests: light.p99 2.10ms → 2.80ms (+33.3% worse, p=0.004 ≤ 0.0056)":
// the one-sided p-value and the Holm-corrected level it met.
func RegressionText(d GateTest) string {
	w := d.Worsening()
	change := "worse from 0"
	if !math.IsInf(w, 0) {
		change = fmt.Sprintf("%+.1f%% worse", 100*w)
	}
	test := "untested"
	if d.Tested {
		test = fmt.Sprintf("p=%.2g ≤ %.2g", d.P, d.Level)
	}
	return fmt.Sprintf("%s: %s %s → %s (%s, %s)", d.Variant, d.Metric, FormatValue(d.Base, d.Unit), FormatValue(d.Value, d.Unit), change, test)
}

// grid lays the comparison out: per variant and gated or changed metric,
// base, new and the change.
func (c *RunComparison) grid(all bool) grid {
	g := grid{header: []string{"variant", "metric", "base", "new", "change"}, left: 2}
	regressed := map[string]bool{}
	for _, d := range c.Regressions {
		regressed[d.Variant+"\x00"+d.Metric] = true
	}
	for _, d := range c.Deltas {
		if !all && !gated(d.Metric) {
			continue
		}
		nv := c.New.variant(d.Variant)
		bv := c.Base.variant(d.Variant)
		bm, _ := bv.Metric(d.Metric)
		nm, _ := nv.Metric(d.Metric)
		change, colour := formatDelta(d), d.Change
		if regressed[d.Variant+"\x00"+d.Metric] {
			change, colour = change+" REGRESSION", "worse"
		}
		g.rows = append(g.rows, []cell{{text: d.Variant}, {text: d.Metric, code: true}, {text: formatCell(bm)}, {text: formatCell(nm)}, {text: change, change: colour}})
	}
	return g
}

// Table writes the comparison for a terminal.
func (c *RunComparison) Table(w io.Writer, color bool) error {
	b := &errWriter{w: w}
	b.printf("sawtooth compare: %s\n  base %s\n  new  %s\n", c.New.Summary.Scenario, c.Base.Dir, c.New.Dir)
	b.printf("ratios are new/base; %s; %s\n\n", colourLegend(c.Deltas, c.Base.Summary.Alpha), c.gateLegend())
	if b.err != nil {
		return b.err
	}
	if err := writeAligned(w, c.grid(false), color); err != nil {
		return err
	}
	c.writeVerdict(b, "")
	return b.err
}

// Markdown writes the comparison as Markdown.
func (c *RunComparison) Markdown(w io.Writer) error {
	b := &errWriter{w: w}
	b.printf("# sawtooth compare: %s\n\nRatios are new/base; %s; %s.\n\n",
		mdEscape(c.New.Summary.Scenario), mdEscape(colourLegend(c.Deltas, c.Base.Summary.Alpha)), mdEscape(c.gateLegend()))
	writeMarkdownGrid(b, c.grid(false))
	b.printf("\n")
	c.writeVerdict(b, "- ")
	return b.err
}

func (c *RunComparison) writeVerdict(b *errWriter, bullet string) {
	for _, n := range c.Notes {
		b.printf("%snote: %s\n", bullet, n)
	}
	if len(c.Regressions) == 0 {
		b.printf("%sno regression beyond %s\n", bullet, formatPercent(c.MaxRegression))
		return
	}
	b.printf("%s%d regression(s) beyond %s:\n", bullet, len(c.Regressions), formatPercent(c.MaxRegression))
	for _, d := range c.Regressions {
		b.printf("%s  %s\n", bullet, RegressionText(d))
	}
}
