package stats

import (
	"math"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

func TestTimeline(t *testing.T) {
	start := time.Unix(1000, 0)
	var rows []rundir.TimelineRow
	tl := NewTimeline(start, time.Second, 3*time.Second, func(r rundir.TimelineRow) error {
		rows = append(rows, r)
		return nil
	})
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	tl.Add("light", at(0.1), 10*time.Millisecond, true, true) // succeeded on its re-send
	tl.Add("heavy", at(0.2), 100*time.Millisecond, false, true)
	tl.Add("light", at(1.5), 20*time.Millisecond, true, false)
	tl.Add("light", at(0.9), 30*time.Millisecond, true, false) // arrives late
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
	if r := rows[2]; r.Count != 3 || r.OK != 2 || r.Errors != 1 || r.T != 0 || r.Interval != 1 || r.ReuseFailures != 2 {
		t.Errorf("all row = %+v", r)
	}
	if r := rows[0]; r.Count != 2 || r.ReuseFailures != 1 || math.Abs(r.Max-0.03) > 1e-9 || r.P50 < 0.0099 || r.P50 > 0.0101 {
		t.Errorf("light row = %+v", r)
	}
	// A result for a flushed interval lands in the oldest open one.
	tl.Add("light", at(0.5), time.Millisecond, true, false)
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
			tl.Add("x", start.Add(time.Duration(s)*time.Second+time.Duration(i)*time.Millisecond), time.Millisecond, true, false)
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
