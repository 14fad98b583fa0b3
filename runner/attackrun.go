package runner

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/attack"
	"github.com/sawtooth-dev/sawtooth/runner/progress"
	"github.com/sawtooth-dev/sawtooth/runner/stats"
	"github.com/sawtooth-dev/sawtooth/runner/target"
)

// attackRun is the live state of one run's attack, from the writers it
// opens to its teardown.
type attackRun struct {
	r    *run
	info *rundir.RunInfo
	f    *files

	client  *attack.Client
	timeout time.Duration // the longest request timeout
	stop    chan struct{} // closed to end every pacer's wait
	streams []*liveStream
	total   time.Duration // the longest stream's length

	memW  *rundir.CSVWriter[rundir.MemorySample]
	metW  *rundir.CSVWriter[rundir.MetricSample]
	tlW   *rundir.CSVWriter[rundir.TimelineRow]
	treeW *rundir.CSVWriter[rundir.MemorySample] // the /proc sampler's rows (see promBefore)

	t0, end  time.Time
	ru0, ru1 syscall.Rusage // the harness's CPU at t0 and at end
	maxRSS   atomic.Int64   // the harness's own peak RSS

	// cancelSide ends the tree sampler, the metrics scraper and the
	// phase changes (sideWG); cancelServerEvents ends the built-in
	// server's events (serverWG).
	cancelSide         context.CancelFunc
	sideWG             sync.WaitGroup
	cancelServerEvents context.CancelFunc
	serverWG           sync.WaitGroup

	printer      *progress.Printer // nil without a progress line
	probes       []probePlan
	cancelProbes context.CancelFunc
	results      <-chan result

	interrupted, targetDied atomic.Bool
	drained                 chan struct{} // closed once results is drained

	tl     *stats.Timeline
	rec    *recorder
	encErr error // the first error writing the run's files
}

// attack drives the load and records everything alongside it.
func (r *run) attack(ctx context.Context, info *rundir.RunInfo, f *files) error {
	a := &attackRun{r: r, info: info, f: f}
	defer a.release()
	if err := a.open(ctx); err != nil {
		return err
	}
	if err := a.begin(ctx); err != nil {
		return err
	}
	a.startSide()
	a.startAttack(ctx)
	a.collect()
	stopErr, promErr := a.teardown(ctx)
	a.figures()
	return a.verdict(stopErr, promErr)
}

// open builds the client and the streams, opens the writers of the
// run's CSV files and sets up the Prometheus source (see promBefore).
func (a *attackRun) open(ctx context.Context) error {
	r := a.r
	ccfg := clientConfig(r.sc, r.variant, r.opt.Timeout)
	a.info.Client = clientInfo(ccfg)
	a.client = attack.NewClient(ccfg)
	a.timeout = ccfg.MaxTimeout()
	a.stop = make(chan struct{})
	var err error
	if a.streams, err = newStreams(r.plan, r.seed, r.opt.Shard, a.client, a.stop); err != nil {
		return err
	}
	if a.memW, err = rundir.NewMemoryWriter(a.f.memory); err != nil {
		return fmt.Errorf("write %s: %w", rundir.MemoryFile, err)
	}
	if a.metW, err = rundir.NewMetricsWriter(a.f.metrics); err != nil {
		return fmt.Errorf("write %s: %w", rundir.MetricsFile, err)
	}
	if a.tlW, err = rundir.NewTimelineWriter(a.f.timeline); err != nil {
		return fmt.Errorf("write %s: %w", rundir.TimelineFile, err)
	}
	if a.treeW, err = r.promBefore(ctx, a.memW); err != nil {
		return err
	}
	a.total = longest(a.streams)
	a.info.Phases = phaseInfos(a.streams)
	return nil
}

// begin waits for the attack's start (see waitStart) and marks it: the
// harness's CPU so far, run.json's start, the event log's zero and the
// start event.
func (a *attackRun) begin(ctx context.Context) error {
	r := a.r
	t0, err := r.waitStart(ctx, a.info, a.streams, a.total)
	if err != nil {
		return err
	}
	a.t0 = t0
	syscall.Getrusage(syscall.RUSAGE_SELF, &a.ru0)
	a.info.Start = t0.UTC()
	r.events.start(t0)
	r.events.add(rundir.Event{Time: t0, Source: "runner", Event: "start", PID: r.pid(), Message: fmt.Sprintf("variant %s repeat %d", r.variant.Name, r.repeat)})
	return nil
}

