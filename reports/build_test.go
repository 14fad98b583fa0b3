package reports

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
	"github.com/sawtooth-dev/sawtooth/reports/plots"
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
	pvs := rep.plotData()
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
		for i, p := range plots.PercentilePoints {
			if got, want := pv.Percentiles[i], all.quantile(p/100); got != want {
				t.Errorf("%s: p%v = %v, want %v", pv.Name, p, got, want)
			}
		}
	}
}
