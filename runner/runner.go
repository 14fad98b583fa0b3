// Package runner runs a scenario: for every variant and repeat it starts
// the target in its own process group, waits until it is ready, drives the
// scenario's phases of traffic at it with one vegeta Attacker, and, while
// the load runs, samples the memory of the target's whole process tree,
// scrapes its metrics and records its lifecycle events. Everything is
// streamed into a run directory (package rundir) that reports read later.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/attack"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// QuickFactor is how much --quick scales the phases' durations.
const QuickFactor = 0.1

// DefaultTimeout is the default request timeout (the scenario's
// client.timeout defaults to the same).
const DefaultTimeout = 30 * time.Second

// ErrInterrupted is returned (wrapped) when the context was cancelled
// during a run, e.g. by Ctrl-C: the run directory is then marked partial.
var ErrInterrupted = errors.New("run interrupted")

// Options configure a run.
type Options struct {
	// Out is the directory under which the run directory is created
	// (default "runs"), as Out/<UTC time YYYYMMDD-HHMMSS>-<scenario>.
	Out string
	// Dir, when set, is the exact run directory to create instead.
	Dir string
	// Variants restricts the run to the variants with these names (all
	// when empty).
	Variants []string
	// Seed seeds the choice of request classes; repeat r of every variant
	// uses Seed+r-1, so variants see the same sequence of requests.
	Seed int64
	// Quick scales the phases' durations by QuickFactor for a smoke run.
	Quick bool
	// Binary is the sawtooth executable started for builtin targets
	// (default: this executable).
	Binary string
	// Timeout, when > 0, bounds each request instead of the scenario's
	// client.timeout (a traffic class's own timeout still wins).
	Timeout time.Duration
	// Progress receives status lines (none when nil). On a terminal the
	// line is rewritten in place unless CI is set.
	Progress io.Writer
	// CI forces plain progress lines every ProgressEvery.
	CI bool
	// ProgressEvery is the period of plain progress lines (default 5s).
	ProgressEvery time.Duration
	// Shard, when Shard.Count > 1, makes this process one shard of a
	// sharded run: it sends its stripe of each stream's schedule and its
	// share of each closed-model phase's clients (package attack's Shard)
	// to a url target, which it never starts or stops; shard 0 alone
	// runs the probes.
	Shard attack.Shard
	// StartAt, when set, is when the first run's attack begins: the
	// runner waits for it after the target is ready, and the schedule
	// counts from it. Later variants and repeats begin one slot later
	// each (nextStart), so that every shard starts them together.
	StartAt time.Time
	// CommandLine and ToolVersion are recorded in meta.json.
	CommandLine []string
	ToolVersion string
}

// Result says where a run was recorded and how it went.
type Result struct {
	// Dir is the run directory ("" if it could not be created).
	Dir string
	// Runs are the variant/repeat directories recorded, in order.
	Runs []rundir.RunRef
	// Partial is true when not every variant and repeat finished.
	Partial bool
	// Warnings collects the harness's warnings of every run, each
	// prefixed with its variant and repeat.
	Warnings []string
}

// Run runs every selected variant and repeat of s and records them in a
// new run directory. s is not modified. When ctx is cancelled the current
// run is stopped, everything recorded so far is written, the directory is
// marked partial and the error wraps ErrInterrupted. A target that fails
// (never ready, exits early, leaves processes behind) fails its run; the
// other variants still run and the error lists every failure.
func Run(ctx context.Context, s *scenarios.Scenario, opt Options) (Result, error) {
	if err := opt.setDefaults(); err != nil {
		return Result{}, err
	}
	sc, variants, err := prepare(s, opt)
	if err != nil {
		return Result{}, err
	}
	dir, err := makeRunDir(opt, sc.Name)
	if err != nil {
		return Result{}, err
	}
	ss := &session{sc: sc, opt: &opt, dir: dir, metaPath: filepath.Join(dir, rundir.MetaFile)}
	ss.res.Dir = dir
	if err := recordScenario(dir, sc); err != nil {
		return ss.res, err
	}
	ss.meta = newMeta(opt, sc)
	if err := ss.writeMeta(); err != nil {
		return ss.res, err
	}
	if err := ss.runAll(ctx, variants); err != nil {
		return ss.res, err
	}
	return ss.finish()
}

