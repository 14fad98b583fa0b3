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
	var res Result
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = 5 * time.Second
	}
	if opt.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return res, fmt.Errorf("find the sawtooth binary for the built-in server: %w", err)
		}
		opt.Binary = exe
	}
	if opt.CommandLine == nil {
		opt.CommandLine = os.Args
	}
	sc, err := clone(s)
	if err != nil {
		return res, err
	}
	if err := checkShard(sc, opt); err != nil {
		return res, err
	}
	if opt.Quick {
		sc.Scale(QuickFactor)
	}
	variants, err := selectVariants(sc.Expand(), opt.Variants)
	if err != nil {
		return res, err
	}
	repeat := max(sc.Repeat, 1)

	dir, err := makeRunDir(opt, sc.Name)
	if err != nil {
		return res, err
	}
	res.Dir = dir
	yml, err := sc.Marshal()
	if err != nil {
		return res, fmt.Errorf("record the scenario: %w", err)
	}
	if err := rundir.WriteFile(filepath.Join(dir, rundir.ScenarioFile), yml); err != nil {
		return res, fmt.Errorf("record the scenario: %w", err)
	}
	if err := rundir.WriteThresholds(filepath.Join(dir, rundir.ThresholdsFile), scenarios.RecordedThresholds(sc.Thresholds)); err != nil {
		return res, fmt.Errorf("record the thresholds: %w", err)
	}
	host, _ := os.Hostname()
	meta := rundir.Meta{
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
	metaPath := filepath.Join(dir, rundir.MetaFile)
	if err := rundir.WriteJSON(metaPath, meta); err != nil {
		return res, err
	}

	var failures []string
	interrupted := false
	startAt := opt.StartAt
loop:
	for _, v := range variants {
		for r := 1; r <= repeat; r++ {
			if ctx.Err() != nil {
				interrupted = true
				break loop
			}
			ref := rundir.RunRef{Variant: v.Name, Repeat: r, Dir: rundir.RunPath(v.Name, r)}
			one := &run{sc: sc, variant: v, repeat: r, seed: opt.Seed + int64(r) - 1, opt: &opt, dir: filepath.Join(dir, ref.Dir), startAt: startAt}
			startAt = nextStart(startAt, sc, v, opt)
			info, err := one.do(ctx)
			if info != nil {
				meta.Runs = append(meta.Runs, ref)
				res.Runs = append(res.Runs, ref)
				for _, w := range info.Harness.Warnings {
					res.Warnings = append(res.Warnings, fmt.Sprintf("%s #%d: %s", v.Name, r, w))
				}
			}
			if errors.Is(err, ErrInterrupted) {
				interrupted = true
				break loop
			}
			if err != nil {
				failures = append(failures, fmt.Sprintf("variant %s, repeat %d: %v", v.Name, r, err))
			}
			meta.End = time.Now().UTC()
			if err := rundir.WriteJSON(metaPath, meta); err != nil {
				return res, err
			}
		}
	}
	meta.End = time.Now().UTC()
	meta.Partial, meta.Reason = false, ""
	switch {
	case interrupted:
		meta.Partial, meta.Reason = true, "interrupted"
	case len(failures) > 0:
		meta.Partial, meta.Reason = true, "failed: "+strings.Join(failures, "; ")
	}
	res.Partial = meta.Partial
	if err := rundir.WriteJSON(metaPath, meta); err != nil {
		return res, err
	}
	switch {
	case interrupted:
		return res, fmt.Errorf("%w: the run directory %s is marked partial", ErrInterrupted, dir)
	case len(failures) > 0:
		return res, fmt.Errorf("%d of the runs failed:\n%s", len(failures), strings.Join(failures, "\n"))
	}
	return res, nil
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
