package analysis

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// TestRestartWindowsExact: three restarts with known decision, exit and
// ready times (a retirement decided before the exit, a crash without a
// decision, an exit without a replacement) give known windows, a known
// share of the run, known requests inside and outside, and a known
// excess per restart.
func TestRestartWindowsExact(t *testing.T) {
	events := []rundir.Event{
		{T: 2.0, Source: "server", Event: "retiring", PID: 11, Reason: "max_requests"},
		{T: 2.5, Source: "server", Event: "exit", PID: 11, Reason: "max_requests"},
		{T: 2.6, Source: "server", Event: "spawn", PID: 21},
		{T: 3.0, Source: "server", Event: "ready", PID: 21},
		{T: 6.0, Source: "server", Event: "exit", PID: 12, Reason: "crash"},
		{T: 6.1, Source: "server", Event: "spawn", PID: 22},
		{T: 6.5, Source: "server", Event: "ready", PID: 22},
		{T: 8.0, Source: "server", Event: "exit", PID: 13, Reason: "crash"},
		{T: 10, Source: "runner", Event: "stop"},
	}
	rs := restarts(events, nil, nil, stopTime(rundir.RunInfo{}, events))
	want := []RestartWindow{
		{Start: 2.0, End: 3.0, PID: 11, From: "retiring", To: "ready"},
		{Start: 6.0, End: 6.5, PID: 12, From: "exit", To: "ready"},
		{Start: 8.0, End: 8.0, PID: 13, From: "exit", To: "exit"},
	}
	if len(rs.Windows) != len(want) {
		t.Fatalf("windows = %+v, want %+v", rs.Windows, want)
	}
	for i, w := range want {
		if rs.Windows[i] != w {
			t.Errorf("window %d = %+v, want %+v", i, rs.Windows[i], w)
		}
	}
	union := unionWindows(rs.Windows, 10)
	if got := covered(union); math.Abs(got-1.5) > 1e-12 {
		t.Errorf("covered = %v s, want 1.5 s", got)
	}

	type req struct {
		start, lat float64
		fail       bool
		in         bool
	}
	reqs := []req{
		{1.0, 0.010, false, false},
		{1.95, 0.100, false, true}, // in flight when the decision is taken
		{2.5, 0.200, true, true},
		{3.0, 0.010, false, true}, // starts as the replacement is ready
		{3.01, 0.010, false, false},
		{5.0, 0.010, false, false},
		{6.2, 0.050, true, true},
		{7.99, 0.020, false, true}, // in flight at the unreplaced exit
		{9.0, 0.010, true, false},
	}
	in, out := &sample{}, &sample{}
	for _, r := range reqs {
		got := inWindow(union, r.start, r.start+r.lat)
		if got != r.in {
			t.Errorf("request %.2f+%.3f: in window = %v, want %v", r.start, r.lat, got, r.in)
		}
		kind := ""
		if r.fail {
			kind = "http_502"
		}
		s := out
		if got {
			s = in
		}
		s.add(time.Duration(r.lat*float64(time.Second)), kind)
	}
	c := recyclingCost(in, out, rs.Count, covered(union), 10)
	if c.Share != 0.15 || c.InWindow.Count != 5 || c.InWindow.Errors != 2 || c.OutWindow.Count != 4 || c.OutWindow.Errors != 1 {
		t.Errorf("cost = share %v, in %d/%d errors, out %d/%d errors; want 0.15, 5/2, 4/1",
			c.Share, c.InWindow.Count, c.InWindow.Errors, c.OutWindow.Count, c.OutWindow.Errors)
	}
	// Errors: 2 inside, where the outside ratio 1/4 predicts 1.25 for 5
	// requests: 0.75 extra over 3 restarts. Delay: 0.38 s inside, where 5
	// requests at the outside mean 10 ms take 0.05 s: 0.33 s over 3.
	if c.ErrorsPerRestart == nil || math.Abs(*c.ErrorsPerRestart-0.25) > 1e-9 {
		t.Errorf("errors per restart = %v, want 0.25", c.ErrorsPerRestart)
	}
	if c.DelayPerRestart == nil || math.Abs(*c.DelayPerRestart-0.11) > 1e-6 {
		t.Errorf("delay per restart = %v, want 0.11 s", c.DelayPerRestart)
	}
	ms := windowMetrics(c)
	for name, v := range map[string]float64{"recycle.window_share": 0.15, "recycle.in_window.errors": 2,
		"recycle.out_window.count": 4, "recycle.errors_per_restart": 0.25} {
		if m, ok := lookup(ms, name); !ok || math.Abs(m.Value-v) > 1e-9 {
			t.Errorf("metric %s = %+v (present %v), want %v", name, m, ok, v)
		}
	}

	// No restarts: no excess, and nothing inside.
	none := recyclingCost(&sample{}, out, 0, 0, 10)
	if none.ErrorsPerRestart != nil || none.Share != 0 {
		t.Errorf("no restarts: cost %+v, want no excess and share 0", none)
	}
	if _, ok := lookup(windowMetrics(none), "recycle.in_window.p99"); ok {
		t.Errorf("no restarts: recycle.in_window.p99 present, want it unmeasured")
	}
}

