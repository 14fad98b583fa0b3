package analysis

import (
	"path/filepath"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
)

// Probe results are not traffic: the classes' counts and latencies are
// those without them; the report gives each probe's failures, longest run
// and the orchestrator's verdict, the thresholds read probe.NAME.*, and
// the timeline plots mark the restarts.
func TestProbeReport(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	v := fixture.Variant{Name: "blocking", Repeats: 1, Duration: 10, Rate: 20, Classes: classes, Workers: 1, Seed: 3}
	dir := filepath.Join(t.TempDir(), "run")
	sc := fixture.Scenario("probes", classes, []string{"probe.live.restarts == 0", "probe.live.failures < 100"})
	sc += "probes:\n  - {name: live, kind: liveness, path: /healthz, every: 1s}\n"
	if err := fixture.Write(dir, sc, []fixture.Variant{v}); err != nil {
		t.Fatal(err)
	}
	before, err := Build(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.AddProbes(dir, 10, map[int]bool{2: true, 3: true, 4: true, 5: true, 7: true}, []float64{4, 7}); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	vs := &rep.Summary.Variants[0]
	if got, want := vs.Classes, before.Summary.Variants[0].Classes; len(got) != len(want) || got[len(got)-1].Count != want[len(want)-1].Count ||
		got[len(got)-1].Latency.Max != want[len(want)-1].Latency.Max {
		t.Errorf("classes with probes %+v, want those without %+v", got, want)
	}
	for name, want := range map[string]float64{"probe.live.restarts": 2, "probe.live.failures": 5, "probe.live.longest_failure_run": 4} {
		if m, ok := vs.Metric(name); !ok || m.Value != want {
			t.Errorf("%s = %+v (%v), want %v", name, m, ok, want)
		}
	}
	if _, ok := vs.Metric("probe.live.unready_seconds"); ok {
		t.Error("a liveness probe has no unready_seconds")
	}
	th := rep.Summary.Thresholds
	if len(th) != 2 || th[0].Pass || th[0].Measured != 2 || !th[1].Pass {
		t.Errorf("thresholds %+v, want restarts == 0 to fail at 2 and failures < 100 to pass", th)
	}
	var found bool
	for _, f := range rep.Summary.Findings {
		if f.Text == "blocking: liveness probe live failed 5 times; the orchestrator would have restarted the container 2 times." {
			found = true
		}
	}
	if !found {
		t.Errorf("findings %+v, want the probe's verdict", rep.Summary.Findings)
	}
	pd := rep.Series()
	if len(pd) != 1 || len(pd[0].Marks) != 1 || len(pd[0].Marks[0].T) != 2 || pd[0].Marks[0].T[1] != 7 {
		t.Errorf("plot marks %+v, want the two restarts", pd[0].Marks)
	}
	if pd[0].Marks[0].Label != "live restart (liveness)" {
		t.Errorf("mark label %q", pd[0].Marks[0].Label)
	}
}
