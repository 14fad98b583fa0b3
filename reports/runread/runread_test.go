package runread

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

// copyRun copies the reports' testdata run directory into a temporary one.
func copyRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.CopyFS(dir, os.DirFS("../testdata/run")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOpenThresholdSources: thresholds come from thresholds.json when the
// run recorded it, from scenario.yaml otherwise, and from scenario.yaml
// alone (with the reason) when it no longer validates.
func TestOpenThresholdSources(t *testing.T) {
	dir := copyRun(t)
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Scenario == nil || d.Thresholds.Source != rundir.ScenarioFile || d.Thresholds.Err != nil || len(d.Thresholds.List) == 0 {
		t.Fatalf("old run directory: scenario %v, thresholds %+v; want them from %s", d.Scenario != nil, d.Thresholds, rundir.ScenarioFile)
	}
	fromScenario := d.Thresholds.List

	text := append(append([]byte{}, d.ScenarioText...), "retired_field: 1\n"...)
	if err := os.WriteFile(filepath.Join(dir, rundir.ScenarioFile), text, 0o644); err != nil {
		t.Fatal(err)
	}
	if d, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	if d.Scenario != nil || d.ScenarioErr == nil || d.Thresholds.Err == nil || len(d.Thresholds.List) != len(fromScenario) {
		t.Fatalf("invalid scenario: scenario %v (%v), thresholds %+v; want its %d thresholds read alone", d.Scenario != nil, d.ScenarioErr, d.Thresholds, len(fromScenario))
	}

	if err := rundir.WriteThresholds(filepath.Join(dir, rundir.ThresholdsFile), fromScenario[:1]); err != nil {
		t.Fatal(err)
	}
	if d, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	if th := d.Thresholds; th.Source != rundir.ThresholdsFile || th.Err != nil || len(th.List) != 1 || th.List[0] != fromScenario[0] {
		t.Fatalf("with %s: thresholds %+v; want its one", rundir.ThresholdsFile, th)
	}
}

// TestRunSeries: a repeat's series are read, and its missing files read
// as empty.
func TestRunSeries(t *testing.T) {
	dir := copyRun(t)
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref := d.Meta.Runs[0]
	r, err := d.Run(ref)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := r.EachResult(func(*vegeta.Result) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n == 0 || len(r.Timeline) == 0 || len(r.Memory) == 0 || len(r.Events) == 0 {
		t.Fatalf("%s: %d results, %d timeline classes, %d memory samples, %d events; want some of each", ref.Dir, n, len(r.Timeline), len(r.Memory), len(r.Events))
	}
	for _, f := range []string{rundir.ResultsFile, rundir.TimelineFile, rundir.MemoryFile, rundir.EventsFile, rundir.MetricsFile} {
		os.Remove(d.File(ref, f))
	}
	if r, err = d.Run(ref); err != nil {
		t.Fatal(err)
	}
	n = 0
	if err := r.EachResult(func(*vegeta.Result) error { n++; return nil }); err != nil || n != 0 || len(r.Timeline)+len(r.Memory)+len(r.Events)+len(r.Metrics) != 0 {
		t.Fatalf("missing files: %d results (%v), %+v; want none", n, err, r)
	}
	os.Remove(d.File(ref, rundir.RunFile))
	if _, err := d.Run(ref); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing run.json: error %v, want not-exist", err)
	}
}
