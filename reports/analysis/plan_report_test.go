package analysis

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
)

// TestPlanSection: a scenario with a plan block gets the recommendation
// in summary.json and report.md, computed from the variant's fit (limit
// = (budget - base - margin) / leak), with the restart cost measured from
// its recycled workers; the leak threshold is evaluated; and a worker
// header the responses do not carry leaves the fit out rather than
// reading another header.
func TestPlanSection(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	v := fixture.Variant{Name: "leaky", Repeats: 1, Duration: 20, Rate: 50, Classes: classes, Workers: 2,
		MaxRequests: 200, LeakPerRequest: 100 << 10, NoiseRSS: 64 << 10, Headers: true, Events: "server", Seed: 3}
	sc := fixture.Scenario("planned", classes, []string{"light.leak_per_request < 1KiB"}) +
		"plan:\n  worker_rss_budget: 64MiB\n  margin: 4MiB\n"
	for _, header := range []string{"", "X-Other-Pid"} {
		text := sc
		if header != "" {
			text = strings.Replace(sc, "target:\n", "target:\n  worker_header: "+header+"\n", 1)
		}
		dir := filepath.Join(t.TempDir(), "run")
		if err := fixture.Write(dir, text, []fixture.Variant{v}); err != nil {
			t.Fatal(err)
		}
		rep, err := Build(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		vs := rep.Summary.Variants[0]
		if header != "" {
			if vs.Leak != nil {
				t.Errorf("worker_header %s: a leak fit from responses that do not carry it: %+v", header, vs.Leak.RSS)
			}
			if p := rep.Summary.Plan; p == nil || p.Recommendation != nil || !strings.Contains(p.Error, header) {
				t.Errorf("worker_header %s: plan %+v, want an error naming the header", header, p)
			}
			continue
		}
		p := rep.Summary.Plan
		if p == nil || p.Recommendation == nil {
			t.Fatalf("plan section = %+v, want a recommendation", p)
		}
		rec := p.Recommendation
		in := rec.Input
		if math.Abs(in.Leak/(100<<10)-1) > 0.05 {
			t.Errorf("plan leak = %.0f, want 100 KiB ±5%%", in.Leak)
		}
		limit := math.Floor((64<<20 - in.Base - 4<<20) / in.Leak)
		if got := float64(rec.MaxRequests + rec.Jitter); got != limit {
			t.Errorf("max_requests + jitter = %v, want (budget - base - margin) / leak = %v", got, limit)
		}
		if !in.Cost.Measured || in.Cost.Window <= 0 {
			t.Errorf("restart cost = %+v, want measured from the recycled workers", in.Cost)
		}
		if len(rep.Summary.Thresholds) != 1 || rep.Summary.Thresholds[0].Pass || rep.Summary.Thresholds[0].Error != "" {
			t.Errorf("light.leak_per_request < 1KiB on a 100 KiB leak: %+v, want a measured failure", rep.Summary.Thresholds)
		}
	}
}
