package loop

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// cpuHolder runs CPU-bound "Python code" on g in a goroutine, with a switch
// point every few microseconds, until stop is called. It returns once the
// goroutine holds g.
func cpuHolder(g *GIL) (stop func()) {
	var quit atomic.Bool
	done, holds := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		g.Acquire()
		defer g.Release()
		close(holds)
		for !quit.Load() {
			for deadline := time.Now().Add(20 * time.Microsecond); time.Now().Before(deadline); {
			}
			g.Yield()
		}
	}()
	<-holds
	return func() { quit.Store(true); <-done }
}

// The convoy effect in its pure form: with one CPU-bound holder, and every
// release lost to it (loss 1), a request that makes k I/O calls waits k
// switch intervals. Asserted on the counted drop requests, and on the wall
// time's lower bound only (a timer never fires early).
func TestGILConvoyKWaitsPerRequest(t *testing.T) {
	const interval = 2 * time.Millisecond
	const requests = 10
	for _, k := range []int{1, 3, 6} {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			g := NewGIL(interval)
			loseEvery(g)
			stop := cpuHolder(g)
			defer stop()
			g.Acquire()
			drops0, start := g.DropRequests(), time.Now()
			for range requests {
				ioCalls(g, RecvCall, k)
			}
			drops, took := g.DropRequests()-drops0, time.Since(start)
			g.Release()
			perReq := float64(drops) / requests
			t.Logf("k=%d: %.2f drop requests per request, %v per request", k, perReq, took/requests)
			// Each call waits for at least one; a holder the OS
			// deschedules past a whole interval on a busy machine costs
			// a second.
			if perReq < float64(k) || perReq > 2*float64(k) {
				t.Errorf("%.2f drop requests per request of %d I/O calls, want about %d", perReq, k, k)
			}
			if min := time.Duration(k*requests) * interval; took < min {
				t.Errorf("%d requests of %d I/O calls took %v, want >= %v (k switch intervals each)", requests, k, took, min)
			}
		})
	}
}

// As measured, a call that returns at once loses the GIL to the holder
// with its kind's odds (releaseLoss): 500 calls of a kind cost about
// 500·loss forced switches, within four binomial standard deviations.
func TestGILQuickReleaseLoss(t *testing.T) {
	const calls = 500
	for kind, name := range map[CallKind]string{PollCall: "poll", RecvCall: "recv", SendCall: "send"} {
		t.Run(name, func(t *testing.T) {
			g := NewGIL(time.Millisecond)
			stop := cpuHolder(g)
			defer stop()
			g.Acquire()
			drops0 := g.DropRequests()
			ioCalls(g, kind, calls)
			drops := float64(g.DropRequests() - drops0)
			g.Release()
			p := releaseLoss[kind]
			want, slack := p*calls, 4*math.Sqrt(calls*p*(1-p))+2
			t.Logf("%d %s calls: %.0f forced switches (want %.0f ± %.0f)", calls, name, drops, want, slack)
			if math.Abs(drops-want) > slack {
				t.Errorf("%.0f forced switches over %d %s calls, want %.0f ± %.0f (loss %g)", drops, calls, name, want, slack, p)
			}
		})
	}
}

// loseEvery makes every quick call of g lose the GIL to a waiter.
func loseEvery(g *GIL) {
	for k := range g.loss {
		g.loss[k] = 1
	}
}

// Control: with no CPU-bound holder the same calls never wait.
func TestGILNoHolderNoWaits(t *testing.T) {
	g := NewGIL(time.Hour)
	g.Acquire()
	ioCalls(g, SendCall, 100)
	g.Release()
	if d := g.DropRequests(); d != 0 {
		t.Errorf("%d drop requests without contention, want 0", d)
	}
}

