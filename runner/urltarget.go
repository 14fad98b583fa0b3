package runner

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/target"
)

// A URL target (scenarios.URLTarget) is a kind of its own: nothing is
// started or stopped, so a run has no target process (r.proc is nil) and
// no process tree (r.tree is nil); these are the places that differ.

// pid returns the pid of the target process, 0 for a URL target.
func (r *run) pid() int {
	if r.proc == nil {
		return 0
	}
	return r.proc.PID()
}

// exited is closed when the target process exits; nil (never ready) for
// a URL target.
func (r *run) exited() <-chan struct{} {
	if r.proc == nil {
		return nil
	}
	return r.proc.Exited()
}

// waitURL runs a URL target's before hook, if any, and waits for the
// target: nothing is started or stopped.
func (r *run) waitURL(ctx context.Context, info *rundir.RunInfo, log io.Writer) error {
	info.Target = nil
	if len(r.plan.before) > 0 {
		r.events.add(rundir.Event{Time: time.Now(), Source: "runner", Event: "before", Message: strings.Join(r.plan.before, " ")})
		if err := target.RunHook(ctx, r.plan.before, r.plan.beforeTO, log); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w while running target.url.before", ErrInterrupted)
			}
			return fmt.Errorf("target.url.before: %w", err)
		}
	}
	r.events.add(rundir.Event{Time: time.Now(), Source: "runner", Event: "wait", Message: "waiting for the url target at " + r.plan.spec.ReadyURL})
	if err := target.WaitURL(ctx, r.plan.spec.ReadyURL, r.plan.spec.ReadyTimeout); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w while waiting for the url target to be ready", ErrInterrupted)
		}
		return err
	}
	return nil
}
