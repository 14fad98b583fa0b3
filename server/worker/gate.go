package worker

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Listener wraps the inherited listener for a model: it accepts nothing once
// the worker stops, and with maxConns > 0 it holds at most that many
// connections open at once (the next Accept waits for a Close). Under
// max_requests (without overlap) it also keeps the worker's request budget:
// see Gate. Its Drain waits for every accepted connection to close.
func (w *Worker) Listener(ln net.Listener, maxConns int) *Gate {
	g := &Gate{Listener: ln, w: w, closed: make(chan struct{}), budget: &w.budget}
	if maxConns > 0 {
		g.slots = make(chan struct{}, maxConns)
	}
	return g
}

// Gate is a worker's listener; see Worker.Listener.
//
// Draining without dropping a request rests on one rule: every open
// connection holds a claim on the worker for its next request. A
// connection is accepted only with a claim for its first request, and a
// response keeps its connection alive only if it takes a claim for the
// connection's next one; otherwise it carries "Connection: close". Once the
// worker stops, no claim is granted, so every response from then on closes
// its connection, while a request already sent on an idle connection still
// finds its claim and is answered. Under max_requests the claims are the
// budget: begun requests plus claims never pass the limit, so the worker
// begins at most its limit, and begins exactly its limit when its clients
// keep sending.
type Gate struct {
	net.Listener
	w         *Worker
	budget    *budget
	slots     chan struct{}
	closeOnce sync.Once
	closed    chan struct{}
	accepting sync.RWMutex // read-held by Accept calls in progress
	open      atomic.Int64 // accepted connections not yet closed
}

// Accept waits for a free connection slot and a claim on the budget, and
// accepts a connection.
func (g *Gate) Accept() (net.Conn, error) {
	g.accepting.RLock()
	defer g.accepting.RUnlock()
	if g.slots != nil {
		select {
		case g.slots <- struct{}{}:
		case <-g.closed:
			return nil, net.ErrClosed
		}
	}
	release := func() {
		if g.slots != nil {
			<-g.slots
		}
	}
	// No claim free: wait until a connection gives one back, or until the
	// worker stops (connections queue in the kernel for the other workers
	// or the replacement meanwhile).
	for !g.budget.claim() {
		select {
		case <-g.closed:
			release()
			return nil, net.ErrClosed
		case <-g.w.stopc:
			// Accept nothing more; Serve returns once the model closes us.
			release()
			<-g.closed
			return nil, net.ErrClosed
		case <-time.After(2 * time.Millisecond):
		}
	}
	c, err := g.Listener.Accept()
	if err != nil {
		g.budget.release()
		release()
		return nil, err
	}
	g.open.Add(1)
	gc := &gateConn{Conn: c, budget: g.budget, claimed: true}
	gc.release = sync.OnceFunc(func() { g.open.Add(-1); release() })
	return gc, nil
}

// Close stops accepting. It returns once no Accept is in progress, so
// that the count Drain waits on can only go down.
func (g *Gate) Close() error {
	var err error
	g.closeOnce.Do(func() {
		close(g.closed)
		err = g.Listener.Close()
		// Wait out any Accept in progress; later ones see closed.
		g.accepting.Lock()
		g.accepting.Unlock()
	})
	return err
}

// Drain closes g and waits until every connection it accepted is closed,
// or ctx is done. Busy connections close after their response (which
// carries "Connection: close"), idle ones when their keep-alive idle time
// ends or when their last request is answered.
func (g *Gate) Drain(ctx context.Context) error {
	g.Close()
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for g.open.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Open returns the number of accepted connections not yet closed.
func (g *Gate) Open() int64 { return g.open.Load() }

// gateConn is an accepted connection and its claim on the worker.
type gateConn struct {
	net.Conn
	budget  *budget
	release func()

	mu      sync.Mutex
	claimed bool // holds a claim for its next request
}

// begin turns the connection's claim into its request's; a request that
// finds no claim (a pipelining client) begins anyway.
func (c *gateConn) begin() {
	c.mu.Lock()
	c.claimed = false
	c.mu.Unlock()
}

// keep takes a claim for the connection's next request, so that the
// response may keep the connection alive; false means close it.
func (c *gateConn) keep() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.claimed {
		c.claimed = c.budget.claim()
	}
	return c.claimed
}

func (c *gateConn) Close() error {
	err := c.Conn.Close()
	c.mu.Lock()
	if c.claimed {
		c.claimed = false
		c.budget.release()
	}
	c.mu.Unlock()
	c.release()
	return err
}

// budget counts the claims on a worker: requests begun plus connections
// holding a claim for their next request. With a limit it never grants
// more than limit; once closed it grants none.
type budget struct {
	mu        sync.Mutex
	limit     int64 // 0: unlimited
	committed int64
	closed    bool
}

// claim takes a claim, if one is free.
func (b *budget) claim() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || (b.limit > 0 && b.committed >= b.limit) {
		return false
	}
	b.committed++
	return true
}

// release gives back a claim no request used.
func (b *budget) release() {
	b.mu.Lock()
	b.committed--
	b.mu.Unlock()
}

// close stops granting claims.
func (b *budget) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

// connKey is the context key of a request's *gateConn.
type connKey struct{}

// ConnContext is an http.Server ConnContext for connections accepted
// through a Gate: it lets Begin and End find the request's connection.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if gc, ok := c.(*gateConn); ok {
		return context.WithValue(ctx, connKey{}, gc)
	}
	return ctx
}

// connOf returns r's connection, or nil if it did not come through a Gate.
func connOf(r *http.Request) *gateConn {
	c, _ := r.Context().Value(connKey{}).(*gateConn)
	return c
}
