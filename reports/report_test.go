package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
)

var update = flag.Bool("update", false, "rewrite testdata/run and the golden files")

// goldenRun is the small run directory checked into testdata: two
// variants (no recycling, and max-requests with errors near each exit and
// X-Worker-* response headers) of three repeats, two request classes, a
// leak and a loop-lag histogram.
const goldenRun = "testdata/run"

func goldenClasses() []fixture.Class {
	return []fixture.Class{{Name: "light", Weight: 4, Latency: 0.002}, {Name: "heavy", Weight: 1, Latency: 0.05}}
}

func goldenVariants() []fixture.Variant {
	cl := goldenClasses()
	return []fixture.Variant{
		{Name: "no-recycling", Set: map[string]string{"max_requests": "0"}, Repeats: 3, Duration: 8, Rate: 25, Classes: cl,
			Workers: 2, LeakPerRequest: 100 << 10, NoiseRSS: 64 << 10, Lag: true, Seed: 1, RepeatNoise: 0.02},
		{Name: "max-requests", Set: map[string]string{"max_requests": "40"}, Repeats: 3, Duration: 8, Rate: 25, Classes: cl,
			Workers: 2, MaxRequests: 40, LeakPerRequest: 100 << 10, NoiseRSS: 64 << 10, ErrorsNearExit: 2, Lag: true, Seed: 2, RepeatNoise: 0.02,
			Headers: true, ReuseHidden: true},
	}
}

func goldenThresholds() []string {
	return []string{"light.p99 < 50ms", "errors.ratio < 1%", "memory.pss.slope < 10MiB/min", "restarts.max_concurrent <= 2"}
}

func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		os.RemoveAll(goldenRun)
		if err := fixture.Write(goldenRun, fixture.Scenario("fixture", goldenClasses(), goldenThresholds()), goldenVariants()); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// golden compares got with testdata/golden/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports/... -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./reports/... -update rewrites it after review)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	rep, err := Build(goldenRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var table, md, js bytes.Buffer
	if err := rep.Table(&table, false); err != nil {
		t.Fatal(err)
	}
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := rep.JSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.txt", table.Bytes())
	golden(t, "report.md", md.Bytes())
	golden(t, "summary.json", js.Bytes())

	// Independent of the golden files: what the fixture was built to show.
	var s analysis.Summary
	if err := json.Unmarshal(js.Bytes(), &s); err != nil {
		t.Fatalf("summary.json does not parse: %v", err)
	}
	if s.Schema != analysis.SummarySchema || s.Version != analysis.SummaryVersion || len(s.Variants) != 2 || s.Baseline != "no-recycling" {
		t.Fatalf("summary header = %q v%d, %d variants, baseline %q", s.Schema, s.Version, len(s.Variants), s.Baseline)
	}
	// The headline: the article's four numbers, over all requests.
	if h := s.Variants[1].Headline; h.Mean == nil || h.P99 == nil || h.Throughput == nil || h.ErrorRate == nil ||
		math.Abs(*h.ErrorRate-0.04) > 1e-9 || *h.Throughput <= 0 || *h.P99 < *h.Mean {
		t.Errorf("max-requests headline = %+v, want every number, error rate 4%%", h)
	}
	// The findings come first, then what retries hid, then the headline.
	top := strings.SplitN(table.String(), "\n", 12)
	if len(top) < 12 || !strings.HasPrefix(top[4], "hidden by retries: max-requests: ") || top[5] != "" {
		t.Errorf("the table does not say what retries hid after the findings:\n%s", strings.Join(top, "\n"))
	}
	top = append(top[:4], top[6:]...)
	if !strings.HasPrefix(top[2], "max-requests against no-recycling: peak PSS ") || top[3] != "" ||
		!strings.HasPrefix(top[5], "mean response time ") || !strings.HasPrefix(top[6], "p99 ") ||
		!strings.HasPrefix(top[7], "throughput ") || !strings.HasPrefix(top[8], "error rate ") {
		t.Errorf("the table does not lead with the finding and the headline:\n%s", strings.Join(top, "\n"))
	}
	if !strings.Contains(md.String(), "| error rate | 0% | 4.00% |") {
		t.Errorf("report.md lacks the headline's error rate row")
	}
	// Unmeasured is not zero: no exit in no-recycling, so no latency near
	// one and no replacement time; absent from the metrics and from the
	// JSON, "—" in the table with no ratio.
	nr, _ := rep.Variant("no-recycling")
	for _, name := range []string{"recycle.in_window.p99", "recycle.in_window.errors", "restarts.replace_mean"} {
		if m, ok := nr.Metric(name); ok {
			t.Errorf("no-recycling %s = %v, want unmeasured", name, m.Value)
		}
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` +— +\S+( ±\d+%)? +—$`).MatchString(table.String()) {
			t.Errorf("table row %s is not \"— value —\":\n%s", name, table.String())
		}
	}
	if m, ok := nr.Metric("errors.http_502"); !ok || m.Value != 0 {
		t.Errorf("no-recycling errors.http_502 = %v, %v; want a count of 0", m.Value, ok)
	}
	if strings.Contains(js.String(), `"replace_mean": 0,`) {
		t.Errorf("summary.json has a replace_mean of 0 for a run without restarts")
	}
	mr, _ := rep.Variant("max-requests")
	if m, _ := mr.Metric("restarts.count"); m.Value != 4 {
		t.Errorf("max-requests restarts.count = %v, want 4 (2 workers × 200/2/40 requests, per repeat)", m.Value)
	}
	if m, _ := mr.Metric("errors.count"); m.Value != 8 {
		t.Errorf("max-requests errors.count = %v, want 8 (2 after each of 4 exits)", m.Value)
	}
	if mr.Recycling.OutWindow.Errors != 0 || mr.Recycling.InWindow.Errors != 24 {
		t.Errorf("recycling in/out errors = %d/%d, want 24/0", mr.Recycling.InWindow.Errors, mr.Recycling.OutWindow.Errors)
	}
	if !strings.Contains(table.String(), "FAIL  max-requests: errors.ratio < 1%") {
		t.Errorf("table lacks the broken errors.ratio threshold:\n%s", table.String())
	}
	// No recycling leaks ~140 MiB/min; recycling costs 4% errors.
	f := rep.Failed()
	if len(f) != 2 || f[0].Variant != "no-recycling" || f[0].Metric != "memory.pss.slope" ||
		f[1].Variant != "max-requests" || f[1].Metric != "errors.ratio" {
		t.Errorf("Failed() = %+v, want no-recycling memory.pss.slope and max-requests errors.ratio", f)
	}
}