// startSide starts what runs alongside the attack: the tree sampler, the
// metrics scraper and each stream's phase changes, until cancelSide; and
// the built-in server's events, until cancelServerEvents, which teardown
// calls only once the target has stopped, to record its workers' exits
// at shutdown.
func (a *attackRun) startSide() {
	r := a.r
	side, cancelSide := context.WithCancel(context.Background())
	a.cancelSide = cancelSide
	interval := r.interval()
	a.sideWG.Add(1)
	go func() {
		defer a.sideWG.Done()
		r.tree.loop(side, interval, a.t0, a.treeW, r.events, &r.live, &a.maxRSS)
	}()
	if len(r.plan.metrics) > 0 {
		a.sideWG.Add(1)
		go func() {
			defer a.sideWG.Done()
			scrapeLoop(side, interval, a.t0, r.plan.metrics, a.metW, r.events)
		}()
	}
	serverEvents, cancelServerEvents := context.WithCancel(context.Background())
	a.cancelServerEvents = cancelServerEvents
	if r.plan.builtin {
		a.serverWG.Add(1)
		go func() {
			defer a.serverWG.Done()
			readServerEvents(serverEvents, r.plan.adminURL+"/events", r.events)
		}()
	}
	for _, st := range a.streams {
		a.sideWG.Add(1)
		go func() {
			defer a.sideWG.Done()
			a.followPhases(side, st)
		}()
	}
}

// followPhases sets stream st's class weights as each of its phases
// begins, and records the phase as an event, until side is done.
func (a *attackRun) followPhases(side context.Context, st *liveStream) {
	for i, seg := range st.plan.segments {
		at := time.Until(a.t0.Add(st.pacer.Starts()[i]))
		select {
		case <-side.Done():
			return
		case <-time.After(at):
		}
		// Validated with the scenario: the weights are well formed.
		_ = st.targeter.SetWeights(seg.Weights)
		msg := describe(seg)
		if len(a.streams) > 1 {
			msg = "stream " + st.plan.name + ": " + msg
		}
		a.r.events.add(rundir.Event{Time: time.Now(), Source: "runner", Event: "phase", Phase: seg.Name, Message: msg})
	}
}

// startAttack starts the progress line, every stream's attacker and
// every probe, and the watchdog.
func (a *attackRun) startAttack(ctx context.Context) {
	r := a.r
	if r.opt.Progress != nil {
		pacer := a.streams[0].pacer // the progress line follows the first stream
		a.printer = progress.Start(r.opt.Progress, progress.Live(r.opt.Progress, r.opt.CI), r.opt.ProgressEvery, r.status(a.t0, pacer, a.total))
	}
	a.probes = r.probes()
	probeCtx, cancelProbes := context.WithCancel(context.Background())
	a.cancelProbes = cancelProbes
	a.results = attackAll(probeCtx, a.streams, a.probes, r.sc.Name, a.t0, a.total)
	a.drained = make(chan struct{})
	go a.watch(ctx)
}

// watch ends the attack early on an interrupt, a target that dies, or
// the overall bound (the phases, the longest timeout and 10s); it
// returns once the results are drained. Requests still in flight end
// when answered or timed out; if they hang on 2s after a halt, stopping
// the target ends them.
func (a *attackRun) watch(ctx context.Context) {
	bound := time.NewTimer(a.total + a.timeout + 10*time.Second)
	defer bound.Stop()
	select {
	case <-a.drained:
		return
	case <-ctx.Done():
		a.interrupted.Store(true)
		a.halt()
	case <-a.r.exited():
		a.targetDied.Store(true)
		a.halt()
	case <-bound.C:
		a.halt()
	}
	select {
	case <-a.drained:
	case <-time.After(2 * time.Second):
		a.r.stopTarget()
	}
}

// halt ends every pacer's wait, the probes and every attacker.
func (a *attackRun) halt() {
	close(a.stop)
	a.cancelProbes()
	for _, st := range a.streams {
		st.atk.Stop()
	}
}

// collect records every result until the attackers and probes have all
// ended, then marks the end (run.json's, and the harness's CPU).
func (a *attackRun) collect() {
	a.tl = stats.NewTimeline(a.t0, time.Second, a.timeout+2*time.Second, a.tlW.Write)
	a.rec = newRecorder(vegeta.NewEncoder(a.f.resultsW), a.tl, a.streams, a.t0, &a.r.live, a.r.events)
	lastAdvance := time.Now()
	for res := range a.results {
		a.rec.add(res.stream, res.res)
		if now := time.Now(); now.Sub(lastAdvance) > 500*time.Millisecond {
			// Emit finished intervals and push results to disk, so that a
			// run killed outright still leaves them readable.
			lastAdvance = now
			a.keep(a.tl.Advance(now))
			a.keep(a.tlW.Flush())
			a.keep(a.f.resultsW.Flush())
		}
	}
	a.keep(a.rec.err)
	close(a.drained)
	a.end = time.Now()
	a.info.End = a.end.UTC()
	syscall.Getrusage(syscall.RUSAGE_SELF, &a.ru1)
}

