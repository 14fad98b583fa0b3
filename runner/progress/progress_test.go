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
