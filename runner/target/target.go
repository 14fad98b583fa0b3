// Package target starts and stops the server a run drives: a child process
// in its own process group, whose output is copied to a log and matched
// against event patterns, which is polled until ready, and which is
// stopped with a signal, a grace period and SIGKILL to the whole group,
// after which no process of its tree may survive.
package target

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Pattern turns matching lines of the target's output into events.
type Pattern struct {
	Re     *regexp.Regexp
	Event  string
	Reason string // used when Re has no "reason" group
}

// LogEvent is a line of output that matched a Pattern.
type LogEvent struct {
	Time     time.Time
	Event    string
	PID      int
	Reason   string
	Requests int64
	Line     string
}

// Spec describes a target process.
type Spec struct {
	Argv []string
	// Env is added to the harness's environment ("KEY=value").
	Env []string
	Dir string
	// ReadyURL is polled until it answers 2xx, for at most ReadyTimeout.
	ReadyURL     string
	ReadyTimeout time.Duration
	// StopSignal is sent to the process group to stop the target;
	// after Grace the group gets SIGKILL.
	StopSignal syscall.Signal
	Grace      time.Duration
	Patterns   []Pattern
	// Log receives the target's stdout and stderr (may be nil).
	Log io.Writer
	// OnEvent is called, from one goroutine, for each matching line.
	OnEvent func(LogEvent)
}

// tailLines is how many lines of output an error about the target shows.
const tailLines = 20

// ErrAddressInUse is wrapped by the error of WaitReady when the target
// failed and the last lines of its output say that an address it was to
// listen on was taken: the free port it was given went to another process
// first, and the caller may start it again on another port.
var ErrAddressInUse = errors.New("address already in use")

// addressInUse matches how servers report EADDRINUSE: Go and CPython
// ("address already in use", any case), gunicorn ("Connection in use").
var addressInUse = regexp.MustCompile(`(?i)address already in use|connection in use|EADDRINUSE`)

// Process is a running target.
type Process struct {
	spec Spec
	cmd  *exec.Cmd
	pgid int

	exited  chan struct{} // closed when the root process has exited
	waitErr error
	logDone chan struct{} // closed when the output has been read to EOF
	pipe    *os.File

	mu   sync.Mutex
	tail []string
}

// Start starts the target.
func Start(spec Spec) (*Process, error) {
	if len(spec.Argv) == 0 {
		return nil, errors.New("target: empty command")
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.Dir = spec.Dir
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("start target %s: %w", strings.Join(spec.Argv, " "), err)
	}
	w.Close()
	p := &Process{spec: spec, cmd: cmd, pgid: cmd.Process.Pid, exited: make(chan struct{}), logDone: make(chan struct{}), pipe: r}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	go p.readLog(r)
	return p, nil
}

// PID returns the pid of the root process (also its process group id).
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited is closed when the root process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitError returns how the root process exited (nil while it runs).
func (p *Process) ExitError() error {
	select {
	case <-p.exited:
		if p.waitErr == nil {
			return errors.New("exit status 0")
		}
		return p.waitErr
	default:
		return nil
	}
}

func (p *Process) readLog(r *os.File) {
	defer close(p.logDone)
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if p.spec.Log != nil {
				p.spec.Log.Write(line)
			}
			text := strings.TrimRight(string(line), "\r\n")
			p.remember(text)
			p.match(text)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

func (p *Process) remember(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tail) == tailLines {
		copy(p.tail, p.tail[1:])
		p.tail = p.tail[:tailLines-1]
	}
	p.tail = append(p.tail, line)
}

// Tail returns the last lines of the target's output.
func (p *Process) Tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

func (p *Process) match(line string) {
	if p.spec.OnEvent == nil {
		return
	}
	for _, pat := range p.spec.Patterns {
		m := pat.Re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ev := LogEvent{Time: time.Now(), Event: pat.Event, Reason: pat.Reason, Line: line}
		for i, name := range pat.Re.SubexpNames() {
			switch name {
			case "pid":
				ev.PID, _ = strconv.Atoi(m[i])
			case "reason":
				if m[i] != "" {
					ev.Reason = m[i]
				}
			case "requests":
				ev.Requests, _ = strconv.ParseInt(m[i], 10, 64)
			}
		}
		p.spec.OnEvent(ev)
	}
}

// failure wraps err with the tail of the target's output, and with
// ErrAddressInUse when the tail reports it.
func (p *Process) failure(err error) error {
	// Give the log reader a moment to catch the last lines.
	select {
	case <-p.logDone:
	case <-time.After(200 * time.Millisecond):
	}
	tail := p.Tail()
	if addressInUse.MatchString(tail) {
		err = fmt.Errorf("%w: %w", err, ErrAddressInUse)
	}
	if tail == "" {
		tail = "(no output)"
	}
	return fmt.Errorf("%w\nlast lines of the target's output:\n%s", err, indent(tail))
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// WaitReady polls the ready URL until it answers 2xx. It fails at once
// when the target exits, and after the ready timeout; either error
// carries the last lines of the target's output.
func (p *Process) WaitReady(ctx context.Context) error {
	timeout := p.spec.ReadyTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	var last error = errors.New("no answer yet")
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := ready(ctx, client, p.spec.ReadyURL); err == nil {
			return nil
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.exited:
			return p.failure(fmt.Errorf("target %s exited before it was ready (%v)", p.spec.Argv[0], p.ExitError()))
		case <-deadline.C:
			return p.failure(fmt.Errorf("target %s not ready after %v: %s: %v", p.spec.Argv[0], timeout, p.spec.ReadyURL, last))
		case <-tick.C:
		}
	}
}

func ready(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// Stop stops the target as systemd's KillMode=mixed does: StopSignal to
// the root process only, so a pre-fork master such as gunicorn or sawtooth
// serve shuts its workers down itself (and they exit with reason
// shutdown, not signal); up to Grace for the root to exit; then SIGKILL to
// the process group and to every pid that others returns (processes of the
// tree that left the group). It returns an error naming any process that
// survives.
func (p *Process) Stop(others func() []int) error {
	sig := p.spec.StopSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	grace := p.spec.Grace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	syscall.Kill(p.PID(), sig)
	t := time.NewTimer(grace)
	select {
	case <-p.exited:
	case <-t.C:
	}
	t.Stop()
	return p.Kill(others)
}

// Kill sends SIGKILL to the process group and to every pid others
// returns, and waits up to 5 s until none of them is left.
func (p *Process) Kill(others func() []int) error {
	survivors := func() []int {
		var pids []int
		if others != nil {
			pids = others()
		}
		return append(pids, groupMembers(p.pgid)...)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		syscall.Kill(-p.pgid, syscall.SIGKILL)
		left := survivors()
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		select {
		case <-p.exited:
			if len(left) == 0 {
				p.closeLog()
				return nil
			}
		default:
		}
		if time.Now().After(deadline) {
			p.closeLog()
			return fmt.Errorf("target %s: processes survived SIGKILL: %v", p.spec.Argv[0], left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// closeLog waits briefly for the output to reach EOF, then stops reading
// (a process that escaped the tree may hold the pipe open).
func (p *Process) closeLog() {
	select {
	case <-p.logDone:
	case <-time.After(time.Second):
		p.pipe.SetReadDeadline(time.Now())
		<-p.logDone
	}
	p.pipe.Close()
}
