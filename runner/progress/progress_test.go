package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the printer's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestDrainingThenDone checks that plain progress lines printed after the
// phases say "draining" and that only the final line says "done".
func TestDrainingThenDone(t *testing.T) {
	var out syncBuffer
	p := Start(&out, false, 5*time.Millisecond, func() Status {
		return Status{Variant: "v", Repeat: 1, Phase: Draining, Elapsed: time.Second, Total: time.Second}
	})
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), Draining) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	p.Stop()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("got %d lines, want at least one draining line and the final one:\n%s", len(lines), out.String())
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.Contains(l, Draining) || strings.Contains(l, "done") {
			t.Errorf("line %q: want draining, not done", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "done") {
		t.Errorf("final line %q: want done", last)
	}
}

// TestFitWidth checks that the live line fits 60- and 80-column terminals
// (fewer columns than the width, so the cursor never wraps), keeping the
// most useful fields, and that it is whole when there is room.
func TestFitWidth(t *testing.T) {
	s := Status{Variant: "max_requests=1000,max_requests_jitter=50,workers=4", Repeat: 3, Phase: "steady",
		Elapsed: 75 * time.Second, Total: 120 * time.Second, Rate: 1234, Requests: 123456, Errors: 12,
		P99: 23700 * time.Microsecond, PSS: 311 << 20, Restarts: 42}
	full := s.Line()
	if len(full) < 100 {
		t.Fatalf("test line is only %d columns: %q", len(full), full)
	}
	for _, w := range []int{60, 80} {
		got := s.Fit(w)
		if n := runeLen(got); n >= w {
			t.Errorf("Fit(%d) = %q, %d columns, want fewer than %d", w, got, n, w)
		}
		for _, keep := range []string{"1m15s/2m0s", "1234 req/s", "12 err", "p99 23.7ms", "#3"} {
			if !strings.Contains(got, keep) {
				t.Errorf("Fit(%d) = %q lost %q", w, got, keep)
			}
		}
	}
	short := Status{Variant: "a", Repeat: 1, Phase: "steady", Elapsed: time.Second, Total: 2 * time.Second, PSS: 1 << 20}
	if got := short.Fit(80); got != short.Line() {
		t.Errorf("Fit(80) = %q, want the whole line %q", got, short.Line())
	}
	if got := s.Fit(20); runeLen(got) >= 20 {
		t.Errorf("Fit(20) = %q, want fewer than 20 columns", got)
	}
}

// TestLiveLineFitsTerminal checks that the live printer fits each line to
// the terminal's width.
func TestLiveLineFitsTerminal(t *testing.T) {
	var out syncBuffer
	src := func() Status {
		return Status{Variant: "max_requests=1000,workers=4", Repeat: 1, Phase: "steady", Elapsed: 9 * time.Second,
			Total: 20 * time.Second, Rate: 120, Requests: 1080, P99: 4 * time.Millisecond, PSS: 80 << 20, Restarts: 9}
	}
	p := start(&out, true, time.Second, src, func() int { return 60 })
	p.Stop()
	for _, l := range strings.Split(out.String(), "\r\033[K") {
		if l = strings.TrimSuffix(l, "\n"); runeLen(l) >= 60 {
			t.Errorf("live line %q is %d columns on a 60-column terminal", l, runeLen(l))
		}
	}
}

// TestFinalRateOverWholeRun checks that the final line's rate is the
// run's requests over its elapsed time, not the rate since the last line.
func TestFinalRateOverWholeRun(t *testing.T) {
	var out syncBuffer
	p := Start(&out, false, time.Hour, func() Status {
		// The source's own rate is over the last instant: 866 req/s.
		return Status{Variant: "v", Repeat: 1, Phase: Draining, Elapsed: 20 * time.Second, Total: 20 * time.Second, Rate: 866, Requests: 2400}
	})
	p.Stop()
	if got := out.String(); !strings.Contains(got, " 120 req/s ") || !strings.Contains(got, "done") {
		t.Errorf("final line %q, want done at 120 req/s", got)
	}
}
