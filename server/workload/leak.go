package workload

import (
	"os"
	"sync"
	"syscall"
)

// leakArena is the address space reserved at a time for leaked memory.
// Reserving costs no memory: a page becomes resident when it is written.
const leakArena = 256 << 20

// Leaker retains memory on purpose, like a cache that is never evicted or
// a C extension's leak. Every page of each allocation is written, so the
// worker's RSS really grows, by the size rounded up to whole pages.
//
// The memory comes from anonymous mappings outside the Go heap, so that
// the garbage collector neither scans it nor lets the heap's garbage grow
// in proportion to it (with GOGC=100 a heap of L live bytes may hold up to
// L of garbage): RSS grows by what is leaked, not by that plus the slack
// of a larger heap. Allocations are carved from arenas of leakArena bytes
// (one mapping each, so that a long soak does not exhaust the process's
// mappings); when mmap fails it falls back to the Go heap.
// The zero value is ready to use and safe for concurrent use.
type Leaker struct {
	mu     sync.Mutex
	arena  []byte // the unused rest of the current arena
	chunks [][]byte
	total  int64
}

// Leak allocates n bytes, touches every page and keeps a reference for the
// life of the process.
func (l *Leaker) Leak(n int64) {
	if n <= 0 {
		return
	}
	page := int64(os.Getpagesize())
	size := (n + page - 1) / page * page
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.carve(size)
	if b == nil {
		b = make([]byte, size)
	}
	b = b[:n]
	for i := 0; i < len(b); i += int(page) {
		b[i] = 1
	}
	b[len(b)-1] = 1
	l.chunks = append(l.chunks, b)
	l.total += n
}

// carve returns size bytes (a whole number of pages) of mapped memory,
// or nil when none could be mapped. l.mu is held.
func (l *Leaker) carve(size int64) []byte {
	if int64(len(l.arena)) < size {
		m, err := syscall.Mmap(-1, 0, int(max(size, leakArena)), syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
		if err != nil {
			return nil
		}
		l.arena = m
	}
	b := l.arena[:size:size]
	l.arena = l.arena[size:]
	return b
}

// Total returns the number of bytes leaked so far.
func (l *Leaker) Total() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}
