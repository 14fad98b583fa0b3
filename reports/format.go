package reports

import (
	"fmt"
	"strings"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// formatCell formats a variant's metric with its spread across repeats
// ("12.3ms ±4%"), as benchstat does.
func formatCell(m analysis.Metric) string {
	s := analysis.FormatValue(m.Value, m.Unit)
	if m.Spread != nil && m.Unit != analysis.UnitR2 {
		if r := m.Spread.RelRange(m.Value); r >= 0.005 {
			s += fmt.Sprintf(" ±%.0f%%", 100*r)
		} else if m.Spread.Max != m.Spread.Min && m.Value == 0 {
			s += " ±?"
		}
	}
	return s
}

// formatDelta formats a comparison: the ratio to the baseline, and "~"
// when the U test found no significant difference.
func formatDelta(d analysis.Delta) string {
	if d.Test.Tested && !d.Test.Significant {
		return fmt.Sprintf("~ (p=%.2f)", d.Test.P)
	}
	var s string
	switch {
	case d.Value == d.Base:
		s = "×1.00"
	case d.Ratio == nil:
		s = "new"
	default:
		s = "×" + analysis.FormatRatio(*d.Ratio)
	}
	if d.Test.Tested {
		s += fmt.Sprintf(" (p=%.2f)", d.Test.P)
	}
	return s
}

// keyMetric reports whether a metric belongs in the compact terminal
// table (metric.Def.Key); the Markdown and HTML reports show every metric.
func keyMetric(name string) bool {
	d, ok := metric.Lookup(name)
	return ok && d.Key && !hiddenMetric(name)
}

// hiddenMetric reports whether a metric repeats another in tables.
func hiddenMetric(name string) bool { return name == "all.errors" || name == "all.reuse_failures" }

// upperFirst capitalises the first letter of s.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// harnessRate formats one of a run's harness rates (requested or achieved),
// or Unmeasured when the run had no open-model phase and so no rate to keep.
func harnessRate(h rundir.Harness, rate float64) string {
	if h.RequestedRate <= 0 {
		return analysis.Unmeasured
	}
	return analysis.FormatValue(rate, analysis.UnitRate)
}
