package server

import (
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/server/workload"
)

// TestReadyFileFailureStops checks that serve exits 1 when --ready-file
// cannot be written: at start when its directory is missing, and once the
// workers are ready when the write itself fails (FILE is a directory).
func TestReadyFileFailureStops(t *testing.T) {
	dir := t.TempDir()
	blocked := filepath.Join(dir, "ready-dir")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing", "ready.json"), blocked} {
		cmd := serveCmd("--bind", "127.0.0.1:0", "--admin-bind", "off", "--workers", "1", "--ready-file", path)
		var stderr lockedBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "--ready-file") {
				t.Errorf("ready file %s: %v, want exit 1 naming --ready-file\n%s", path, err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			t.Errorf("ready file %s: serve still running after 20s\n%s", path, stderr.String())
		}
	}
}

// TestEventsSubscriberCap checks that /events serves at most
// MaxSubscribers streams at once and refuses one more with 503.
func TestEventsSubscriberCap(t *testing.T) {
	s := startServer(t, "--workers", "1")
	// startServer follows /events itself: one stream is open already.
	var open []io.Closer
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for i := 1; i < MaxSubscribers; i++ {
		resp, err := http.Get(s.admin + "/events")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: status %d, want 200", i+1, resp.StatusCode)
		}
	}
	resp, err := http.Get(s.admin + "/events")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "at most") {
		t.Errorf("stream %d: status %d %q, want 503", MaxSubscribers+1, resp.StatusCode, body)
	}
	// A closed stream frees its place.
	open[0].Close()
	open = open[1:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(s.admin + "/events")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			open = append(open, resp.Body)
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("no place freed by a closed stream: status %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRequestIDBounded checks, for a sync and a loop worker, that an
// X-Request-Id of MaxRequestIDBytes is echoed, and that a longer one gets
// 400 and is not echoed, so the response stays small.
func TestRequestIDBounded(t *testing.T) {
	for _, model := range []string{"sync", "loop"} {
		t.Run(model, func(t *testing.T) {
			s := startServer(t, "--workers", "1", "--worker-model", model)
			for _, n := range []int{workload.MaxRequestIDBytes, workload.MaxRequestIDBytes + 1, 900 << 10} {
				id := strings.Repeat("i", n)
				req, _ := http.NewRequest(http.MethodGet, s.base+"/cpu?ms=1", nil)
				req.Header.Set(workload.HeaderRequestID, id)
				resp, err := newClient().Do(req)
				if err != nil {
					t.Fatalf("%d-byte id: %v", n, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				size := 0
				for k, vs := range resp.Header {
					for _, v := range vs {
						size += len(k) + len(v)
					}
				}
				if n <= workload.MaxRequestIDBytes {
					if resp.StatusCode != 200 || resp.Header.Get(workload.HeaderRequestID) != id {
						t.Errorf("%d-byte id: status %d, echoed %d bytes", n, resp.StatusCode, len(resp.Header.Get(workload.HeaderRequestID)))
					}
					continue
				}
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get(workload.HeaderRequestID) != "" || size > 1024 {
					t.Errorf("%d-byte id: status %d, %d bytes of headers, want 400 and no echo", n, resp.StatusCode, size)
				}
			}
		})
	}
}
