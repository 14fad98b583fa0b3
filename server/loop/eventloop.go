package loop

import (
	"bytes"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
)

// Loop is an asyncio-like event loop: callbacks posted to it run one at a
// time, in order, on the single goroutine that calls Run. A callback that
// burns CPU or blocks therefore delays every other callback.
//
// The loop holds its GIL while it runs callbacks and releases it while it is
// idle, as a CPython event loop does around its select/epoll call. Between
// two callbacks it honours drop requests (GIL.Yield).
type Loop struct {
	gil  *GIL
	log  *slog.Logger
	q    *queue[func()]
	done chan struct{}
	gid  atomic.Uint64
}

// NewLoop returns a loop that runs its callbacks under gil (nil for none) and
// logs callbacks that panic to log (nil for slog.Default()).
func NewLoop(gil *GIL, log *slog.Logger) *Loop {
	if log == nil {
		log = slog.Default()
	}
	return &Loop{gil: gil, log: log, q: newQueue[func()](), done: make(chan struct{})}
}

// Post schedules f to run on the loop after the callbacks already posted,
// like loop.call_soon_threadsafe. It is safe to call from any goroutine and
// never blocks; it reports false if the loop has been stopped.
func (l *Loop) Post(f func()) bool { return l.q.push(f) }

// Run runs callbacks until Stop is called. Call it once, on the goroutine
// that is to be the loop.
func (l *Loop) Run() {
	l.gid.Store(goroutineID())
	defer close(l.done)
	held := false
	defer func() {
		if held {
			l.gil.Release()
		}
	}()
	for {
		f, ok := l.q.tryPop()
		if !ok {
			if held {
				l.gil.Release()
				held = false
			}
			if f, ok = l.q.pop(); !ok {
				return
			}
		}
		if held {
			l.gil.Yield()
		} else {
			l.gil.Acquire()
			held = true
		}
		l.call(f)
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
