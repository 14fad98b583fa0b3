package loop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/server/workload"
)

// The GIL excludes, and a waiter gets it at the holder's next switch point
// rather than when the holder is done.
func TestGILForcedSwitching(t *testing.T) {
	g := NewGIL(time.Millisecond)
	var inside atomic.Int32
	var overlaps atomic.Int32
	check := func() {
		if inside.Add(1) != 1 {
			overlaps.Add(1)
		}
		inside.Add(-1)
	}
	g.Acquire()
	holderDone := make(chan struct{})
	go func() {
		defer close(holderDone)
		workload.BurnCPU(300*time.Millisecond, func() { check(); g.Yield() })
		g.Release()
	}()
	var got, done atomic.Bool
	waiter := make(chan struct{})
	go func() {
		defer close(waiter)
		g.Acquire()
		got.Store(true)
		select {
		case <-holderDone:
			done.Store(true)
		default:
		}
		check()
		g.Release()
	}()
	<-waiter
	<-holderDone
	if done.Load() {
		t.Error("the waiter got the GIL only after the holder finished; want it at a switch point")
	}
	if overlaps.Load() != 0 {
		t.Errorf("%d times two goroutines held the GIL at once", overlaps.Load())
	}
	if g.Switches() < 3 {
		t.Errorf("GIL switched %d times, want at least 3 (take, hand over, hand back)", g.Switches())
	}
}

// Blocking releases the GIL for its duration.
func TestGILBlockingReleases(t *testing.T) {
	g := NewGIL(time.Hour) // a waiter would never force a switch
	g.Acquire()
	inBlock := make(chan struct{})
	release := make(chan struct{})
	go g.Blocking(func() { close(inBlock); <-release })
	<-inBlock
	acquired := make(chan struct{})
	go func() { g.Acquire(); close(acquired); g.Release() }()
	select {
	case <-acquired:
	case <-time.After(10 * time.Second):
		t.Fatal("GIL not free while its holder was blocked")
	}
	close(release)
	var nilGIL *GIL
	nilGIL.Acquire()
	nilGIL.Yield()
	nilGIL.Blocking(func() {})
	nilGIL.Release()
}

// Callbacks run in the order posted, all on one goroutine.
func TestLoopRunsCallbacksInOrderOnOneGoroutine(t *testing.T) {
	l := NewLoop(NewGIL(time.Millisecond), slog.New(slog.NewTextHandler(io.Discard, nil)))
	go l.Run()
	defer func() { l.Stop(); <-l.Done() }()
	var got []int
	gids := map[uint64]bool{}
	done := make(chan struct{})
	for i := range 100 {
		l.Post(func() {
			got = append(got, i)
			gids[goroutineID()] = true
			if i == 99 {
				close(done)
			}
		})
	}
	<-done
	for i, v := range got {
		if v != i {
			t.Fatalf("callback %d ran at position %d", v, i)
		}
	}
	if len(gids) != 1 {
		t.Errorf("callbacks ran on %d goroutines, want 1", len(gids))
	}
	l.Post(func() { panic("boom") })
	ran := make(chan struct{})
	l.Post(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("loop died with a panicking callback")
	}
	l.Stop()
	<-l.Done()
	if l.Post(func() {}) {
		t.Error("Post after Stop succeeded")
	}
}

func TestConfigValidateAndJSON(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Offload = "fork" }, `offload "fork"`},
		{func(c *Config) { c.OffloadWorkers = -1 }, "offload-workers -1"},
		{func(c *Config) { c.SwitchInterval = -time.Millisecond }, "switch-interval"},
		{func(c *Config) { c.LagThreshold = -1 }, "lag-threshold"},
	} {
		c := DefaultConfig()
		tc.mut(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error mentioning %q", err, tc.want)
		}
		if _, err := New(c, Options{}); err == nil {
			t.Errorf("New accepted an invalid config (%s)", tc.want)
		}
	}
	c := DefaultConfig()
	c.Offload, c.LoseContext, c.GIL = OffloadThreads, true, false
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != c {
		t.Errorf("JSON round trip: got %+v, want %+v", back, c)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
	if got := (Config{}).withDefaults(); got.Offload != OffloadNone || got.SwitchInterval != 5*time.Millisecond {
		t.Errorf("zero config defaults: %+v", got)
	}
}

