package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sawtooth-dev/sawtooth/internal/units"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// FormatValue formats a value in a metric's base unit for people:
// durations in µs, ms or s, ratios as percentages, sizes in binary units.
func FormatValue(v float64, unit string) string {
	switch unit {
	case UnitSeconds:
		return formatDuration(v)
	case UnitRatio:
		return formatPercent(v)
	case UnitBytes:
		return units.FormatSize(int64(math.Round(v)))
	case UnitBytesMin:
		return units.FormatSize(int64(math.Round(v))) + "/min"
	case UnitBytesReq:
		return units.FormatSize(int64(math.Round(v))) + "/req"
	case UnitRate:
		return trim(v, 1) + "/s"
	case UnitCount:
		return trim(v, 1)
	case UnitR2:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case UnitPercentCPU:
		return trim(v, 1) + "%"
	case UnitPerRestart:
		return trim(v, 2)
	}
	return trim(v, 3)
}

func formatDuration(s float64) string {
	a := math.Abs(s)
	switch {
	case a == 0:
		return "0"
	case a < 1e-3:
		return sig(s*1e6) + "µs"
	case a < 1:
		return sig(s*1e3) + "ms"
	}
	return sig(s) + "s"
}

// sig formats with three significant digits, at most two decimals.
func sig(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func formatPercent(r float64) string {
	p := r * 100
	switch {
	case p == 0:
		return "0%"
	case math.Abs(p) < 0.01:
		return "<0.01%"
	case math.Abs(p) < 10:
		return strconv.FormatFloat(p, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// trim formats v with up to prec decimals, dropping trailing zeros.
func trim(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// formatCell formats a variant's metric with its spread across repeats
// ("12.3ms ±4%"), as benchstat does.
func formatCell(m Metric) string {
	s := FormatValue(m.Value, m.Unit)
	if m.Spread != nil && m.Unit != UnitR2 {
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
func formatDelta(d Delta) string {
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
		s = "×" + ratioString(*d.Ratio)
	}
	if d.Test.Tested {
		s += fmt.Sprintf(" (p=%.2f)", d.Test.P)
	}
	return s
}

// ratioString formats a ratio with two decimals, fewer above 10 and two
// significant digits below 0.1, so that a hundredfold improvement reads
// ×0.0085 rather than ×0.00.
func ratioString(q float64) string {
	if a := math.Abs(q); a > 0 && a < 0.1 {
		return strconv.FormatFloat(q, 'f', 1-int(math.Floor(math.Log10(a))), 64)
	}
	return sig(q)
}

// keyMetric reports whether a metric belongs in the compact terminal
// table; the Markdown and HTML reports show every metric.
func keyMetric(name string) bool {
	class, suffix, _ := strings.Cut(name, ".")
	switch suffix {
	case "rps", "errors", "p50", "p99":
		return class != "recycle" && name != "all.errors"
	}
	switch name {
	case "errors.count", "reuse_failures.count", "memory.pss.peak", "memory.pss.final", "memory.rss.peak", "memory.worker_rss.peak", "memory.pss.slope",
		"memory.worker_rss.per_request", "restarts.count", "restarts.max_concurrent", "restarts.replace_mean",
		"recycle.window_share", "recycle.in_window.errors", "recycle.in_window.p99", "recycle.out_window.p99", "recycle.errors_per_restart", "recycle.delay_per_restart",
		"lag.p99", "harness.achieved_rate":
		return true
	}
	if isProbeMetric(name) {
		return !strings.HasSuffix(name, ".longest_failure_run")
	}
	return strings.HasPrefix(name, "errors.") && name != "errors.ratio"
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
		return Unmeasured
	}
	return FormatValue(rate, UnitRate)
}
