package reports

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// probeNote says what the probe table means.
const probeNote = "Health probes ran on their own schedule, on a new connection each, and are not counted in the traffic's numbers. " +
	"The verdict is Kubernetes': a liveness probe that fails failure_threshold times in a row restarts the container (its count starts again after each restart; " +
	"the harness does not restart anything, so later failures are those a restarted container would also have met); " +
	"a readiness probe that does takes it out of rotation until success_threshold successes in a row."

// probeGrid is a row per run and probe: its failures, longest run of
// failures and the orchestrator's verdict with its times.
func (r *Report) probeGrid() grid {
	g := grid{header: []string{"variant", "repeat", "probe", "kind", "verdict", "every / timeout / threshold", "probes", "failures", "longest failure run"}, left: 5}
	for _, v := range r.OrderedVariants() {
		for _, run := range v.Runs {
			for _, p := range run.Probes {
				g.rows = append(g.rows, []cell{{text: v.Name}, {text: strconv.Itoa(run.Repeat)}, {text: p.Name}, {text: p.Kind},
					{text: probeVerdict(p)}, {text: fmt.Sprintf("%s / %s / %d", analysis.FormatDuration(p.Every), analysis.FormatDuration(p.Timeout), p.FailureThreshold)},
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
		return fmt.Sprintf("restarted %s, at %s", analysis.Plural(len(p.Restarts), "time"), times(p.Restarts))
	case scenarios.ProbeReadiness:
		if len(p.Unready) == 0 {
			return "always in rotation"
		}
		var from []float64
		for _, iv := range p.Unready {
			from = append(from, iv.From)
		}
		return fmt.Sprintf("out of rotation %s in all (%s, from %s)", analysis.FormatDuration(p.UnreadySeconds), analysis.Plural(len(p.Unready), "time"), times(from))
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
	for _, v := range r.OrderedVariants() {
		for _, run := range v.Runs {
			for _, s := range run.Harness.Streams {
				rate := func(x float64) string {
					if s.RequestedRate <= 0 {
						return analysis.Unmeasured
					}
					return analysis.FormatValue(x, analysis.UnitRate)
				}
				g.rows = append(g.rows, []cell{{text: v.Name}, {text: strconv.Itoa(run.Repeat)}, {text: s.Name}, {text: strconv.FormatInt(s.Requests, 10)},
					{text: rate(s.RequestedRate)}, {text: rate(s.AchievedRate)}, {text: analysis.FormatDuration(s.SendLagP99)}, {text: analysis.FormatDuration(s.SendLagMax)}})
			}
		}
	}
	return g
}
