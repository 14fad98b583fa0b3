// Package worker is the worker process of the recycling server: it serves
// requests from a listening socket inherited from the master, reports to the
// master over a control channel (ready, heartbeats, retiring), and retires
// itself when a recycling limit is reached (max_requests, max_rss,
// max_lifetime) or when the master tells it to.
//
// How requests are served is a Model, chosen by name from a Registry: this
// package has "sync" (one request at a time, like gunicorn's sync worker)
// and "threads" (like gthread); other packages add more.
package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
	"github.com/sawtooth-dev/sawtooth/internal/units"
	"github.com/sawtooth-dev/sawtooth/server/control"
	"github.com/sawtooth-dev/sawtooth/server/workload"
)

// ErrMasterGone is returned by Run when the control channel closes before
// the worker retired: the master died, so the worker exits at once.
var ErrMasterGone = errors.New("worker: master closed the control channel")

// Worker is one worker process's state, shared by its model and its
// recycling checks. Models use Config, Listener, Handler, Exec, Do and
// Progressing; everything else is driven by Run.
type Worker struct {
	cfg  Config
	log  *slog.Logger
	ctrl *control.Conn
	pid  int
	self procfs.Proc

	requests  atomic.Int64
	inflight  atomic.Int64
	lastStart atomic.Int64 // unix nanoseconds
	leaker    workload.Leaker

	budget   budget        // claims on requests; see Gate
	oneShot  bool          // the model closes every connection after one request
	decided  atomic.Bool   // a retiring message was sent or a retire received
	stopping atomic.Bool   // no new connections or requests
	stopOnce sync.Once     // closes stopc
	stopc    chan struct{} // closed when the worker stops accepting
}

// Run runs a worker: it builds cfg.Model from models, serves ln, talks to
// the master over ctrl, and returns when the worker has retired and drained
// (nil), when the master is gone (ErrMasterGone), or on a fatal error.
func Run(cfg Config, ln net.Listener, ctrl *control.Conn, models Registry, log *slog.Logger) error {
	w, m, err := newWorker(cfg, ctrl, models, log)
	if err != nil {
		return err
	}

	// The master orchestrates shutdown: a Ctrl-C reaching the whole
	// process group must not kill workers behind its back.
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGPIPE)
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM)
	defer signal.Stop(sigc)

	served := make(chan error, 1)
	go func() { served <- m.Serve(ln) }()
	if err := ctrl.Send(control.Message{Type: control.Ready, Pid: w.pid}); err != nil {
		return err
	}

	gone := make(chan struct{})
	go w.readControl(gone)
	return w.loop(m, served, gone, sigc)
}

// newWorker validates cfg and returns the worker and its model.
func newWorker(cfg Config, ctrl *control.Conn, models Registry, log *slog.Logger) (*Worker, Model, error) {
	if err := cfg.Validate(models); err != nil {
		return nil, nil, fmt.Errorf("worker: %w", err)
	}
	self, err := procfs.Self()
	if err != nil {
		return nil, nil, fmt.Errorf("worker: open /proc/self: %w", err)
	}
	w := &Worker{cfg: cfg, log: log, ctrl: ctrl, pid: os.Getpid(), self: self, stopc: make(chan struct{})}
	w.lastStart.Store(time.Now().UnixNano())
	if !cfg.Overlap {
		// With overlap the worker serves on past its limit until its
		// replacement is ready, so there is nothing to reserve.
		w.budget.limit = cfg.MaxRequests
	}
	m, err := models[cfg.Model](w)
	if err != nil {
		return nil, nil, fmt.Errorf("worker: model %s: %w", cfg.Model, err)
	}
	return w, m, nil
}

