package analysis

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
)

// TestFindings: a run with known effects (a leak that recycling
// contains, errors after each restart, a max_rss limit never reached)
// yields the expected sentences, each naming the metrics it rests on,
// and every report format opens with them.
func TestFindings(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 9, Latency: 0.002}, {Name: "heavy", Weight: 1, Latency: 0.02}}
	base := fixture.Variant{Name: "no-recycling", Repeats: 3, Duration: 20, Rate: 40, Classes: classes, Workers: 2,
		LeakPerRequest: 256 << 10, RepeatNoise: 0.01, Seed: 5}
	recycled := base
	recycled.Name, recycled.MaxRequests, recycled.ErrorsNearExit, recycled.Seed = "max-requests", 100, 2, 6
	recycled.Set = map[string]string{"max_requests": "100"}
	idle := base
	idle.Name, idle.Seed = "max-rss", 7
	idle.Set = map[string]string{"max_rss": "1GiB"}
	long := base
	long.Name, long.Seed = "long-lived", 8
	long.Set = map[string]string{"max_requests": "5000", "max_lifetime": "10m"}
	dir := filepath.Join(t.TempDir(), "run")
	if err := fixture.Write(dir, fixture.Scenario("fixture", classes, nil), []fixture.Variant{base, recycled, idle, long}); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs := rep.Summary.Findings
	byText := func(variant, pattern string) *Finding {
		t.Helper()
		re := regexp.MustCompile(pattern)
		for i := range fs {
			if fs[i].Variant == variant && re.MatchString(fs[i].Text) {
				return &fs[i]
			}
		}
		t.Errorf("no finding of %s matches %q; findings:\n%s", variant, pattern, findingTexts(fs))
		return nil
	}
	// Recycling every 100 requests per worker holds the leak at a
	// fraction of 400 requests' worth: a significant drop of peak PSS,
	// errors from 0, and 7 restarts per run (8 exits of 100 requests
	// each, the last of them at the stop, which is no restart).
	if f := byText("max-requests", `^max-requests against no-recycling: peak PSS \S+ MiB → \S+ MiB \(×0\.\d+, significant, p=0\.10\); `+
		`p99 .*; errors 0% → \S+% \(significant, p=0\.10\); 7 restarts per run, each costing \S+ extra errors and \S+ of extra latency\.$`); f != nil {
		for _, m := range []string{"memory.pss.peak", "all.p99", "errors.ratio", "restarts.count", "recycle.errors_per_restart", "recycle.delay_per_restart"} {
			if !contains(f.Metrics, m) {
				t.Errorf("max-requests finding rests on %q, want %s among them", f.Metrics, m)
			}
		}
	}
	// max_rss 1 GiB is never reached in 400 requests per worker.
	if f := byText("max-rss", `^max-rss: its recycling policy never acted, no worker restarted, so the run is too short .*: `+
		`max_rss 1 GiB was never reached \(largest worker \S+ MiB\): at \S+ KiB/req it needs about \d+ requests per worker, `+
		`and the run gave each of 2 workers about 400 requests\.$`); f != nil && !contains(f.Metrics, "memory.worker_rss.peak") {
		t.Errorf("max-rss finding rests on %q, want memory.worker_rss.peak", f.Metrics)
	}
	if f := byText("max-rss", `^max-rss against no-recycling: peak PSS (\S+ MiB) → (\S+ MiB) \(unchanged\); p99 .*; errors 0% → 0% \(unchanged\); no restarts\.$`); f != nil && strings.Contains(f.Text, "light p99") {
		t.Errorf("max-rss finding names light p99, which did not worsen: %s", f.Text)
	}
	byText("long-lived", `^long-lived: its recycling policy never acted, .*: max_requests 5000 needs about 5000 requests per worker; `+
		`max_lifetime 10m0s needs a run longer than 10m0s \(this one lasted 20.0s\), and the run gave each of 2 workers about 400 requests\.$`)
	for _, f := range fs {
		if f.Variant == "no-recycling" || f.Variant == "max-requests" && strings.Contains(f.Text, "never acted") {
			t.Errorf("unexpected finding %+v", f)
		}
	}

}

// TestFindingsSingle: a single-variant run states its own numbers.
func TestFindingsSingle(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	rep := build(t, fixture.Variant{Name: "default", Repeats: 1, Duration: 10, Rate: 20, Classes: classes, Workers: 2, Seed: 2})
	fs := rep.Summary.Findings
	if len(fs) != 1 || !regexp.MustCompile(`^default: peak PSS \S+ MiB, growing .*; p99 \S+ms; errors 0%; no restarts\.$`).MatchString(fs[0].Text) {
		t.Errorf("findings:\n%s\nwant one sentence of the variant's own numbers", findingTexts(fs))
	}
}

func findingTexts(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Variant + ": " + f.Text + "\n")
	}
	return b.String()
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestRestartPhrase: a negative excess per restart is no cost, and
// only a positive one is stated.
func TestRestartPhrase(t *testing.T) {
	v := &VariantSummary{Name: "v", Metrics: []Metric{
		{Name: "restarts.count", Unit: UnitCount, Value: 9},
		{Name: "recycle.errors_per_restart", Unit: UnitPerRestart, Value: 0},
		{Name: "recycle.delay_per_restart", Unit: UnitSeconds, Value: -0.02},
	}}
	var f Finding
	if got, want := restartPhrase(v, &f), "9 restarts per run, each with no measurable extra errors or latency"; got != want {
		t.Errorf("restartPhrase = %q, want %q", got, want)
	}
	v.Metrics[2].Value = 0.046
	if got, want := restartPhrase(v, &f), "9 restarts per run, each costing 46.0ms of extra latency"; got != want {
		t.Errorf("restartPhrase = %q, want %q", got, want)
	}
}
