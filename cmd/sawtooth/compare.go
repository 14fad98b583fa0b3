package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sawtooth-dev/sawtooth/reports"
	"github.com/sawtooth-dev/sawtooth/reports/analysis"
)

// compareCommand is "sawtooth compare": compare two runs of a scenario.
func compareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "compare two runs of the same scenario and fail on a significant regression",
		ArgsUsage: "BASE_RUN NEW_RUN",
		Description: `Compares every variant of NEW_RUN with the same variant of BASE_RUN (say the
main branch's run and a pull request's): latency percentiles and means per
request class, throughput, error ratio, peak memory and loop lag.

The gate (docs/ci.md) fails on a gated number (each class's p50 and p99, the
error ratio, peak PSS, peak worker RSS, loop lag p99) only when a one-sided
Mann-Whitney U test of the repeats says it got worse at the Holm-corrected
level (--alpha is the false-alarm rate over all gated numbers together), and
by more than --max-regression and the baseline's own spread. A number with
fewer than 3 repeats on a side is shown but never fails; compare says how
many repeats the gate needs (the shipped "ci" scenario has enough).

Exits 1 when a gated number regressed, naming each number and by how much;
2 for runs of different scenarios or a --quick run against a full one
(unless --force); 0 otherwise.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "max-regression", Value: "10%", Usage: "largest tolerated worsening, `PCT`: a percentage (10%) or a fraction up to 1 (0.1)"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "`FORMAT` to print: table, md or json (the deltas, regressions and notes)"},
			&cli.Float64Flag{Name: "alpha", Value: analysis.DefaultGateAlpha, Usage: "the gate's false-alarm rate `LEVEL` over all gated numbers together (Holm-corrected)"},
			&cli.BoolFlag{Name: "force", Usage: "compare runs of different scenarios, or a --quick run with a full one"},
		},
		Action: compareAction,
	}
}

func compareAction(c *cli.Context) error {
	args, err := positionalArgs(c)
	if err != nil {
		return err
	}
	if len(args) != 2 {
		return usageError("compare: want BASE_RUN and NEW_RUN, got %d arguments", len(args))
	}
	maxReg, err := parsePercent(c.String("max-regression"))
	if err != nil {
		return usageError("compare: --max-regression: %v", err)
	}
	if maxReg == 0 {
		maxReg = 1e-12 // CompareOptions takes 0 as the default
	}
	format := c.String("format")
	if format != "table" && format != "md" && format != "json" {
		return usageError("compare: --format: want table, md or json, got %q", format)
	}
	if a := c.Float64("alpha"); !(a > 0 && a < 1) { // also refuses NaN
		return usageError("compare: --alpha: want a level between 0 and 1, got %g", a)
	}
	for _, dir := range args {
		if err := checkRunDir(dir, ""); err != nil {
			return usageError("compare: %v", err)
		}
	}
	opts := reports.Options{}
	base, err := reports.Build(args[0], opts)
	if err != nil {
		return cli.Exit(fmt.Sprintf("compare: base run: %v", err), 1)
	}
	next, err := reports.Build(args[1], opts)
	if err != nil {
		return cli.Exit(fmt.Sprintf("compare: new run: %v", err), 1)
	}
	if err := reports.Comparable(base, next); err != nil && !c.Bool("force") {
		return usageError("compare: %v; pass --force to compare them anyway", err)
	}
	cmp := reports.Compare(base, next, reports.CompareOptions{MaxRegression: maxReg, Alpha: c.Float64("alpha")})
	switch format {
	case "md":
		err = cmp.Markdown(os.Stdout)
	case "json":
		err = writeJSONTo(os.Stdout, compareResult(args, cmp))
	default:
		err = cmp.Table(os.Stdout, colorOutput(os.Stdout))
	}
	if err != nil {
		return cli.Exit(fmt.Sprintf("compare: %v", err), 1)
	}
	if len(cmp.Regressions) > 0 {
		lines := []string{fmt.Sprintf("%d regression(s) beyond %s:", len(cmp.Regressions), c.String("max-regression"))}
		for _, d := range cmp.Regressions {
			lines = append(lines, "  "+analysis.RegressionText(d))
		}
		return cli.Exit(strings.Join(lines, "\n"), 1)
	}
	return nil
}

// parsePercent parses "10%" as 0.1 and a plain "0.1" as 0.1. A plain
// number above 1 is refused rather than read as a fraction: "10" is far
// likelier meant as 10% than as 1000%, which would let every regression
// pass.
func parsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("want a non-negative percentage such as 10%% or a fraction such as 0.1, got %q", s)
	}
	if pct {
		return v / 100, nil
	}
	if v > 1 {
		return 0, fmt.Errorf("a plain number is a fraction (0.1 is 10%%): write %q for %g percent, or %q for the fraction, got %q", t+"%", v, strconv.FormatFloat(v*100, 'f', -1, 64)+"%", s)
	}
	return v, nil
}
