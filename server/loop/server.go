// Package loop implements the event-loop worker model of `sawtooth serve`
// (--worker-model loop): an asyncio-like loop on which handler code runs one
// piece at a time, executor offload of heavy routes to threads that contend
// for a GIL-like lock or to child processes, a loop-lag monitor with stack
// dumps, and request-id propagation into offloaded work.
//
// A worker process serves its inherited listener with a Server:
//
//	srv, err := loop.New(cfg, loop.Options{BeforeRequest: count})
//	go srv.Serve(ln)
//	alive := time.Since(srv.LastTick()) < interval // the loop is not stuck
//	...
//	srv.Shutdown(ctx)
//
// and its main calls RunOffloadChild when os.Getenv(ChildEnv) is
// ChildEnvOffload, since offload children are re-executions of the binary.
package loop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sawtooth-dev/sawtooth/server/workload"
)

// Options are the hooks a worker process plugs into a Server. Every field
// is optional.
type Options struct {
	// Logger receives lag warnings with stack dumps and errors
	// (default slog.Default()).
	Logger *slog.Logger
	// BeforeRequest is called on the loop once per request, before its work,
	// with the response header to fill in (X-Worker-Pid, X-Worker-Requests).
	// It is the place to count requests; what it returns (e.g. the request's
	// number) is handed back to AfterRequest. Its signature is that of the
	// worker's Begin.
	BeforeRequest func(r *http.Request, h http.Header) int64
	// AfterRequest is called on the loop when a request's response is ready
	// and before it is written, with the response header (still writable,
	// e.g. "Connection: close"), its status and BeforeRequest's value. It is
	// the place to check recycling limits. Neither hook may call Shutdown
	// itself (Shutdown waits for the loop): start a goroutine or signal one.
	AfterRequest func(r *http.Request, h http.Header, status int, n int64)
	// ConnContext, if set, is the HTTP server's ConnContext: it may add
	// the connection to the context the hooks see as r.Context(). The
	// server never drops a request it has read: whether a connection stays
	// open after a response is the hooks' to say, with "Connection: close"
	// in AfterRequest's header.
	ConnContext func(ctx context.Context, c net.Conn) context.Context
	// IdleTimeout is how long an idle keep-alive connection is kept open
	// (default DefaultIdleTimeout).
	IdleTimeout time.Duration
	// OnLag receives every lag observation, from the monitor's goroutine
	// (not the loop). The same observations go into LagHistogram and are
	// kept for TakeLag.
	OnLag func(time.Duration)
	// Leaker holds /leak's memory (default a new one); share it with the
	// worker's --leak-per-request.
	Leaker *workload.Leaker
	// Executable is the binary re-executed as offload children
	// (default os.Executable()).
	Executable string
}

// DefaultIdleTimeout is Options.IdleTimeout's default, gunicorn's
// --keep-alive default (uvicorn's --timeout-keep-alive is 5 s).
const DefaultIdleTimeout = 2 * time.Second

// Server serves HTTP in the loop model: connections are read by net/http,
// but every request's handler code runs as callbacks on one Loop.
type Server struct {
	cfg    Config
	opts   Options
	log    *slog.Logger
	gil    *GIL
	loop   *Loop
	exec   executor
	procs  *procPool
	hist   prometheus.Histogram
	http   *http.Server
	leaker *workload.Leaker

	cancel    context.CancelFunc
	monDone   chan struct{}
	closeOnce sync.Once

	docs     map[int][]byte // /regex documents by size; touched only on the loop
	lastTick atomic.Int64   // unix nanoseconds of the last probe run on the loop

	lagMu      sync.Mutex
	lagPending []float64
	lagDropped int64
}

// maxPendingLag bounds the observations kept for TakeLag (about 160 s at
// the default 10ms interval); older ones are counted and dropped.
const maxPendingLag = 1 << 14

// New validates cfg, fills in its defaults, and starts the loop, the lag
// monitor and the offload executor (for "processes", OffloadWorkers child
// processes). Call Serve to serve and Shutdown or Close to stop.
func New(cfg Config, opts Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Leaker == nil {
		opts.Leaker = new(workload.Leaker)
	}
	s := &Server{
		cfg:     cfg,
		opts:    opts,
		log:     opts.Logger,
		gil:     NewGIL(cfg.SwitchInterval),
		hist:    NewLagHistogram(),
		leaker:  opts.Leaker,
		monDone: make(chan struct{}),
	}
	ex, procs, err := newExecutor(cfg, opts, s.gil, s.log)
	if err != nil {
		return nil, err
	}
	s.exec, s.procs = ex, procs
	s.lastTick.Store(time.Now().UnixNano())
	s.loop = NewLoop(s.gil, s.log)
	go s.loop.Run()
	s.startMonitor()
	s.http = s.newHTTPServer()
	return s, nil
}

