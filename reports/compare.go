package reports

import (
	"fmt"
	"io"

	"github.com/sawtooth-dev/sawtooth/reports/analysis"
)

// CompareOptions configure Compare (see analysis.CompareOptions).
type CompareOptions = analysis.CompareOptions

// RunComparison compares two runs of the same scenario (see
// analysis.RunComparison), with the methods that format it.
type RunComparison struct {
	*analysis.RunComparison
}

// Compare compares run new with run base.
func Compare(base, new *Report, opts CompareOptions) *RunComparison {
	return &RunComparison{analysis.Compare(base.Report, new.Report, opts)}
}

// Comparable returns an error saying why base and new should not be
// compared (see analysis.Comparable).
func Comparable(base, new *Report) error {
	return analysis.Comparable(base.Report, new.Report)
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
		if !all && !analysis.Gated(d.Metric) {
			continue
		}
		nv, _ := c.New.Variant(d.Variant)
		bv, _ := c.Base.Variant(d.Variant)
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
		b.printf("%sno regression beyond %s\n", bullet, analysis.FormatPercent(c.MaxRegression))
		return
	}
	b.printf("%s%d regression(s) beyond %s:\n", bullet, len(c.Regressions), analysis.FormatPercent(c.MaxRegression))
	for _, d := range c.Regressions {
		b.printf("%s  %s\n", bullet, analysis.RegressionText(d))
	}
}

// gateLegend says what fails the gate.
func (c *RunComparison) gateLegend() string {
	return fmt.Sprintf("a regression is a gated number worse by a one-sided Mann-Whitney U test at family-wise level %.3g (Holm over %d gated numbers), by more than %s and the baseline's spread",
		c.Alpha, len(c.Gate), analysis.FormatPercent(c.MaxRegression))
}
