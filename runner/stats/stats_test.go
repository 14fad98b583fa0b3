package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	rng := rand.New(rand.NewPCG(1, 2))
	var all []time.Duration
	for i := 0; i < 100000; i++ {
		// Log-normal latencies around 5 ms, with a long tail.
		d := time.Duration(math.Exp(rng.NormFloat64() + math.Log(5e6)))
		h.Record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := all[int(math.Ceil(q*float64(len(all))))-1]
		got := h.Quantile(q)
		if rel := math.Abs(float64(got-exact)) / float64(exact); rel > 0.01 {
			t.Errorf("q%v = %v, exact %v (off by %.2f%%)", q, got, exact, 100*rel)
		}
	}
	if h.Max() != all[len(all)-1] || h.Count() != int64(len(all)) {
		t.Errorf("max %v count %d", h.Max(), h.Count())
	}
	if h.Quantile(1) != h.Max() {
		t.Errorf("q1 = %v, max %v", h.Quantile(1), h.Max())
	}
	var empty Histogram
	if empty.Quantile(0.99) != 0 || empty.Max() != 0 || empty.Count() != 0 {
		t.Error("empty histogram not zero")
	}
	var tiny Histogram
	tiny.Record(0)
	tiny.Record(-time.Second)
	tiny.Record(time.Hour)
	if tiny.Quantile(0.5) > time.Microsecond || tiny.Quantile(1) != time.Hour {
		t.Errorf("extremes: q50 %v q100 %v", tiny.Quantile(0.5), tiny.Quantile(1))
	}
}

func TestTimeline(t *testing.T) {
	start := time.Unix(1000, 0)
	var rows []rundir.TimelineRow
	tl := NewTimeline(start, time.Second, 3*time.Second, func(r rundir.TimelineRow) error {
		rows = append(rows, r)
		return nil
	})
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	tl.Add("light", at(0.1), 10*time.Millisecond, true)
	tl.Add("heavy", at(0.2), 100*time.Millisecond, false)
	tl.Add("light", at(1.5), 20*time.Millisecond, true)
	tl.Add("light", at(0.9), 30*time.Millisecond, true) // arrives late
	if err := tl.Advance(at(3.5)); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Fatalf("emitted %v before the horizon", rows)
	}
	if err := tl.Advance(at(4.2)); err != nil {
		t.Fatal(err)
	}
	// Interval 0 is out: light, heavy, all.
	if len(rows) != 3 || rows[0].Class != "light" || rows[1].Class != "heavy" || rows[2].Class != "all" {
		t.Fatalf("rows = %+v", rows)
	}
	if r := rows[2]; r.Count != 3 || r.OK != 2 || r.Errors != 1 || r.T != 0 || r.Interval != 1 {
		t.Errorf("all row = %+v", r)
	}
	if r := rows[0]; r.Count != 2 || math.Abs(r.Max-0.03) > 1e-9 || r.P50 < 0.0099 || r.P50 > 0.0101 {
		t.Errorf("light row = %+v", r)
	}
	// A result for a flushed interval lands in the oldest open one.
	tl.Add("light", at(0.5), time.Millisecond, true)
	if err := tl.Close(); err != nil {
		t.Fatal(err)
	}
	rest := rows[3:]
	if len(rest) != 2 || rest[0].T != 1 || rest[0].Count != 2 || rest[1].Class != "all" {
		t.Errorf("rest = %+v", rest)
	}
}

// The timeline holds only the intervals within its horizon.
func TestTimelineBounded(t *testing.T) {
	start := time.Unix(1000, 0)
	n := 0
	tl := NewTimeline(start, time.Second, 2*time.Second, func(rundir.TimelineRow) error { n++; return nil })
	for s := 0; s < 600; s++ {
		for i := 0; i < 10; i++ {
			tl.Add("x", start.Add(time.Duration(s)*time.Second+time.Duration(i)*time.Millisecond), time.Millisecond, true)
		}
		tl.Advance(start.Add(time.Duration(s+1) * time.Second))
		if len(tl.open) > 4 {
			t.Fatalf("second %d: %d intervals held", s, len(tl.open))
		}
	}
	tl.Close()
	if n != 1200 {
		t.Errorf("%d rows, want 1200", n)
	}
}
