package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sawtooth-dev/sawtooth/server/control"
)

// proc is the master's view of one worker process.
type proc struct {
	pid, slot  int
	cmd        *exec.Cmd
	conn       *control.Conn
	spawned    time.Time
	lastBeat   time.Time
	ready      bool
	limit      int64 // drawn max_requests (base + jitter), 0 = off
	jitter     int64
	lifeJitter time.Duration

	requests, inflight, rss int64

	announced  bool           // a retiring event was emitted
	announceAt int64          // requests in that event
	told       string         // the master retired it: the detail to announce once it answers
	pending    control.Reason // decided to retire, serving until its replacement is ready
	retiring   control.Reason // stopped accepting (told or by itself)
	retiringAt time.Time
	killed     control.Reason // the master sent SIGKILL for this reason
	killMsg    string
}

// serving reports whether p is its slot's current, non-retiring worker.
func (p *proc) serving() bool { return p.retiring == "" && p.pending == "" && p.killed == "" }

// procMsg is a control message from worker pid or, with exit set, its
// exit. Both travel on one channel so that the master handles a worker's
// last messages (retiring, exiting) before its exit.
type procMsg struct {
	pid  int
	msg  control.Message
	exit *os.ProcessState
}

// master is the arbiter: one goroutine (loop) owns the workers; mu guards
// what the metrics collector reads concurrently.
type master struct {
	cfg    Config
	log    *slog.Logger
	exe    string
	ln     net.Listener
	lnFile *os.File
	addr   string
	admin  string
	rng    *rand.Rand

	mu              sync.Mutex
	procs           map[int]*proc
	desired         int
	retiredRequests int64

	events  *eventLog
	metrics *metrics
	msgs    chan procMsg

	shutting     bool
	deadline     time.Time // shutdown: kill what is left after this
	failures     int       // consecutive workers that died before ready
	nextSpawn    time.Time
	restartQueue []int
	readyDone    bool
	fatal        error // why the master shuts down on its own, returned by Run
}

// Run runs the master until ctx is done or it receives SIGTERM or SIGINT,
// then shuts down gracefully: workers finish in-flight requests within the
// graceful timeout, what is left is killed, and Run returns nil. It logs to
// log. SIGHUP restarts the workers one at a time, SIGTTIN and SIGTTOU add and
// remove one worker.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable to start workers: %w", err)
	}
	if err := checkReadyFile(cfg.ReadyFile); err != nil {
		return err
	}
	m, seed := newMaster(cfg, log, exe)
	if err := m.listen(); err != nil {
		return err
	}
	defer m.ln.Close()
	defer m.lnFile.Close()
	adminSrv, err := m.startAdmin()
	if err != nil {
		return err
	}
	log.Info("listening at http://"+m.addr, "bind", m.addr, "pid", os.Getpid())
	if m.admin != "" {
		log.Info("admin listening at http://"+m.admin, "admin", m.admin)
	}
	log.Info(fmt.Sprintf("using worker model %s, %d workers", cfg.Worker.Model, cfg.Workers), "seed", seed)

	defer m.killAll()
	err = m.loop(ctx)
	m.events.close()
	if adminSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		adminSrv.Shutdown(sctx)
		cancel()
		adminSrv.Close()
	}
	if err == nil {
		log.Info("shutdown complete")
	}
	return err
}

