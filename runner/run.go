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
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/internal/hist"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/attack"
	"github.com/sawtooth-dev/sawtooth/runner/probe"
	"github.com/sawtooth-dev/sawtooth/runner/progress"
	"github.com/sawtooth-dev/sawtooth/runner/stats"
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

// attack drives the load and records everything alongside it.
func (r *run) attack(ctx context.Context, info *rundir.RunInfo, f *files) error {
	ccfg := clientConfig(r.sc, r.variant, r.opt.Timeout)
	info.Client = clientInfo(ccfg)
	client := attack.NewClient(ccfg)
	defer client.CloseIdleConnections()
	timeout := ccfg.MaxTimeout()
	stop := make(chan struct{})
	streams, err := newStreams(r.plan, r.seed, r.opt.Shard, client, stop)
	if err != nil {
		return err
	}
	memW, err := rundir.NewMemoryWriter(f.memory)
	if err != nil {
		return fmt.Errorf("write %s: %w", rundir.MemoryFile, err)
	}
	metW, err := rundir.NewMetricsWriter(f.metrics)
	if err != nil {
		return fmt.Errorf("write %s: %w", rundir.MetricsFile, err)
	}
	tlW, err := rundir.NewTimelineWriter(f.timeline)
	if err != nil {
		return fmt.Errorf("write %s: %w", rundir.TimelineFile, err)
	}
	treeW, err := r.promBefore(ctx, memW)
	if err != nil {
		return err
	}

	pacer := streams[0].pacer // the progress line follows the first stream
	total := longest(streams)
	info.Phases = phaseInfos(streams)

	t0, err := r.waitStart(ctx, info, streams, total)
	if err != nil {
		return err
	}
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	info.Start = t0.UTC()
	r.events.start(t0)
	r.events.add(rundir.Event{Time: t0, Source: "runner", Event: "start", PID: r.pid(), Message: fmt.Sprintf("variant %s repeat %d", r.variant.Name, r.repeat)})

	// Alongside the attack: the tree sampler, the metrics scraper, the
	// built-in server's events and the phase changes.
	side, cancelSide := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	interval := r.interval()
	maxRSS := &atomic.Int64{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.tree.loop(side, interval, t0, treeW, r.events, &r.live, maxRSS)
	}()
	if len(r.plan.metrics) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scrapeLoop(side, interval, t0, r.plan.metrics, metW, r.events)
		}()
	}
	// The server's events are followed until the target has stopped, to
	// record its workers' exits at shutdown.
	serverEvents, cancelServerEvents := context.WithCancel(context.Background())
	defer cancelServerEvents()
	var swg sync.WaitGroup
	if r.plan.builtin {
		swg.Add(1)
		go func() {
			defer swg.Done()
			readServerEvents(serverEvents, r.plan.adminURL+"/events", r.events)
		}()
	}
	for _, st := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, seg := range st.plan.segments {
				at := time.Until(t0.Add(st.pacer.Starts()[i]))
				select {
				case <-side.Done():
					return
				case <-time.After(at):
				}
				// Validated with the scenario: the weights are well formed.
				_ = st.targeter.SetWeights(seg.Weights)
				msg := describe(seg)
				if len(streams) > 1 {
					msg = "stream " + st.plan.name + ": " + msg
				}
				r.events.add(rundir.Event{Time: time.Now(), Source: "runner", Event: "phase", Phase: seg.Name, Message: msg})
			}
		}()
	}

	var printer *progress.Printer
	if r.opt.Progress != nil {
		printer = progress.Start(r.opt.Progress, progress.Live(r.opt.Progress, r.opt.CI), r.opt.ProgressEvery, r.status(t0, pacer, total))
	}

	probes := r.probes()
	probeCtx, cancelProbes := context.WithCancel(context.Background())
	defer cancelProbes()
	results := attackAll(probeCtx, streams, probes, r.sc.Name, t0, total)

	// Watch for an interrupt, a target that dies, and the overall bound.
	var interrupted, targetDied atomic.Bool
	drained := make(chan struct{})
	go func() {
		bound := time.NewTimer(total + timeout + 10*time.Second)
		defer bound.Stop()
		halt := func() {
			close(stop)
			cancelProbes()
			for _, st := range streams {
				st.atk.Stop()
			}
		}
		select {
		case <-drained:
			return
		case <-ctx.Done():
			interrupted.Store(true)
			halt()
		case <-r.exited():
			targetDied.Store(true)
			halt()
		case <-bound.C:
			halt()
		}
		// Requests still in flight end when answered or timed out; if they
		// hang on, stopping the target ends them.
		select {
		case <-drained:
		case <-time.After(2 * time.Second):
			r.stopTarget()
		}
	}()

	tl := stats.NewTimeline(t0, time.Second, timeout+2*time.Second, tlW.Write)
	rec := newRecorder(vegeta.NewEncoder(f.resultsW), tl, streams, t0, &r.live, r.events)
	var encErr error
	lastAdvance := time.Now()
	for res := range results {
		rec.add(res.stream, res.res)
		if now := time.Now(); now.Sub(lastAdvance) > 500*time.Millisecond {
			// Emit finished intervals and push results to disk, so that a
			// run killed outright still leaves them readable.
			lastAdvance = now
			if err := tl.Advance(now); err != nil && encErr == nil {
				encErr = err
			}
			if err := tlW.Flush(); err != nil && encErr == nil {
				encErr = err
			}
			if err := f.resultsW.Flush(); err != nil && encErr == nil {
				encErr = err
			}
		}
	}
	if encErr == nil {
		encErr = rec.err
	}
	close(drained)
	end := time.Now()
	info.End = end.UTC()
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)

	if printer != nil {
		printer.Stop()
	}
	cancelSide()
	wg.Wait()
	stopErr := r.stopTarget()
	cancelServerEvents()
	swg.Wait()
	r.tree.final(t0, r.events, &r.live)
	r.events.add(rundir.Event{Time: time.Now(), Source: "runner", Event: "stop", PID: r.pid(), Message: exitMessage(r.proc)})
	promErr := r.promAfter(ctx, t0, end, memW, info)

	if err := tl.Close(); err != nil && encErr == nil {
		encErr = err
	}
	for _, fl := range []func() error{tlW.Flush, memW.Flush, metW.Flush, f.resultsW.Flush} {
		if err := fl(); err != nil && encErr == nil {
			encErr = err
		}
	}

	elapsed := end.Sub(t0)
	info.Harness = streamsHarness(streams, min(elapsed, total), &rec.lag, cpuSeconds(ru1)-cpuSeconds(ru0), elapsed, maxRSS.Load())
	if info.Shard != nil && info.Shard.Late > 0 {
		info.Harness.Warnings = append(info.Harness.Warnings, lateWarning(r.opt.Shard, r.startAt, info.Shard.Late))
	}
	info.Probes = probeVerdicts(probes, rec.probes, min(elapsed, total).Seconds())
	r.probeEvents(t0, info.Probes)
	r.live.mu.Lock()
	info.Harness.Requests = r.live.requests
	r.live.mu.Unlock()
	for _, w := range info.Harness.Warnings {
		if r.opt.Progress != nil {
			fmt.Fprintf(r.opt.Progress, "WARNING: %s #%d: %s\n", r.variant.Name, r.repeat, w)
		}
	}

	switch {
	case interrupted.Load():
		return fmt.Errorf("%w after %v of %v", ErrInterrupted, elapsed.Round(time.Millisecond), total)
	case targetDied.Load():
		return fmt.Errorf("target exited during the run (%v)\nlast lines of the target's output:\n  %s", r.proc.ExitError(), r.proc.Tail())
	case stopErr != nil:
		return stopErr
	case encErr != nil:
		return fmt.Errorf("write run files: %w", encErr)
	case promErr != nil:
		return promErr
	}
	return nil
}