// Bad parameters get 400, unknown paths 404, both through the hooks.
func TestBadRequests(t *testing.T) {
	var before, after atomic.Int32
	ts := startServer(t, DefaultConfig(), Options{
		BeforeRequest: func(r *http.Request, h http.Header) int64 {
			n := int64(before.Add(1))
			h.Set("X-Worker-Requests", strconv.FormatInt(n, 10))
			return n
		},
		AfterRequest: func(r *http.Request, h http.Header, status int, n int64) {
			after.Add(1)
			h.Set("X-After", fmt.Sprintf("%d %d", n, status))
		},
	})
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/cpu", 400, "ms"},
		{"/cpu?ms=-5", 400, "ms"},
		{"/block?ms=999999", 400, "ms"},
		{"/regex?kb=0", 400, "kb"},
		{"/light?await_ms=x", 400, "await_ms"},
		{"/nope", 404, "no such route"},
	} {
		r, err := ts.get(tc.path, "id-1")
		if err != nil {
			t.Fatal(err)
		}
		n := r.header.Get("X-Worker-Requests")
		if want := fmt.Sprintf("%s %d", n, tc.status); r.header.Get("X-After") != want {
			t.Errorf("GET %s: AfterRequest wrote %q, want %q (BeforeRequest's value and the status)", tc.path, r.header.Get("X-After"), want)
		}
		if r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("GET %s = %d %q, want %d mentioning %q", tc.path, r.status, r.body, tc.status, tc.want)
		}
		if n == "" || r.header.Get(workload.HeaderRequestID) != "id-1" {
			t.Errorf("GET %s: hook headers or id echo missing: %v", tc.path, r.header)
		}
	}
	if before.Load() != 6 || after.Load() != 6 {
		t.Errorf("hooks called %d/%d times, want 6/6", before.Load(), after.Load())
	}
}

// Connections are kept alive between requests.
func TestKeepAlive(t *testing.T) {
	ts := startServer(t, DefaultConfig(), Options{})
	reused := 0
	for i := range 20 {
		req, _ := http.NewRequest(http.MethodGet, ts.base+"/light", nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				if info.Reused {
					reused++
				}
			},
		}))
		resp, err := ts.client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if reused != 19 {
		t.Errorf("%d of 20 requests reused the connection, want 19", reused)
	}
}

// Awaiting does not hold the loop: a plain /light sent after 20 awaiting
// requests finishes before all of them, and they overlap.
func TestAwaitDoesNotHoldLoop(t *testing.T) {
	order := &orderLog{}
	started := make(chan struct{}, 20)
	ts := startServer(t, DefaultConfig(), Options{
		BeforeRequest: func(r *http.Request, h http.Header) int64 {
			if r.URL.Query().Get("await_ms") != "" {
				started <- struct{}{}
			}
			return 0
		},
		AfterRequest: order.after,
	})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); ts.mustGet(t, "/light?await_ms=400", "") }()
	}
	for range 20 {
		<-started
	}
	ts.mustGet(t, "/healthz", "")
	wg.Wait()
	if i := order.index("/healthz"); i != 0 {
		t.Errorf("/healthz finished #%d on the loop (%v); want first, before the awaiting requests", i, order)
	}
}

// Shutdown lets an in-flight request finish, then Serve returns
// ErrServerClosed and new connections are refused.
func TestShutdownFinishesInFlight(t *testing.T) {
	began := make(chan struct{})
	ts := startServer(t, DefaultConfig(), Options{
		BeforeRequest: func(r *http.Request, h http.Header) int64 {
			if r.URL.Path == "/block" {
				close(began)
			}
			return 0
		},
	})
	res := make(chan reply, 1)
	go func() { res <- ts.mustGet(t, "/block?ms=300", "") }()
	<-began
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case r := <-res:
		if r.status != http.StatusOK {
			t.Errorf("in-flight request: status %d", r.status)
		}
	default:
		t.Error("Shutdown returned before the in-flight request was answered")
	}
	if err := ts.serveResult(t); !isServerClosed(err) {
		t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
	}
	if _, err := ts.get("/light", ""); err == nil {
		t.Error("a request after Shutdown was served")
	}
}

