package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/sawtooth-dev/sawtooth/server/control"
)

// alive counts workers that are ready and have not exited.
func alive(ev []Event) int {
	n := 0
	for _, e := range ev {
		switch e.Event {
		case EventReady:
			n++
		case EventExit:
			n--
		}
	}
	return n
}

// SIGTTIN adds a worker, SIGTTOU retires one (scale_down), SIGHUP restarts
// every worker one at a time, each replacement ready before the next worker
// starts retiring, without failing a request.
func TestSignals(t *testing.T) {
	s := startServer(t, "--workers", "2")
	s.waitFor("2 workers", func(ev []Event) bool { return alive(ev) == 2 })

	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var rs []result
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := newClient()
		for ctx.Err() == nil {
			r := get(c, s.base+"/light")
			mu.Lock()
			rs = append(rs, r)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	master := s.cmd.Process.Pid

	syscall.Kill(master, syscall.SIGTTIN)
	s.waitFor("a third worker", func(ev []Event) bool { return alive(ev) == 3 })
	syscall.Kill(master, syscall.SIGTTOU)
	s.waitFor("a scale_down exit", func(ev []Event) bool { return countEvents(ev, EventExit, "scale_down") == 1 })

	mark := len(s.snapshot())
	syscall.Kill(master, syscall.SIGHUP)
	ev := s.waitFor("2 restart exits", func(ev []Event) bool { return countEvents(ev[mark:], EventExit, "restart") == 2 })
	cancel()
	wg.Wait()

	// One at a time: between the two restart announcements, the first
	// replacement became ready.
	var order []string
	for _, e := range ev[mark:] {
		if (e.Event == EventRetiring && e.Reason == "restart") || e.Event == EventReady {
			order = append(order, e.Event)
		}
	}
	if len(order) < 4 || order[0] != EventRetiring || order[1] != EventReady || order[2] != EventRetiring || order[3] != EventReady {
		t.Errorf("SIGHUP order %v, want retiring, ready, retiring, ready\n%s", order, formatEvents(ev[mark:]))
	}
	if n, first := failures(rs); n > 0 {
		t.Errorf("%d of %d requests failed during TTIN/TTOU/HUP, first: %v", n, len(rs), first)
	}
	if got := alive(s.snapshot()); got != 2 {
		t.Errorf("%d workers alive after the restart, want 2", got)
	}
}

// The event log replays its bounded history, then streams, and ends every
// stream when closed.
func TestEventLog(t *testing.T) {
	l := newEventLog(2)
	for pid := 1; pid <= 3; pid++ {
		l.publish(Event{Pid: pid, Event: EventSpawn})
	}
	hist, c := l.subscribe()
	if len(hist) != 2 || hist[0].Pid != 2 || hist[1].Pid != 3 {
		t.Fatalf("history %+v, want pids 2, 3", hist)
	}
	l.publish(Event{Pid: 4, Event: EventReady})
	if e := <-c; e.Pid != 4 {
		t.Errorf("streamed %+v, want pid 4", e)
	}
	l.close()
	if _, ok := <-c; ok {
		t.Error("stream still open after close")
	}
}

// Heartbeats update the worker's counters and feed loop-lag observations
// into the master's sawtooth_loop_lag_seconds histogram.
func TestHeartbeatLoopLag(t *testing.T) {
	m := &master{procs: map[int]*proc{42: {pid: 42, slot: 1}}, events: newEventLog(8)}
	m.metrics = newMetrics(m)
	m.message(42, control.Message{Type: control.Heartbeat, Pid: 42, Requests: 7, InFlight: 2, LoopLag: []float64{0.002, 0.3}})
	p := m.procs[42]
	if p.requests != 7 || p.inflight != 2 {
		t.Errorf("worker state requests=%d inflight=%d, want 7, 2", p.requests, p.inflight)
	}
	var h dto.Metric
	if err := m.metrics.loopLag.Write(&h); err != nil {
		t.Fatal(err)
	}
	if got := h.GetHistogram().GetSampleCount(); got != 2 {
		t.Errorf("%s count %d, want 2", MetricLoopLag, got)
	}
	if got := h.GetHistogram().GetSampleSum(); got < 0.301 || got > 0.303 {
		t.Errorf("%s sum %v, want 0.302", MetricLoopLag, got)
	}
	live, desired, _ := m.snapshot()
	if len(live) != 1 || live[0].requests != 7 || desired != 0 {
		t.Errorf("snapshot %+v desired %d", live, desired)
	}
}

// --max-lifetime with jitter retires workers with reason max_lifetime, each
// after its drawn lifetime, and replaces them.
func TestMaxLifetime(t *testing.T) {
	s := startServer(t, "--workers", "2", "--max-lifetime", "400ms", "--max-lifetime-jitter", "200ms")
	ev := s.waitFor("3 max_lifetime exits", func(ev []Event) bool { return countEvents(ev, EventExit, "max_lifetime") >= 3 })
	spawned := map[int]time.Time{}
	for _, e := range ev {
		switch e.Event {
		case EventSpawn:
			spawned[e.Pid] = e.Time
		case EventRetiring:
			if e.Reason != "max_lifetime" {
				t.Errorf("worker %d retiring with reason %q, want max_lifetime", e.Pid, e.Reason)
			}
			if up := e.Time.Sub(spawned[e.Pid]); up < 400*time.Millisecond {
				t.Errorf("worker %d retired after %v, before max_lifetime 400ms", e.Pid, up)
			}
		}
	}
	if got := alive(s.snapshot()); got < 1 {
		t.Errorf("%d workers alive, want replacements", got)
	}
}

// Workers die with their master, even when it is SIGKILLed and cannot
// clean up (PR_SET_PDEATHSIG and the closed control channel).
func TestWorkersDieWithMaster(t *testing.T) {
	s := startServer(t, "--workers", "2")
	ev := s.waitFor("2 workers", func(ev []Event) bool { return alive(ev) == 2 })
	var pids []int
	for _, e := range ev {
		if e.Event == EventReady {
			pids = append(pids, e.Pid)
		}
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.waited
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for syscall.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				t.Fatalf("worker %d still alive 10s after its master was killed", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// A worker's exit is handled after the messages it sent before exiting, so
// the exit carries the reason the worker gave (here max_requests) rather
// than "exited without retiring" (crash).
func TestExitAfterLastMessages(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatalf("run true: %v", err)
	}
	p := &proc{pid: 42, slot: 1, conn: control.NewConn(a), ready: true}
	m := &master{log: slog.New(slog.NewTextHandler(io.Discard, nil)), procs: map[int]*proc{42: p},
		events: newEventLog(128), msgs: make(chan procMsg, 64), shutting: true}
	m.metrics = newMetrics(m)
	for i := range 50 {
		m.msgs <- procMsg{pid: 42, msg: control.Message{Type: control.Heartbeat, Requests: int64(i)}}
	}
	m.msgs <- procMsg{pid: 42, msg: control.Message{Type: control.Retiring, Reason: control.MaxRequests, Requests: 50}}
	m.msgs <- procMsg{pid: 42, exit: done.ProcessState}
	errc := make(chan error, 1)
	go func() { errc <- m.loop(context.Background()) }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the master loop did not return once its only worker exited")
	}
	hist, _ := m.events.subscribe()
	var exit Event
	for _, e := range hist {
		if e.Event == EventExit {
			exit = e
		}
	}
	if exit.Reason != control.MaxRequests || exit.Requests != 50 {
		t.Errorf("exit event %+v, want reason max_requests after 50 requests", exit)
	}
}