// setDefaults fills in the options Run defaults.
func (opt *Options) setDefaults() error {
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = 5 * time.Second
	}
	if opt.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the sawtooth binary for the built-in server: %w", err)
		}
		opt.Binary = exe
	}
	if opt.CommandLine == nil {
		opt.CommandLine = os.Args
	}
	return nil
}

// prepare returns the copy of s that is run (scaled for --quick) and its
// variants selected by opt.Variants.
func prepare(s *scenarios.Scenario, opt Options) (*scenarios.Scenario, []scenarios.Variant, error) {
	sc, err := clone(s)
	if err != nil {
		return nil, nil, err
	}
	if err := checkShard(sc, opt); err != nil {
		return nil, nil, err
	}
	if opt.Quick {
		sc.Scale(QuickFactor)
	}
	variants, err := selectVariants(sc.Expand(), opt.Variants)
	if err != nil {
		return nil, nil, err
	}
	return sc, variants, nil
}

// recordScenario writes the scenario as run and its thresholds into the
// run directory.
func recordScenario(dir string, sc *scenarios.Scenario) error {
	yml, err := sc.Marshal()
	if err != nil {
		return fmt.Errorf("record the scenario: %w", err)
	}
	if err := rundir.WriteFile(filepath.Join(dir, rundir.ScenarioFile), yml); err != nil {
		return fmt.Errorf("record the scenario: %w", err)
	}
	if err := rundir.WriteThresholds(filepath.Join(dir, rundir.ThresholdsFile), scenarios.RecordedThresholds(sc.Thresholds)); err != nil {
		return fmt.Errorf("record the thresholds: %w", err)
	}
	return nil
}

// newMeta returns the meta.json of a run that has just begun: partial,
// "in progress", with no runs yet.
func newMeta(opt Options, sc *scenarios.Scenario) rundir.Meta {
	host, _ := os.Hostname()
	return rundir.Meta{
		FormatVersion: rundir.FormatVersion,
		ToolVersion:   opt.ToolVersion,
		GoVersion:     runtime.Version(),
		Host:          host,
		CommandLine:   opt.CommandLine,
		Scenario:      sc.Name,
		Seed:          opt.Seed,
		Quick:         opt.Quick,
		Start:         time.Now().UTC(),
		Partial:       true,
		Reason:        "in progress",
		Runs:          []rundir.RunRef{},
		Shard:         shardInfo(opt),
	}
}

// A session is one call of Run: the variant/repeat runs it has recorded
// so far and how they went.
type session struct {
	sc       *scenarios.Scenario
	opt      *Options
	dir      string // the run directory
	metaPath string
	meta     rundir.Meta
	res      Result

	failures    []string // one line per failed run
	interrupted bool
}

func (ss *session) writeMeta() error {
	return rundir.WriteJSON(ss.metaPath, ss.meta)
}

// runAll runs every repeat of every variant in turn until ctx is
// cancelled. It returns an error only when meta.json cannot be written;
// the runs' own failures are collected in ss.failures.
func (ss *session) runAll(ctx context.Context, variants []scenarios.Variant) error {
	repeat := max(ss.sc.Repeat, 1)
	startAt := ss.opt.StartAt
	for _, v := range variants {
		for r := 1; r <= repeat; r++ {
			if ctx.Err() != nil {
				ss.interrupted = true
				return nil
			}
			ref := rundir.RunRef{Variant: v.Name, Repeat: r, Dir: rundir.RunPath(v.Name, r)}
			one := &run{sc: ss.sc, variant: v, repeat: r, seed: ss.opt.Seed + int64(r) - 1, opt: ss.opt, dir: filepath.Join(ss.dir, ref.Dir), startAt: startAt}
			startAt = nextStart(startAt, ss.sc, v, *ss.opt)
			if err := ss.runOne(ctx, one, ref); err != nil || ss.interrupted {
				return err
			}
		}
	}
	return nil
}

