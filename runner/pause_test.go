package runner

import (
	"context"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// TestPausePhase checks that a phase with rate 0 is a pause: no requests
// are sent in it, and the target's memory is still sampled through it.
func TestPausePhase(t *testing.T) {
	s, err := scenarios.Parse([]byte(`name: pause
target:
  builtin: {workers: 1, worker_model: sync}
traffic: [{name: light, weight: 1, path: /light}]
phases:
  - {name: load, duration: 1s, rate: 40}
  - {name: settle, duration: 2s, rate: 0}
sample: {interval: 100ms}
`), "pause.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), s, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	d, err := rundir.Open(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ref := d.Meta.Runs[0]
	ri, err := d.RunInfo(ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(ri.Phases) != 2 || ri.Phases[1].Name != "settle" {
		t.Fatalf("phases = %+v", ri.Phases)
	}
	pause := ri.Phases[1]
	mem := readMemory(t, d, ref)
	t.Cleanup(func() {
		var pids []int
		for _, m := range mem {
			pids = append(pids, m.PID)
		}
		killAll(pids)
	})
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
	if err := rundir.EachResult(d.File(ref, rundir.ResultsFile), func(r *vegeta.Result) error {
		if r.Timestamp.Sub(ri.Start).Seconds() > pause.Start+0.05 {
			late++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if late > 0 || ri.Harness.Requests == 0 {
		t.Errorf("%d requests sent during the pause (%d in all), want none", late, ri.Harness.Requests)
	}
}
