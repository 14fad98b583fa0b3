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
	"github.com/sawtooth-dev/sawtooth/internal/units"
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
	if cfg.ReadyFile != "" {
		// Fail before serving when the file's directory cannot take it.
		f, err := os.CreateTemp(filepath.Dir(cfg.ReadyFile), ".ready-*")
		if err != nil {
			return fmt.Errorf("--ready-file %s: %w", cfg.ReadyFile, err)
		}
		f.Close()
		os.Remove(f.Name())
	}
	m := &master{cfg: cfg, log: log, exe: exe, procs: make(map[int]*proc), desired: cfg.Workers,
		events: newEventLog(eventHistory), msgs: make(chan procMsg, 64)}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	m.rng = rand.New(rand.NewPCG(seed, seed^0x5a5a_7007))
	m.metrics = newMetrics(m)

	ln, err := net.Listen("tcp", cfg.Bind)
	if err != nil {
		return fmt.Errorf("--bind %s: %w", cfg.Bind, err)
	}
	defer ln.Close()
	m.ln = ln
	if m.lnFile, err = inheritable(ln.(*net.TCPListener)); err != nil {
		return fmt.Errorf("--bind %s: %w", cfg.Bind, err)
	}
	defer m.lnFile.Close()
	m.addr = ln.Addr().String()

	var adminSrv *http.Server
	if cfg.AdminBind != "" && cfg.AdminBind != "off" {
		aln, err := net.Listen("tcp", cfg.AdminBind)
		if err != nil {
			return fmt.Errorf("--admin-bind %s: %w", cfg.AdminBind, err)
		}
		m.admin = aln.Addr().String()
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(m.metrics.reg, promhttp.HandlerOpts{}))
		mux.Handle("/events", m.events)
		mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintln(w, "sawtooth serve admin: /metrics (Prometheus), /events (JSON lines)")
		})
		adminSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go adminSrv.Serve(aln)
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

// announce emits p's retiring event once, worded like gunicorn.
func (m *master) announce(p *proc, reason control.Reason, detail string) {
	if p.announced {
		return
	}
	p.announced, p.announceAt = true, p.requests
	m.metrics.retirements.WithLabelValues(reason).Inc()
	why := detail
	switch reason {
	case control.MaxRequests:
		why = fmt.Sprintf("max_requests %d + jitter %d", m.cfg.MaxRequests, p.jitter)
	case control.MaxLifetime:
		why = fmt.Sprintf("max_lifetime %v + jitter %v", m.cfg.MaxLifetime, p.lifeJitter)
	case control.MaxRSS:
		if detail == "" {
			why = "max_rss " + units.FormatSize(m.cfg.Worker.MaxRSS)
		}
	}
	if why == "" {
		why = reason
	}
	m.emitReason(p, EventRetiring, reason, fmt.Sprintf("worker %d retiring after %d requests (%s)", p.pid, p.requests, why))
}

// retire tells p to stop accepting and drain. Unless p announced its own
// decision already, the retiring event waits for p's answer, which carries
// its request count at the moment it stopped (the master's count is only
// as recent as the last heartbeat).
func (m *master) retire(p *proc, reason control.Reason, detail string) {
	if p.retiring != "" || p.killed != "" {
		return
	}
	p.pending, p.told = "", detail
	p.retiring, p.retiringAt = reason, time.Now()
	if err := p.conn.Send(control.Message{Type: control.Retire, Reason: reason}); err != nil {
		m.log.Warn(fmt.Sprintf("worker %d: %v", p.pid, err))
		m.announce(p, reason, detail)
	}
}

// kill sends SIGKILL to p.
func (m *master) kill(p *proc, reason control.Reason, msg string) {
	if p.killed != "" {
		return
	}
	p.killed, p.killMsg = reason, msg
	p.cmd.Process.Signal(syscall.SIGKILL)
}

