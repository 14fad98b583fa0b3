package loop

import (
	"context"
	"encoding/hex"
	"fmt"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"github.com/sawtooth-dev/sawtooth/server/workload"
)

// requestIDKey is the context key of the request id, Go's counterpart of a
// contextvars.ContextVar.
type requestIDKey struct{}

// WithRequestID returns a copy of ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx, or "" if it was lost.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// heavyJob is one piece of heavy work, as it travels to wherever it runs
// (and, gob-encoded, to an offload child).
type heavyJob struct {
	Kind     workload.Kind
	Duration time.Duration
	// RequestID is the id as handed over; set only when it travels to a
	// child process.
	RequestID string
	// Doc is the /regex document (the request's payload).
	Doc []byte
}

// result is what a piece of work produced, as seen where it ran.
type result struct {
	// RequestID is the request id the work saw in its context.
	RequestID string
	// Body is the response body.
	Body string
	// Err is a failure of the work, answered with 500.
	Err string
	// Pid is the process the work ran in.
	Pid int
}

// runHeavy does the work of j in the context ctx, calling yield at its
// switch points. It is the same code on the loop, in an offload thread and in
// an offload child; only the context and the yield function differ.
func runHeavy(ctx context.Context, j heavyJob, yield workload.Yield) result {
	res := result{RequestID: RequestID(ctx)}
	switch j.Kind {
	case workload.CPU:
		sum := burnCPU(j.Duration, yield)
		res.Body = fmt.Sprintf("cpu %v sha256=%s\n", j.Duration, hex.EncodeToString(sum[:8]))
	case workload.Block:
		if err := workload.BlockFor(ctx, j.Duration); err != nil {
			res.Err = fmt.Sprintf("block %v: %v", j.Duration, err)
		} else {
			res.Body = fmt.Sprintf("block %v\n", j.Duration)
		}
	case workload.Regex:
		v, err := workload.Validate(j.Doc, yield)
		if err != nil {
			res.Err = err.Error()
		} else {
			res.Body = fmt.Sprintf("regex %d bytes: %d records, %d checks, %d flagged\n", len(j.Doc), v.Records, v.Checks, v.Flagged)
		}
	default:
		res.Err = fmt.Sprintf("%v is not heavy work", j.Kind)
	}
	return res
}

// cpuSlice is how much CPU work burnCPU does between switch points, as
// workload.BurnCPU does.
const cpuSlice = 500 * time.Microsecond

// burnCPU does d of CPU work the way the real apps' /cpu does: until this
// thread has used d of CPU time (Python's time.thread_time()), not d of
// wall time, so the work takes longer while it waits for the GIL at its
// switch points or while the machine runs something else. It calls yield
// between slices of cpuSlice.
func burnCPU(d time.Duration, yield workload.Yield) [32]byte {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, err := threadCPU()
	if err != nil {
		return workload.BurnCPU(d, yield) // no thread clock: wall time
	}
	var sum [32]byte
	for {
		now, err := threadCPU()
		if err != nil || now-start >= d {
			return sum
		}
		s := workload.BurnCPU(min(d-(now-start), cpuSlice), nil)
		sum[0] ^= s[0]
		if yield != nil {
			yield()
		}
	}
}

// clockThreadCPUTimeID is Linux's CLOCK_THREAD_CPUTIME_ID.
const clockThreadCPUTimeID = 3

// threadCPU returns the CPU time the calling OS thread has used
// (clock_gettime(CLOCK_THREAD_CPUTIME_ID); package syscall has no wrapper).
func threadCPU() (time.Duration, error) {
	var ts syscall.Timespec
	_, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if e != 0 {
		return 0, fmt.Errorf("clock_gettime(CLOCK_THREAD_CPUTIME_ID): %w", e)
	}
	return time.Duration(ts.Nano()), nil
}
