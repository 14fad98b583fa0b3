package worker

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sawtooth-dev/sawtooth/server/control"
	"github.com/sawtooth-dev/sawtooth/server/loop"
)

// loopModel is the event-loop model (package server/loop) as a worker
// model: handler code runs on one loop goroutine, heavy routes run where
// Config.Loop.Offload says, and the loop itself drives the heartbeat, so a
// loop stuck in a handler stops heartbeating and the master's --timeout
// kills it.
type loopModel struct {
	w     *Worker
	srv   *loop.Server
	alive time.Duration // the loop must have ticked within this

	started chan struct{} // closed once gate is set
	gate    *Gate
}

// NewLoop is the loop model, like a uvicorn worker: many connections with
// keep-alive, one event loop for handler code, heavy work on the loop or
// offloaded to threads behind a GIL-like lock or to child processes
// (Config.Loop). Requests are counted and limits checked on the loop, and
// loop-lag observations travel to the master with each heartbeat. The
// worker's Gate keeps it within max_requests although it serves many
// connections at once, without dropping a request (see Gate).
func NewLoop(w *Worker) (Model, error) {
	cfg := w.Config().loopConfig()
	m := &loopModel{w: w, started: make(chan struct{})}
	srv, err := loop.New(cfg, loop.Options{
		Logger: w.Logger(),
		// Many requests may be in flight on the loop: Begin decides to
		// retire when the limit's request begins, not when it ends.
		BeforeRequest: w.Begin,
		AfterRequest:  func(r *http.Request, h http.Header, _ int, _ int64) { w.End(r, h) },
		ConnContext:   ConnContext,
		IdleTimeout:   w.Config().keepAlive(),
		Leaker:        w.Leaker(),
	})
	if err != nil {
		return nil, fmt.Errorf("loop: %w", err)
	}
	// The lag probe ticks every LagInterval plus its lag; allow a
	// heartbeat interval, and three probes when they are slower.
	m.srv, m.alive = srv, max(w.Config().heartbeat(), 3*srv.Config().LagInterval)
	return m, nil
}

func (m *loopModel) Serve(ln net.Listener) error {
	m.gate = m.w.Listener(ln, 0)
	close(m.started)
	return m.srv.Serve(m.gate)
}

// Shutdown stops accepting, waits for every accepted connection to close
// (every response now carries "Connection: close"; an idle connection
// closes after its keep-alive idle time), and then stops the loop and the
// offload executor (killing offload children). If ctx ends first,
// everything is closed at once.
func (m *loopModel) Shutdown(ctx context.Context) error {
	select {
	case <-m.started:
	case <-ctx.Done():
		m.srv.Close()
		return ctx.Err()
	}
	if err := m.gate.Drain(ctx); err != nil {
		m.srv.Close()
		return err
	}
	return m.srv.Shutdown(ctx)
}

// Alive reports whether the loop ran its lag probe recently: a loop stuck
// in a handler (CPU work or a blocking call on the loop) is not alive.
func (m *loopModel) Alive() bool { return time.Since(m.srv.LastTick()) < m.alive }

// FillHeartbeat adds the loop-lag observations made since the previous
// heartbeat.
func (m *loopModel) FillHeartbeat(hb *control.Message) {
	hb.LoopLag, _ = m.srv.TakeLag()
}