// loop runs the serving worker until it has drained, the master is gone
// or serving fails: it sends heartbeats, checks its RSS and lifetime, and
// retires on SIGTERM (sigc) or the master's word.
func (w *Worker) loop(m Model, served <-chan error, gone <-chan struct{}, sigc <-chan os.Signal) error {
	cfg := w.cfg
	beat := time.NewTicker(w.cfg.heartbeat())
	defer beat.Stop()
	// RSS is checked after every request and at least once a second.
	rssEvery := min(w.cfg.heartbeat(), time.Second)
	rssTick := time.NewTicker(rssEvery)
	defer rssTick.Stop()
	var lifetime <-chan time.Time
	if cfg.MaxLifetime > 0 {
		t := time.NewTimer(cfg.MaxLifetime)
		defer t.Stop()
		lifetime = t.C
	}

	for {
		select {
		case err := <-served:
			if w.stopping.Load() {
				return w.drain(m, served, err)
			}
			return fmt.Errorf("worker: serve: %w", err)
		case <-w.stopc:
			return w.drain(m, served, nil)
		case <-gone:
			return ErrMasterGone
		case <-sigc:
			w.retire(control.Signal, "SIGTERM")
			w.stop()
		case <-lifetime:
			w.retire(control.MaxLifetime, "max_lifetime "+cfg.MaxLifetime.String()+" reached")
		case <-rssTick.C:
			if cfg.MaxRSS > 0 {
				w.checkRSS()
			}
		case <-beat.C:
			if err := w.beat(m); err != nil {
				return ErrMasterGone
			}
		}
	}
}

// beat sends a heartbeat if m's request-serving path is making progress.
func (w *Worker) beat(m Model) error {
	if !m.Alive() {
		return nil
	}
	hb := control.Message{Type: control.Heartbeat, Pid: w.pid, Requests: w.requests.Load(),
		InFlight: w.inflight.Load(), RSS: w.RSS()}
	if f, ok := m.(HeartbeatFiller); ok {
		f.FillHeartbeat(&hb)
	}
	return w.ctrl.Send(hb)
}

// drain shuts the model down within the graceful timeout. It keeps
// heartbeating meanwhile, so the master's --timeout kills a worker stuck in
// its last requests but not one that is finishing them.
func (w *Worker) drain(m Model, served <-chan error, serveErr error) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.gracefulTimeout())
	defer cancel()
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		t := time.NewTicker(w.cfg.heartbeat())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if w.beat(m) != nil {
					return
				}
			}
		}
	}()
	stopBeating := sync.OnceFunc(func() { cancel(); <-beating })
	defer stopBeating()
	if err := m.Shutdown(ctx); err != nil {
		w.log.Warn(fmt.Sprintf("worker %d: graceful timeout %v passed with %d requests in flight; dropping them",
			w.pid, w.cfg.gracefulTimeout(), w.inflight.Load()), "pid", w.pid)
	}
	if serveErr == nil {
		select {
		case serveErr = <-served:
		case <-ctx.Done():
		}
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) && !errors.Is(serveErr, net.ErrClosed) {
		return fmt.Errorf("worker: serve: %w", serveErr)
	}
	stopBeating()
	w.ctrl.Send(control.Message{Type: control.Exiting, Pid: w.pid, Requests: w.requests.Load(), RSS: w.RSS()})
	return nil
}

// readControl handles messages from the master and closes gone when the
// channel closes.
func (w *Worker) readControl(gone chan<- struct{}) {
	defer close(gone)
	for {
		m, err := w.ctrl.Receive()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				w.log.Error(err.Error(), "pid", w.pid)
			}
			return
		}
		if m.Type == control.Retire {
			w.decided.Store(true)
			w.stop()
			// The master announces the retirement with this count, the
			// one at the moment the worker stopped.
			w.ctrl.Send(control.Message{Type: control.Retiring, Pid: w.pid, Reason: m.Reason,
				Requests: w.requests.Load(), RSS: w.RSS()})
		}
	}
}

// retire reports a recycling decision to the master, once. Without overlap
// the worker stops accepting first, then tells the master; with overlap it
// keeps serving until the master answers Retire.
func (w *Worker) retire(reason control.Reason, msg string) {
	if !w.decided.CompareAndSwap(false, true) {
		return
	}
	if !w.cfg.Overlap {
		w.stop()
	}
	err := w.ctrl.Send(control.Message{Type: control.Retiring, Pid: w.pid, Reason: reason,
		Requests: w.requests.Load(), RSS: w.RSS(), Message: msg})
	if err != nil {
		w.stop()
	}
}

