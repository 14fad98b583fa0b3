package worker

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
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
	slots slots

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
	m := &loopModel{w: w, started: make(chan struct{})}
	if !w.Config().Overlap {
		// With overlap the worker serves on past its limit until its
		// replacement is ready, so there is nothing to reserve.
		m.slots.limit = w.Config().MaxRequests
	}
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
		Admit:        func(c net.Conn, first bool) bool { return m.admit(c, first) },
		Leaker:       w.Leaker(),
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
	return m.srv.Serve(&slotListener{Gate: m.gate, slots: &m.slots})
}

// admit decides, on the loop, whether a request begins here. A connection's
// first request always does (its slot was reserved when it was accepted).
// A later request on a kept-alive connection is dropped, to be retried by
// the client on a new connection, once the worker is handing over to a
// replacement or when the slots left under max_requests are all taken.
func (m *loopModel) admit(c net.Conn, first bool) bool {
	if first {
		if sc, ok := c.(*slotConn); ok {
			sc.begin()
		}
		return true
	}
	if m.w.HandingOver() {
		return false
	}
	return m.slots.take()
}

// slots keeps a loop worker within max_requests although it serves many
// connections at once: every request that begins holds a slot, and so does
// every accepted connection whose first request has not begun yet (it
// cannot be refused without failing the client). The listener accepts only
// while a slot is free; a request on a kept-alive connection begins only if
// one is. So admitted + reserved never passes the limit, and the worker
// serves exactly max_requests requests.
type slots struct {
	limit int64 // 0: unlimited

	mu       sync.Mutex
	admitted int64 // requests begun
	reserved int64 // connections accepted (or being accepted) with no request yet
}

// reserve takes a slot for a connection about to be accepted.
func (s *slots) reserve() bool { return s.claim(&s.reserved) }

// unreserve gives back a connection's slot (its accept failed, or it closed
// without a request); begin turns it into a request's.
func (s *slots) unreserve(begin bool) {
	if s.limit <= 0 {
		return
	}
	s.mu.Lock()
	s.reserved--
	if begin {
		s.admitted++
	}
	s.mu.Unlock()
}

// take takes a slot for a request on a kept-alive connection.
func (s *slots) take() bool { return s.claim(&s.admitted) }

// claim counts one more in *n (reserved or admitted) if a slot is free.
func (s *slots) claim(n *int64) bool {
	if s.limit <= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admitted+s.reserved >= s.limit {
		return false
	}
	*n++
	return true
}

// slotListener accepts a connection only with a slot reserved for its first
// request; while none is free it waits (connections queue in the kernel
// for the other workers or the replacement).
type slotListener struct {
	*Gate
	slots *slots
}

func (l *slotListener) Accept() (net.Conn, error) {
	for !l.slots.reserve() {
		select {
		case <-l.Gate.closed:
			return nil, net.ErrClosed
		case <-time.After(2 * time.Millisecond):
		}
	}
	c, err := l.Gate.Accept()
	if err != nil {
		l.slots.unreserve(false)
		return nil, err
	}
	return &slotConn{Conn: c, slots: l.slots}, nil
}

// slotConn is an accepted connection holding its first request's slot
// until that request begins or the connection closes.
type slotConn struct {
	net.Conn
	slots *slots
	once  sync.Once
}

// begin moves the slot to the connection's first request.
func (c *slotConn) begin() { c.once.Do(func() { c.slots.unreserve(true) }) }

func (c *slotConn) Close() error {
	c.once.Do(func() { c.slots.unreserve(false) })
	return c.Conn.Close()
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
