package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sawtooth-dev/sawtooth/reports"
	"github.com/sawtooth-dev/sawtooth/runner"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// runCommand is "sawtooth run": run a scenario and record it.
func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a scenario against its target and record a run directory",
		ArgsUsage: "SCENARIO",
		Description: `Runs every variant (and repeat) of SCENARIO, a scenario file or the name of a
shipped scenario ("sawtooth scenarios" lists them): starts the target, drives
the scenario's phases of traffic at it, samples the memory of its whole process
tree, scrapes its metrics and records its worker events, then stops it.
Everything is written to a new run directory, OUT/<UTC time>-<scenario>
(see docs/run-directory.md); at the end the report is built into it
(report.html, report.md, summary.json, plots/), the comparison table is
printed and so is the directory's path.

Ctrl-C stops the run, keeps what was recorded, marks it partial and exits 130.

Exit status: 0 when the run and its report succeeded — also when a threshold
is broken without --ci, which is then said, with the FAIL lines, on stderr;
1 when a run failed, the report could not be built or written (the path and
the error are printed), or, with --ci, a threshold is broken; 2 for bad usage
or input; 130 when interrupted.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Value: "runs", Usage: "`DIR` under which the run directory is created"},
			&cli.StringSliceFlag{Name: "variant", Usage: "run only the variant `NAME` (repeatable; default: all)"},
			&cli.StringSliceFlag{Name: "set", Usage: "override a builtin flag, a command variable or repeat, `KEY=VALUE` (repeatable; wins over the file and every variant), e.g. max_requests=500 or repeat=3"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "`N` seeds the choice of request classes (same seed, same request sequence)"},
			&cli.BoolFlag{Name: "quick", Usage: fmt.Sprintf("scale every phase's duration by %g (at least 1s per phase) for a smoke run", runner.QuickFactor)},
			&cli.BoolFlag{Name: "ci", Usage: "plain progress lines instead of a live status line, and exit 1 when a threshold is broken"},
			&cli.StringFlag{Name: "shard", Usage: "`I/N`: send shard I's stripe (request k when k mod N == I) of each stream's schedule and its share of closed-model clients, for a sharded run from N processes; shard 0 runs the probes (url targets only; docs/distributed.md)"},
			&cli.StringFlag{Name: "start-at", Usage: "`TIME` at which the attack begins, RFC 3339 (2026-12-01T10:00:00Z) or +DURATION from now (+30s); every shard of a run gets the same one"},
			&cli.DurationFlag{Name: "timeout", Value: runner.DefaultTimeout, Usage: "`DURATION` after which a request counts as a timeout error; overrides the scenario's client.timeout (a traffic class's own timeout still wins)"},
		},
		Action: runAction,
	}
}

func runAction(c *cli.Context) error {
	args, err := positionalArgs(c)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usageError("run: want one SCENARIO (a file or a shipped scenario's name), got %d arguments", len(args))
	}
	if c.IsSet("timeout") && c.Duration("timeout") <= 0 {
		return usageError("run: --timeout: want a positive duration, got %v", c.Duration("timeout"))
	}
	s, err := scenarios.Load(args[0])
	if err != nil {
		return usageError("%v", err)
	}
	if err := s.ApplySet(c.StringSlice("set")); err != nil {
		return usageError("%v", err)
	}
	var timeout time.Duration // 0: the scenario's client.timeout
	if c.IsSet("timeout") {
		timeout = c.Duration("timeout")
	}
	shard, startAt, err := shardFlags(c, time.Now())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := runner.Run(ctx, s, runner.Options{
		Shard:       shard,
		StartAt:     startAt,
		Out:         c.String("out"),
		Variants:    c.StringSlice("variant"),
		Seed:        c.Int64("seed"),
		Quick:       c.Bool("quick"),
		Timeout:     timeout,
		Progress:    os.Stderr,
		CI:          c.Bool("ci"),
		CommandLine: os.Args,
		ToolVersion: toolVersion(),
	})
	return finishRun(c, res.Dir, err)
}

// finishRun builds and writes the report of the run directory dir (when
// there is one), prints it, and picks the exit status from the run's error
// err, the report and the thresholds: 130 interrupted, 2 when nothing ran,
// 1 when the run failed or the report could not be built or written, 1 for
// a broken threshold with --ci; otherwise 0, saying so when a threshold
// is broken.
func finishRun(c *cli.Context, dir string, err error) error {
	var rep *reports.Report
	var rerr error
	if dir != "" {
		if rep, rerr = writeReport(c, dir); rerr != nil {
			fmt.Fprintf(c.App.ErrWriter, "sawtooth: %v\n", rerr)
		}
		fmt.Fprintf(c.App.Writer, "run directory: %s\n", dir)
	}
	switch {
	case errors.Is(err, runner.ErrInterrupted):
		return cli.Exit(err.Error(), 130)
	case err != nil && dir == "":
		return usageError("run: %v", err)
	case err != nil:
		return cli.Exit(err.Error(), 1)
	case rep == nil:
		return cli.Exit("run: the report could not be built", 1)
	case rerr != nil:
		return cli.Exit(fmt.Sprintf("run: the report could not be written: %v", rerr), 1)
	case c.Bool("ci"):
		return thresholdExit(rep)
	}
	if lines := brokenLines(rep); lines != nil {
		lines = append(lines, "exit status 0: without --ci a broken threshold does not fail the run (with --ci it exits 1)")
		fmt.Fprintln(c.App.ErrWriter, strings.Join(lines, "\n"))
	}
	return nil
}

// writeReport builds the report of the run directory dir, writes its files
// and prints its table (with the thresholds' PASS and FAIL lines), so a
// run ends with the comparison on screen. A report that was built but
// could not be written is still printed, and returned with the error.
func writeReport(c *cli.Context, dir string) (*reports.Report, error) {
	rep, err := reports.Build(dir, reports.Options{})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	werr := rep.WriteFiles()
	fmt.Fprintln(c.App.Writer)
	if err := rep.Table(c.App.Writer, colorOutput(os.Stdout)); err != nil {
		return rep, errors.Join(werr, fmt.Errorf("report: %w", err))
	}
	if werr != nil {
		return rep, fmt.Errorf("report: %w", werr)
	}
	fmt.Fprintf(c.App.Writer, "report: %s\n", filepath.Join(dir, "report.html"))
	return rep, nil
}