// stop makes the worker stop accepting connections; Run then drains the
// model. It is synchronous where it matters: once it returns, Listener
// accepts nothing and every response closes its connection. A request
// already sent on an open connection is still answered.
func (w *Worker) stop() {
	w.stopOnce.Do(func() {
		w.budget.close()
		w.stopping.Store(true)
		close(w.stopc)
	})
}

// Stopping reports whether the worker has stopped accepting.
func (w *Worker) Stopping() bool { return w.stopping.Load() }

// Config returns the worker's configuration.
func (w *Worker) Config() Config { return w.cfg }

// Logger returns the worker's logger.
func (w *Worker) Logger() *slog.Logger { return w.log }

// Pid returns the worker's process id.
func (w *Worker) Pid() int { return w.pid }

// RSS returns the worker's resident set size in bytes, or 0 if /proc cannot
// be read.
func (w *Worker) RSS() int64 {
	st, err := w.self.Stat()
	if err != nil {
		return 0
	}
	return int64(st.ResidentMemory())
}

func (w *Worker) checkRSS() {
	if rss := w.RSS(); rss > w.cfg.MaxRSS {
		w.retire(control.MaxRSS, fmt.Sprintf("rss %s > max_rss %s", units.FormatSize(rss), units.FormatSize(w.cfg.MaxRSS)))
	}
}

// Progressing reports whether a model with capacity request slots is making
// progress: a slot is free, or a request started within the last heartbeat
// interval. A worker whose every slot is stuck stops heartbeating.
func (w *Worker) Progressing(capacity int) bool {
	if w.inflight.Load() < int64(capacity) {
		return true
	}
	return time.Since(time.Unix(0, w.lastStart.Load())) < w.cfg.heartbeat()
}

// Result is what an Exec returns for a request.
type Result struct {
	// Body is the response body.
	Body []byte
	// WorkedIn names where the work ran (workload.HeaderWorkedIn).
	WorkedIn string
	// WorkRequestID is the request id as seen where the work ran
	// (workload.HeaderWorkRequestID).
	WorkRequestID string
}

// Exec runs a request's parsed job. Models pass one to Handler; w.Exec is
// the one for models that run work on the request's own goroutine.
type Exec func(ctx context.Context, r *http.Request, job workload.Job) (Result, error)

// Exec runs job in the calling goroutine, after its await.
func (w *Worker) Exec(ctx context.Context, r *http.Request, job workload.Job) (Result, error) {
	if job.Await > 0 {
		if err := workload.BlockFor(ctx, job.Await); err != nil {
			return Result{}, err
		}
	}
	body, err := w.Do(ctx, job, nil)
	return Result{Body: body, WorkedIn: "worker", WorkRequestID: workload.RequestID(r)}, err
}

// Do does job's work (not its await) and returns the response body. yield
// is passed to CPU-bound work.
func (w *Worker) Do(ctx context.Context, job workload.Job, yield workload.Yield) ([]byte, error) {
	switch job.Kind {
	case workload.CPU:
		sum := workload.BurnCPU(job.Duration, yield)
		return fmt.Appendf(nil, "cpu ms=%d sha256=%x\n", job.Duration.Milliseconds(), sum[:8]), nil
	case workload.Block:
		if err := workload.BlockFor(ctx, job.Duration); err != nil {
			return nil, err
		}
		return fmt.Appendf(nil, "block ms=%d\n", job.Duration.Milliseconds()), nil
	case workload.Regex:
		v, err := workload.Validate(workload.Document(job.KiB), yield)
		if err != nil {
			return nil, err
		}
		return fmt.Appendf(nil, "regex kb=%d records=%d checks=%d flagged=%d\n", job.KiB, v.Records, v.Checks, v.Flagged), nil
	case workload.Leak:
		w.leaker.Leak(job.Bytes)
		return fmt.Appendf(nil, "leak bytes=%d total=%d\n", job.Bytes, w.leaker.Total()), nil
	case workload.Health:
		return []byte("ok\n"), nil
	default:
		return []byte("light\n"), nil
	}
}

