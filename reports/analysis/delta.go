package analysis

import (
	"math"

	"github.com/sawtooth-dev/sawtooth/reports/stats"
)

// compareVariants compares every directional metric of v with base's
// that both measured.
func compareVariants(base, v *VariantSummary, label string, alpha float64) []Delta {
	var out []Delta
	names := make([]string, 0, len(v.Metrics))
	seen := map[string]bool{}
	for _, ms := range [][]Metric{v.Metrics, base.Metrics} {
		for _, m := range ms {
			if m.Better != "" && !seen[m.Name] {
				seen[m.Name] = true
				names = append(names, m.Name)
			}
		}
	}
	for _, name := range names {
		b, okb := base.Metric(name)
		m, okm := v.Metric(name)
		if okb && okm {
			out = append(out, newDelta(label, b, m, alpha))
		}
	}
	return out
}

func newDelta(label string, b, m Metric, alpha float64) Delta {
	d := Delta{Variant: label, Metric: m.Name, Unit: m.Unit, Better: m.Better, Base: b.Value, Value: m.Value,
		Test: stats.Compare(b.values(), m.values(), alpha)}
	if q := ratio(b.Value, m.Value); !math.IsNaN(q) {
		d.Ratio = &q
	}
	d.Change = "same"
	meaningful := d.Test.Significant
	if !d.Test.Tested {
		meaningful = beyondNoise(b.Value, m.Value, m.Unit)
	}
	if m.Value != b.Value && meaningful {
		if (m.Value < b.Value) == (m.Better == BetterLower) {
			d.Change = "better"
		} else {
			d.Change = "worse"
		}
	}
	return d
}

// NoiseFloor is the relative change below which an untested difference
// (fewer than 3 repeats on a side) counts as noise: neither better nor
// worse, and not coloured.
const NoiseFloor = 0.10

// beyondNoise reports whether an untested change from base to v is large
// enough to mean something: at least NoiseFloor of base and more than the
// absolute floor of its unit (1 ms, 0.1 percentage point, 1 MiB).
func beyondNoise(base, v float64, unit string) bool {
	diff := math.Abs(v - base)
	if diff <= floor(unit) {
		return false
	}
	return base == 0 || diff >= NoiseFloor*math.Abs(base)
}
