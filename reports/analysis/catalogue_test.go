package analysis

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// catalogueReports builds the checked-in golden run and fixture runs
// that between them emit every kind of metric: one class leaking and one
// not (per-class leak fits), a plain run without headers or recycling.
func catalogueReports(t *testing.T) []*Report {
	t.Helper()
	golden, err := Build(goldenRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	leaky := fixture.Variant{Name: "leaky", Repeats: 1, Duration: 20, Rate: 50, Classes: classes, Workers: 2,
		MaxRequests: 200, LeakPerRequest: 100 << 10, NoiseRSS: 64 << 10, Headers: true, Events: "server", Seed: 3}
	dir := filepath.Join(t.TempDir(), "run")
	if err := fixture.Write(dir, fixture.Scenario("leaky", classes, nil), []fixture.Variant{leaky}); err != nil {
		t.Fatal(err)
	}
	leak, err := Build(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain := build(t, fixture.Variant{Name: "plain", Repeats: 1, Duration: 6, Rate: 20, Classes: classes, Workers: 1, Seed: 4})
	return []*Report{golden, leak, plain, probed(t, classes)}
}

// probed is a run with a liveness and a readiness probe, for the
// probe.PROBE.* metrics.
func probed(t *testing.T, classes []fixture.Class) *Report {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "probed")
	v := fixture.Variant{Name: "probed", Repeats: 1, Duration: 10, Rate: 20, Classes: classes, Workers: 1, Seed: 5}
	if err := fixture.Write(dir, fixture.Scenario("probed", classes, nil), []fixture.Variant{v}); err != nil {
		t.Fatal(err)
	}
	if err := fixture.AddProbes(dir, 10, map[int]bool{2: true, 3: true, 4: true}, []float64{4}); err != nil {
		t.Fatal(err)
	}
	d, err := rundir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref := d.Meta.Runs[0]
	info, err := d.RunInfo(ref)
	if err != nil {
		t.Fatal(err)
	}
	info.Probes = append(info.Probes, rundir.ProbeStats{Name: "ready", Kind: "readiness", Path: "/healthz", Every: 1, Timeout: 1,
		FailureThreshold: 3, SuccessThreshold: 1, UnreadySeconds: 2})
	if err := rundir.WriteJSON(d.File(ref, rundir.RunFile), info); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestCatalogue: every metric a report emits, per run and per variant,
// is in the metric catalogue with the unit and direction the report
// gives it, and a threshold may name it (scenarios.ParseThreshold and
// KnownMetric with the run's classes accept it); and every metric or
// family of the catalogue is emitted by one of the reports, so that no
// threshold validates and is then "not measured" for want of a name.
func TestCatalogue(t *testing.T) {
	emitted := map[string]bool{}
	check := func(m Metric, classes []string) {
		d, ok := metric.Lookup(m.Name)
		if !ok {
			t.Errorf("%s is emitted but not in the catalogue", m.Name)
			return
		}
		emitted[d.Name] = true
		if m.Unit != d.Unit || m.Better != d.Better {
			t.Errorf("%s: emitted in %q (better %q), catalogue says %q (better %q)", m.Name, m.Unit, m.Better, d.Unit, d.Better)
		}
		if _, err := scenarios.ParseThreshold(m.Name + " >= 0"); err != nil {
			t.Errorf("%s is emitted but not accepted as a threshold: %v", m.Name, err)
		}
		if err := scenarios.KnownMetric(m.Name, classes); err != nil {
			t.Errorf("%s is emitted but not a known metric: %v", m.Name, err)
		}
	}
	for _, rep := range catalogueReports(t) {
		for _, v := range rep.Summary.Variants {
			var classes []string
			for _, c := range v.Classes {
				if c.Class != metric.AllClass {
					classes = append(classes, c.Class)
				}
			}
			for _, m := range v.Metrics {
				check(m, classes)
			}
			for i := range v.Runs {
				for _, m := range runMetrics(&v.Runs[i]) {
					check(m, classes)
				}
			}
		}
	}
	for _, d := range metric.Catalogue() {
		if !emitted[d.Name] {
			t.Errorf("catalogue metric %s is emitted by no report", d.Name)
		}
	}
	// scenarios lists the catalogue's names, families aside.
	for _, name := range scenarios.Metrics([]string{"light"}) {
		if _, ok := metric.Lookup(name); !ok {
			t.Errorf("scenarios.Metrics lists %s, which the catalogue does not define", name)
		}
	}
	if !slices.Contains(scenarios.Metrics(nil), "memory.worker_rss.per_request") {
		t.Error("scenarios.Metrics leaves out memory.worker_rss.per_request")
	}
}

// TestMeasureForeignClass: a class name no scenario could use (a vegeta
// attack name with a dot, or a reserved word) still gets its suffix's
// unit and direction rather than none.
func TestMeasureForeignClass(t *testing.T) {
	for _, name := range []string{"my.attack.p99", "memory.p99", "lag.rps"} {
		m := measure(name, 1)
		want, _ := metric.Lookup("CLASS." + name[strings.LastIndexByte(name, '.')+1:])
		if m.Unit != want.Unit || m.Better != want.Better || m.Unit == "" {
			t.Errorf("measure(%s) = unit %q, better %q; want %q, %q", name, m.Unit, m.Better, want.Unit, want.Better)
		}
	}
}