// newExecutor returns the executor of cfg.Offload (nil for none) and, for
// processes, the pool again as the one that has child pids.
func newExecutor(cfg Config, opts Options, gil *GIL, log *slog.Logger) (executor, *procPool, error) {
	switch cfg.Offload {
	case OffloadThreads:
		if !cfg.GIL {
			gil = nil
			procsForThreads(cfg.OffloadWorkers)
		}
		return newThreadPool(cfg.OffloadWorkers, gil), nil, nil
	case OffloadProcesses:
		exe := opts.Executable
		if exe == "" {
			var err error
			if exe, err = os.Executable(); err != nil {
				return nil, nil, fmt.Errorf("loop: offload processes: find own executable: %w", err)
			}
		}
		p, err := newProcPool(cfg.OffloadWorkers, exe, log, gil)
		if err != nil {
			return nil, nil, fmt.Errorf("loop: offload processes: %w", err)
		}
		return p, p, nil
	}
	return nil, nil, nil
}

// startMonitor starts the loop-lag heartbeat; Shutdown stops it through
// s.cancel and waits for s.monDone.
func (s *Server) startMonitor() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	m := &monitor{
		loop:     s.loop,
		cfg:      s.cfg,
		log:      s.log,
		hist:     s.hist,
		onLag:    s.observeLag,
		onProbe:  s.tick,
		stackIDs: s.stackIDs,
	}
	go func() {
		defer close(s.monDone)
		m.run(ctx)
	}()
}

// newHTTPServer returns the server that reads requests for the loop.
func (s *Server) newHTTPServer() *http.Server {
	idle := s.opts.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	return &http.Server{
		Handler:           s,
		ConnContext:       s.opts.ConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       idle,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// Config returns the configuration in effect, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// LagHistogram returns the histogram of loop-lag observations, named
// LagMetricName. It is not registered anywhere: register it in the worker's
// registry, or read it with its Write method to send its buckets to the
// master.
func (s *Server) LagHistogram() prometheus.Histogram { return s.hist }

// OffloadPids returns the pids of the offload child processes (none unless
// Offload is "processes").
func (s *Server) OffloadPids() []int {
	if s.procs == nil {
		return nil
	}
	return s.procs.pids()
}

// Serve accepts connections on l (keep-alive on) until Shutdown or Close;
// it then returns http.ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	return s.http.Serve(l)
}

// Shutdown stops accepting connections, lets in-flight requests finish on
// the loop, then stops the loop, the monitor and the executor. If ctx ends
// first, the rest is closed at once and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.stop()
	if err != nil {
		return fmt.Errorf("loop: shutdown: %w", err)
	}
	return nil
}

// Close closes the listener and every connection at once and stops the
// loop, the monitor and the executor, killing offload children.
func (s *Server) Close() error {
	err := s.http.Close()
	s.stop()
	return err
}

func (s *Server) stop() {
	s.closeOnce.Do(func() {
		_ = s.http.Close()
		s.cancel()
		<-s.monDone
		s.loop.Stop()
		<-s.loop.Done()
		if s.exec != nil {
			s.exec.close()
		}
	})
}

// LastTick returns when the loop last ran a lag probe (or when the server
// was created). A worker's liveness check can use it: a loop stuck in a
// handler stops ticking.
func (s *Server) LastTick() time.Time { return time.Unix(0, s.lastTick.Load()) }

// TakeLag returns the lag observations, in seconds, made since the previous
// call and forgets them, ready for a heartbeat to the master. At most
// 16384 are kept between calls; dropped counts the older ones discarded.
func (s *Server) TakeLag() (seconds []float64, dropped int64) {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	seconds, dropped = s.lagPending, s.lagDropped
	s.lagPending, s.lagDropped = nil, 0
	return seconds, dropped
}

func (s *Server) observeLag(d time.Duration) {
	s.lagMu.Lock()
	if len(s.lagPending) >= maxPendingLag {
		s.lagPending = s.lagPending[1:]
		s.lagDropped++
	}
	s.lagPending = append(s.lagPending, d.Seconds())
	s.lagMu.Unlock()
	if s.opts.OnLag != nil {
		s.opts.OnLag(d)
	}
}

// tick runs on the loop inside each lag probe.
func (s *Server) tick() { s.lastTick.Store(time.Now().UnixNano()) }

func (s *Server) stackIDs() map[uint64]bool {
	ids := map[uint64]bool{s.loop.gid.Load(): true}
	if s.exec != nil {
		for _, id := range s.exec.goroutines() {
			ids[id] = true
		}
	}
	return ids
}

// request is one request's state while its callbacks run on the loop. The
// handler goroutine reads status, header and body only after done is
// closed.
type request struct {
	r      *http.Request
	ctx    context.Context
	header http.Header
	n      int64 // BeforeRequest's value
	status int
	body   string
	done   chan struct{}
}

