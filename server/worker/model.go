package worker

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/sawtooth-dev/sawtooth/server/control"
)

// Model is a worker model: how a worker process turns accepted connections
// into served requests. The worker gives the model its listener and its
// request handler machinery (see Worker.Listener and Worker.Handler) and
// drives it: Serve once, then Shutdown when the worker retires.
type Model interface {
	// Serve serves connections from ln until Shutdown is called; it then
	// returns http.ErrServerClosed (or nil).
	Serve(ln net.Listener) error
	// Shutdown stops accepting, waits for in-flight requests until ctx is
	// done, and then drops what is left.
	Shutdown(ctx context.Context) error
	// Alive reports whether the request-serving path is making progress.
	// The worker sends a heartbeat only while it is, so the master's
	// --timeout kills a worker stuck inside its requests.
	Alive() bool
}

// HeartbeatFiller is implemented by a Model that adds its own observations
// (e.g. loop lag) to each heartbeat before it is sent.
type HeartbeatFiller interface {
	FillHeartbeat(m *control.Message)
}

// Factory builds a Model for the worker w.
type Factory func(w *Worker) (Model, error)

// Registry maps worker model names to their factories.
type Registry map[string]Factory

// Builtin returns a new Registry with the models of this package: "sync",
// "threads" and "loop". Callers may add others to it.
func Builtin() Registry {
	return Registry{"sync": NewSync, "threads": NewThreads, "loop": NewLoop}
}

// Names returns the model names, sorted.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// NamesList returns the model names as "a, b or c".
func (r Registry) NamesList() string {
	n := r.Names()
	if len(n) <= 1 {
		return strings.Join(n, "")
	}
	return strings.Join(n[:len(n)-1], ", ") + " or " + n[len(n)-1]
}

// httpModel is a net/http server that serves at most capacity requests at
// once. With keepAlive false it is gunicorn's sync worker (one connection,
// one request, close); with keepAlive true and a request semaphore it is
// gthread.
type httpModel struct {
	w        *Worker
	srv      *http.Server
	capacity int
	perConn  bool // limit connections (sync) rather than requests (threads)

	started chan struct{} // closed once gate is set
	gate    *Gate
}

// NewSync is the sync model: one request at a time, no keep-alive, like
// gunicorn's sync worker. The worker accepts the next connection only when
// the previous one is closed.
func NewSync(w *Worker) (Model, error) {
	m := &httpModel{w: w, capacity: 1, perConn: true, started: make(chan struct{})}
	w.oneShot = true
	m.srv = w.httpServer(w.Handler(w.Exec))
	m.srv.SetKeepAlivesEnabled(false)
	return m, nil
}

// NewThreads is the threads model: up to Config.Threads requests at once,
// with keep-alive, like gunicorn's gthread worker. Connections are accepted
// freely; a request waits for a free thread. An idle connection is closed
// after Config.KeepAlive (gunicorn's --keep-alive).
func NewThreads(w *Worker) (Model, error) {
	n := w.Config().threads()
	m := &httpModel{w: w, capacity: n, started: make(chan struct{})}
	sem := make(chan struct{}, n)
	h := w.Handler(w.Exec)
	m.srv = w.httpServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		defer func() { <-sem }()
		h.ServeHTTP(rw, r)
	}))
	m.srv.IdleTimeout = w.Config().keepAlive()
	return m, nil
}

func (m *httpModel) Serve(ln net.Listener) error {
	limit := 0
	if m.perConn {
		limit = m.capacity
	}
	m.gate = m.w.Listener(ln, limit)
	close(m.started)
	return m.srv.Serve(m.gate)
}

// Shutdown drains without http.Server.Shutdown's races: Shutdown drops
// (without a response) a connection accepted but not yet read, and closes
// idle keep-alive connections at once, although the client's next request
// may already be on the wire; so does SetKeepAlivesEnabled(false). So:
// stop accepting, and wait for every accepted connection to close (the
// worker has stopped, so every response carries "Connection: close", and
// an idle connection closes when its keep-alive idle time ends, see Gate);
// only then shut the server down.
func (m *httpModel) Shutdown(ctx context.Context) error {
	select {
	case <-m.started:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := m.gate.Drain(ctx); err != nil {
		m.srv.Close()
		return err
	}
	return m.srv.Shutdown(ctx)
}

func (m *httpModel) Alive() bool { return m.w.Progressing(m.capacity) }
