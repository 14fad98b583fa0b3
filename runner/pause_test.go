package runner

import (
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestPausePhase checks that a phase with rate 0 is a pause: no requests
// are sent in it, and the target's memory is still sampled through it.
func TestPausePhase(t *testing.T) {
	s := parseScenario(t, "pause.yaml", `name: pause
target:
  builtin: {workers: 1, worker_model: sync}
traffic: [{name: light, weight: 1, path: /light}]
phases:
  - {name: load, duration: 1s, rate: 40}
  - {name: settle, duration: 2s, rate: 0}
sample: {interval: 100ms}
`)
	_, d := runOK(t, s, testOptions(t))
	ref := d.Meta.Runs[0]
	ri := runInfo(t, d, ref)
	if len(ri.Phases) != 2 || ri.Phases[1].Name != "settle" {
		t.Fatalf("phases = %+v", ri.Phases)
	}
	pause := ri.Phases[1]
	mem := readMemory(t, d, ref)
	killSampled(t, mem)
	times := map[float64]bool{}
	for _, m := range mem {
		if m.T >= pause.Start && m.T <= pause.End {
			times[m.T] = true
		}
	}
	// 2s at 100ms: about 20 samples; allow for a loaded machine.
	if len(times) < 5 {
		t.Errorf("%d memory samples in the pause [%.2f, %.2f]s, want about 20", len(times), pause.Start, pause.End)
	}
	late := 0
	eachResult(t, d, ref, func(r *vegeta.Result) {
		if r.Timestamp.Sub(ri.Start).Seconds() > pause.Start+0.05 {
			late++
		}
	})
	if late > 0 || ri.Harness.Requests == 0 {
		t.Errorf("%d requests sent during the pause (%d in all), want none", late, ri.Harness.Requests)
	}
}
