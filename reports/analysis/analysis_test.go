package analysis

import (
	"math"
	"strings"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
	"github.com/sawtooth-dev/sawtooth/reports/stats"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
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

const mib = 1 << 20

// TestLeakSlope: memory samples built with 1 MiB per 100 requests plus
// noise give back that leak within 5%, per request and per minute; a flat
// noisy series gives a slope near zero with a low R².
func TestLeakSlope(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	const perReq = mib / 100.0
	leaky := fixture.Variant{Name: "leaky", Repeats: 1, Duration: 20, Rate: 50, Classes: classes, Workers: 2,
		MaxRequests: 200, LeakPerRequest: perReq, NoiseRSS: 256 << 10, Seed: 7}
	steady := leaky
	steady.Name, steady.MaxRequests = "steady", 0 // no recycling: total PSS grows linearly
	flat := steady
	flat.Name, flat.LeakPerRequest, flat.NoiseRSS = "flat", 0, 1*mib
	rep := build(t, leaky, steady, flat)

	m := rep.Summary.Variants[0].Runs[0].Memory
	if !strings.HasPrefix(m.RequestsMethod, "exit_events") {
		t.Errorf("requests method = %q, want exit_events first", m.RequestsMethod)
	}
	if got := m.WorkerRSSPerRequest.Slope; math.Abs(got/perReq-1) > 0.05 {
		t.Errorf("leaky per-request slope = %.0f B/req, want %.0f ±5%%", got, perReq)
	}
	if m.WorkerRSSPerRequest.R2 < 0.8 {
		t.Errorf("leaky per-request R² = %.2f, want ≥ 0.8", m.WorkerRSSPerRequest.R2)
	}

	// 50 req/s, PSS = 0.8 RSS in the fixture: 0.8 × 1 MiB/100 × 50 × 60 per minute.
	s := rep.Summary.Variants[1].Runs[0].Memory
	wantMin := 0.8 * perReq * 50 * 60
	if got := s.PSSSlope.Slope; math.Abs(got/wantMin-1) > 0.05 {
		t.Errorf("steady PSS slope = %s/min, want %s/min ±5%%", FormatValue(got, UnitBytes), FormatValue(wantMin, UnitBytes))
	}
	if got := s.WorkerRSSPerRequest.Slope; math.Abs(got/perReq-1) > 0.05 {
		t.Errorf("steady per-request slope (load share) = %.0f B/req, want %.0f ±5%%", got, perReq)
	}

	f := rep.Summary.Variants[2].Runs[0].Memory
	if got := f.WorkerRSSPerRequest.Slope; math.Abs(got) > 0.05*perReq || f.WorkerRSSPerRequest.R2 > 0.1 {
		t.Errorf("flat per-request fit = %.0f B/req R² %.3f, want |slope| < %.0f and R² < 0.1", got, f.WorkerRSSPerRequest.R2, 0.05*perReq)
	}
	if got := f.PSSSlope.Slope; math.Abs(got) > 0.05*wantMin || f.PSSSlope.R2 > 0.1 {
		t.Errorf("flat PSS fit = %.0f B/min R² %.3f, want |slope| < %.0f and R² < 0.1", got, f.PSSSlope.R2, 0.05*wantMin)
	}
}

// TestThresholds: pass, fail and exactly at the limit, in every unit.
func TestThresholds(t *testing.T) {
	v := &VariantSummary{Name: "v", Metrics: []Metric{
		{Name: "light.p99", Unit: UnitSeconds, Value: 0.050},
		{Name: "all.max", Unit: UnitSeconds, Value: 2},
		{Name: "errors.ratio", Unit: UnitRatio, Value: 0.001},
		{Name: "memory.pss.peak", Unit: UnitBytes, Value: 300 * mib},
		{Name: "memory.pss.slope", Unit: UnitBytesMin, Value: 1 * mib},
		{Name: "restarts.max_concurrent", Unit: UnitCount, Value: 1},
		{Name: "all.rps", Unit: UnitRate, Value: 400},
	}}
	cases := []struct {
		expr string
		pass bool
	}{
		{"light.p99 < 51ms", true}, {"light.p99 < 49ms", false}, {"light.p99 <= 50ms", true}, {"light.p99 < 50ms", false},
		{"all.max < 3s", true}, {"all.max < 1.5s", false}, {"all.max <= 2s", true}, {"all.max < 2s", false},
		{"errors.ratio < 0.2%", true}, {"errors.ratio < 0.05%", false}, {"errors.ratio <= 0.1%", true}, {"errors.ratio < 0.1%", false},
		{"memory.pss.peak < 301MiB", true}, {"memory.pss.peak < 299MiB", false}, {"memory.pss.peak <= 300MiB", true}, {"memory.pss.peak < 300MiB", false},
		{"memory.pss.slope < 2MiB/min", true}, {"memory.pss.slope < 0.5MiB/min", false}, {"memory.pss.slope <= 1MiB/min", true}, {"memory.pss.slope < 1MiB/min", false},
		{"restarts.max_concurrent <= 1", true}, {"restarts.max_concurrent < 1", false},
		{"all.rps >= 400", true}, {"all.rps > 400", false},
		{"lag.p99 < 10ms", false}, // not measured: a failure, not a silent pass
	}
	for _, c := range cases {
		th, err := scenarios.ParseThreshold(c.expr)
		if err != nil {
			t.Fatalf("ParseThreshold(%q): %v", c.expr, err)
		}
		vd := evaluate([]rundir.Threshold{th.Recorded()}, v)[0]
		if vd.Pass != c.pass {
			t.Errorf("%s: pass = %v, want %v (measured %g, limit %g)", c.expr, vd.Pass, c.pass, vd.Measured, vd.Limit)
		}
	}
	th, _ := scenarios.ParseThreshold("lag.p99 < 10ms")
	if vd := evaluate([]rundir.Threshold{th.Recorded()}, v)[0]; !strings.Contains(vd.Error, "not measured") {
		t.Errorf("unmeasured metric: error %q, want it to say not measured", vd.Error)
	}
	th, _ = scenarios.ParseThreshold("memory.pss.peak < 299MiB")
	if got := VerdictText(evaluate([]rundir.Threshold{th.Recorded()}, v)[0]); got != "v: memory.pss.peak < 299MiB (measured 300 MiB, limit < 299 MiB)" {
		t.Errorf("VerdictText = %q", got)
	}
}

func TestErrorKinds(t *testing.T) {
	for msg, want := range map[string]string{
		`Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`:                          ErrRefused,
		`read tcp 127.0.0.1:5->127.0.0.1:8: read: connection reset by peer`:                                     ErrReset,
		`Get "http://127.0.0.1:8/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`: ErrTimeout,
		`Get "http://127.0.0.1:8/": EOF`:                         ErrEOF,
		`write tcp 127.0.0.1:5->127.0.0.1:8: write: broken pipe`: ErrReset,
		`something else`: ErrOther,
	} {
		if got := classifyError(msg); got != want {
			t.Errorf("classifyError(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestHistogramQuantile(t *testing.T) {
	b := map[string]float64{"0.01": 50, "0.1": 90, "1": 100, "+Inf": 100}
	for q, want := range map[float64]float64{0.5: 0.01, 0.25: 0.005, 0.7: 0.055, 0.99: 0.91} {
		if got := histogramQuantile(q, b); math.Abs(got-want) > 1e-9 {
			t.Errorf("q%.2f = %v, want %v", q, got, want)
		}
	}
	if got := histogramQuantile(0.99, map[string]float64{"0.1": 1, "+Inf": 10}); got != 0.1 {
		t.Errorf("quantile in +Inf bucket = %v, want the largest finite bound 0.1", got)
	}
}

// TestCompare: a 30% p99 regression over 5 repeats is flagged as
// significant and named; noise-level differences are not; with too few
// repeats nothing fails the gate.
func TestCompare(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 4, Latency: 0.004}, {Name: "heavy", Weight: 1, Latency: 0.04}}
	v := fixture.Variant{Name: "v", Repeats: 5, Duration: 8, Rate: 50, Classes: classes, Workers: 2, Jitter: 0.05, RepeatNoise: 0.02, Seed: 11}
	base := build(t, v)
	noisy := v
	noisy.Seed = 12 // other random numbers, same distribution
	same := build(t, noisy)
	slow := noisy
	slow.LatencyScale = 1.3
	worse := build(t, slow)

	c := Compare(base, same, CompareOptions{})
	if len(c.Regressions) != 0 {
		for _, d := range c.Regressions {
			t.Errorf("noise flagged as a regression: %s", RegressionText(d))
		}
	}

	c = Compare(base, worse, CompareOptions{MaxRegression: 0.10})
	var found bool
	for _, d := range c.Regressions {
		if d.Metric == "all.p99" {
			found = true
			if !d.Tested || !d.Worse || d.P > d.Level || math.Abs(d.Worsening()-0.3) > 0.1 {
				t.Errorf("all.p99 delta = %+v (worsening %.2f), want a significant ~30%% worsening", d, d.Worsening())
			}
			if txt := RegressionText(d); !strings.Contains(txt, "v: all.p99") || !strings.Contains(txt, "% worse") {
				t.Errorf("RegressionText = %q, want it to name the variant, metric and change", txt)
			}
		}
	}
	if !found {
		t.Errorf("a 30%% p99 regression was not flagged; regressions: %+v", c.Regressions)
	}
	// The same change passes a 50% bound.
	if c := Compare(base, worse, CompareOptions{MaxRegression: 0.5}); len(c.Regressions) != 0 {
		t.Errorf("with --max-regression 50%%, %d regressions flagged: %s", len(c.Regressions), RegressionText(c.Regressions[0]))
	}

	// Three repeats cannot reach the Holm-corrected level over 6 gated
	// numbers (the smallest one-sided p is 0.05 > 0.05/6): the 30%
	// regression informs, it does not fail, and compare says why.
	three := v
	three.Repeats = 3
	slow3 := slow
	slow3.Repeats = 3
	c = Compare(build(t, three), build(t, slow3), CompareOptions{})
	if len(c.Regressions) != 0 {
		t.Errorf("3 repeats: %d regressions, want none (the gate cannot test them)", len(c.Regressions))
	}
	if !hasNote(c.Notes, "use repeat: 5 or more") {
		t.Errorf("3 repeats: notes %q, want one saying 5 repeats are needed", c.Notes)
	}

	// One repeat: a 50% slowdown is shown but never fails the gate.
	one := v
	one.Repeats = 1
	slower := one
	slower.LatencyScale = 1.5
	c = Compare(build(t, one), build(t, slower), CompareOptions{MaxRegression: 0.05})
	if len(c.Regressions) != 0 {
		t.Errorf("one repeat: %d regressions, want none (untested)", len(c.Regressions))
	}
	if !hasNote(c.Notes, "cannot fail the comparison") {
		t.Errorf("one repeat: notes %q, want one saying untested numbers cannot fail", c.Notes)
	}
	for _, d := range c.Deltas {
		if d.Metric == "heavy.p50" && d.Change != "worse" {
			t.Errorf("one repeat: heavy.p50 delta %+v, want it shown as worse", d)
		}
	}
}

func hasNote(notes []string, s string) bool {
	for _, n := range notes {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

func TestSpread(t *testing.T) {
	s := stats.NewSpread([]float64{3, 1, 2})
	if s.Min != 1 || s.Median != 2 || s.Max != 3 || s.Values[0] != 3 {
		t.Errorf("spread = %+v", s)
	}
	if r := s.RelRange(2); r != 0.5 {
		t.Errorf("RelRange = %v, want 0.5", r)
	}
}

// Colour means something: with repeats a change is better or worse only
// when the U test says so; without, only beyond the noise floor (10% and
// the unit's absolute floor).
func TestDeltaChange(t *testing.T) {
	metric := func(unit string, vals ...float64) Metric {
		m := Metric{Name: "x", Unit: unit, Better: BetterLower, Value: stats.NewSpread(vals).Median}
		if len(vals) > 1 {
			sp := stats.NewSpread(vals)
			m.Spread = &sp
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		b, m   Metric
		want   string
		tested bool
	}{
		{"untested 5% is noise", metric(UnitSeconds, 0.100), metric(UnitSeconds, 0.105), "same", false},
		{"untested 30% is worse", metric(UnitSeconds, 0.100), metric(UnitSeconds, 0.130), "worse", false},
		{"untested 30% better", metric(UnitSeconds, 0.100), metric(UnitSeconds, 0.070), "better", false},
		{"untested 50% of 1ms is below the 1ms floor", metric(UnitSeconds, 0.001), metric(UnitSeconds, 0.0015), "same", false},
		{"untested errors from 0 to 0.05% is below the 0.1pp floor", metric(UnitRatio, 0), metric(UnitRatio, 0.0005), "same", false},
		{"untested errors from 0 to 2%", metric(UnitRatio, 0), metric(UnitRatio, 0.02), "worse", false},
		{"tested 5% significant", metric(UnitSeconds, 0.100, 0.101, 0.102), metric(UnitSeconds, 0.105, 0.106, 0.107), "worse", true},
		{"tested 30% overlapping", metric(UnitSeconds, 0.100, 0.150, 0.120), metric(UnitSeconds, 0.130, 0.110, 0.160), "same", true},
	} {
		d := newDelta("v", tc.b, tc.m, stats.DefaultAlpha)
		if d.Change != tc.want || d.Test.Tested != tc.tested {
			t.Errorf("%s: change %q tested %v, want %q tested %v", tc.name, d.Change, d.Test.Tested, tc.want, tc.tested)
		}
	}
}

// Each problem once: the harness's own rate warning (run.json) is not
// repeated by the report's; a run without one still gets the report's.
func TestRunWarningsOnce(t *testing.T) {
	r := &run{summary: RunSummary{Variant: "v", Repeat: 1}}
	r.info.Harness = rundir.Harness{RequestedRate: 100.8, AchievedRate: 95.4}
	if ws := runWarnings(r); len(ws) != 0 {
		t.Errorf("without a harness warning: %q, want none (the runner decides)", ws)
	}
	r.info.Harness.Warnings = []string{
		"THE HARNESS COULD NOT KEEP THE REQUESTED RATE: it sent 95.4 req/s of 100.8 requested (95%)",
		"REQUESTS WERE SENT LATE: send lag p99 27.7ms",
	}
	ws := runWarnings(r)
	if len(ws) != 2 || !strings.HasPrefix(ws[0], "v repeat 1: THE HARNESS") || !strings.HasPrefix(ws[1], "v repeat 1: REQUESTS WERE SENT LATE") {
		t.Errorf("with the harness's warnings: %q, want exactly those two", ws)
	}
	r.info.Harness.Warnings = nil
	r.info.Set = map[string]string{"max_requests": "200"}
	r.summary.Classes = []ClassStats{{Class: AllClass, Count: 150}}
	if ws := runWarnings(r); len(ws) != 1 || !strings.Contains(ws[0], "no worker was recycled (150 requests in all)") {
		t.Errorf("max_requests never reached: %q, want the too-short warning", ws)
	}
	r.summary.Restarts.Count = 2
	if ws := runWarnings(r); len(ws) != 0 {
		t.Errorf("max_requests reached: %q, want no warning", ws)
	}
	if got := dedupe([]string{"a", "b", "a", "c", "b"}); strings.Join(got, ",") != "a,b,c" {
		t.Errorf("dedupe = %q, want a,b,c", got)
	}
}

// TestRatioString: a ratio keeps two significant digits however small,
// so a large improvement does not read ×0.00.
func TestRatioString(t *testing.T) {
	for q, want := range map[float64]string{
		8.3: "8.30", 0.96: "0.96", 0.1: "0.10", 0.0085: "0.0085", 0.00005: "0.000050",
		12.34: "12.3", 250: "250", -0.14: "-0.14", -0.012: "-0.012", 0: "0.00",
	} {
		if got := FormatRatio(q); got != want {
			t.Errorf("ratioString(%v) = %q, want %q", q, got, want)
		}
	}
}