// TestRecycleWindow: through the whole report, the fixture's restarts
// (retiring 5 ms before each exit, replacement ready 300 ms after it)
// give windows of exactly that shape, their union's share of the run,
// and every error (placed right after the exits) inside.
func TestRecycleWindow(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	rep := build(t, fixture.Variant{Name: "recycle", Repeats: 1, Duration: 20, Rate: 40, Classes: classes, Workers: 2,
		MaxRequests: 150, ErrorsNearExit: 3, Seed: 3})
	v := rep.Summary.Variants[0]
	rs := v.Runs[0].Restarts
	if rs.Count != 4 || len(rs.Windows) != 4 {
		t.Fatalf("restarts = %+v, want 4 exits and 4 windows", rs)
	}
	// Both workers exit within 10 ms, each down until its replacement
	// is ready 300 ms later.
	if rs.MaxConcurrent != 2 {
		t.Errorf("max concurrent = %d, want 2", rs.MaxConcurrent)
	}
	var lo, hi []float64 // the union, from the exit times alone
	for i, x := range rs.Exits {
		w := rs.Windows[i]
		if math.Abs(w.Start-(x.T-0.005)) > 1e-9 || math.Abs(w.End-(x.T+0.3)) > 1e-9 || w.From != "retiring" || w.To != "ready" {
			t.Errorf("window %d = %+v, want retiring %.3f to ready %.3f", i, w, x.T-0.005, x.T+0.3)
		}
		if n := len(hi); n > 0 && x.T-0.005 <= hi[n-1] {
			hi[n-1] = math.Max(hi[n-1], x.T+0.3)
		} else {
			lo, hi = append(lo, x.T-0.005), append(hi, x.T+0.3)
		}
	}
	var cov float64
	for i := range lo {
		cov += hi[i] - lo[i]
	}
	if got := v.Recycling.Share; math.Abs(got-cov/v.Runs[0].Duration) > 1e-9 {
		t.Errorf("window share = %v, want %v", got, cov/v.Runs[0].Duration)
	}
	in, out := v.Recycling.InWindow, v.Recycling.OutWindow
	all := v.Classes[len(v.Classes)-1]
	if in.Errors == 0 || in.Errors != all.Count-all.OK || out.Errors != 0 {
		t.Errorf("errors in/out = %d/%d, total %d: want every error inside a window", in.Errors, out.Errors, all.Count-all.OK)
	}
	if in.Count+out.Count != all.Count {
		t.Errorf("in + out = %d + %d, want all %d requests", in.Count, out.Count, all.Count)
	}
	// Inside, the failing requests are slowed tenfold: a positive delay,
	// and every error is extra (none outside).
	if e := v.Recycling.ErrorsPerRestart; e == nil || math.Abs(*e-float64(in.Errors)/4) > 1e-9 {
		t.Errorf("errors per restart = %v, want %v", e, float64(in.Errors)/4)
	}
	if d := v.Recycling.DelayPerRestart; d == nil || *d <= 0 {
		t.Errorf("delay per restart = %v, want positive", d)
	}
	for _, name := range []string{"recycle.window_share", "recycle.in_window.p99", "recycle.out_window.p99",
		"recycle.in_window.errors", "recycle.errors_per_restart", "recycle.delay_per_restart"} {
		if _, ok := v.Metric(name); !ok {
			t.Errorf("metric %s missing", name)
		}
	}
}

// TestWindowsNotAContrast: restarts so frequent that their windows
// cover most of the run are called out in the recycling note and the
// findings.
func TestWindowsNotAContrast(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	base := fixture.Variant{Name: "base", Repeats: 1, Duration: 10, Rate: 40, Classes: classes, Workers: 2, Seed: 4}
	often := base
	often.Name, often.MaxRequests, often.Seed = "often", 10, 5
	rep := build(t, base, often)
	v := rep.variant("often")
	// Both workers exit every 0.5 s, each window 0.305 s long.
	if v.Recycling.Share <= NotAContrast {
		t.Fatalf("window share = %v, want above %v", v.Recycling.Share, NotAContrast)
	}
	found := false
	for _, f := range rep.Summary.Findings {
		if f.Variant == "often" && strings.Contains(f.Text, "inside against outside is not a contrast") && contains(f.Metrics, "recycle.window_share") {
			found = true
		}
	}
	if !found {
		t.Errorf("no finding of often says the windows are no contrast:\n%s", findingTexts(rep.Summary.Findings))
	}
}