// recorder takes each result as the attackers and probes return them:
// it tags a traffic result with its class, writes it to results.bin and
// adds it to the timeline (with whether the stream's client saw a reuse
// failure for it), the send-lag histograms, the count of requests
// sent in open-model phases and the live counters of the progress line.
// A probe's result goes only to results.bin (under the probe's name), the
// events and the probe's verdict: never to the traffic's numbers.
type recorder struct {
	enc     vegeta.Encoder
	tl      *stats.Timeline
	streams []*liveStream
	t0      time.Time
	live    *liveStats
	events  *eventLog
	lag     hist.Histogram // over every stream
	probes  map[string][]probe.Result
	err     error // the first error writing results.bin
}

func newRecorder(enc vegeta.Encoder, tl *stats.Timeline, streams []*liveStream, t0 time.Time, live *liveStats, events *eventLog) *recorder {
	return &recorder{enc: enc, tl: tl, streams: streams, t0: t0, live: live, events: events, probes: map[string][]probe.Result{}}
}

// add records one result of stream i (-1 for a probe).
func (rc *recorder) add(i int, res *vegeta.Result) {
	if i < 0 {
		rc.addProbe(res)
		return
	}
	st := rc.streams[i]
	attack.Tag(res)
	st.pacer.Done()
	if rc.err == nil {
		rc.err = rc.enc.Encode(res)
	}
	ok := res.Error == "" && res.Code >= 200 && res.Code < 400
	reuse := st.client != nil && st.client.Take(res.Seq)
	rc.tl.Add(res.Attack, res.Timestamp, res.Latency, ok, reuse)
	if due, ok := st.pacer.Due(res.Seq); ok {
		rc.lag.Record(res.Timestamp.Sub(due))
		st.lag.Record(res.Timestamp.Sub(due))
	}
	segs := st.plan.segments
	if seg := segmentAt(segs, st.pacer.Starts(), res.Timestamp.Sub(rc.t0)); seg >= 0 && segs[seg].Open() {
		st.sentOpen++
	}
	st.sent++
	rc.live.mu.Lock()
	rc.live.hist.Record(res.Latency)
	rc.live.requests++
	if !ok {
		rc.live.errors++
	}
	rc.live.mu.Unlock()
}

