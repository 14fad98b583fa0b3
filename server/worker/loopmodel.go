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
// loop-lag observations travel to the master with each heartbeat.
func NewLoop(w *Worker) (Model, error) {
	cfg := w.Config().loopConfig()
	srv, err := loop.New(cfg, loop.Options{
		Logger: w.Logger(),
		BeforeRequest: func(r *http.Request, h http.Header) int64 {
			// Many requests may be in flight on the loop: decide to
			// retire when the limit's request begins, not when it ends,
			// so no request begins past max_requests.
			n := w.Begin(r, h)
			w.CheckRequests(n)
			return n
		},
		AfterRequest: func(_ *http.Request, h http.Header, _ int, n int64) { w.End(n, h) },
		Handover:     w.HandingOver,
		Leaker:       w.Leaker(),
	})
	if err != nil {
		return nil, fmt.Errorf("loop: %w", err)
	}
	cfg = srv.Config()
	// The lag probe ticks every LagInterval plus its lag; allow a
	// heartbeat interval, and three probes when they are slower.
	alive := max(w.Config().heartbeat(), 3*cfg.LagInterval)
	return &loopModel{w: w, srv: srv, alive: alive, started: make(chan struct{})}, nil
}

func (m *loopModel) Serve(ln net.Listener) error {
	m.gate = m.w.Listener(ln, 0)
	close(m.started)
	return m.srv.Serve(m.gate)
}

// Shutdown stops accepting, turns keep-alive off (idle connections close,
// busy ones after their response), waits for every accepted connection to
// close, and then stops the loop and the offload executor (killing offload
// children). If ctx ends first, everything is closed at once.
func (m *loopModel) Shutdown(ctx context.Context) error {
	select {
	case <-m.started:
	case <-ctx.Done():
		m.srv.Close()
		return ctx.Err()
	}
	m.srv.SetKeepAlivesEnabled(false)
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
