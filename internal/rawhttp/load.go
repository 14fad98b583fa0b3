package rawhttp

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Stats summarises the results of a load. It is safe for concurrent use.
type Stats struct {
	mu       sync.Mutex
	requests int
	failed   int
	closes   int
	errs     map[string]int
	first    string
	maxHdr   map[int64]int64
	pidHdr   string
	countHdr string
}

// NewStats returns Stats that also keep, per value of the response header
// pidHeader, the highest value of countHeader (e.g. X-Worker-Pid and
// X-Worker-Requests); empty names keep nothing.
func NewStats(pidHeader, countHeader string) *Stats {
	return &Stats{errs: map[string]int{}, maxHdr: map[int64]int64{}, pidHdr: pidHeader, countHdr: countHeader}
}

// Add counts r.
func (s *Stats) Add(r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if r.Close {
		s.closes++
	}
	if !r.OK() {
		s.failed++
		what := fmt.Sprintf("status %d", r.Status)
		if r.Err != nil {
			what = r.Err.Error()
		}
		s.errs[kind(what)]++
		if s.first == "" {
			s.first = fmt.Sprintf("%s (reused %v, idle %v) at %s", what, r.Reused, r.Idle.Round(time.Millisecond), time.Now().Format("15:04:05.000"))
		}
		return
	}
	if s.pidHdr != "" {
		pid := r.Int(s.pidHdr)
		s.maxHdr[pid] = max(s.maxHdr[pid], r.Int(s.countHdr))
	}
}

// kind strips the addresses from an error message so that errors of one
// kind count together.
func kind(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "127.0.0.1") {
		return msg[:strings.Index(msg, ":")] + ": " + msg[i+2:]
	}
	return msg
}

// Requests returns the number of requests sent.
func (s *Stats) Requests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests }

// Failed returns the number of requests without a 200 response.
func (s *Stats) Failed() int { s.mu.Lock(); defer s.mu.Unlock(); return s.failed }

// Closes returns the number of responses that carried "Connection: close".
func (s *Stats) Closes() int { s.mu.Lock(); defer s.mu.Unlock(); return s.closes }

// Max returns, per pid header value, the highest count header value seen.
func (s *Stats) Max() map[int64]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[int64]int64, len(s.maxHdr))
	for k, v := range s.maxHdr {
		m[k] = v
	}
	return m
}

// String summarises the failures: their count, the first, and a count
// per kind.
func (s *Stats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == 0 {
		return fmt.Sprintf("%d requests, 0 failed", s.requests)
	}
	kinds := make([]string, 0, len(s.errs))
	for k, n := range s.errs {
		kinds = append(kinds, fmt.Sprintf("%d× %s", n, k))
	}
	sort.Strings(kinds)
	return fmt.Sprintf("%d requests, %d failed; first: %s; %s", s.requests, s.failed, s.first, strings.Join(kinds, "; "))
}

// Closed is a closed-model load: conns connections to addr, each sending
// GET path back to back (the next request as soon as the response is in)
// until ctx is done. Every result goes to s.
func Closed(ctx context.Context, s *Stats, addr, path string, conns int) {
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &Conn{Addr: addr}
			defer c.Close()
			for ctx.Err() == nil {
				s.Add(c.Get(path, nil))
			}
		}()
	}
	wg.Wait()
}

// Paced is an open-model load: GET path is sent to addr at rate requests
// per second for d, whether or not earlier ones were answered. A request
// goes on an idle open connection if there is one, else on a new one (at
// most maxConns at once; past that the request waits for one, and its
// lateness shows as latency, not as a failure). Every result goes to s.
func Paced(ctx context.Context, s *Stats, addr, path string, rate int, d time.Duration, maxConns int) {
	idle := make(chan *Conn, maxConns)
	tokens := make(chan struct{}, maxConns)
	var wg sync.WaitGroup
	start := time.Now()
	n := int(d.Seconds() * float64(rate))
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		if wait := time.Until(at); wait > 0 {
			select {
			case <-ctx.Done():
				n = i
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		var c *Conn
		select {
		case c = <-idle:
		default:
			select {
			case tokens <- struct{}{}:
				c = &Conn{Addr: addr}
			case c = <-idle:
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Add(c.Get(path, http.Header{}))
			if c.Open() {
				idle <- c
				return
			}
			<-tokens
		}()
	}
	wg.Wait()
	close(idle)
	for c := range idle {
		c.Close()
	}
}