func exitMessage(p *target.Process) string {
	if p == nil {
		return "" // a URL target: nothing was started or stopped
	}
	if err := p.ExitError(); err != nil {
		return err.Error()
	}
	return ""
}

// describe says what a phase does, for its event.
func describe(s attack.Segment) string {
	switch {
	case !s.Open():
		return fmt.Sprintf("%d clients for %v", s.Concurrency, s.Duration)
	case s.From == s.To:
		return fmt.Sprintf("%g req/s for %v", s.From, s.Duration)
	default:
		return fmt.Sprintf("%g to %g req/s for %v", s.From, s.To, s.Duration)
	}
}

// segmentAt returns the index of the segment running at offset t, or -1
// outside them all.
func segmentAt(segs []attack.Segment, starts []time.Duration, t time.Duration) int {
	if t < 0 {
		return -1
	}
	for i := len(segs) - 1; i >= 0; i-- {
		if t >= starts[i] {
			if t < starts[i]+segs[i].Duration {
				return i
			}
			return -1
		}
	}
	return -1
}

// status returns the progress source of this run.
// It follows the first stream's phases over the longest stream's length.
func (r *run) status(t0 time.Time, pacer *attack.Pacer, total time.Duration) func() progress.Status {
	var prevN int64
	prevT := t0
	return func() progress.Status {
		now := time.Now()
		el := now.Sub(t0)
		st := progress.Status{Variant: r.variant.Name, Repeat: r.repeat, Elapsed: min(el, total), Total: total}
		if i := segmentAt(r.plan.streams[0].segments, pacer.Starts(), el); i >= 0 {
			st.Phase = r.plan.streams[0].segments[i].Name
		} else {
			st.Phase = progress.Draining // the phases are over; answers still arrive
		}
		r.live.mu.Lock()
		st.Requests, st.Errors = r.live.requests, r.live.errors
		st.P99 = r.live.hist.Quantile(0.99)
		r.live.mu.Unlock()
		if dt := now.Sub(prevT).Seconds(); dt > 0 {
			st.Rate = float64(st.Requests-prevN) / dt
		}
		prevN, prevT = st.Requests, now
		st.PSS = r.live.pss.Load()
		st.Restarts = int(r.live.restarts.Load())
		return st
	}
}

func cpuSeconds(ru syscall.Rusage) float64 {
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
