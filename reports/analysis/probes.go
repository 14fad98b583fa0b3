package analysis

import (
	"fmt"
	"math"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// probeMetrics are one run's probe numbers: probe.NAME.failures and
// .longest_failure_run for every probe, .restarts for a liveness probe
// (how often the orchestrator would have restarted the container) and
// .unready_seconds for a readiness probe (how long it would have had it
// out of rotation).
func probeMetrics(s *RunSummary) []Metric {
	var out []Metric
	for _, p := range s.Probes {
		pre := "probe." + p.Name + "."
		out = append(out, Metric{Name: pre + "failures", Unit: UnitCount, Value: float64(p.Failures), Better: BetterLower},
			Metric{Name: pre + "longest_failure_run", Unit: UnitCount, Value: float64(p.LongestFailureRun), Better: BetterLower})
		switch p.Kind {
		case scenarios.ProbeLiveness:
			out = append(out, Metric{Name: pre + "restarts", Unit: UnitCount, Value: float64(len(p.Restarts)), Better: BetterLower})
		case scenarios.ProbeReadiness:
			out = append(out, Metric{Name: pre + "unready_seconds", Unit: UnitSeconds, Value: p.UnreadySeconds, Better: BetterLower})
		}
	}
	return out
}

// probeNames returns the names of a run's probes, whose results in
// results.bin are not traffic.
func probeNames(info rundir.RunInfo) map[string]bool {
	m := map[string]bool{}
	for _, p := range info.Probes {
		m[p.Name] = true
	}
	return m
}

// HasProbes reports whether any run had probes.
func (r *Report) HasProbes() bool {
	for _, v := range r.Summary.Variants {
		for _, run := range v.Runs {
			if len(run.Probes) > 0 {
				return true
			}
		}
	}
	return false
}

// probeFindings state, per variant and probe, whether the orchestrator
// would have acted: the restarts of a liveness probe, the time out of
// rotation of a readiness probe (medians over repeats).
func (r *Report) probeFindings() []Finding {
	var out []Finding
	for _, v := range r.OrderedVariants() {
		if len(v.Runs) == 0 {
			continue
		}
		per := ""
		if len(v.Runs) > 1 {
			per = fmt.Sprintf(" (medians of %d runs)", len(v.Runs))
		}
		for _, p := range v.Runs[0].Probes {
			pre := "probe." + p.Name + "."
			fails, ok := v.Metric(pre + "failures")
			if !ok {
				continue
			}
			f := Finding{Variant: v.Name, Metrics: []string{fails.Name}}
			text := fmt.Sprintf("%s: %s probe %s failed %s", v.Name, p.Kind, p.Name, Plural(int(math.Round(fails.Value)), "time"))
			if fails.Value == 0 {
				text, per = fmt.Sprintf("%s: %s probe %s never failed", v.Name, p.Kind, p.Name), ""
			}
			if m, ok := v.Metric(pre + "restarts"); ok {
				f.Metrics = append(f.Metrics, m.Name)
				if m.Value > 0 {
					text += fmt.Sprintf("; the orchestrator would have restarted the container %s", Plural(int(math.Round(m.Value)), "time"))
				} else if fails.Value > 0 {
					text += fmt.Sprintf("; never %d in a row, so the orchestrator would not have restarted it", p.FailureThreshold)
				}
			}
			if m, ok := v.Metric(pre + "unready_seconds"); ok {
				f.Metrics = append(f.Metrics, m.Name)
				if m.Value > 0 {
					text += "; the orchestrator would have taken it out of rotation for " + FormatDuration(m.Value)
				}
			}
			f.Text = text + per + "."
			out = append(out, f)
		}
	}
	return out
}
