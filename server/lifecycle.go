package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/sawtooth-dev/sawtooth/internal/units"
	"github.com/sawtooth-dev/sawtooth/server/control"
	"github.com/sawtooth-dev/sawtooth/server/worker"
)

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
	cfg, jitter, lifeJitter := m.workerConfig(slot)
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
	m.watch(p, sp)

	var limits string
	if cfg.MaxRequests > 0 {
		limits += fmt.Sprintf(", max_requests %d + jitter %d", m.cfg.MaxRequests, jitter)
	}
	if cfg.MaxLifetime > 0 {
		limits += fmt.Sprintf(", max_lifetime %v + jitter %v", m.cfg.MaxLifetime, lifeJitter)
	}
	m.emit(p, EventSpawn, fmt.Sprintf("booting worker with pid %d (slot %d%s)", p.pid, slot, limits))
}

// workerConfig returns the config of a new worker in slot, with its
// request and lifetime limits' jitter drawn, and the jitter drawn.
func (m *master) workerConfig(slot int) (cfg worker.Config, jitter int64, lifeJitter time.Duration) {
	cfg = m.cfg.Worker
	cfg.Slot = slot
	cfg.Heartbeat = m.cfg.heartbeat()
	if m.cfg.MaxRequests > 0 {
		if m.cfg.MaxRequestsJitter > 0 {
			jitter = m.rng.Int64N(m.cfg.MaxRequestsJitter + 1)
		}
		cfg.MaxRequests = m.cfg.MaxRequests + jitter
	}
	if m.cfg.MaxLifetime > 0 {
		if m.cfg.MaxLifetimeJitter > 0 {
			lifeJitter = time.Duration(m.rng.Int64N(int64(m.cfg.MaxLifetimeJitter) + 1))
		}
		cfg.MaxLifetime = m.cfg.MaxLifetime + lifeJitter
	}
	return cfg, jitter, lifeJitter
}

// watch forwards the messages of the spawned worker p to m.msgs and,
// after them, its exit.
func (m *master) watch(p *proc, sp *spawned) {
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
