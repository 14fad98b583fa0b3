package reports

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
)

// build writes a synthetic run directory with variants and builds it.
func build(t *testing.T, variants ...fixture.Variant) *Report {
	t.Helper()
	rep, err := Build(fixture.Temp(t, "", variants...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// formats returns the terminal table, report.md and report.html of rep.
func formats(t *testing.T, rep *Report) map[string]string {
	t.Helper()
	var table, md, html strings.Builder
	if err := rep.Table(&table, false); err != nil {
		t.Fatal(err)
	}
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := rep.html(&html, nil); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"table": table.String(), "md": md.String(), "html": html.String()}
}

// TestFindingsFirst: every format opens with the findings, before any
// table.
func TestFindingsFirst(t *testing.T) {
	rep, err := Build(goldenRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Summary.Findings) == 0 {
		t.Fatal("no findings")
	}
	first := rep.Summary.Findings[0].Text
	for name, out := range formats(t, rep) {
		i := strings.Index(out, first)
		j := strings.Index(out, "mean response time")
		if i < 0 || j < 0 || i > j {
			t.Errorf("%s: the first finding (at %d) does not come before the headline table (at %d)", name, i, j)
		}
	}
}

// TestProbeVerdictText: the table and report.md give a liveness probe's
// verdict.
func TestProbeVerdictText(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	v := fixture.Variant{Name: "blocking", Repeats: 1, Duration: 10, Rate: 20, Classes: classes, Workers: 1, Seed: 3}
	sc := fixture.Scenario("probes", classes, nil) + "probes:\n  - {name: live, kind: liveness, path: /healthz, every: 1s}\n"
	dir := fixture.Temp(t, sc, v)
	if err := fixture.AddProbes(dir, 10, map[int]bool{2: true, 3: true, 4: true, 5: true, 7: true}, []float64{4, 7}); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := formats(t, rep)
	for _, name := range []string{"table", "md"} {
		if !strings.Contains(out[name], "restarted 2 times, at 4.0s, 7.0s") {
			t.Errorf("%s lacks the verdict:\n%s", name, out[name])
		}
	}
}

// TestReuseFailuresText: report.md and the table lead with what a
// non-retrying client would have lost, and give the errors by kind.
func TestReuseFailuresText(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 3, Latency: 0.002}, {Name: "heavy", Weight: 1, Latency: 0.02}}
	base := fixture.Variant{Repeats: 2, Duration: 10, Rate: 40, Classes: classes, Workers: 2, MaxRequests: 50,
		ErrorsNearExit: 2, ReuseHidden: true, Seed: 3}
	retry, old := base, base
	retry.Name, old.Name, old.NoClient = "retry", "old", true
	rep := build(t, retry, old)
	out := formats(t, rep)
	md := out["md"]
	if !strings.Contains(md, "**Hidden by retries:** retry: ") || !strings.Contains(out["table"], "hidden by retries: retry: ") {
		t.Errorf("report.md or the table lacks the hidden-errors sentence")
	}
	if i, j := strings.Index(md, "Hidden by retries"), strings.Index(md, "## "); i < 0 || i > j {
		t.Errorf("the hidden-errors sentence is not at the top of report.md")
	}
	if !strings.Contains(md, "## Errors by kind") || !strings.Contains(md, "| retry | light |") {
		t.Errorf("report.md lacks the errors-by-kind table")
	}
	g := rep.errorKindsGrid()
	col := map[string]int{}
	for i, h := range g.header {
		col[h] = i
	}
	for _, k := range []string{"timeout", "conn_refused", "conn_reset", "conn_closed", "status 502", "other", "reuse failures"} {
		if _, ok := col[k]; !ok {
			t.Errorf("errors-by-kind header %v lacks %s", g.header, k)
		}
	}
	for _, row := range g.rows {
		if row[0].text == "old" && row[col["reuse failures"]].text != analysis.Unmeasured {
			t.Errorf("old run's reuse failures = %q, want %s", row[col["reuse failures"]].text, analysis.Unmeasured)
		}
	}
}

// TestRecyclingNoteNotAContrast: restarts so frequent that their windows
// cover most of the run are called out in the recycling note, and only
// those.
func TestRecyclingNoteNotAContrast(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	base := fixture.Variant{Name: "base", Repeats: 1, Duration: 10, Rate: 40, Classes: classes, Workers: 2, Seed: 4}
	often := base
	often.Name, often.MaxRequests, often.Seed = "often", 10, 5
	rep := build(t, base, often)
	note := rep.recyclingNote()
	if !regexp.MustCompile(`often: restart windows cover \S+% of the run, so inside against outside is not a contrast`).MatchString(note) {
		t.Errorf("recycling note %q does not call out the variant", note)
	}
	if strings.Contains(note, "base:") {
		t.Errorf("the note calls out base, which never restarted: %q", note)
	}
}

// TestPlanSectionMarkdown: report.md gives the per-class leak and the
// plan's recommendation.
func TestPlanSectionMarkdown(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	v := fixture.Variant{Name: "leaky", Repeats: 1, Duration: 20, Rate: 50, Classes: classes, Workers: 2,
		MaxRequests: 200, LeakPerRequest: 100 << 10, NoiseRSS: 64 << 10, Headers: true, Events: "server", Seed: 3}
	sc := fixture.Scenario("planned", classes, nil) + "plan:\n  worker_rss_budget: 64MiB\n  margin: 4MiB\n"
	rep, err := Build(fixture.Temp(t, sc, v), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Leak per request class", "## Recommendation for the memory budget", "max\\_requests"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}
