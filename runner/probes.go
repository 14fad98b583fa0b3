package runner

import (
	"fmt"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/probe"
)

// addProbe records one probe result.
func (rc *recorder) addProbe(res *vegeta.Result) {
	if rc.err == nil {
		rc.err = rc.enc.Encode(res)
	}
	ok := probe.OK(res)
	rc.probes[res.Attack] = append(rc.probes[res.Attack], probe.Result{T: res.Timestamp.Sub(rc.t0).Seconds(), OK: ok})
	msg := fmt.Sprintf("%s ok in %v", res.URL, res.Latency.Round(time.Microsecond))
	if !ok {
		msg = fmt.Sprintf("%s failed after %v: %s", res.URL, res.Latency.Round(time.Microsecond), res.Error)
	}
	rc.events.add(rundir.Event{Time: res.Timestamp, Source: "probe", Event: "probe", Reason: res.Attack, Message: msg})
}

// probeEvents records the orchestrator's verdicts as events: each time a
// liveness probe would have restarted the container, and each stretch a
// readiness probe would have had it out of rotation.
func (r *run) probeEvents(t0 time.Time, ps []rundir.ProbeStats) {
	at := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	for _, p := range ps {
		for _, t := range p.Restarts {
			r.events.add(rundir.Event{Time: at(t), Source: "probe", Event: "probe_restart", Reason: p.Name,
				Message: fmt.Sprintf("liveness probe %s failed %d times in a row: the orchestrator would restart the container", p.Name, p.FailureThreshold)})
		}
		for _, iv := range p.Unready {
			r.events.add(rundir.Event{Time: at(iv.From), Source: "probe", Event: "probe_unready", Reason: p.Name,
				Message: fmt.Sprintf("readiness probe %s failed %d times in a row: out of rotation for %.1fs", p.Name, p.FailureThreshold, iv.To-iv.From)})
		}
	}
}
