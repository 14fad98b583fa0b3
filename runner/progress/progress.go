// Package progress shows how a run is going: on a terminal a status line
// rewritten in place every second, elsewhere (or in CI) a plain line
// every few seconds.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Status is a snapshot of one run.
type Status struct {
	Variant  string
	Repeat   int
	Phase    string
	Elapsed  time.Duration
	Total    time.Duration
	Rate     float64 // completed requests per second, recently
	Requests int64
	Errors   int64
	P99      time.Duration // over the run so far
	PSS      int64         // total PSS of the target's tree, bytes
	Restarts int           // worker exits seen
}

// Line formats s on one line.
func (s Status) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s #%d %s %s/%s %.0f req/s %d req %d err p99 %s",
		s.Variant, s.Repeat, s.Phase, s.Elapsed.Truncate(time.Second), s.Total.Truncate(time.Second),
		s.Rate, s.Requests, s.Errors, fmtDur(s.P99))
	if s.PSS > 0 {
		fmt.Fprintf(&b, " pss %.1fMiB", float64(s.PSS)/(1<<20))
	}
	fmt.Fprintf(&b, " restarts %d", s.Restarts)
	return b.String()
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
}

// Printer prints Status lines from a source until stopped.
type Printer struct {
	w     io.Writer
	live  bool
	every time.Duration
	src   func() Status

	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
}

// Live reports whether w is a terminal and plain is false: live status
// lines then replace each other.
func Live(w io.Writer, plain bool) bool {
	f, ok := w.(*os.File)
	return ok && !plain && term.IsTerminal(int(f.Fd()))
}

// Start prints src's status to w: every second rewriting one line when
// live, otherwise a plain line every plainEvery.
func Start(w io.Writer, live bool, plainEvery time.Duration, src func() Status) *Printer {
	p := &Printer{w: w, live: live, every: plainEvery, src: src, stop: make(chan struct{}), done: make(chan struct{})}
	if live {
		p.every = time.Second
	}
	go p.loop()
	return p
}

func (p *Printer) loop() {
	defer close(p.done)
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.print(p.src(), false)
		}
	}
}

func (p *Printer) print(s Status, final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live {
		fmt.Fprintf(p.w, "\r\033[K%s", s.Line())
		if final {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, s.Line())
}

// Draining is the phase of a run whose phases are over while answers to
// the last requests still arrive; its final status line says "done".
const Draining = "draining"

// Stop stops printing and prints the final status on its own line.
func (p *Printer) Stop() {
	close(p.stop)
	<-p.done
	s := p.src()
	if s.Phase == Draining {
		s.Phase = "done"
	}
	p.print(s, true)
}
