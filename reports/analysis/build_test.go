package analysis

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// TestThresholdsOfAnInvalidScenario: a run directory whose scenario.yaml
// no longer validates still has its thresholds evaluated, beside the
// verdict that says why the scenario does not validate.
func TestThresholdsOfAnInvalidScenario(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	dir := filepath.Join(t.TempDir(), "run")
	text := fixture.Scenario("old", classes, []string{"light.p99 < 1s", "errors.ratio < 0.1%"}) + "retired_field: 1\n"
	v := fixture.Variant{Name: "v", Repeats: 1, Duration: 4, Rate: 20, Classes: classes, Workers: 1, Seed: 5}
	if err := fixture.Write(dir, text, []fixture.Variant{v}); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var evaluated []string
	sawError := false
	for _, vd := range rep.Summary.Thresholds {
		switch {
		case vd.Variant == "*":
			sawError = strings.Contains(vd.Error, "retired_field")
		case vd.Error == "":
			evaluated = append(evaluated, vd.Threshold)
		}
	}
	if !sawError || !slices.Equal(evaluated, []string{"light.p99 < 1s", "errors.ratio < 0.1%"}) {
		t.Errorf("verdicts %+v, want the scenario's error and both thresholds evaluated", rep.Summary.Thresholds)
	}
}

// TestPlotPercentilesPooled: the percentile plot of a variant is that of
// every repeat's requests together.
func TestPlotPercentilesPooled(t *testing.T) {
	rep, err := Build(goldenRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pvs := rep.Series()
	if len(pvs) == 0 {
		t.Fatal("no plot data")
	}
	for _, pv := range pvs {
		var all sample
		for _, r := range rep.runs[pv.Name] {
			all.merge(r.classes[AllClass])
		}
		if len(pv.Percentiles) == 0 || all.count == 0 {
			t.Fatalf("%s: %d percentiles of %d requests", pv.Name, len(pv.Percentiles), all.count)
		}
		for i, p := range PercentilePoints {
			if got, want := pv.Percentiles[i], all.quantile(p/100); got != want {
				t.Errorf("%s: p%v = %v, want %v", pv.Name, p, got, want)
			}
		}
	}
}

// TestRecordedThresholdsOfAnInvalidScenario: with thresholds.json, a run
// directory whose scenario.yaml no longer validates keeps every verdict
// (the same as when it validated) and only warns about the scenario.
func TestRecordedThresholdsOfAnInvalidScenario(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	exprs := []string{"light.p99 < 1s", "errors.ratio < 0.1%", "lag.p99 < 10ms"}
	v := fixture.Variant{Name: "v", Repeats: 1, Duration: 4, Rate: 20, Classes: classes, Workers: 1, Seed: 5}
	valid := filepath.Join(t.TempDir(), "valid")
	if err := fixture.Write(valid, fixture.Scenario("old", classes, exprs), []fixture.Variant{v}); err != nil {
		t.Fatal(err)
	}
	want, err := Build(valid, Options{})
	if err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "run")
	if err := fixture.Write(dir, fixture.Scenario("old", classes, exprs)+"retired_field: 1\n", []fixture.Variant{v}); err != nil {
		t.Fatal(err)
	}
	var ths []rundir.Threshold
	for _, e := range exprs {
		th, err := scenarios.ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th.Recorded())
	}
	if err := rundir.WriteThresholds(filepath.Join(dir, rundir.ThresholdsFile), ths); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Summary.Thresholds) != len(exprs) || !reflect.DeepEqual(rep.Summary.Thresholds, want.Summary.Thresholds) {
		t.Errorf("verdicts\n%+v\nwant those of the valid scenario\n%+v", rep.Summary.Thresholds, want.Summary.Thresholds)
	}
	if !slices.ContainsFunc(rep.Summary.Warnings, func(w string) bool { return strings.Contains(w, "retired_field") }) {
		t.Errorf("warnings %q, want one naming the scenario's error", rep.Summary.Warnings)
	}
}

// TestUnreadableThresholds: a thresholds.json that does not parse is a
// failed verdict naming the file, not a run without thresholds.
func TestUnreadableThresholds(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	v := fixture.Variant{Name: "v", Repeats: 1, Duration: 2, Rate: 10, Classes: classes, Workers: 1, Seed: 5}
	dir := filepath.Join(t.TempDir(), "run")
	if err := fixture.Write(dir, fixture.Scenario("s", classes, []string{"light.p99 < 1s"}), []fixture.Variant{v}); err != nil {
		t.Fatal(err)
	}
	if err := rundir.WriteFile(filepath.Join(dir, rundir.ThresholdsFile), []byte(`{"thresholds": [{"expr": "x", "metric": "all.p99", "op": "=~"}]}`)); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Failed()
	if len(f) != 1 || f[0].Threshold != rundir.ThresholdsFile || !strings.Contains(f[0].Error, `"=~"`) {
		t.Errorf("failed verdicts %+v, want one for %s naming the bad op", f, rundir.ThresholdsFile)
	}
}

// TestSeriesWorkersByPID: the workers chart's series come in pid order,
// the same from one report to the next (not in map order).
func TestSeriesWorkersByPID(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	v := fixture.Variant{Name: "v", Repeats: 1, Duration: 10, Rate: 40, Classes: classes, Workers: 4, MaxRequests: 40, Seed: 7}
	dir := fixture.Temp(t, "", v)
	for i := range 5 {
		rep, err := Build(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ws := rep.Series()[0].Workers
		if len(ws) < 4 {
			t.Fatalf("%d worker series, want at least 4", len(ws))
		}
		if !slices.IsSortedFunc(ws, func(a, b WorkerSeries) int { return a.PID - b.PID }) {
			pids := make([]int, len(ws))
			for j, w := range ws {
				pids[j] = w.PID
			}
			t.Fatalf("build %d: worker pids %v, want them sorted", i, pids)
		}
	}
}
