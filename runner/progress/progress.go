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
func (s Status) Line() string { return s.Fit(0) }

// Fit formats s on one line of fewer than width columns, so that it never
// wraps on a terminal that wide (a wrapped line is not cleared by the
// next update, which then leaves a stale row). It drops the least useful
// fields first (pss, the request count, restarts, the phase), then
// shortens the variant's name, and as a last resort cuts the line.
// width ≤ 0 means no limit.
func (s Status) Fit(width int) string {
	name := fmt.Sprintf("%s #%d", s.Variant, s.Repeat)
	fields := []struct {
		text string
		drop int // order in which fields go, 0 never
	}{
		{"", 0}, // the name, filled in below
		{s.Phase, 4},
		{fmt.Sprintf("%s/%s", s.Elapsed.Truncate(time.Second), s.Total.Truncate(time.Second)), 0},
		{fmt.Sprintf("%.0f req/s", s.Rate), 0},
		{fmt.Sprintf("%d req", s.Requests), 2},
		{fmt.Sprintf("%d err", s.Errors), 0},
		{"p99 " + fmtDur(s.P99), 0},
		{"", 1},
		{fmt.Sprintf("restarts %d", s.Restarts), 3},
	}
	if s.PSS > 0 {
		fields[7].text = fmt.Sprintf("pss %.1fMiB", float64(s.PSS)/(1<<20))
	}
	join := func(name string, dropped int) string {
		parts := []string{name}
		for _, f := range fields[1:] {
			if f.text != "" && (f.drop == 0 || f.drop > dropped) {
				parts = append(parts, f.text)
			}
		}
		return strings.Join(parts, " ")
	}
	if width <= 0 {
		return join(name, 0)
	}
	limit := width - 1
	for dropped := 0; dropped <= 4; dropped++ {
		if line := join(name, dropped); runeLen(line) <= limit {
			return line
		}
	}
	rep := fmt.Sprintf(" #%d", s.Repeat)
	rest := runeLen(join("", 4)) + len(rep) // the kept fields, after a space
	if keep := limit - rest; keep >= 4 {
		return join(cut(s.Variant, keep)+rep, 4)
	}
	return cut(join(name, 4), limit)
}

func runeLen(s string) int { return len([]rune(s)) }

// cut shortens s to n runes, ending it with "…" when it was longer.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[:max(n, 0)])
	}
	return string(r[:n-1]) + "…"
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
	width func() int // the terminal's columns now, 0 if unknown

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
	return start(w, live, plainEvery, src, termWidth(w))
}

// termWidth returns a function giving w's width in columns when w is a
// terminal (asked at each call, as the terminal may be resized), else 0.
func termWidth(w io.Writer) func() int {
	f, ok := w.(*os.File)
	return func() int {
		if !ok {
			return 0
		}
		cols, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return cols
	}
}

func start(w io.Writer, live bool, plainEvery time.Duration, src func() Status, width func() int) *Printer {
	p := &Printer{w: w, live: live, every: plainEvery, src: src, width: width,
		stop: make(chan struct{}), done: make(chan struct{})}
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
		fmt.Fprintf(p.w, "\r\033[K%s", s.Fit(p.width()))
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

// Stop stops printing and prints the final status on its own line, whose
// rate is over the whole run (requests over elapsed time), not over the
// moment since the last line.
func (p *Printer) Stop() {
	close(p.stop)
	<-p.done
	s := p.src()
	if s.Phase == Draining {
		s.Phase = "done"
	}
	if s.Elapsed > 0 {
		s.Rate = float64(s.Requests) / s.Elapsed.Seconds()
	}
	p.print(s, true)
}