// checkReadyFile fails, before serving, when the directory of the
// --ready-file path (if any) cannot take it.
func checkReadyFile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return fmt.Errorf("--ready-file %s: %w", path, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// newMaster returns the master of cfg, with no listener yet, and the seed
// of its jitter draws (cfg.Seed, or a random one when that is 0).
func newMaster(cfg Config, log *slog.Logger, exe string) (*master, uint64) {
	m := &master{cfg: cfg, log: log, exe: exe, procs: make(map[int]*proc), desired: cfg.Workers,
		events: newEventLog(eventHistory), msgs: make(chan procMsg, 64)}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	m.rng = rand.New(rand.NewPCG(seed, seed^0x5a5a_7007))
	m.metrics = newMetrics(m)
	return m, seed
}

// listen opens the workers' listener on --bind and the file the workers
// inherit it as. On success the caller closes both.
func (m *master) listen() error {
	ln, err := net.Listen("tcp", m.cfg.Bind)
	if err != nil {
		return fmt.Errorf("--bind %s: %w", m.cfg.Bind, err)
	}
	m.ln = ln
	if m.lnFile, err = inheritable(ln.(*net.TCPListener)); err != nil {
		ln.Close()
		return fmt.Errorf("--bind %s: %w", m.cfg.Bind, err)
	}
	m.addr = ln.Addr().String()
	return nil
}

// startAdmin serves /metrics and /events on --admin-bind, unless it is
// "" or "off" (then it returns a nil server).
func (m *master) startAdmin() (*http.Server, error) {
	cfg := m.cfg
	if cfg.AdminBind == "" || cfg.AdminBind == "off" {
		return nil, nil
	}
	aln, err := net.Listen("tcp", cfg.AdminBind)
	if err != nil {
		return nil, fmt.Errorf("--admin-bind %s: %w", cfg.AdminBind, err)
	}
	m.admin = aln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.metrics.reg, promhttp.HandlerOpts{}))
	mux.Handle("/events", m.events)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "sawtooth serve admin: /metrics (Prometheus), /events (JSON lines)")
	})
	adminSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn)}
	go adminSrv.Serve(aln)
	return adminSrv, nil
}

// tick is how often the arbiter checks timeouts, backoff and deadlines.
const tick = 50 * time.Millisecond

func (m *master) loop(ctx context.Context) error {
	sigc := make(chan os.Signal, 16)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU)
	defer signal.Stop(sigc)
	t := time.NewTicker(tick)
	defer t.Stop()
	done := ctx.Done()
	m.reconcile()
	for {
		if m.shutting && len(m.procs) == 0 {
			return m.fatal
		}
		select {
		case <-done:
			done = nil
			m.shutdown("context done")
		case s := <-sigc:
			m.signal(s.(syscall.Signal))
		case pm := <-m.msgs:
			if pm.exit != nil {
				m.exited(pm.pid, pm.exit)
			} else {
				m.message(pm.pid, pm.msg)
			}
		case <-t.C:
			m.check(time.Now())
		}
		m.reconcile()
	}
}

func (m *master) signal(s syscall.Signal) {
	switch s {
	case syscall.SIGINT, syscall.SIGTERM:
		if m.shutting {
			m.log.Warn("second " + signalName(s) + ": killing all workers now")
			for _, p := range m.procs {
				m.kill(p, control.Shutdown, "killed on second "+signalName(s))
			}
			return
		}
		m.shutdown(signalName(s))
	case syscall.SIGHUP:
		if m.shutting {
			return
		}
		m.log.Info("handling SIGHUP: restarting workers one at a time")
		m.restartQueue = m.restartQueue[:0]
		for _, p := range m.sorted() {
			if p.serving() {
				m.restartQueue = append(m.restartQueue, p.pid)
			}
		}
	case syscall.SIGTTIN:
		if m.shutting {
			return
		}
		m.setDesired(m.desired + 1)
		m.log.Info(fmt.Sprintf("SIGTTIN: number of workers %d", m.desired))
	case syscall.SIGTTOU:
		if m.shutting {
			return
		}
		if m.desired <= 1 {
			m.log.Warn("SIGTTOU ignored: already at 1 worker")
			return
		}
		m.setDesired(m.desired - 1)
		m.log.Info(fmt.Sprintf("SIGTTOU: number of workers %d", m.desired))
	}
}

func (m *master) setDesired(n int) {
	m.mu.Lock()
	m.desired = n
	m.mu.Unlock()
}

// shutdown starts a graceful shutdown: the master closes its listener and
// tells every worker to retire.
func (m *master) shutdown(why string) {
	m.shutting = true
	m.deadline = time.Now().Add(m.gracefulTimeout() + 2*time.Second)
	m.log.Info(fmt.Sprintf("shutting down (%s): %d workers finish in-flight requests within %v", why, len(m.procs), m.gracefulTimeout()))
	m.lnFile.Close()
	m.ln.Close()
	for _, p := range m.sorted() {
		m.retire(p, control.Shutdown, "shutdown on "+why)
	}
}