// Begin starts a request for a model that does not use Handler: it counts
// the request, sets X-Worker-Pid and X-Worker-Requests in h, echoes
// X-Request-Id from r, leaks --leak-per-request, and retires the worker if
// this request reached max_requests (so that requests that begin later are
// left to the replacement). It returns the request's number, to pass to
// End.
func (w *Worker) Begin(r *http.Request, h http.Header) int64 {
	if c := connOf(r); c != nil {
		c.begin()
	}
	n := w.requests.Add(1)
	w.inflight.Add(1)
	w.lastStart.Store(time.Now().UnixNano())
	h.Set(workload.HeaderPid, strconv.Itoa(w.pid))
	h.Set(workload.HeaderRequests, strconv.FormatInt(n, 10))
	if id := workload.RequestID(r); id != "" {
		h.Set(workload.HeaderRequestID, id)
	}
	w.leaker.Leak(w.cfg.LeakPerRequest)
	w.CheckRequests(n)
	return n
}

// End finishes request r before its response is written: it checks
// max_rss and decides whether the connection stays open. It does only if
// the connection can take a claim for its next request (see Gate), so a
// request the client then sends is answered even if the worker retires
// meanwhile; otherwise (the worker is stopping, or max_requests is
// committed) it sets "Connection: close" in h.
func (w *Worker) End(r *http.Request, h http.Header) {
	w.inflight.Add(-1)
	if w.cfg.MaxRSS > 0 {
		w.checkRSS()
	}
	if !w.keepAlive(r) {
		h.Set("Connection", "close")
	}
}

// keepAlive reports whether r's connection may serve another request.
func (w *Worker) keepAlive(r *http.Request) bool {
	if w.oneShot || r.Close {
		return false
	}
	if c := connOf(r); c != nil {
		return c.keep()
	}
	return !w.Stopping()
}

// CheckRequests retires the worker if request n reached max_requests.
// Begin calls it.
func (w *Worker) CheckRequests(n int64) {
	if lim := w.cfg.MaxRequests; lim > 0 && n >= lim {
		w.retire(control.MaxRequests, fmt.Sprintf("served %d requests, max_requests %d", n, lim))
	}
}

// Leaker returns the worker's leaker (used by --leak-per-request and
// /leak), for models that run /leak themselves.
func (w *Worker) Leaker() *workload.Leaker { return &w.leaker }

// Handler returns the worker's request handler around exec: Begin, parse
// the job (400 for a bad parameter, 404 for an unknown path), exec, End,
// then write the response.
func (w *Worker) Handler(exec Exec) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h := rw.Header()
		w.Begin(r, h)
		status, res := http.StatusOK, Result{}
		job, err := workload.ParseRequest(r)
		if err == nil {
			res, err = exec(r.Context(), r, job)
		}
		if err != nil {
			status = StatusOf(r.Context(), err)
			res.Body = []byte(err.Error() + "\n")
		}
		if res.WorkedIn != "" {
			h.Set(workload.HeaderWorkedIn, res.WorkedIn)
			h.Set(workload.HeaderWorkRequestID, res.WorkRequestID)
		}
		w.End(r, h)
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(res.Body)))
		rw.WriteHeader(status)
		if r.Method != http.MethodHead {
			rw.Write(res.Body)
		}
	})
}

// StatusOf maps a request's error to its HTTP status: 400 for a
// *workload.ParamError, 404 for workload.ErrNotFound, 499 when the client
// went away (ctx done), 500 otherwise.
func StatusOf(ctx context.Context, err error) int {
	var pe *workload.ParamError
	switch {
	case errors.As(err, &pe):
		return http.StatusBadRequest
	case errors.Is(err, workload.ErrNotFound):
		return http.StatusNotFound
	case ctx.Err() != nil:
		return 499
	default:
		return http.StatusInternalServerError
	}
}

// httpServer returns an http.Server for h with the worker's error log.
func (w *Worker) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ConnContext:       ConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(w.log.Handler(), slog.LevelWarn),
	}
}
