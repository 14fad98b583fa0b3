package loop

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

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
		sum := workload.BurnCPU(j.Duration, yield)
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