// The loop itself releases the GIL around every poll: a callback posted to
// a quiet loop that makes k I/O calls costs k+1 forced switches under a
// CPU-bound holder that wins every release (the poll that returns it, then
// its calls).
func TestLoopPollIsAReleasePoint(t *testing.T) {
	const interval = 5 * time.Millisecond
	const requests, k = 10, 2
	g := NewGIL(interval)
	loseEvery(g)
	l := NewLoop(g, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go l.Run()
	defer func() { l.Stop(); <-l.Done() }()
	stop := cpuHolder(g)
	defer stop()
	time.Sleep(5 * time.Millisecond) // the loop idles in its poll
	drops0 := g.DropRequests()
	for range requests {
		done := make(chan struct{})
		l.Post(func() { ioCalls(g, RecvCall, k); close(done) })
		<-done
		time.Sleep(time.Millisecond) // the loop goes back to its poll
	}
	perReq := float64(g.DropRequests()-drops0) / requests
	t.Logf("%.2f drop requests per callback of %d I/O calls", perReq, k)
	if perReq < k+1 || perReq > 2*(k+1) {
		t.Errorf("%.2f drop requests per callback of %d I/O calls on the loop, want about %d", perReq, k, k+1)
	}
}

// End to end, the measured pattern: a /light served while a CPU-bound
// /cpu holds the GIL in an offload thread costs the loop a forced switch
// for the poll it was blocked in, and one for each of the quick release
// points strace counted on uvicorn (recvfrom, poll, two sendto, poll) that
// it loses, with each kind's odds: 1 + 0.15 + 2·0.88 + 2·0.02 = 2.95, a
// little less when the next request is already queued at the last poll.
// With --gil=false, or a /block (time.sleep releases the GIL), the same
// requests never wait.
func TestLightRequestReleasePoints(t *testing.T) {
	lightLosses := 1 + recvsPerRequest*releaseLoss[RecvCall] + sendsPerResponse*releaseLoss[SendCall] + 2*releaseLoss[PollCall]
	for _, tc := range []struct {
		name     string
		heavy    string
		gil      bool
		min, max float64
	}{
		{"cpu", "/cpu?ms=1000", true, lightLosses - 2, lightLosses + 2},
		{"cpu-nogil", "/cpu?ms=1000", false, 0, 0.5},
		{"block", "/block?ms=1000", true, 0, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Offload = OffloadThreads
			cfg.GIL = tc.gil
			cfg.SwitchInterval = 2 * time.Millisecond
			cfg.LagInterval = time.Hour // no probes to count
			cfg.LagThreshold = time.Hour
			perReq := forcedSwitchesPerLight(t, cfg, tc.heavy)
			t.Logf("%.2f forced switches per /light during %s (GIL %v)", perReq, tc.heavy, tc.gil)
			if perReq < tc.min || perReq > tc.max {
				t.Errorf("%.2f forced switches per /light during %s in a thread (GIL %v), want %g to %g",
					perReq, tc.heavy, tc.gil, tc.min, tc.max)
			}
		})
	}
}

// forcedSwitchesPerLight sends heavy to a server of cfg, then, while it
// runs, twenty /light one after another, and returns the GIL's drop requests
// per /light.
func forcedSwitchesPerLight(t *testing.T, cfg Config, heavy string) float64 {
	t.Helper()
	path, _, _ := strings.Cut(heavy, "?")
	began := make(chan struct{}, 1)
	ts := startServer(t, cfg, Options{BeforeRequest: func(r *http.Request, _ http.Header) int64 {
		if r.URL.Path == path {
			began <- struct{}{}
		}
		return 0
	}})
	ts.mustGet(t, "/light", "warm-up")
	heavyDone := make(chan struct{})
	go func() {
		defer close(heavyDone)
		if r, err := ts.get(heavy, ""); err != nil || r.status != http.StatusOK {
			t.Errorf("GET %s: %v status %d", heavy, err, r.status)
		}
	}()
	<-began
	time.Sleep(20 * time.Millisecond) // the offload thread has begun
	const requests = 20
	drops0 := ts.gil.DropRequests()
	for range requests {
		ts.mustGet(t, "/light", "during "+heavy)
	}
	drops := ts.gil.DropRequests() - drops0
	select {
	case <-heavyDone:
		t.Fatalf("%s finished before the light requests did: the machine is too slow for this test", heavy)
	default:
	}
	<-heavyDone
	return float64(drops) / requests
}
