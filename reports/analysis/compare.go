package analysis

import (
	"fmt"
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
