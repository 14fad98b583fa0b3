package worker

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/server/control"
	"github.com/sawtooth-dev/sawtooth/server/workload"
)

// startWorker runs a worker in-process on a fresh listener, with the test
// as its master at the other end of a pipe.
func startWorker(t *testing.T, cfg Config) (base string, master *control.Conn, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, b := socketPair(t)
	master = control.NewConn(a)
	errc := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { errc <- Run(cfg, ln, control.NewConn(b), Builtin(), log) }()
	t.Cleanup(func() { a.Close(); ln.Close() })
	if m := receive(t, master, control.Ready); m.Pid == 0 {
		t.Fatalf("ready without a pid: %+v", m)
	}
	return "http://" + ln.Addr().String(), master, errc
}

// socketPair returns both ends of a Unix socket pair, buffered as the
// master's control channel is (net.Pipe is not).
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "control")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	return conns[0], conns[1]
}

// receive returns the next message of type typ, skipping heartbeats.
func receive(t *testing.T, c *control.Conn, typ control.Type) control.Message {
	t.Helper()
	got := make(chan control.Message, 1)
	go func() {
		for {
			m, err := c.Receive()
			if err != nil {
				close(got)
				return
			}
			if m.Type == typ {
				got <- m
				return
			}
		}
	}()
	select {
	case m, ok := <-got:
		if !ok {
			t.Fatalf("control channel closed waiting for %s", typ)
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s message within 10s", typ)
	}
	return control.Message{}
}

func TestSyncWorkerRetiresAtLimit(t *testing.T) {
	base, master, done := startWorker(t, Config{Model: "sync", MaxRequests: 3})
	c := &http.Client{Timeout: 10 * time.Second}
	for i := 1; i <= 3; i++ {
		req, _ := http.NewRequest(http.MethodGet, base+"/light", nil)
		req.Header.Set(workload.HeaderRequestID, "id-"+strconv.Itoa(i))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 200 || h.Get(workload.HeaderRequests) != strconv.Itoa(i) ||
			h.Get(workload.HeaderRequestID) != "id-"+strconv.Itoa(i) || h.Get(workload.HeaderWorkRequestID) != "id-"+strconv.Itoa(i) ||
			h.Get(workload.HeaderWorkedIn) != "worker" || h.Get(workload.HeaderPid) == "" {
			t.Errorf("request %d: status %d headers %v", i, resp.StatusCode, h)
		}
		if i == 3 && !resp.Close {
			t.Error("the last response before retiring does not close its connection")
		}
	}
	m := receive(t, master, control.Retiring)
	if m.Reason != control.MaxRequests || m.Requests != 3 {
		t.Errorf("retiring %+v, want max_requests after 3", m)
	}
	if m := receive(t, master, control.Exiting); m.Requests != 3 {
		t.Errorf("exiting %+v, want 3 requests", m)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("worker did not exit after retiring")
	}
}

func TestBadRequests(t *testing.T) {
	base, master, _ := startWorker(t, Config{Model: "threads", Threads: 2})
	go func() {
		for {
			if _, err := master.Receive(); err != nil {
				return
			}
		}
	}()
	for path, want := range map[string]int{
		"/cpu?ms=abc":     400,
		"/cpu":            400,
		"/block?ms=60001": 400,
		"/regex?kb=0":     400,
		"/leak?bytes=-1":  400,
		"/nope":           404,
		"/cpu?ms=1":       200,
		"/regex?kb=2":     200,
		"/healthz":        200,
		"/leak?bytes=10":  200,
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, resp.StatusCode, want)
		}
		if resp.Header.Get(workload.HeaderPid) == "" {
			t.Errorf("%s: no %s", path, workload.HeaderPid)
		}
	}
}

func TestMasterGone(t *testing.T) {
	_, master, done := startWorker(t, Config{Model: "sync"})
	master.Close()
	select {
	case err := <-done:
		if err != ErrMasterGone {
			t.Errorf("Run: %v, want ErrMasterGone", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("worker still running after the control channel closed")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{Model: "bogus"}).Validate(Builtin()); err == nil {
		t.Error("unknown model accepted")
	}
	if err := (Config{Model: "sync", MaxRSS: -1}).Validate(Builtin()); err == nil {
		t.Error("negative max_rss accepted")
	}
	if err := (Config{Model: "threads", Threads: 8}).Validate(Builtin()); err != nil {
		t.Error(err)
	}
}

// A retiring worker keeps heartbeating while it drains a request that is
// making progress, so a drain longer than --timeout is not mistaken for a
// stuck worker and killed (the graceful timeout bounds the drain).
func TestHeartbeatWhileDraining(t *testing.T) {
	// A /block holds a threads worker's thread; an await holds no loop.
	for model, path := range map[string]string{"threads": "/block?ms=600", "loop": "/light?await_ms=600"} {
		t.Run(model, func(t *testing.T) {
			base, master, done := startWorker(t, Config{Model: model, Threads: 2, Heartbeat: 20 * time.Millisecond})
			msgs := make(chan control.Message, 1024)
			go func() {
				defer close(msgs)
				for {
					m, err := master.Receive()
					if err != nil {
						return
					}
					msgs <- m
				}
			}()
			blocked := make(chan int, 1)
			go func() {
				resp, err := http.Get(base + path)
				if err != nil {
					blocked <- 0
					return
				}
				resp.Body.Close()
				blocked <- resp.StatusCode
			}()
			// Retire once the request is in flight.
			deadline := time.After(10 * time.Second)
			for inFlight := false; !inFlight; {
				select {
				case m := <-msgs:
					inFlight = m.Type == control.Heartbeat && m.InFlight == 1
				case <-deadline:
					t.Fatalf("%s never showed in a heartbeat", path)
				}
			}
			if err := master.Send(control.Message{Type: control.Retire, Reason: control.Shutdown}); err != nil {
				t.Fatal(err)
			}
			beats := 0
		drain:
			for {
				select {
				case m, ok := <-msgs:
					if !ok || m.Type == control.Exiting {
						break drain
					}
					if m.Type == control.Heartbeat {
						beats++
					}
				case <-deadline:
					t.Fatal("the worker did not exit")
				}
			}
			if code := <-blocked; code != http.StatusOK {
				t.Errorf("in-flight %s: status %d, want 200", path, code)
			}
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			// 600ms of drain at a 20ms interval: about 25 beats; the
			// bound leaves room for a loaded machine.
			if beats < 3 {
				t.Errorf("%d heartbeats while draining a progressing request, want ≥ 3", beats)
			}
		})
	}
}
