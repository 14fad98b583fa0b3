package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/promsrc"
)

// Bounds of the Prometheus source's waits.
const (
	// promCheckWait bounds the wait for the memory query's first series
	// before the attack, on top of two scrape intervals.
	promCheckWait = 5 * time.Second
	// promFetchTimeout bounds reading the run's range after it.
	promFetchTimeout = time.Minute
	// maxScrapeWait bounds the wait for the last scrape after the run.
	maxScrapeWait = 70 * time.Second
	// coarseFraction: a scrape interval longer than this fraction of the
	// run is warned about.
	coarseFraction = 5
)

// promRun is the Prometheus memory source of one run.
type promRun struct {
	src    *promsrc.Source
	cfg    promsrc.Config
	scrape time.Duration // 0 when unknown
	check  error         // the error of the check before the attack
	proc   *os.File      // memory-proc.csv, for a target sawtooth started
}

// promBefore sets up the Prometheus source, if the scenario has one, and
// checks its queries before the attack: an error is recorded and shown,
// and the run goes on to record its latencies. It returns the writer for
// the /proc sampler's rows (memory.csv, or memory-proc.csv when memory.csv
// comes from Prometheus), or nil when there is no /proc sampler.
func (r *run) promBefore(ctx context.Context, memW *rundir.CSVWriter[rundir.MemorySample]) (*rundir.CSVWriter[rundir.MemorySample], error) {
	ps := r.sc.Sample.Prometheus
	if ps == nil {
		if r.tree == nil {
			return nil, nil
		}
		return memW, nil
	}
	cfg := promsrc.Config{URL: ps.URL, Memory: ps.Memory, Worker: ps.Worker, Restarts: ps.Restarts, Step: r.interval()}
	src, err := promsrc.New(cfg)
	if err != nil {
		return nil, err
	}
	r.prom = &promRun{src: src, cfg: cfg}
	if r.tree != nil {
		// The /proc sampler's rows go aside for comparison, its spawns
		// and exits not at all: memory and lives come from Prometheus.
		r.tree.quiet = true
		fh, err := rundir.Create(filepath.Join(r.dir, rundir.MemoryProcFile))
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", rundir.MemoryProcFile, err)
		}
		r.prom.proc = fh
	}
	if d, err := src.ScrapeInterval(ctx, nil); err == nil {
		r.prom.scrape = d
	}
	if err := src.Check(ctx, promCheckWait+2*r.prom.scrape); err != nil && ctx.Err() == nil {
		r.prom.check = err
		r.events.add(rundir.Event{Time: time.Now(), Source: "runner", Event: "prometheus_error", Message: err.Error()})
		if r.opt.Progress != nil {
			fmt.Fprintf(r.opt.Progress, "ERROR: %s #%d: memory from Prometheus: %v (the run goes on and records its latencies)\n", r.variant.Name, r.repeat, err)
		}
	}
	if r.prom.proc == nil {
		return nil, nil
	}
	w, err := rundir.NewMemoryWriter(r.prom.proc)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", rundir.MemoryProcFile, err)
	}
	return w, nil
}

// interval is the sample interval.
func (r *run) interval() time.Duration {
	if iv := r.sc.Sample.Interval.D(); iv > 0 {
		return iv
	}
	return 250 * time.Millisecond
}