// keep remembers err if it is the first error writing the run's files.
func (a *attackRun) keep(err error) {
	if err != nil && a.encErr == nil {
		a.encErr = err
	}
}

// teardown stops what the attack started, once the results are drained,
// in this order:
//
//  1. the progress line, whose last line then shows the attack's final
//     counts before anything else is printed;
//  2. the side goroutines (tree sampler, metrics scraper, phase
//     changes), waited for: memory.csv and metrics.csv end with the
//     target still running, and nothing writes them once flushed below;
//  3. the target (a no-op for a URL target or once the watchdog has
//     stopped it), whose stop error it returns;
//  4. only then the built-in server's events, so the exits of its
//     workers at shutdown are recorded;
//  5. a last sample of the tree, recording the exits of the target's
//     last processes, and then the stop event;
//  6. the Prometheus source, read once its last scrape of the run is in
//     (see promAfter), whose error it returns; it writes memory.csv;
//  7. the timeline, closed to emit its last intervals, and then every
//     writer flushed: timeline, memory, metrics and results.
//
// The files are closed by do once record returns; release, on every
// return of attack, cancels the probes and the server's events and
// closes the client's idle connections.
func (a *attackRun) teardown(ctx context.Context) (stopErr, promErr error) {
	r := a.r
	if a.printer != nil {
		a.printer.Stop()
	}
	a.cancelSide()
	a.sideWG.Wait()
	stopErr = r.stopTarget()
	a.cancelServerEvents()
	a.serverWG.Wait()
	r.tree.final(a.t0, r.events, &r.live)
	r.events.add(rundir.Event{Time: time.Now(), Source: "runner", Event: "stop", PID: r.pid(), Message: exitMessage(r.proc)})
	promErr = r.promAfter(ctx, a.t0, a.end, a.memW, a.info)

	a.keep(a.tl.Close())
	for _, fl := range []func() error{a.tlW.Flush, a.memW.Flush, a.metW.Flush, a.f.resultsW.Flush} {
		a.keep(fl())
	}
	return stopErr, promErr
}

// release frees what any return of attack, early or not, leaves: the
// probes' context, the server events' and the client's idle connections.
func (a *attackRun) release() {
	if a.cancelProbes != nil {
		a.cancelProbes()
	}
	if a.cancelServerEvents != nil {
		a.cancelServerEvents()
	}
	if a.client != nil {
		a.client.CloseIdleConnections()
	}
}

// figures fills in run.json's harness health and probe verdicts, records
// the verdicts as events and shows the harness's warnings.
func (a *attackRun) figures() {
	r, info := a.r, a.info
	elapsed := a.end.Sub(a.t0)
	ran := min(elapsed, a.total)
	info.Harness = streamsHarness(a.streams, ran, &a.rec.lag, cpuSeconds(a.ru1)-cpuSeconds(a.ru0), elapsed, a.maxRSS.Load())
	if info.Shard != nil && info.Shard.Late > 0 {
		info.Harness.Warnings = append(info.Harness.Warnings, lateWarning(r.opt.Shard, r.startAt, info.Shard.Late))
	}
	info.Probes = probeVerdicts(a.probes, a.rec.probes, ran.Seconds())
	r.probeEvents(a.t0, info.Probes)
	r.live.mu.Lock()
	info.Harness.Requests = r.live.requests
	r.live.mu.Unlock()
	for _, w := range info.Harness.Warnings {
		if r.opt.Progress != nil {
			fmt.Fprintf(r.opt.Progress, "WARNING: %s #%d: %s\n", r.variant.Name, r.repeat, w)
		}
	}
}

// verdict is the attack's error, the first of: an interrupt, a target
// that died, the target's stop, writing the run's files, and Prometheus.
func (a *attackRun) verdict(stopErr, promErr error) error {
	r := a.r
	switch {
	case a.interrupted.Load():
		return fmt.Errorf("%w after %v of %v", ErrInterrupted, a.end.Sub(a.t0).Round(time.Millisecond), a.total)
	case a.targetDied.Load():
		return fmt.Errorf("target exited during the run (%v)\nlast lines of the target's output:\n  %s", r.proc.ExitError(), r.proc.Tail())
	case stopErr != nil:
		return stopErr
	case a.encErr != nil:
		return fmt.Errorf("write run files: %w", a.encErr)
	case promErr != nil:
		return promErr
	}
	return nil
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
