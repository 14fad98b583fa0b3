package workload

import (
	"os"
	"sync"
)

// Leaker retains memory on purpose, like a cache that is never evicted.
// Every page of each allocation is written, so the worker's RSS really grows.
// The zero value is ready to use and safe for concurrent use.
type Leaker struct {
	mu     sync.Mutex
	chunks [][]byte
	total  int64
}

// Leak allocates n bytes, touches every page and keeps a reference for the
// life of the process.
func (l *Leaker) Leak(n int64) {
	if n <= 0 {
		return
	}
	b := make([]byte, n)
	page := os.Getpagesize()
	for i := 0; i < len(b); i += page {
		b[i] = 1
	}
	b[len(b)-1] = 1
	l.mu.Lock()
	l.chunks = append(l.chunks, b)
	l.total += n
	l.mu.Unlock()
}

// Total returns the number of bytes leaked so far.
func (l *Leaker) Total() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}
