package loop

import (
	"bytes"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Loop is an asyncio-like event loop: callbacks posted to it run one at a
// time, in order, on the single goroutine that calls Run. A callback that
// burns CPU or blocks therefore delays every other callback.
//
// Run works in iterations, as BaseEventLoop._run_once does: each begins with
// a poll (epoll_wait, which returns at once when callbacks are ready and
// blocks otherwise) and then runs the callbacks that were ready when it
// returned; callbacks they schedule run in the next iteration. The loop
// holds its GIL while it runs callbacks and releases it around every poll,
// as a CPython loop does around epoll_wait, so under a CPU-bound thread each
// iteration costs it a forced switch (cpython.go). Between two callbacks it
// honours drop requests (GIL.Yield).
type Loop struct {
	gil   *GIL
	log   *slog.Logger
	q     *queue[func()]
	done  chan struct{}
	gid   atomic.Uint64
	wakes atomic.Bool // the self-pipe has bytes to read (Wake)
	soon  []func()    // for the next iteration (Soon); the loop goroutine's own

	tmu    sync.Mutex
	timers []timer // by time (CallAt)
}

// NewLoop returns a loop that runs its callbacks under gil (nil for none) and
// logs callbacks that panic to log (nil for slog.Default()).
func NewLoop(gil *GIL, log *slog.Logger) *Loop {
	if log == nil {
		log = slog.Default()
	}
	return &Loop{gil: gil, log: log, q: newQueue[func()](), done: make(chan struct{})}
}

// Post schedules f to run on the loop after the callbacks already posted.
// It is safe to call from any goroutine and never blocks; it reports false
// if the loop has been stopped. It stands for an event the loop's poll
// reports, such as a socket that became readable (timers: CallAt).
func (l *Loop) Post(f func()) bool { return l.q.push(f) }

// Soon schedules f, from a callback running on the loop, to run in the
// loop's next iteration, like loop.call_soon: before the events that
// iteration's poll reports, since asyncio appends those to its ready queue
// after the callbacks already in it. So work in progress (a task resuming,
// the heartbeat waking) goes ahead of requests that arrived meanwhile. It
// must be called on the loop goroutine; it reports false if the loop has
// been stopped.
func (l *Loop) Soon(f func()) bool {
	if l.q.isClosed() {
		return false
	}
	l.soon = append(l.soon, f)
	return true
}

// Wake schedules f from another goroutine the way an executor's result
// reaches the asyncio task awaiting it: call_soon_threadsafe writes a byte
// to the loop's self-pipe, the loop's next iteration reads the pipe
// (selfPipeRecvs blocking calls) and sets the task's future, and the task,
// f, runs in the iteration after that. It reports false if the loop has been
// stopped.
func (l *Loop) Wake(f func()) bool {
	l.wakes.Store(true)
	return l.q.push(func() { l.Soon(f) })
}

// Run runs callbacks until Stop is called. Call it once, on the goroutine
// that is to be the loop.
func (l *Loop) Run() {
	l.gid.Store(goroutineID())
	defer close(l.done)
	l.gil.Acquire()
	defer l.gil.Release()
	var ready []func()
	for {
		ok := true
		// An iteration runs what the last one scheduled (Soon) first,
		// then the events its poll returns, then the timers due, as
		// BaseEventLoop._run_once does.
		ready = append(ready[:0], l.soon...)
		clear(l.soon)
		l.soon = l.soon[:0]
		// epoll_wait: it returns at once when callbacks are ready, and
		// the GIL is free while it blocks.
		// With a timer pending, a poll that blocks times out at it,
		// rounded up to pollResolution (timers.go).
		if polled := time.Now(); len(ready) == 0 && l.q.empty() && !l.timerDue(polled) {
			deadline := func() (time.Time, bool) { return l.pollDeadline(polled) }
			l.gil.Blocking(func() { ready, ok = l.q.popAllUntil(ready, deadline) })
		} else {
			l.gil.Syscall(PollCall)
			ready, ok = l.q.takeAll(ready)
		}
		if !ok {
			return
		}
		ready = l.appendDue(ready, time.Now())
		if l.wakes.Swap(false) {
			ioCalls(l.gil, RecvCall, selfPipeRecvs)
		}
		for i, f := range ready {
			if i > 0 {
				l.gil.Yield()
			}
			l.call(f)
			ready[i] = nil
		}
	}
}

func (l *Loop) call(f func()) {
	defer func() {
		if v := recover(); v != nil {
			l.log.Error("event loop callback panicked", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	f()
}

// Stop makes Run return after the callback in progress; callbacks still
// queued are dropped and later Posts fail.
func (l *Loop) Stop() { l.q.close() }

// Done is closed when Run has returned.
func (l *Loop) Done() <-chan struct{} { return l.done }

// goroutineID returns the id of the calling goroutine as runtime.Stack
// prints it ("goroutine 18 [running]:"). It is used only to pick the loop's
// and the offload threads' stacks out of a full dump.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
