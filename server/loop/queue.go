package loop

import "sync"

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

// empty reports whether nothing is queued.
func (q *queue[T]) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.head == len(q.items)
}

// popAll removes every item queued, in order, appending them to buf[:0],
// waiting for one if none is. It reports false once the queue is closed
// (items left are dropped).
func (q *queue[T]) popAll(buf []T) ([]T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.closed && q.head == len(q.items) {
		q.cond.Wait()
	}
	buf = buf[:0]
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