// runOne runs one variant/repeat and records it: in meta.json (unless it
// was interrupted) and, with its warnings, in the result.
func (ss *session) runOne(ctx context.Context, one *run, ref rundir.RunRef) error {
	info, err := one.do(ctx)
	if info != nil {
		ss.meta.Runs = append(ss.meta.Runs, ref)
		ss.res.Runs = append(ss.res.Runs, ref)
		for _, w := range info.Harness.Warnings {
			ss.res.Warnings = append(ss.res.Warnings, fmt.Sprintf("%s #%d: %s", ref.Variant, ref.Repeat, w))
		}
	}
	if errors.Is(err, ErrInterrupted) {
		ss.interrupted = true
		return nil
	}
	if err != nil {
		ss.failures = append(ss.failures, fmt.Sprintf("variant %s, repeat %d: %v", ref.Variant, ref.Repeat, err))
	}
	ss.meta.End = time.Now().UTC()
	return ss.writeMeta()
}

// finish writes the final meta.json, partial if the session was
// interrupted or a run failed, and returns Run's result.
func (ss *session) finish() (Result, error) {
	ss.meta.End = time.Now().UTC()
	ss.meta.Partial, ss.meta.Reason = false, ""
	switch {
	case ss.interrupted:
		ss.meta.Partial, ss.meta.Reason = true, "interrupted"
	case len(ss.failures) > 0:
		ss.meta.Partial, ss.meta.Reason = true, "failed: "+strings.Join(ss.failures, "; ")
	}
	ss.res.Partial = ss.meta.Partial
	if err := ss.writeMeta(); err != nil {
		return ss.res, err
	}
	switch {
	case ss.interrupted:
		return ss.res, fmt.Errorf("%w: the run directory %s is marked partial", ErrInterrupted, ss.dir)
	case len(ss.failures) > 0:
		return ss.res, fmt.Errorf("%d of the runs failed:\n%s", len(ss.failures), strings.Join(ss.failures, "\n"))
	}
	return ss.res, nil
}

// clone returns a deep copy of s, so that --quick does not change the
// caller's scenario.
func clone(s *scenarios.Scenario) (*scenarios.Scenario, error) {
	c := *s
	c.Phases = slices.Clone(s.Phases)
	c.Streams = slices.Clone(s.Streams)
	for i := range c.Streams {
		c.Streams[i].Phases = slices.Clone(s.Streams[i].Phases)
	}
	return &c, nil
}

func selectVariants(all []scenarios.Variant, names []string) ([]scenarios.Variant, error) {
	if len(names) == 0 {
		return all, nil
	}
	var out []scenarios.Variant
	var known []string
	for _, v := range all {
		known = append(known, v.Name)
	}
	for _, n := range names {
		i := slices.IndexFunc(all, func(v scenarios.Variant) bool { return v.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("--variant %q: no such variant (the scenario has: %s)", n, strings.Join(known, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// makeRunDir creates the run directory: opt.Dir, or a new
// Out/<UTC time>-<scenario> (with a -2, -3... suffix if taken).
func makeRunDir(opt Options, name string) (string, error) {
	if opt.Dir != "" {
		if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
			return "", fmt.Errorf("create run directory: %w", err)
		}
		return opt.Dir, nil
	}
	out := opt.Out
	if out == "" {
		out = "runs"
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("create run directory: %w", err)
	}
	clean := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == ' ' || r == 0 {
			return '_'
		}
		return r
	}, name)
	base := filepath.Join(out, time.Now().UTC().Format("20060102-150405")+"-"+clean)
	dir := base
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) || i > 100 {
			return "", fmt.Errorf("create run directory: %w", err)
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}
