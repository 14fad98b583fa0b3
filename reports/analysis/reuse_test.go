package analysis

import (
	"strings"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
)

// Reuse failures come from timeline.csv per class; the report leads with
// what a non-retrying client would have lost when the client retried,
// and says nothing of it when it did not retry or did not measure them.
func TestReuseFailures(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 3, Latency: 0.002}, {Name: "heavy", Weight: 1, Latency: 0.02}}
	base := fixture.Variant{Repeats: 2, Duration: 10, Rate: 40, Classes: classes, Workers: 2, MaxRequests: 50,
		ErrorsNearExit: 2, ReuseHidden: true, Seed: 3}
	retry, noRetry, old := base, base, base
	retry.Name, noRetry.Name, noRetry.NoRetry, old.Name, old.NoClient = "retry", "no-retry", true, "old", true
	rep := build(t, retry, noRetry, old)

	v := rep.variant("retry")
	all, ok := v.Metric("reuse_failures.count")
	if !ok || all.Value <= 0 {
		t.Fatalf("retry: reuse_failures.count = %+v (measured %v), want > 0", all, ok)
	}
	var sum float64
	for _, c := range []string{"light", "heavy"} {
		m, ok := v.Metric(c + ".reuse_failures")
		if !ok {
			t.Fatalf("retry: %s.reuse_failures not measured", c)
		}
		sum += m.Value
	}
	if sum != all.Value {
		t.Errorf("classes' reuse failures sum to %v, reuse_failures.count is %v", sum, all.Value)
	}
	count, _ := v.Metric("all.count")
	if r, ok := v.Metric("reuse_failures.ratio"); !ok || r.Value != all.Value/count.Value {
		t.Errorf("reuse_failures.ratio = %+v, want %v/%v", r, all.Value, count.Value)
	}
	// The runs' timelines agree with the pooled count (a mean per repeat).
	var perRun int64
	for _, r := range v.Runs {
		for _, c := range r.Classes {
			if c.Class == AllClass && c.ReuseFailures != nil {
				perRun += *c.ReuseFailures
			}
		}
	}
	if float64(perRun)/float64(len(v.Runs)) != all.Value {
		t.Errorf("runs' reuse failures %d over %d repeats, pooled %v", perRun, len(v.Runs), all.Value)
	}

	if _, ok := rep.variant("old").Metric("reuse_failures.count"); ok {
		t.Error("a run without a client model reports reuse failures; want them not measured")
	}
	if m, ok := rep.variant("no-retry").Metric("reuse_failures.count"); !ok || m.Value != all.Value {
		t.Errorf("no-retry: reuse_failures.count = %+v, want %v as with retry", m, all.Value)
	}

	h := rep.Summary.HiddenErrors
	if len(h) != 1 || !strings.HasPrefix(h[0], "retry: ") || !strings.Contains(h[0], "would have lost them") {
		t.Fatalf("hidden errors = %q, want one sentence for variant retry", h)
	}
}
