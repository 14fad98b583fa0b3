package analysis

import (
	"fmt"

	"github.com/sawtooth-dev/sawtooth/reports/runread"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// Failed returns the thresholds that do not hold (or could not be
// evaluated), in the order they were evaluated.
func (r *Report) Failed() []Verdict {
	var out []Verdict
	for _, v := range r.Summary.Thresholds {
		if !v.Pass {
			out = append(out, v)
		}
	}
	return out
}

// thresholdVerdicts evaluates d's thresholds for every variant, after a
// failed verdict when they could not all be read. A scenario that no
// longer validates, when the thresholds did not come from it, only adds a
// warning to warnings.
func thresholdVerdicts(d *runread.Dir, variants []VariantSummary, warnings []string) ([]Verdict, []string) {
	var out []Verdict
	th := d.Thresholds
	if th.Err != nil {
		// The thresholds that could be read still count.
		out = append(out, Verdict{Variant: "*", Threshold: th.Source, Error: th.Err.Error()})
	}
	if d.ScenarioErr != nil && th.Source != rundir.ScenarioFile {
		warnings = append(warnings, fmt.Sprintf("%s no longer validates, so its description and plan are left out (the thresholds are %s's): %v", rundir.ScenarioFile, rundir.ThresholdsFile, d.ScenarioErr))
	}
	for i := range variants {
		out = append(out, evaluate(th.List, &variants[i])...)
	}
	return out, warnings
}

// evaluate checks thresholds against a variant's merged metrics.
func evaluate(ths []rundir.Threshold, v *VariantSummary) []Verdict {
	var out []Verdict
	for _, th := range ths {
		vd := Verdict{Variant: v.Name, Threshold: th.Expr, Metric: th.Metric, Op: th.Op, Limit: th.Limit}
		m, ok := v.Metric(th.Metric)
		if !ok {
			vd.Error = fmt.Sprintf("%s was not measured in this run", th.Metric)
		} else {
			vd.Measured, vd.Unit = m.Value, m.Unit
			vd.Pass = th.Holds(m.Value)
		}
		out = append(out, vd)
	}
	return out
}
