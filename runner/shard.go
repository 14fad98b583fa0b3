package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/attack"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// checkShard refuses to shard a scenario whose target sawtooth would
// start: a shard never starts or stops the target the shards share, so
// only a url target (a server already running) can be sharded. A command
// target is refused too, even one that only wraps a remote server: each
// shard would start its own copy.
func checkShard(s *scenarios.Scenario, opt Options) error {
	if !opt.Shard.Sharded() {
		return nil
	}
	if s.Target.URL == nil {
		kind := "builtin"
		if s.Target.Command != nil {
			kind = "command"
		}
		return fmt.Errorf("--shard %v: the scenario's target is a %s target, which every shard would start for itself; a sharded run drives one shared server: use a url target (target.url, docs/real-targets.md)", opt.Shard, kind)
	}
	return nil
}

// shardInfo is the shard mark of meta.json (nil for a single process).
func shardInfo(opt Options) *rundir.ShardInfo {
	if !opt.Shard.Sharded() && opt.StartAt.IsZero() {
		return nil
	}
	sh := opt.Shard
	if sh.Count < 1 {
		sh.Count = 1
	}
	return &rundir.ShardInfo{Index: sh.Index, Count: sh.Count, StartAt: opt.StartAt.UTC()}
}

// maxLate is how late after --start-at a shard may begin its attack
// before it warns: the requests due meanwhile are sent at once, in a
// burst the single process would not have sent.
const maxLate = 50 * time.Millisecond

// waitStart waits for opt.StartAt (when set) and anchors every stream's
// schedule to it, so all shards count time from the same instant; it
// returns when the attack begins. total is the longest stream's length.
// A shard that reaches it late says by how much, in a warning and in
// run.json. Without a start time the attack begins now.
func (r *run) waitStart(ctx context.Context, info *rundir.RunInfo, streams []*liveStream, total time.Duration) (time.Time, error) {
	info.Shard = shardInfo(*r.opt)
	at := r.startAt
	if info.Shard != nil {
		info.Shard.StartAt = at.UTC()
	}
	if at.IsZero() {
		return time.Now(), nil
	}
	if d := time.Until(at); d > 0 {
		r.events.add(rundir.Event{Time: time.Now(), Source: "runner", Event: "wait", Message: fmt.Sprintf("waiting %v for --start-at %s", d.Round(time.Millisecond), at.UTC().Format(time.RFC3339Nano))})
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return time.Time{}, fmt.Errorf("%w while waiting for --start-at", ErrInterrupted)
		case <-timer.C:
		}
	}
	late := time.Since(at)
	if late >= total {
		return time.Time{}, fmt.Errorf("shard %v: ready %v after its start time %s, after the whole schedule (%v) was due", r.opt.Shard, late.Round(time.Millisecond), at.UTC().Format(time.RFC3339Nano), total)
	}
	if late > maxLate {
		info.Shard.Late = late.Seconds()
		msg := lateWarning(r.opt.Shard, at, info.Shard.Late)
		r.events.add(rundir.Event{Time: time.Now(), Source: "runner", Event: "late", Message: msg})
		if r.opt.Progress != nil {
			fmt.Fprintf(r.opt.Progress, "WARNING: %s\n", msg)
		}
	}
	for _, s := range streams {
		s.pacer.Anchor(at)
	}
	return at, nil
}

// probes returns the probes this process runs: all of them, except in
// a sharded run, where shard 0 alone runs them, so that the merged run
// has each probe's results and verdict once, on the probe's own
// schedule, rather than N copies probing N times as often.
func (r *run) probes() []probePlan {
	if r.opt.Shard.Index != 0 {
		return nil
	}
	return r.plan.probes
}

// segmentWeights returns each segment's weights for IndexedTargeter.
func segmentWeights(segs []attack.Segment) [][]float64 {
	out := make([][]float64, len(segs))
	for i, s := range segs {
		out[i] = s.Weights
	}
	return out
}

// lateWarning says that shard sh's attack began late seconds after its
// start time at.
func lateWarning(sh attack.Shard, at time.Time, late float64) string {
	d := time.Duration(late * float64(time.Second)).Round(time.Millisecond)
	return fmt.Sprintf("SHARD %v STARTED LATE: its attack began %v after its start time %s; the requests due meanwhile were sent at once, late",
		sh, d, at.UTC().Format(time.RFC3339Nano))
}

// slotSlack is added to a run's longest possible attack (its phases, the
// longest request timeout and the attack's 10s bound beyond them) to give
// the slot in which it runs; see nextStart.
const slotSlack = 15 * time.Second

// nextStart returns when the run after the one of variant v starting at
// at begins, for a run with a start time and more than one variant or
// repeat. Every shard must start run j at the same instant without
// talking to the others, so the instant comes from the scenario alone:
// each run gets a slot of its longest stream's duration, the longest request
// timeout and slotSlack, longer than its attack can last (the attack is
// bounded by the phases, the timeout and 10s). A run that still overruns
// makes the next one start late, which it says.
func nextStart(at time.Time, sc *scenarios.Scenario, v scenarios.Variant, opt Options) time.Time {
	if at.IsZero() {
		return at
	}
	return at.Add(sc.TotalDuration() + clientConfig(sc, v, opt.Timeout).MaxTimeout() + slotSlack)
}
