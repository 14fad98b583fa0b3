// Package workload implements the work behind the recycling server's routes:
// burning CPU, blocking without CPU, validating a generated JSON document with
// regular expressions, and leaking memory that is retained and touched.
//
// A request's query string selects the work (see Parse); a Job then runs it.
// CPU-bound work calls a Yield function between small slices of work, so an
// event-loop worker can model a GIL-like lock that is released and taken
// again every switch interval, as CPython does.
package workload

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
)

// Response and request headers shared by every worker model.
const (
	// HeaderPid carries the pid of the worker that served the request.
	HeaderPid = metric.HeaderWorkerPid
	// HeaderRequests carries the number of requests the worker has served,
	// this one included.
	HeaderRequests = metric.HeaderWorkerRequests
	// HeaderRequestID is the client's request id, echoed as received.
	HeaderRequestID = "X-Request-Id"
	// HeaderWorkRequestID carries the request id as seen where the work ran
	// (on the loop, in an offload thread or in an offload process). It is
	// empty when the id was lost on the way, which is the contextvars bug.
	HeaderWorkRequestID = "X-Work-Request-Id"
	// HeaderWorkedIn names where the work ran: "loop", "thread", "process",
	// or "worker" for the sync and threads models.
	HeaderWorkedIn = "X-Worked-In"
)

// Bounds on request parameters. A request outside them gets 400, so one
// request cannot take the server down.
const (
	// MaxMillis bounds ms= and await_ms= (one minute).
	MaxMillis = 60_000
	// MaxRegexKiB bounds kb= on /regex (16 MiB documents).
	MaxRegexKiB = 16 << 10
	// MaxLeakBytes bounds bytes= on /leak (1 GiB per request).
	MaxLeakBytes = 1 << 30
	// MaxRequestIDBytes bounds X-Request-Id: a longer one gets 400 and is
	// not echoed, so a huge request header cannot make a larger response.
	MaxRequestIDBytes = 128
)

// RequestID returns r's X-Request-Id, or "" when it is longer than
// MaxRequestIDBytes (ParseRequest refuses such a request).
func RequestID(r *http.Request) string {
	id := r.Header.Get(HeaderRequestID)
	if len(id) > MaxRequestIDBytes {
		return ""
	}
	return id
}

// Kind is the kind of work a route asks for.
type Kind int

// The kinds of work, one per route.
const (
	Light Kind = iota
	CPU
	Block
	Regex
	Leak
	Health
)

var kindNames = [...]string{"light", "cpu", "block", "regex", "leak", "healthz"}

// String returns the route name of k, e.g. "cpu".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Heavy reports whether k is work an event-loop worker may offload:
// CPU, Block and Regex.
func (k Kind) Heavy() bool { return k == CPU || k == Block || k == Regex }

// Job is one request's work, parsed from its path and query.
type Job struct {
	Kind Kind
	// Duration is the CPU or blocking time for CPU and Block.
	Duration time.Duration
	// Await is a simulated await on an external call (await_ms=) before the
	// work: it never holds an event loop.
	Await time.Duration
	// KiB is the document size for Regex.
	KiB int
	// Bytes is the allocation for Leak.
	Bytes int64
}

// ParamError is a bad or out-of-range request parameter; servers answer it
// with 400 and its message.
type ParamError struct {
	Param string
	Value string
	Want  string
}

func (e *ParamError) Error() string {
	if e.Param == HeaderRequestID {
		return fmt.Sprintf("bad header %s %s: want %s", e.Param, e.Value, e.Want)
	}
	return fmt.Sprintf("bad query parameter %s=%q: want %s", e.Param, e.Value, e.Want)
}

// ErrNotFound is returned by Parse for a path that is not a workload route.
var ErrNotFound = fmt.Errorf("no such route")

// Parse turns a request path and query into a Job. Routes are /light,
// /cpu?ms=N, /block?ms=N, /regex?kb=N, /leak?bytes=N and /healthz; every route
// also takes await_ms=N. It returns a *ParamError for a bad parameter and
// ErrNotFound for an unknown path.
func Parse(path string, q url.Values) (Job, error) {
	var j Job
	var err error
	if j.Await, err = millis(q, "await_ms", false); err != nil {
		return j, err
	}
	switch strings.TrimSuffix(path, "/") {
	case "/light", "":
		j.Kind = Light
	case "/healthz":
		j.Kind = Health
	case "/cpu":
		j.Kind = CPU
		j.Duration, err = millis(q, "ms", true)
	case "/block":
		j.Kind = Block
		j.Duration, err = millis(q, "ms", true)
	case "/regex":
		j.Kind = Regex
		var kb int64
		kb, err = intParam(q, "kb", 1, MaxRegexKiB, true)
		j.KiB = int(kb)
	case "/leak":
		j.Kind = Leak
		j.Bytes, err = intParam(q, "bytes", 0, MaxLeakBytes, true)
	default:
		return j, ErrNotFound
	}
	return j, err
}

// ParseRequest is Parse for an *http.Request; only GET and HEAD are
// allowed, with an X-Request-Id of at most MaxRequestIDBytes.
func ParseRequest(r *http.Request) (Job, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return Job{}, &ParamError{Param: "method", Value: r.Method, Want: "GET or HEAD"}
	}
	if n := len(r.Header.Get(HeaderRequestID)); n > MaxRequestIDBytes {
		return Job{}, &ParamError{Param: HeaderRequestID, Value: fmt.Sprintf("(%d bytes)", n), Want: fmt.Sprintf("at most %d bytes", MaxRequestIDBytes)}
	}
	return Parse(r.URL.Path, r.URL.Query())
}

func millis(q url.Values, name string, required bool) (time.Duration, error) {
	n, err := intParam(q, name, 0, MaxMillis, required)
	return time.Duration(n) * time.Millisecond, err
}

func intParam(q url.Values, name string, lo, hi int64, required bool) (int64, error) {
	s := q.Get(name)
	if s == "" {
		if required {
			return 0, &ParamError{Param: name, Value: s, Want: fmt.Sprintf("an integer in [%d, %d] (required)", lo, hi)}
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, &ParamError{Param: name, Value: s, Want: fmt.Sprintf("an integer in [%d, %d]", lo, hi)}
	}
	return n, nil
}

// Yield is called between slices of CPU-bound work. An event-loop worker
// uses it to release and retake a GIL-like lock; nil means no yielding.
type Yield func()

// slice is how much CPU work runs between calls to Yield.
const slice = 500 * time.Microsecond

// BurnCPU does real CPU work (chained SHA-256 over a 4 KiB block) for about
// d of wall-clock time, calling yield every half millisecond or so. It returns
// the final digest so the work cannot be optimised away.
func BurnCPU(d time.Duration, yield Yield) [32]byte {
	var sum [32]byte
	buf := make([]byte, 4096)
	deadline := time.Now().Add(d)
	next := time.Now().Add(slice)
	for {
		for i := 0; i < 8; i++ {
			copy(buf, sum[:])
			sum = sha256.Sum256(buf)
		}
		now := time.Now()
		if !now.Before(deadline) {
			return sum
		}
		if yield != nil && !now.Before(next) {
			yield()
			next = time.Now().Add(slice)
		}
	}
}

// BlockFor waits d without using CPU, like a synchronous call to a slow
// service. It returns early with ctx's error when ctx is done.
func BlockFor(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
