package plan

import (
	"math"
	"strings"
	"testing"
)

// TestRecommend: the limit is (budget - base - margin) / leak, split into
// max_requests and a jitter of 3% to 6% of it; the restart rate, the
// concurrency and the cost follow from the measured restart.
func TestRecommend(t *testing.T) {
	in := Input{Budget: 300 * mib, Margin: 15 * mib, Base: 45 * mib, Leak: 100 << 10, LeakHigh: 105 << 10, WorstLeak: 200 << 10,
		Rate: 400, Workers: 4, Cost: Cost{Measured: true, Window: 0.3, ErrorsPerRestart: 2, NearWindow: 1, NearP99: 0.2, OtherP99: 0.02}}
	r, err := Recommend(in)
	if err != nil {
		t.Fatal(err)
	}
	limit := math.Floor((300 - 45 - 15) * mib / float64(100<<10)) // 2457
	if got := float64(r.MaxRequests + r.Jitter); got != limit {
		t.Errorf("max_requests + jitter = %v, want the limit %v", got, limit)
	}
	if j := float64(r.Jitter) / limit; j < MinJitter-0.001 || j > MaxJitter {
		t.Errorf("jitter %d is %.1f%% of the limit, want %g%% to %g%%", r.Jitter, j*100, MinJitter*100, MaxJitter*100)
	}
	// Spreading 4 workers' first restarts one window apart: 4 × 0.3 s × 100 req/s.
	if r.Jitter != 120 {
		t.Errorf("jitter = %d, want 120 (4 workers × 0.3s × 100 req/s)", r.Jitter)
	}
	life := float64(r.MaxRequests) + float64(r.Jitter)/2
	if got, want := r.Recycling.RestartsPerSecond, 400/life; math.Abs(got/want-1) > 1e-9 {
		t.Errorf("restarts/s = %v, want %v", got, want)
	}
	if got, want := *r.Recycling.Concurrent, 400/life*0.3; math.Abs(got/want-1) > 1e-9 {
		t.Errorf("concurrent = %v, want %v", got, want)
	}
	if got, want := *r.Recycling.ErrorRatio, 400/life*2/400; math.Abs(got/want-1) > 1e-9 {
		t.Errorf("error ratio = %v, want %v", got, want)
	}
	// 0.17 restarts/s × 2 s: a third of the requests are near a restart.
	if p := *r.Recycling.P99; p != 0.2 {
		t.Errorf("p99 = %v, want the near-restart 200ms", p)
	}
	if *r.FirstCycleConcurrent != 1 {
		t.Errorf("first-cycle concurrency = %v, want 1 with the spreading jitter", *r.FirstCycleConcurrent)
	}
	if got, want := r.MaxRSS, float64(300*mib-200<<10); got != want {
		t.Errorf("max_rss = %v, want the budget minus the worst leak %v", got, want)
	}

	// No restart measured: the settings but no cost, and a note saying so.
	in.Cost = Cost{}
	r, err = Recommend(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Recycling.Concurrent != nil || r.Recycling.ErrorRatio != nil || !strings.Contains(strings.Join(r.Notes, " "), "not measured") {
		t.Errorf("unmeasured cost: concurrent %v, errors %v, notes %q", r.Recycling.Concurrent, r.Recycling.ErrorRatio, r.Notes)
	}

	// No leak: no recycling. A base over the budget: an error.
	in.Leak, in.LeakHigh = -10, 50
	if r, err := Recommend(in); err != nil || r.NeedsRecycling {
		t.Errorf("no leak: needs recycling %v, err %v", r.NeedsRecycling, err)
	}
	in.Base = 290 * mib
	if _, err := Recommend(in); err == nil || !strings.Contains(err.Error(), "exceeds the budget") {
		t.Errorf("base over the budget: err %v", err)
	}
}