// killAll kills every worker left; Run defers it so no worker outlives the
// master, whatever the path out.
func (m *master) killAll() {
	for _, p := range m.procs {
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
}

// check enforces --timeout and the graceful timeouts.
func (m *master) check(now time.Time) {
	for _, p := range m.sorted() {
		if p.killed != "" {
			continue
		}
		switch {
		case m.shutting && now.After(m.deadline):
			m.kill(p, control.Shutdown, "killed: still running after the graceful timeout")
		case m.cfg.Timeout > 0 && now.Sub(p.lastBeat) > m.cfg.Timeout:
			m.log.Error(fmt.Sprintf("WORKER TIMEOUT (pid:%d): no heartbeat for %v", p.pid, now.Sub(p.lastBeat).Round(time.Millisecond)),
				"pid", p.pid, "timeout", m.cfg.Timeout)
			m.kill(p, control.Timeout, fmt.Sprintf("killed: no heartbeat for %v (timeout %v)", now.Sub(p.lastBeat).Round(time.Millisecond), m.cfg.Timeout))
		case p.retiring != "" && now.Sub(p.retiringAt) > m.gracefulTimeout()+2*time.Second:
			m.kill(p, p.retiring, "killed: still running after the graceful timeout")
		}
	}
}

// exited handles the exit of worker pid.
func (m *master) exited(pid int, st *os.ProcessState) {
	p := m.procs[pid]
	if p == nil {
		return
	}
	m.mu.Lock()
	delete(m.procs, pid)
	m.retiredRequests += p.requests
	m.mu.Unlock()
	p.conn.Close()

	if p.retiring != "" && !p.announced {
		m.announce(p, p.retiring, p.told) // it exited without answering
	}
	ws, _ := st.Sys().(syscall.WaitStatus)
	var reason control.Reason
	var detail string
	switch {
	case p.killed != "":
		reason, detail = p.killed, p.killMsg
	case ws.Signaled():
		reason, detail = control.Signal, "killed by "+signalName(ws.Signal())
	case ws.ExitStatus() != 0:
		reason, detail = control.Crash, fmt.Sprintf("exit status %d", ws.ExitStatus())
	case p.retiring != "":
		reason = p.retiring
	case p.pending != "":
		reason = p.pending // e.g. a worker sent SIGTERM directly, with --overlap
	default:
		reason, detail = control.Crash, "exited without retiring"
	}
	if !p.ready && !m.shutting {
		m.failures++
		back := backoff(m.failures)
		m.nextSpawn = time.Now().Add(back)
		m.log.Error(fmt.Sprintf("worker %d failed to boot (%d in a row); next spawn in %v", pid, m.failures, back))
	}
	if detail != "" {
		detail = ": " + detail
	}
	drained := ""
	if p.announced && p.requests > p.announceAt {
		// Requests already sent on its open connections when it stopped.
		drained = fmt.Sprintf(" (%d of them while draining)", p.requests-p.announceAt)
	}
	msg := fmt.Sprintf("worker %d exited (%s%s) after %d requests%s, rss %s, up %v", pid, reason, detail,
		p.requests, drained, units.FormatSize(p.rss), time.Since(p.spawned).Round(time.Millisecond))
	m.metrics.exits.WithLabelValues(reason).Inc()
	m.emitReason(p, EventExit, reason, msg)
}

// backoff is the delay before the next spawn after n workers in a row died
// before becoming ready: 100ms doubling up to 10s.
func backoff(n int) time.Duration {
	d := 100 * time.Millisecond
	for i := 1; i < n && d < 10*time.Second; i++ {
		d *= 2
	}
	return min(d, 10*time.Second)
}

// reconcile brings the pool to the desired shape: it retires workers above
// the desired count, advances a rolling restart, and fills empty slots.
func (m *master) reconcile() {
	if m.shutting {
		return
	}
	for _, p := range m.sorted() {
		if p.slot > m.desired {
			m.retire(p, control.ScaleDown, "scale_down (SIGTTOU)")
		}
	}
	m.advanceRestart()
	now := time.Now()
	for slot := 1; slot <= m.desired; slot++ {
		current, draining := false, false
		for _, p := range m.procs {
			if p.slot != slot {
				continue
			}
			if p.serving() {
				current = true
			} else if p.pending == "" {
				draining = true // stopped accepting or killed: replace it once it exited
			}
		}
		if current || draining || now.Before(m.nextSpawn) {
			continue
		}
		m.spawn(slot)
	}
}

// advanceRestart moves a SIGHUP rolling restart one worker on once no
// worker is waiting for its replacement.
func (m *master) advanceRestart() {
	for _, p := range m.procs {
		if p.pending == control.Restart {
			return
		}
	}
	for len(m.restartQueue) > 0 {
		pid := m.restartQueue[0]
		m.restartQueue = m.restartQueue[1:]
		if p := m.procs[pid]; p != nil && p.serving() {
			p.pending = control.Restart
			m.announce(p, control.Restart, "restart (SIGHUP)")
			return
		}
	}
}

// spawn starts a worker in slot.
func (m *master) spawn(slot int) {
	cfg := m.cfg.Worker
	cfg.Slot = slot
	cfg.Heartbeat = m.cfg.heartbeat()
	var jitter int64
	if m.cfg.MaxRequests > 0 {
		if m.cfg.MaxRequestsJitter > 0 {
			jitter = m.rng.Int64N(m.cfg.MaxRequestsJitter + 1)
		}
		cfg.MaxRequests = m.cfg.MaxRequests + jitter
	}
	var lifeJitter time.Duration
	if m.cfg.MaxLifetime > 0 {
		if m.cfg.MaxLifetimeJitter > 0 {
			lifeJitter = time.Duration(m.rng.Int64N(int64(m.cfg.MaxLifetimeJitter) + 1))
		}
		cfg.MaxLifetime = m.cfg.MaxLifetime + lifeJitter
	}
	sp, err := spawnWorker(m.exe, m.lnFile, cfg)
	if err != nil {
		m.failures++
		m.nextSpawn = time.Now().Add(backoff(m.failures))
		m.log.Error(fmt.Sprintf("spawn worker in slot %d: %v", slot, err))
		return
	}
	now := time.Now()
	p := &proc{pid: sp.cmd.Process.Pid, slot: slot, cmd: sp.cmd, conn: sp.conn, spawned: now, lastBeat: now,
		limit: cfg.MaxRequests, jitter: jitter, lifeJitter: lifeJitter}
	m.mu.Lock()
	m.procs[p.pid] = p
	m.mu.Unlock()
	m.metrics.spawns.Inc()

	read := make(chan struct{})
	go func() {
		defer close(read)
		for {
			msg, err := sp.conn.Receive()
			if err != nil {
				return
			}
			m.msgs <- procMsg{pid: p.pid, msg: msg}
		}
	}()
	go func() {
		sp.cmd.Wait()
		// Queue the exit behind the worker's last messages, so the exit
		// gets the reason the worker gave.
		select {
		case <-read:
		case <-time.After(time.Second):
		}
		m.msgs <- procMsg{pid: p.pid, exit: sp.cmd.ProcessState}
	}()

	var limits string
	if cfg.MaxRequests > 0 {
		limits += fmt.Sprintf(", max_requests %d + jitter %d", m.cfg.MaxRequests, jitter)
	}
	if cfg.MaxLifetime > 0 {
		limits += fmt.Sprintf(", max_lifetime %v + jitter %v", m.cfg.MaxLifetime, lifeJitter)
	}
	m.emit(p, EventSpawn, fmt.Sprintf("booting worker with pid %d (slot %d%s)", p.pid, slot, limits))
}

// emit logs and publishes an event without a reason.
func (m *master) emit(p *proc, event, msg string) { m.emitReason(p, event, "", msg) }

// emitReason logs and publishes an event.
func (m *master) emitReason(p *proc, event string, reason control.Reason, msg string) {
	m.mu.Lock()
	e := Event{Time: time.Now(), Pid: p.pid, Event: event, Reason: reason, Requests: p.requests,
		RSS: p.rss, Limit: p.limit, Message: msg}
	m.mu.Unlock()
	level := slog.LevelInfo
	if event == EventExit && (reason == control.Crash || reason == control.Signal || reason == control.Timeout) {
		level = slog.LevelWarn
	}
	attrs := []any{"event", event, "pid", p.pid, "slot", p.slot}
	if reason != "" {
		attrs = append(attrs, "reason", reason, "requests", p.requests)
	}
	m.log.Log(context.Background(), level, msg, attrs...)
	m.events.publish(e)
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
