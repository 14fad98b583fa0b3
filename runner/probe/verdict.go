// Package probe sends health-check probes as a kubelet or load balancer
// sends them, on their own schedule, and judges their results as the
// orchestrator would: how often a liveness probe would have restarted the
// container, and how long a readiness probe would have taken it out of
// rotation.
package probe

import (
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// Result is one probe's outcome at T seconds since the start of the run.
type Result struct {
	T  float64
	OK bool
}

// Judge returns the statistics and the verdict of a probe configured as
// in st (Name, Kind, FailureThreshold and SuccessThreshold are read) on
// results in time order, for a run that ended at end seconds. Kubernetes'
// semantics: a liveness probe restarts the container at its
// FailureThreshold-th consecutive failure, and its count of failures
// starts again from there (the restarted container would be probed
// afresh); a readiness probe, ready at the start (the runner waited for
// the target to be ready), is unready from its FailureThreshold-th
// consecutive failure until its SuccessThreshold-th consecutive success.
func Judge(st rundir.ProbeStats, results []Result, end float64) rundir.ProbeStats {
	st.Probes, st.Failures, st.LongestFailureRun = len(results), 0, 0
	st.Restarts, st.Unready, st.UnreadySeconds = nil, nil, 0
	fails, run, oks := 0, 0, 0
	ready, since := true, 0.0
	for _, r := range results {
		if r.OK {
			run, fails = 0, 0
			oks++
			if !ready && oks >= st.SuccessThreshold {
				ready = true
				st.Unready = append(st.Unready, rundir.Interval{From: since, To: r.T})
			}
			continue
		}
		st.Failures++
		run++
		fails++
		oks = 0
		st.LongestFailureRun = max(st.LongestFailureRun, run)
		if fails < st.FailureThreshold {
			continue
		}
		switch st.Kind {
		case scenarios.ProbeLiveness:
			st.Restarts = append(st.Restarts, r.T)
			fails = 0
		case scenarios.ProbeReadiness:
			if ready {
				ready, since = false, r.T
			}
		}
	}
	if !ready {
		st.Unready = append(st.Unready, rundir.Interval{From: since, To: max(end, since)})
	}
	for _, iv := range st.Unready {
		st.UnreadySeconds += iv.To - iv.From
	}
	return st
}