// promAfter reads the run's memory and restarts from Prometheus, once
// its last scrape of the run is in, and writes them to memW and the event
// log; it records what it did in info.Memory. Its error says why memory
// is missing; the latencies are recorded either way.
func (r *run) promAfter(ctx context.Context, t0, end time.Time, memW *rundir.CSVWriter[rundir.MemorySample], info *rundir.RunInfo) error {
	if r.prom == nil {
		return nil
	}
	if r.prom.proc != nil {
		r.prom.proc.Close()
	}
	cfg := r.prom.cfg
	ms := &rundir.MemorySource{Source: "prometheus", URL: cfg.URL, MemoryQuery: cfg.Memory, WorkerLabel: cfg.Worker,
		RestartsQuery: cfg.Restarts, Step: cfg.Step.Seconds()}
	info.Memory = ms
	// Wait for the scrape after the last response, unless interrupted
	// (then what is there is read).
	wait := time.Until(end.Add(min(r.prom.scrape, maxScrapeWait) + 500*time.Millisecond))
	if wait > 2*time.Second && r.opt.Progress != nil {
		fmt.Fprintf(r.opt.Progress, "%s #%d: waiting %v for Prometheus's last scrape of the run\n", r.variant.Name, r.repeat, wait.Round(time.Second))
	}
	select {
	case <-ctx.Done():
	case <-time.After(wait):
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), promFetchTimeout)
	defer cancel()
	res, err := r.prom.src.Fetch(ctx, t0, end)
	if err != nil {
		if r.prom.check != nil {
			err = r.prom.check // the first error says most
		}
		ms.Error = err.Error()
		return fmt.Errorf("memory from Prometheus: %w", err)
	}
	if d, err := r.prom.src.ScrapeInterval(ctx, res.Jobs); err == nil {
		r.prom.scrape = d
	}
	describeMemory(ms, res, r.prom.scrape, end.Sub(t0), cfg)
	for _, row := range res.Memory {
		if err := memW.Write(row); err != nil {
			return fmt.Errorf("write %s: %w", rundir.MemoryFile, err)
		}
	}
	for _, e := range res.Events {
		r.events.add(e)
	}
	if res.Series == 0 {
		ms.Error = fmt.Sprintf("sample.prometheus.memory: query %q at %s returned no series during the run", cfg.Memory, cfg.URL)
		return fmt.Errorf("memory from Prometheus: %s", ms.Error)
	}
	if r.prom.check != nil {
		ms.Error = r.prom.check.Error()
		return fmt.Errorf("memory from Prometheus: %w", r.prom.check)
	}
	return nil
}

// describeMemory records in ms what Prometheus returned for a run of
// length run, scraped every scrape: the series, their labels, the
// restarts and the caveats (promWarnings).
func describeMemory(ms *rundir.MemorySource, res *promsrc.Result, scrape, run time.Duration, cfg promsrc.Config) {
	ms.ScrapeInterval = scrape.Seconds()
	ms.Series = res.Series
	for pid, l := range res.Labels {
		if ms.Labels == nil {
			ms.Labels = map[string]string{}
		}
		ms.Labels[strconv.Itoa(pid)] = l
	}
	if res.Restarts >= 0 {
		n := res.Restarts
		ms.Restarts, ms.RestartsUnmatched = &n, res.Unmatched
	}
	ms.Warnings = promWarnings(scrape, run, res, cfg)
}

// promWarnings are the caveats of memory read from Prometheus.
func promWarnings(scrape, run time.Duration, res *promsrc.Result, cfg promsrc.Config) []string {
	var out []string
	if scrape > 0 && scrape*coarseFraction > run {
		out = append(out, fmt.Sprintf("memory came from Prometheus, scraped every %v: longer than a fifth of the run (%v), so the memory curve has few points; run longer or scrape more often",
			scrape, run.Round(time.Millisecond)))
	}
	if scrape == 0 {
		out = append(out, "memory came from Prometheus, whose scrape interval could not be read from its configuration")
	}
	if scrape > 0 && cfg.Step < scrape {
		out = append(out, fmt.Sprintf("the query step, sample.interval %v, is finer than Prometheus's scrape interval %v: memory.csv repeats each scrape's value, which flattens the worker RSS per request of short worker lives; set sample.interval: %v",
			cfg.Step, scrape, scrape))
	}
	if res.Unmatched > 0 {
		out = append(out, fmt.Sprintf("the restarts counter %q rose %d times but %d of those ended no worker series of %q: workers that lived less than a scrape interval are not in memory.csv",
			cfg.Restarts, res.Restarts, res.Unmatched, cfg.Memory))
	}
	if cfg.Restarts != "" && res.Restarts == 0 && res.Series > 0 {
		ends := 0
		for _, e := range res.Events {
			if e.Event == "exit" {
				ends++
			}
		}
		if ends > 0 {
			out = append(out, fmt.Sprintf("%d worker series ended but the restarts counter %q did not rise (is it the right counter?)", ends, cfg.Restarts))
		}
	}
	return out
}