func (m *master) gracefulTimeout() time.Duration {
	if g := m.cfg.Worker.GracefulTimeout; g > 0 {
		return g
	}
	return 30 * time.Second
}

// message handles a control message from worker pid.
func (m *master) message(pid int, msg control.Message) {
	p := m.procs[pid]
	if p == nil {
		return
	}
	now := time.Now()
	m.mu.Lock()
	if msg.Requests > p.requests {
		p.requests = msg.Requests
	}
	if msg.RSS > 0 {
		p.rss = msg.RSS
	}
	if msg.Type == control.Heartbeat {
		p.inflight = msg.InFlight
	}
	m.mu.Unlock()
	switch msg.Type {
	case control.Ready:
		p.ready = true
		p.lastBeat = now
		m.failures = 0
		m.emit(p, EventReady, fmt.Sprintf("worker %d ready in %v", p.pid, now.Sub(p.spawned).Round(time.Millisecond)))
		// Overlap: the worker this one replaces may go now.
		for _, o := range m.sorted() {
			if o != p && o.slot == p.slot && o.pending != "" {
				m.retire(o, o.pending, "")
			}
		}
		m.checkReady()
	case control.Heartbeat:
		p.lastBeat = now
		for _, v := range msg.LoopLag {
			m.metrics.loopLag.Observe(v)
		}
	case control.Retiring:
		p.lastBeat = now
		if p.retiring != "" && !p.announced {
			// The answer to the master's retire: the count is the one
			// at the moment the worker stopped.
			m.announce(p, p.retiring, p.told)
			return
		}
		if p.retiring != "" || p.pending != "" || p.killed != "" {
			return
		}
		if m.cfg.Worker.Overlap && !m.shutting {
			p.pending = msg.Reason
		} else {
			p.retiring, p.retiringAt = msg.Reason, now
		}
		m.announce(p, msg.Reason, msg.Message)
	case control.Exiting:
		p.lastBeat = now
	}
}

// checkReady writes the ready file once the first workers are ready.
func (m *master) checkReady() {
	if m.readyDone {
		return
	}
	n := 0
	for _, p := range m.procs {
		if p.ready {
			n++
		}
	}
	if n < m.desired {
		return
	}
	m.readyDone = true
	m.log.Info(fmt.Sprintf("ready: %d workers serving at http://%s", n, m.addr))
	if m.cfg.ReadyFile == "" {
		return
	}
	if err := writeReadyFile(m.cfg.ReadyFile, ReadyInfo{Pid: os.Getpid(), Bind: m.addr, Admin: m.admin}); err != nil {
		// Whoever waits for the file would wait forever: stop instead.
		m.log.Error(err.Error())
		m.fatal = err
		m.shutdown("--ready-file could not be written")
	}
}

// ReadyInfo is the content of --ready-file.
type ReadyInfo struct {
	// Pid is the master's pid.
	Pid int `json:"pid"`
	// Bind is the address the workers serve, with the actual port.
	Bind string `json:"bind"`
	// Admin is the admin listener's address, or "" when it is off.
	Admin string `json:"admin"`
}

func writeReadyFile(path string, info ReadyInfo) error {
	b, _ := json.Marshal(info)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return fmt.Errorf("--ready-file: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("--ready-file %s: %w", path, err)
	}
	return nil
}

// sorted returns the workers ordered by slot then pid, for deterministic
// iteration.
func (m *master) sorted() []*proc {
	ps := make([]*proc, 0, len(m.procs))
	for _, p := range m.procs {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].slot != ps[j].slot {
			return ps[i].slot < ps[j].slot
		}
		return ps[i].pid < ps[j].pid
	})
	return ps
}

// snapshot implements snapshotter for the metrics collector.
func (m *master) snapshot() ([]workerSample, int, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	live := make([]workerSample, 0, len(m.procs))
	for _, p := range m.procs {
		live = append(live, workerSample{pid: p.pid, slot: p.slot, requests: p.requests, inflight: p.inflight})
	}
	return live, m.desired, m.retiredRequests
}

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGABRT:
		return "SIGABRT"
	}
	return s.String()
}
