package analysis

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sawtooth-dev/sawtooth/internal/units"
)

// FormatValue formats a value in a metric's base unit for people:
// durations in µs, ms or s, ratios as percentages, sizes in binary units.
func FormatValue(v float64, unit string) string {
	switch unit {
	case UnitSeconds:
		return FormatDuration(v)
	case UnitRatio:
		return FormatPercent(v)
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

// FormatDuration formats seconds in µs, ms or s with three significant
// digits ("0" for none).
func FormatDuration(s float64) string {
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

// FormatPercent formats a fraction as a percentage ("<0.01%" below
// that, two decimals below 10%, one above).
func FormatPercent(r float64) string {
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

// FormatRatio formats a ratio with two decimals, fewer above 10 and two
// significant digits below 0.1, so that a hundredfold improvement reads
// ×0.0085 rather than ×0.00.
func FormatRatio(q float64) string {
	if a := math.Abs(q); a > 0 && a < 0.1 {
		return strconv.FormatFloat(q, 'f', 1-int(math.Floor(math.Log10(a))), 64)
	}
	return sig(q)
}

// Unmeasured is what a report prints for a number that was not measured
// (summary.json leaves it out or writes null).
const Unmeasured = "—"

// Plural is "1 repeat" or "3 repeats".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// VerdictText says what a verdict measured against what limit, e.g.
// "fast: light.p99 < 50ms (measured 61.2ms, limit < 50.0ms)".
func VerdictText(v Verdict) string {
	if v.Error != "" {
		return fmt.Sprintf("%s: %s: %s", v.Variant, v.Threshold, v.Error)
	}
	return fmt.Sprintf("%s: %s (measured %s, limit %s %s)", v.Variant, v.Threshold,
		FormatValue(v.Measured, v.Unit), v.Op, FormatValue(v.Limit, v.Unit))
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
