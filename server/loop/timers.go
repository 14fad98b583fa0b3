package loop

import (
	"slices"
	"time"
)

// pollResolution is epoll_wait's timeout resolution. asyncio's selector loop
// rounds the timeout of every poll that waits for a timer up to it
// (selectors.EpollSelector.select rounds away from zero, CPython 3.11), so
// a timer on an otherwise idle loop fires up to 1ms late: the mean loop lag
// of real uvicorn with nothing else to do is about half of it.
const pollResolution = time.Millisecond

// timer is a callback due at a time, like an asyncio TimerHandle.
type timer struct {
	when time.Time
	f    func()
}

// CallAt schedules f to run on the loop once when has come, as
// loop.call_at does: in the first iteration whose poll returns at or after
// when, after that iteration's other callbacks. While the loop has nothing
// else to do, it blocks in a poll whose timeout is rounded up to a whole
// pollResolution from when it began, as asyncio's selector loop does, so f
// may run up to that much late. It is safe to call from any goroutine and
// reports false if the loop has been stopped.
func (l *Loop) CallAt(when time.Time, f func()) bool {
	l.tmu.Lock()
	i, _ := slices.BinarySearchFunc(l.timers, when, func(t timer, w time.Time) int { return t.when.Compare(w) })
	l.timers = slices.Insert(l.timers, i, timer{when, f})
	l.tmu.Unlock()
	return l.q.kick() // a blocked poll recomputes its timeout
}

// pollDeadline returns when a poll that began at polled returns for want of
// events: the earliest timer's time, rounded up to whole pollResolutions
// after polled. It reports false when no timer is pending (the poll waits
// for events alone).
func (l *Loop) pollDeadline(polled time.Time) (time.Time, bool) {
	l.tmu.Lock()
	defer l.tmu.Unlock()
	if len(l.timers) == 0 {
		return time.Time{}, false
	}
	timeout := l.timers[0].when.Sub(polled)
	if timeout <= 0 {
		return l.timers[0].when, true
	}
	n := (timeout + pollResolution - 1) / pollResolution
	return polled.Add(n * pollResolution), true
}

// timerDue reports whether a timer is due at now.
func (l *Loop) timerDue(now time.Time) bool {
	l.tmu.Lock()
	defer l.tmu.Unlock()
	return len(l.timers) > 0 && !l.timers[0].when.After(now)
}

// appendDue appends the callbacks of the timers due at now to ready, in the
// order of their times, and forgets those timers.
func (l *Loop) appendDue(ready []func(), now time.Time) []func() {
	l.tmu.Lock()
	defer l.tmu.Unlock()
	n := 0
	for n < len(l.timers) && !l.timers[n].when.After(now) {
		ready = append(ready, l.timers[n].f)
		l.timers[n] = timer{}
		n++
	}
	l.timers = l.timers[n:]
	return ready
}