// Close kills the offload children; a child killed under the pool is
// replaced.
func TestOffloadChildrenLifecycle(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Offload = OffloadProcesses
	cfg.OffloadWorkers = 2
	ts := startServer(t, cfg, Options{})
	pids := ts.OffloadPids()
	if len(pids) != 2 {
		t.Fatalf("%d offload children, want 2", len(pids))
	}
	for _, pid := range pids {
		if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
			t.Errorf("child %d: process group %d (%v), want its own", pid, pgid, err)
		}
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// At most the requests that meet the dead child fail; later ones
	// are served by its replacement.
	ok := 0
	for range 10 {
		if r, err := ts.get("/cpu?ms=1", ""); err == nil && r.status == http.StatusOK {
			ok++
		}
	}
	if ok < 8 {
		t.Errorf("%d of 10 requests served after a child was killed, want >= 8", ok)
	}
	live := ts.OffloadPids()
	if len(live) != 2 {
		t.Errorf("%d live children after replacement, want 2", len(live))
	}
	if err := ts.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Fatal(err)
	}
	for _, pid := range append(pids, live...) {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("child %d still exists after Close (kill 0: %v)", pid, err)
		}
	}
}

// /leak runs on the loop and is retained in the shared Leaker.
func TestLeakOnLoop(t *testing.T) {
	var lk workload.Leaker
	ts := startServer(t, DefaultConfig(), Options{Leaker: &lk})
	for range 3 {
		ts.mustGet(t, "/leak?bytes=65536", "")
	}
	if lk.Total() != 3*65536 {
		t.Errorf("leaked %d bytes, want %d", lk.Total(), 3*65536)
	}
}

// /regex ships its document to the child and the result comes back.
func TestRegexInChild(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Offload = OffloadProcesses
	cfg.OffloadWorkers = 1
	ts := startServer(t, cfg, Options{})
	r := ts.mustGet(t, "/regex?kb=64", "rx")
	want, _ := workload.Validate(workload.Document(64), nil)
	if !strings.Contains(r.body, "records") || !strings.Contains(r.body, itoa(want.Records)+" records") {
		t.Errorf("body %q, want %d records", r.body, want.Records)
	}
	if pid := ts.OffloadPids()[0]; !strings.Contains(r.body, "pid "+itoa(pid)) {
		t.Errorf("body %q does not name the child pid %d", r.body, pid)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TakeLag hands over the observations made since the last call, the burn's
// among them; LastTick stands still while the loop is stuck and moves again
// afterwards.
func TestTakeLagAndLastTick(t *testing.T) {
	var ts *testServer
	var atStart, atEnd time.Time
	ts = startServer(t, DefaultConfig(), Options{
		BeforeRequest: func(r *http.Request, h http.Header) int64 {
			atStart = ts.LastTick()
			return 0
		},
		AfterRequest: func(r *http.Request, h http.Header, status int, n int64) {
			atEnd = ts.LastTick()
		},
	})
	ts.mustGet(t, "/cpu?ms=300", "")
	if !atStart.Equal(atEnd) {
		t.Errorf("LastTick moved from %v to %v during a burn on the loop", atStart, atEnd)
	}
	deadline := time.Now().Add(10 * time.Second)
	var got []float64
	for time.Now().Before(deadline) {
		more, _ := ts.TakeLag()
		got = append(got, more...)
		if slices.ContainsFunc(got, func(s float64) bool { return s >= 0.25 }) && ts.LastTick().After(atEnd) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !slices.ContainsFunc(got, func(s float64) bool { return s >= 0.25 }) {
		t.Errorf("TakeLag gave %d observations, none >= 250ms after a 300ms burn", len(got))
	}
	if !ts.LastTick().After(atEnd) {
		t.Error("LastTick did not move after the burn")
	}
	if more, _ := ts.TakeLag(); len(more) > 50 {
		t.Errorf("TakeLag returned %d observations right after the previous call; it does not forget", len(more))
	}
}
