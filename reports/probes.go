package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sawtooth-dev/sawtooth/reports/plots"
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

// isProbeMetric reports whether name is a probe.NAME.SUFFIX metric.
func isProbeMetric(name string) bool { return strings.HasPrefix(name, "probe.") }

// probeNames returns the names of a run's probes, whose results in
// results.bin are not traffic.
func probeNames(info rundir.RunInfo) map[string]bool {
	m := map[string]bool{}
	for _, p := range info.Probes {
		m[p.Name] = true
	}
	return m
}

// hasProbes reports whether any run had probes.
func (r *Report) hasProbes() bool {
	for _, v := range r.Summary.Variants {
		for _, run := range v.Runs {
			if len(run.Probes) > 0 {
				return true
			}
		}
	}
	return false
}

// probeNote says what the probe table means.
const probeNote = "Health probes ran on their own schedule, on a new connection each, and are not counted in the traffic's numbers. " +
	"The verdict is Kubernetes': a liveness probe that fails failure_threshold times in a row restarts the container (its count starts again after each restart; " +
	"the harness does not restart anything, so later failures are those a restarted container would also have met); " +
	"a readiness probe that does takes it out of rotation until success_threshold successes in a row."

// probeGrid is a row per run and probe: its failures, longest run of
// failures and the orchestrator's verdict with its times.
func (r *Report) probeGrid() grid {
	g := grid{header: []string{"variant", "repeat", "probe", "kind", "verdict", "every / timeout / threshold", "probes", "failures", "longest failure run"}, left: 5}
	for _, v := range r.orderedVariants() {
		for _, run := range v.Runs {
			for _, p := range run.Probes {
				g.rows = append(g.rows, []cell{{text: v.Name}, {text: strconv.Itoa(run.Repeat)}, {text: p.Name}, {text: p.Kind},
					{text: probeVerdict(p)}, {text: fmt.Sprintf("%s / %s / %d", formatDuration(p.Every), formatDuration(p.Timeout), p.FailureThreshold)},
					{text: strconv.Itoa(p.Probes)}, {text: strconv.Itoa(p.Failures)}, {text: strconv.Itoa(p.LongestFailureRun)}})
			}
		}
	}
	return g
}

// probeVerdict says in words what the orchestrator would have done.
func probeVerdict(p rundir.ProbeStats) string {
	switch p.Kind {
	case scenarios.ProbeLiveness:
		if len(p.Restarts) == 0 {
			return "never restarted"
		}
		return fmt.Sprintf("restarted %s, at %s", plural(len(p.Restarts), "time"), times(p.Restarts))
	case scenarios.ProbeReadiness:
		if len(p.Unready) == 0 {
			return "always in rotation"
		}
		var from []float64
		for _, iv := range p.Unready {
			from = append(from, iv.From)
		}
		return fmt.Sprintf("out of rotation %s in all (%s, from %s)", formatDuration(p.UnreadySeconds), plural(len(p.Unready), "time"), times(from))
	}
	return ""
}

// times lists offsets in seconds, the first 8.
func times(ts []float64) string {
	var parts []string
	for i, t := range ts {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ts)-8))
			break
		}
		parts = append(parts, strconv.FormatFloat(t, 'f', 1, 64)+"s")
	}
	return strings.Join(parts, ", ")
}

// streamGrid is each stream's requested and achieved rate and send lag,
// per run, for scenarios with several streams (empty otherwise).
func (r *Report) streamGrid() grid {
	g := grid{header: []string{"variant", "repeat", "stream", "requests", "requested", "achieved", "send lag p99", "send lag max"}, left: 3}
	for _, v := range r.orderedVariants() {
		for _, run := range v.Runs {
			for _, s := range run.Harness.Streams {
				rate := func(x float64) string {
					if s.RequestedRate <= 0 {
						return Unmeasured
					}
					return FormatValue(x, UnitRate)
				}
				g.rows = append(g.rows, []cell{{text: v.Name}, {text: strconv.Itoa(run.Repeat)}, {text: s.Name}, {text: strconv.FormatInt(s.Requests, 10)},
					{text: rate(s.RequestedRate)}, {text: rate(s.AchievedRate)}, {text: formatDuration(s.SendLagP99)}, {text: formatDuration(s.SendLagMax)}})
			}
		}
	}
	return g
}

// probeMarks are the verdicts of a run's probes as marks on the
// timeline: liveness restarts and the starts of readiness outages.
func probeMarks(ps []rundir.ProbeStats) []plots.Marks {
	var out []plots.Marks
	for _, p := range ps {
		switch {
		case len(p.Restarts) > 0:
			out = append(out, plots.Marks{Label: p.Name + " restart (liveness)", T: p.Restarts})
		case len(p.Unready) > 0:
			m := plots.Marks{Label: p.Name + " out of rotation (readiness)"}
			for _, iv := range p.Unready {
				m.T = append(m.T, iv.From)
			}
			out = append(out, m)
		}
	}
	return out
}

// probeFindings state, per variant and probe, whether the orchestrator
// would have acted: the restarts of a liveness probe, the time out of
// rotation of a readiness probe (medians over repeats).
func (r *Report) probeFindings() []Finding {
	var out []Finding
	for _, v := range r.orderedVariants() {
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
			text := fmt.Sprintf("%s: %s probe %s failed %s", v.Name, p.Kind, p.Name, plural(int(math.Round(fails.Value)), "time"))
			if fails.Value == 0 {
				text, per = fmt.Sprintf("%s: %s probe %s never failed", v.Name, p.Kind, p.Name), ""
			}
			if m, ok := v.Metric(pre + "restarts"); ok {
				f.Metrics = append(f.Metrics, m.Name)
				if m.Value > 0 {
					text += fmt.Sprintf("; the orchestrator would have restarted the container %s", plural(int(math.Round(m.Value)), "time"))
				} else if fails.Value > 0 {
					text += fmt.Sprintf("; never %d in a row, so the orchestrator would not have restarted it", p.FailureThreshold)
				}
			}
			if m, ok := v.Metric(pre + "unready_seconds"); ok {
				f.Metrics = append(f.Metrics, m.Name)
				if m.Value > 0 {
					text += "; the orchestrator would have taken it out of rotation for " + formatDuration(m.Value)
				}
			}
			f.Text = text + per + "."
			out = append(out, f)
		}
	}
	return out
}