// ServeHTTP posts the request to the loop and writes the response the loop
// produced. Only this goroutine touches w.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &request{
		r:      r,
		ctx:    WithRequestID(r.Context(), workload.RequestID(r)),
		header: make(http.Header),
		done:   make(chan struct{}),
	}
	if !s.loop.Post(func() { s.dataReceived(rq) }) {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	select {
	case <-rq.done:
	case <-s.loop.Done():
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	for k, v := range rq.header {
		h[k] = v
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(rq.status)
	_, _ = w.Write([]byte(rq.body))
}

// begin is the first callback of a request: parse, hook, then await or work.
func (s *Server) begin(rq *request) {
	if id := workload.RequestID(rq.r); id != "" {
		rq.header.Set(workload.HeaderRequestID, id)
	}
	if s.opts.BeforeRequest != nil {
		rq.n = s.opts.BeforeRequest(rq.r, rq.header)
	}
	job, err := workload.ParseRequest(rq.r)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, workload.ErrNotFound) {
			status = http.StatusNotFound
			err = fmt.Errorf("%s: %w (routes: /light /cpu /block /regex /leak /healthz)", rq.r.URL.Path, err)
		}
		s.finish(rq, status, err.Error()+"\n")
		return
	}
	if job.Await > 0 {
		// await asyncio.sleep(...): the loop is free meanwhile; the rest
		// of the handler is a new callback.
		time.AfterFunc(job.Await, func() { s.loop.Post(func() { s.work(rq, job) }) })
		return
	}
	s.work(rq, job)
}

// work runs the request's work on the loop, or hands heavy work to the
// executor and finishes in a later callback.
func (s *Server) work(rq *request, job workload.Job) {
	switch job.Kind {
	case workload.Light, workload.Health:
		rq.header.Set(workload.HeaderWorkRequestID, RequestID(rq.ctx))
		rq.header.Set(workload.HeaderWorkedIn, "loop")
		s.finish(rq, http.StatusOK, "ok "+job.Kind.String()+"\n")
		return
	case workload.Leak:
		s.leaker.Leak(job.Bytes)
		rq.header.Set(workload.HeaderWorkRequestID, RequestID(rq.ctx))
		rq.header.Set(workload.HeaderWorkedIn, "loop")
		s.finish(rq, http.StatusOK, fmt.Sprintf("leaked %d bytes (%d in total)\n", job.Bytes, s.leaker.Total()))
		return
	}
	hj := heavyJob{Kind: job.Kind, Duration: job.Duration}
	if job.Kind == workload.Regex {
		// The document is the request's payload: it is in the loop's
		// memory before any offload, and ships with the job.
		hj.Doc = s.document(job.KiB)
	}
	if s.exec == nil {
		res := runHeavy(rq.ctx, hj, s.gil.Yield)
		res.Pid = os.Getpid()
		s.finishWork(rq, res, "loop")
		return
	}
	ctx := rq.ctx
	if s.cfg.LoseContext {
		// run_in_executor without contextvars.copy_context().
		ctx = context.Background()
	}
	where := s.exec.workedIn()
	burnCPU(offloadSubmitPython, s.gil.Yield) // run_in_executor (cpython.go)
	s.exec.submit(ctx, hj, func(res result) {
		if !s.loop.Wake(func() {
			burnCPU(offloadResumePython, s.gil.Yield) // the future's callbacks, the task resuming
			s.finishWork(rq, res, where)
		}) {
			// The loop is gone; ServeHTTP answers 503.
			return
		}
	})
}

// maxDocs bounds how many /regex document sizes a Server keeps.
const maxDocs = 4

// document returns the /regex document of kib KiB. It is the request's
// payload, already in memory when a real handler runs, so it is generated
// once per size and shared (read-only) by every request of that size
// rather than costing the loop its generation each time. Runs on the loop.
func (s *Server) document(kib int) []byte {
	if d, ok := s.docs[kib]; ok {
		return d
	}
	if s.docs == nil || len(s.docs) >= maxDocs {
		s.docs = make(map[int][]byte, maxDocs)
	}
	d := workload.Document(kib)
	s.docs[kib] = d
	return d
}

func (s *Server) finishWork(rq *request, res result, where string) {
	rq.header.Set(workload.HeaderWorkRequestID, res.RequestID)
	rq.header.Set(workload.HeaderWorkedIn, where)
	if res.Err != "" {
		s.finish(rq, http.StatusInternalServerError, res.Err+"\n")
		return
	}
	s.finish(rq, http.StatusOK, fmt.Sprintf("%s (%s pid %d)\n", strings.TrimSuffix(res.Body, "\n"), where, res.Pid))
}

// finish completes a request on the loop: the hook, then the response goes
// to the connection's goroutine through sendResponse, whose socket writes
// release the GIL (cpython.go).
func (s *Server) finish(rq *request, status int, body string) {
	rq.status, rq.body = status, body
	if s.opts.AfterRequest != nil {
		s.opts.AfterRequest(rq.r, rq.header, status, rq.n)
	}
	s.sendResponse(rq)
}
