package loop

import (
	"sync"
	"time"
)

// queue is an unbounded FIFO: push never blocks, so the loop never waits
// to hand work to an executor, as with asyncio's call_soon and the
// executors' unbounded work queues.
type queue[T any] struct {
	mu     sync.Mutex
	cond   sync.Cond
	items  []T
	head   int
	closed bool
}

func newQueue[T any]() *queue[T] {
	q := &queue[T]{}
	q.cond.L = &q.mu
	return q
}

// push appends v; it reports false once the queue is closed.
func (q *queue[T]) push(v T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	q.items = append(q.items, v)
	q.cond.Signal()
	return true
}

// pop removes the oldest item, waiting for one; it reports false once the
// queue is closed (items left are dropped).
func (q *queue[T]) pop() (T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.closed && q.head == len(q.items) {
		q.cond.Wait()
	}
	return q.popLocked()
}

// isClosed reports whether close has been called.
func (q *queue[T]) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// empty reports whether nothing is queued.
func (q *queue[T]) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.head == len(q.items)
}

// takeAllLocked moves every queued item to the end of buf; it reports
// false once the queue is closed.
func (q *queue[T]) takeAllLocked(buf []T) ([]T, bool) {
	if q.closed {
		return buf, false
	}
	var zero T
	for i := q.head; i < len(q.items); i++ {
		buf = append(buf, q.items[i])
		q.items[i] = zero
	}
	q.items, q.head = q.items[:0], 0
	return buf, true
}

// popAllUntil removes every item queued, in order, appending them to
// buf, waiting for one if none is, and returns with nothing once the time
// that deadline gives has come. deadline is asked again after every kick;
// it reports false when there is no deadline, and is called with the
// queue's lock held.
func (q *queue[T]) popAllUntil(buf []T, deadline func() (time.Time, bool)) ([]T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var wake *time.Timer
	defer func() {
		if wake != nil {
			wake.Stop()
		}
	}()
	for !q.closed && q.head == len(q.items) {
		if d, ok := deadline(); ok {
			left := time.Until(d)
			if left <= 0 {
				return buf, true
			}
			if wake == nil {
				wake = time.AfterFunc(left, func() { q.kick() })
			} else {
				wake.Reset(left)
			}
		}
		q.cond.Wait()
	}
	return q.takeAllLocked(buf)
}

// takeAll is popAllUntil that does not wait: with nothing queued it
// returns buf as it was.
func (q *queue[T]) takeAll(buf []T) ([]T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.takeAllLocked(buf)
}

// kick wakes the waiters without adding an item, so that popAllUntil asks
// for its deadline again. It reports false once the queue is closed.
func (q *queue[T]) kick() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.cond.Broadcast()
	return !q.closed
}

func (q *queue[T]) popLocked() (T, bool) {
	var zero T
	if q.closed || q.head == len(q.items) {
		return zero, false
	}
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		q.items = q.items[:0]
		q.head = 0
	}
	return v, true
}

// close wakes every waiter; later pushes fail and pops report false.
func (q *queue[T]) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}
