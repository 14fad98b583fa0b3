package loop

import (
	"testing"
	"time"
)

// A poll that waits for a timer times out at the timer, rounded up to whole
// milliseconds from when the poll began, as asyncio's EpollSelector does.
func TestPollDeadlineRoundsUpToPollResolution(t *testing.T) {
	l := NewLoop(nil, nil)
	polled := time.Unix(1000, 0)
	if _, ok := l.pollDeadline(polled); ok {
		t.Fatal("a deadline with no timer pending")
	}
	for _, c := range []struct{ timeout, want time.Duration }{
		{10 * time.Millisecond, 10 * time.Millisecond},
		{9*time.Millisecond + 1, 10 * time.Millisecond},
		{200 * time.Microsecond, time.Millisecond},
		{0, 0},
		{-time.Millisecond, -time.Millisecond}, // already due: no rounding
	} {
		l.timers = []timer{{when: polled.Add(c.timeout)}}
		got, ok := l.pollDeadline(polled)
		if !ok || got.Sub(polled) != c.want {
			t.Errorf("timer %v after the poll: deadline %v after it (ok %v), want %v", c.timeout, got.Sub(polled), ok, c.want)
		}
	}
}

// Timers run in the order of their times, after the callbacks of the
// iteration in which they fall due, and never before their time.
func TestCallAtOrderAndTime(t *testing.T) {
	l := NewLoop(nil, nil)
	go l.Run()
	defer l.Stop()
	got := make(chan string, 4)
	at := make(chan time.Time, 4)
	start := time.Now()
	l.CallAt(start.Add(30*time.Millisecond), func() { at <- time.Now(); got <- "late" })
	l.CallAt(start.Add(10*time.Millisecond), func() { at <- time.Now(); got <- "early" })
	for i, want := range []string{"early", "late"} {
		select {
		case g := <-got:
			ran := (<-at).Sub(start)
			due := []time.Duration{10 * time.Millisecond, 30 * time.Millisecond}[i]
			if g != want {
				t.Errorf("timer %d: %s ran, want %s", i, g, want)
			}
			if ran < due {
				t.Errorf("timer %s ran %v after the start, before its time %v", g, ran, due)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("timers did not run")
		}
	}

	// A timer due while the loop is busy runs after that iteration's
	// callbacks.
	order := make(chan string, 3)
	release := make(chan struct{})
	l.Post(func() {
		l.CallAt(time.Now(), func() { order <- "timer" })
		<-release
		order <- "first"
	})
	l.Post(func() { order <- "second" })
	close(release)
	for _, want := range []string{"first", "second", "timer"} {
		select {
		case g := <-order:
			if g != want {
				t.Fatalf("ran %s, want %s (timer after the ready callbacks)", g, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("callbacks did not run")
		}
	}
	if l.Stop(); l.CallAt(time.Now(), func() {}) {
		t.Error("CallAt on a stopped loop reported true")
	}
}

// What an iteration scheduled (Soon) runs in the next one before the events
// that arrived meanwhile (Post), as in asyncio's _run_once: a request that
// arrives while a task is running does not go ahead of the task's next step.
func TestSoonRunsBeforeNewEvents(t *testing.T) {
	l := NewLoop(nil, nil)
	go l.Run()
	defer l.Stop()
	order := make(chan string, 3)
	l.Post(func() {
		l.Post(func() { order <- "arrived" }) // an event of the next poll
		l.Soon(func() { order <- "next step" })
		order <- "step"
	})
	for _, want := range []string{"step", "next step", "arrived"} {
		select {
		case got := <-order:
			if got != want {
				t.Fatalf("ran %q, want %q (Soon before the poll's events)", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("callbacks did not run")
		}
	}
}
