package target

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A target that exits before it is ready fails WaitReady with its last
// lines; the error wraps ErrAddressInUse only when they say its address
// was taken, as Go, CPython and gunicorn put it.
func TestWaitReadyAddressInUse(t *testing.T) {
	for _, tc := range []struct {
		line  string
		inUse bool
	}{
		{"listen tcp 127.0.0.1:8000: bind: address already in use", true},
		{"OSError: [Errno 98] Address already in use", true},
		{"[ERROR] Connection in use: ('127.0.0.1', 8000)", true},
		{"fatal: no such file", false},
	} {
		p, err := Start(Spec{
			Argv:     []string{"/bin/sh", "-c", `echo starting; echo "$1" >&2; exit 1`, "sh", tc.line},
			ReadyURL: "http://127.0.0.1:1/", ReadyTimeout: 20 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(-p.PID(), syscall.SIGKILL) })
		err = p.WaitReady(context.Background())
		if err == nil {
			t.Fatalf("%q: WaitReady succeeded", tc.line)
		}
		if !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "  "+tc.line) {
			t.Errorf("%q: error lacks the exit or the log tail:\n%v", tc.line, err)
		}
		if errors.Is(err, ErrAddressInUse) != tc.inUse {
			t.Errorf("%q: errors.Is(err, ErrAddressInUse) = %v, want %v", tc.line, !tc.inUse, tc.inUse)
		}
		if err := p.Stop(nil); err != nil {
			t.Error(err)
		}
	}
}
