package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/sawtooth-dev/sawtooth/reports"
	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// reportCommand is "sawtooth report": rebuild a run directory's report.
func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "compute a run directory's numbers, comparison and thresholds; write report.md, report.html, summary.json and plots/",
		ArgsUsage: "RUN_DIR",
		Description: `Reads RUN_DIR (written by "sawtooth run"), computes every variant's numbers
merged over repeats, compares the variants with the first (or --baseline),
evaluates the scenario's thresholds, writes summary.json, report.md,
report.html and plots/ into RUN_DIR, and prints the report in --format.
docs/reports.md explains every number.

With --ci, exits 1 when a threshold is broken, listing each with its measured
value and limit.

With --vegeta FILE instead of RUN_DIR, reads a plain vegeta results stream
(from "vegeta attack", gob, JSON or CSV), makes a run directory of it (--out,
default FILE-report: one variant "vegeta", request classes from each
result's attack name) and reports on it: latency tables, throughput, errors
and their plots, no memory or restarts.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", Usage: "`FORMAT` to print: table, md, json or html"},
			&cli.BoolFlag{Name: "ci", Usage: "exit 1 when a threshold is broken"},
			&cli.StringFlag{Name: "baseline", Usage: "compare with variant `NAME` (default: the first)"},
			&cli.Float64Flag{Name: "alpha", Value: 0.1, Usage: "significance level of the Mann-Whitney U test"},
			&cli.StringFlag{Name: "vegeta", Usage: "report on a bare vegeta results `FILE` (vegeta attack's output) instead of a RUN_DIR: latency, throughput and errors, no memory"},
			&cli.StringFlag{Name: "out", Usage: "with --vegeta: the new run `DIR` to create (default: FILE without its extension, plus -report)"},
		},
		Action: reportAction,
	}
}

func reportAction(c *cli.Context) error {
	args, err := positionalArgs(c)
	if err != nil {
		return err
	}
	if v := c.String("vegeta"); v != "" {
		if len(args) != 0 {
			return usageError("report: --vegeta FILE takes no RUN_DIR")
		}
		dir := c.String("out")
		if dir == "" {
			dir = strings.TrimSuffix(v, filepath.Ext(v)) + "-report"
		}
		if _, err := os.Stat(v); err != nil {
			return usageError("report: --vegeta: %v", err)
		}
		if err := importVegeta(v, dir); err != nil {
			return cli.Exit(fmt.Sprintf("report: --vegeta: %v", err), 1)
		}
		fmt.Fprintf(c.App.ErrWriter, "run directory: %s\n", dir)
		args = []string{dir}
	} else if c.String("out") != "" {
		return usageError("report: --out is for --vegeta")
	}
	if len(args) != 1 {
		return usageError("report: want one RUN_DIR, got %d arguments", len(args))
	}
	format := c.String("format")
	switch format {
	case "table", "md", "json", "html":
	default:
		return usageError("report: --format: want table, md, json or html, got %q", format)
	}
	if a := c.Float64("alpha"); !(a > 0 && a < 1) { // also refuses NaN
		return usageError("report: --alpha: want a level between 0 and 1, got %g", a)
	}
	if err := checkRunDir(args[0], c.String("baseline")); err != nil {
		return usageError("report: %v", err)
	}
	rep, err := reports.Build(args[0], reports.Options{Baseline: c.String("baseline"), Alpha: c.Float64("alpha")})
	if err != nil {
		return cli.Exit(fmt.Sprintf("report: %v", err), 1)
	}
	if err := rep.WriteFiles(); err != nil {
		return cli.Exit(fmt.Sprintf("report: %v", err), 1)
	}
	if err := printReport(rep, format); err != nil {
		return cli.Exit(fmt.Sprintf("report: %v", err), 1)
	}
	if c.Bool("ci") {
		return thresholdExit(rep)
	}
	return nil
}

// checkRunDir reports a path that is not a run directory, or a baseline
// that is not one of its variants: bad input, which exits 2, unlike a
// failure while building the report.
func checkRunDir(path, baseline string) error {
	d, err := rundir.Open(path)
	if err != nil {
		return err
	}
	if baseline != "" && !slices.Contains(d.Variants(), baseline) {
		return fmt.Errorf("--baseline: %q is not a variant of %s (variants: %s)", baseline, path, strings.Join(d.Variants(), ", "))
	}
	return nil
}

// printReport prints rep to standard output in format. For html it
// prints the report.html WriteFiles wrote, rather than draw every chart
// again.
func printReport(rep *reports.Report, format string) error {
	switch format {
	case "md":
		return rep.Markdown(os.Stdout)
	case "json":
		return rep.JSON(os.Stdout)
	case "html":
		f, err := os.Open(filepath.Join(rep.Dir, reports.HTMLFile))
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(os.Stdout, f)
		return err
	}
	return rep.Table(os.Stdout, colorOutput(os.Stdout))
}

// colorOutput reports whether f is a terminal that wants colour (not
// when NO_COLOR is set or TERM is dumb).
func colorOutput(f *os.File) bool {
	return term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// thresholdExit returns an exit-1 error listing the broken thresholds of
// rep, or nil when every threshold holds.
func thresholdExit(rep *reports.Report) error {
	if lines := brokenLines(rep); lines != nil {
		return cli.Exit(strings.Join(lines, "\n"), 1)
	}
	return nil
}

// brokenLines lists the broken thresholds of rep under a count, or returns
// nil when every threshold holds.
func brokenLines(rep *reports.Report) []string {
	failed := rep.Failed()
	if len(failed) == 0 {
		return nil
	}
	lines := []string{fmt.Sprintf("%d threshold(s) broken:", len(failed))}
	for _, v := range failed {
		lines = append(lines, "  FAIL  "+analysis.VerdictText(v))
	}
	return lines
}

// positionalArgs returns the command's positional arguments, accepting
// its flags after them too ("sawtooth report RUN_DIR --format md"), which
// urfave/cli alone would take as more arguments. Flags found there are
// set on c.
func positionalArgs(c *cli.Context) ([]string, error) {
	fs := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, f := range c.Command.Flags {
		if err := f.Apply(fs); err != nil {
			return nil, err
		}
	}
	var pos []string
	args := c.Args().Slice()
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, usageError("%s: %v", c.Command.Name, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	var err error
	fs.Visit(func(f *flag.Flag) {
		vals := []string{f.Value.String()}
		if sl, ok := f.Value.(interface{ Value() []string }); ok {
			vals = sl.Value() // repeatable flags such as --set
		}
		for _, v := range vals {
			if e := c.Set(f.Name, v); e != nil && err == nil {
				err = usageError("%s: --%s: %v", c.Command.Name, f.Name, e)
			}
		}
	})
	return pos, err
}
