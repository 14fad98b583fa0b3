package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sawtooth-dev/sawtooth/internal/hist"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/target"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// trackInterval is how often the target's process tree is walked while
// it starts, before memory sampling begins.
const trackInterval = 50 * time.Millisecond

// run is one variant and repeat.
type run struct {
	sc      *scenarios.Scenario
	variant scenarios.Variant
	repeat  int
	seed    int64
	opt     *Options
	dir     string
	// startAt is when this run's attack begins (zero: when ready); see
	// nextStart.
	startAt time.Time

	plan   *plan
	events *eventLog
	proc   *target.Process
	tree   *treeSampler
	prom   *promRun // nil without a Prometheus source
	live   liveStats

	stopOnce sync.Once
	stopErr  error
}

// liveStats is what the progress line shows, updated as results arrive.
type liveStats struct {
	mu       sync.Mutex
	hist     hist.Histogram
	requests int64
	errors   int64
	pss      atomic.Int64
	restarts atomic.Int64
}

// files are the open files of one run directory.
type files struct {
	results  *os.File
	resultsW *bufio.Writer
	timeline *os.File
	memory   *os.File
	metrics  *os.File
	events   *os.File
	log      *os.File
}

func (f *files) open(dir string) error {
	var err error
	create := func(name string) *os.File {
		if err != nil {
			return nil
		}
		var fh *os.File
		fh, err = rundir.Create(filepath.Join(dir, name))
		return fh
	}
	f.results = create(rundir.ResultsFile)
	f.timeline = create(rundir.TimelineFile)
	f.memory = create(rundir.MemoryFile)
	f.metrics = create(rundir.MetricsFile)
	f.events = create(rundir.EventsFile)
	f.log = create(rundir.TargetLog)
	if err != nil {
		f.close()
		return fmt.Errorf("create run files: %w", err)
	}
	f.resultsW = bufio.NewWriterSize(f.results, 256<<10)
	return nil
}

func (f *files) close() error {
	var errs []error
	if f.resultsW != nil {
		errs = append(errs, f.resultsW.Flush())
	}
	for _, fh := range []*os.File{f.results, f.timeline, f.memory, f.metrics, f.events, f.log} {
		if fh != nil {
			errs = append(errs, fh.Close())
		}
	}
	return errors.Join(errs...)
}

// do runs the variant once. It returns the RunInfo written to run.json
// (nil when not even the directory could be created) and an error when
// the run failed or was interrupted (wrapping ErrInterrupted).
func (r *run) do(ctx context.Context) (*rundir.RunInfo, error) {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	info := &rundir.RunInfo{Variant: r.variant.Name, Repeat: r.repeat, Params: r.variant.Params, Set: r.variant.Set}
	var f files
	if err := f.open(r.dir); err != nil {
		return nil, err
	}
	runErr := r.record(ctx, info, &f)
	if err := f.close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("write run files: %w", err)
	}
	if err := dropEmptyResults(r.dir, info); err != nil && runErr == nil {
		runErr = err
	}
	if errors.Is(runErr, ErrInterrupted) {
		info.Partial = true
	}
	if runErr != nil {
		info.Error = runErr.Error()
	}
	if info.Start.IsZero() {
		info.Start = time.Now().UTC()
	}
	if info.End.IsZero() {
		info.End = time.Now().UTC()
	}
	if err := rundir.WriteJSON(filepath.Join(r.dir, rundir.RunFile), info); err != nil && runErr == nil {
		runErr = err
	}
	return info, runErr
}

// dropEmptyResults removes a results.bin that holds no result (a run that
// ended before its attack), which "vegeta report" could not read ("can't
// detect encoding"), and says so in info.
func dropEmptyResults(dir string, info *rundir.RunInfo) error {
	path := filepath.Join(dir, rundir.ResultsFile)
	fi, err := os.Stat(path)
	if err != nil || fi.Size() > 0 {
		return nil
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove empty %s: %w", path, err)
	}
	info.NoResults = "no request was sent: the run ended before the attack began"
	return nil
}

// record does the work of do with the files open.
func (r *run) record(ctx context.Context, info *rundir.RunInfo, f *files) error {
	r.events = newEventLog(rundir.NewEventWriter(f.events))
	defer r.events.flush()
	defer func() {
		if r.tree != nil {
			r.tree.close()
		}
	}()
	defer r.stopTarget() // on every early return; a no-op once stopped
	err := r.start(ctx, info, f)
	if errors.Is(err, target.ErrAddressInUse) {
		// The ports were free when picked (listen on port 0, close), but
		// another process bound one before the target did. Once more on
		// new ports.
		if serr := r.proc.Stop(r.tree.survivors); serr != nil {
			return errors.Join(err, serr)
		}
		r.tree.close()
		r.proc, r.tree = nil, nil
		r.events.add(rundir.Event{Time: time.Now(), Source: "runner", Event: "retry", Message: "the target's port was taken by another process before it bound it; starting it again on new ports"})
		err = r.start(ctx, info, f)
	}
	if err != nil {
		return err
	}
	return r.attack(ctx, info, f)
}

// start picks the target's ports, starts it and waits until it is ready.
func (r *run) start(ctx context.Context, info *rundir.RunInfo, f *files) error {
	var err error
	r.plan, err = compile(r.sc, r.variant, r.opt.Binary)
	if err != nil {
		return err
	}
	info.Target = r.plan.spec.Argv
	info.BaseURL = r.plan.baseURL
	info.TargetKind = r.plan.kind
	if r.plan.url {
		return r.waitURL(ctx, info, f.log)
	}
	spec := r.plan.spec
	spec.Log = f.log
	spec.OnEvent = func(e target.LogEvent) {
		r.events.add(rundir.Event{Time: e.Time, Source: "log", Event: e.Event, PID: e.PID, Reason: e.Reason, Requests: e.Requests, Message: e.Line})
	}
	if r.proc, err = target.Start(spec); err != nil {
		return err
	}
	if r.tree, err = newTreeSampler(r.proc.PID()); err != nil {
		return err
	}
	// Track the tree from its start, not from the first sample: a child
	// that leaves the group and outlives a target that never becomes
	// ready is then still known, and killed, when the target is stopped.
	tracked := make(chan struct{})
	stopTrack := make(chan struct{})
	go func() {
		defer close(tracked)
		r.tree.track(stopTrack, trackInterval)
	}()
	err = r.proc.WaitReady(ctx)
	close(stopTrack)
	<-tracked
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w while waiting for the target to be ready", ErrInterrupted)
		}
		return err
	}
	return nil
}

// stopTarget stops the target once and returns the result of that stop.
func (r *run) stopTarget() error {
	r.stopOnce.Do(func() {
		if r.proc == nil {
			return
		}
		var others func() []int
		if r.tree != nil {
			others = r.tree.survivors
		}
		r.stopErr = r.proc.Stop(others)
	})
	return r.stopErr
}
