package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/sawtooth-dev/sawtooth/internal/units"
	"github.com/sawtooth-dev/sawtooth/reports"
	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/reports/plan"
	"github.com/sawtooth-dev/sawtooth/runner"
)

// planCommand is "sawtooth plan": recycling settings for a memory budget.
func planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "recommend max_requests (with jitter) or max_rss that keep every worker under a memory budget",
		ArgsUsage: "RUN_DIR",
		Description: `Reads RUN_DIR (written by "sawtooth run") and, from one variant's measured
base RSS of a fresh worker, its leak per request (per class, weighted by the
traffic mix, when the classes could be separated), its request rate per worker
and the measured cost of a restart, prints the largest max_requests and a
max_requests_jitter that keep every worker's RSS under --worker-rss-budget
less --margin, the restart rate and concurrency that follow, and their
predicted cost in errors and p99; and max_rss as the alternative.
docs/plan.md explains every number.

With --verify, runs the scenario again, the variant beside a copy with the
recommended settings (variant "plan"), into a new run directory next to
RUN_DIR (or under --out), and says whether the budget held (peak worker RSS
≤ budget) and whether the restarts came within --tolerance of the
prediction (or within one, for a short run). It exits 1 when the budget did not hold.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "worker-rss-budget", Usage: "`SIZE` no worker's RSS may exceed, e.g. 300MiB (required)"},
			&cli.StringFlag{Name: "margin", Usage: "`SIZE` kept free under the budget (default: 5% of it)"},
			&cli.StringFlag{Name: "variant", Usage: "plan from variant `NAME` (default: the first)"},
			&cli.Float64Flag{Name: "rate", Usage: "plan for `N` requests/s over the variant's workers (default: the measured throughput)"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "`FORMAT` to print: text or json"},
			&cli.BoolFlag{Name: "verify", Usage: "run the scenario again with the recommended settings and check the budget held"},
			&cli.StringFlag{Name: "out", Usage: "`DIR` under which --verify creates its run directory (default: RUN_DIR's parent)"},
			&cli.Float64Flag{Name: "tolerance", Value: 0.3, Usage: "`FRACTION` within which --verify expects the predicted restart rate"},
		},
		Action: planAction,
	}
}

func planAction(c *cli.Context) error {
	args, err := positionalArgs(c)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usageError("plan: want one RUN_DIR, got %d arguments", len(args))
	}
	format := c.String("format")
	if format != "text" && format != "json" {
		return usageError("plan: --format: want text or json, got %q", format)
	}
	opts, err := planOptions(c)
	if err != nil {
		return err
	}
	if err := checkRunDir(args[0], ""); err != nil {
		return usageError("plan: %v", err)
	}
	rep, err := reports.Build(args[0], reports.Options{})
	if err != nil {
		return cli.Exit(fmt.Sprintf("plan: %v", err), 1)
	}
	variant := c.String("variant")
	rec, err := rep.Plan(variant, opts)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	out := planOutput{Variant: orDefault(variant, rep.Summary.Variants[0].Name), Recommendation: rec}
	if c.Bool("verify") {
		if !rec.NeedsRecycling {
			return cli.Exit("plan: --verify: nothing to verify, the measured leak needs no recycling", 1)
		}
		v, err := verifyPlan(c, rep, out.Variant, rec, opts)
		if err != nil {
			return cli.Exit(fmt.Sprintf("plan: --verify: %v", err), 1)
		}
		out.Verify = v
	}
	if err := writePlan(c.App.Writer, format, out); err != nil {
		return cli.Exit(fmt.Sprintf("plan: %v", err), 1)
	}
	if out.Verify != nil && !out.Verify.BudgetHeld {
		return cli.Exit("plan: --verify: the budget did not hold", 1)
	}
	return nil
}

// planOptions reads the flags that size the plan.
func planOptions(c *cli.Context) (analysis.PlanOptions, error) {
	var opts analysis.PlanOptions
	budget := c.String("worker-rss-budget")
	if budget == "" {
		return opts, usageError("plan: --worker-rss-budget SIZE is required, e.g. --worker-rss-budget 300MiB")
	}
	b, err := units.ParseSize(budget)
	if err != nil || b <= 0 {
		return opts, usageError("plan: --worker-rss-budget: want a size above 0 such as 300MiB, got %q", budget)
	}
	opts.Budget = float64(b)
	if m := c.String("margin"); m != "" {
		n, err := units.ParseSize(m)
		if err != nil || n <= 0 || n >= b {
			return opts, usageError("plan: --margin: want a size above 0 and below the budget, got %q", m)
		}
		opts.Margin = float64(n)
	}
	if r := c.Float64("rate"); r < 0 {
		return opts, usageError("plan: --rate: want requests/s ≥ 0, got %g", r)
	} else {
		opts.Rate = r
	}
	if t := c.Float64("tolerance"); t <= 0 || t >= 1 {
		return opts, usageError("plan: --tolerance: want a fraction between 0 and 1, got %g", t)
	}
	return opts, nil
}

// planOutput is what "sawtooth plan" prints.
type planOutput struct {
	Variant string `json:"variant"`
	plan.Recommendation
	Verify *verification `json:"verify,omitempty"`
}

func writePlan(w io.Writer, format string, out planOutput) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	}
	fmt.Fprintf(w, "plan for variant %s\n", out.Variant)
	if err := out.Recommendation.WriteText(w); err != nil {
		return err
	}
	if v := out.Verify; v != nil {
		_, err := io.WriteString(w, strings.Join(v.text(), "\n")+"\n")
		return err
	}
	return nil
}

// verification is the outcome of --verify.
type verification struct {
	Dir string `json:"dir"`
	// PeakWorkerRSS is the largest worker RSS of the "plan" variant.
	PeakWorkerRSS float64 `json:"peak_worker_rss"`
	Budget        float64 `json:"budget"`
	BudgetHeld    bool    `json:"budget_held"`
	// Restarts and RestartsPerSecond are measured (per repeat);
	// PredictedRestarts is how many fresh workers serving the measured
	// requests reach their limit in the run, PredictedRate the long-run
	// rate at the measured throughput.
	Restarts          float64  `json:"restarts"`
	RestartsPerSecond float64  `json:"restarts_per_second"`
	PredictedRestarts float64  `json:"predicted_restarts"`
	PredictedRate     float64  `json:"predicted_restarts_per_second"`
	Tolerance         float64  `json:"tolerance"`
	RateWithin        bool     `json:"restart_rate_within_tolerance"`
	ErrorRatio        float64  `json:"error_ratio"`
	PredictedErrors   *float64 `json:"predicted_error_ratio,omitempty"`
	P99               float64  `json:"p99"`
	PredictedP99      *float64 `json:"predicted_p99,omitempty"`
}

func (v *verification) text() []string {
	held := "HELD"
	if !v.BudgetHeld {
		held = "BROKEN"
	}
	within := "within"
	if !v.RateWithin {
		within = "NOT within"
	}
	out := []string{
		fmt.Sprintf("verify: run %s", v.Dir),
		fmt.Sprintf("  budget %s: peak worker RSS %s", held, analysis.FormatValue(v.PeakWorkerRSS, analysis.UnitBytes)),
		fmt.Sprintf("  restarts %.0f measured, %.0f predicted for this run (%s ±%.0f%%); %.3g/s measured, %.3g/s in the long run", v.Restarts, v.PredictedRestarts, within, v.Tolerance*100, v.RestartsPerSecond, v.PredictedRate),
	}
	line := fmt.Sprintf("  errors %s, p99 %s measured", analysis.FormatValue(v.ErrorRatio, analysis.UnitRatio), analysis.FormatValue(v.P99, analysis.UnitSeconds))
	if v.PredictedErrors != nil && v.PredictedP99 != nil {
		line += fmt.Sprintf("; %s and %s predicted", analysis.FormatValue(*v.PredictedErrors, analysis.UnitRatio), analysis.FormatValue(*v.PredictedP99, analysis.UnitSeconds))
	}
	return append(out, line)
}

// verifyPlan runs rep's scenario again: variant beside "plan", variant with
// the recommended max_requests and jitter.
func verifyPlan(c *cli.Context, rep *reports.Report, variant string, rec plan.Recommendation, opts analysis.PlanOptions) (*verification, error) {
	s, err := rep.VerifyScenario(variant, rec)
	if err != nil {
		return nil, err
	}
	out := c.String("out")
	if out == "" {
		out = filepath.Dir(filepath.Clean(rep.Dir))
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := runner.Run(ctx, s, runner.Options{Out: out, Seed: rep.Summary.Seed, Progress: os.Stderr, CommandLine: os.Args, ToolVersion: version})
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", res.Dir, err)
	}
	vrep, err := reports.Build(res.Dir, reports.Options{})
	if err != nil {
		return nil, err
	}
	if err := vrep.WriteFiles(); err != nil {
		return nil, err
	}
	return checkVerification(vrep, rec, opts, c.Float64("tolerance"))
}

// checkVerification compares the "plan" variant of vrep with rec.
func checkVerification(vrep *reports.Report, rec plan.Recommendation, opts analysis.PlanOptions, tol float64) (*verification, error) {
	v, ok := vrep.Variant(analysis.PlanVariant)
	if !ok {
		return nil, fmt.Errorf("%s has no variant %s", vrep.Dir, analysis.PlanVariant)
	}
	peak, ok := v.Metric("memory.worker_rss.peak")
	if !ok {
		return nil, fmt.Errorf("%s: no worker RSS was measured", vrep.Dir)
	}
	out := &verification{Dir: vrep.Dir, PeakWorkerRSS: peak.Value, Budget: opts.Budget, BudgetHeld: peak.Value <= opts.Budget, Tolerance: tol}
	restarts, _ := v.Metric("restarts.count")
	out.Restarts = restarts.Value
	var duration float64
	for _, r := range v.Runs {
		duration += r.Duration
	}
	duration /= float64(max(1, len(v.Runs)))
	if duration > 0 {
		out.RestartsPerSecond = restarts.Value / duration
	}
	if all, ok := v.Metric("all.rps"); ok && rec.Recycling.RequestsPerLife > 0 {
		out.PredictedRate = all.Value / rec.Recycling.RequestsPerLife
	}
	// Workers start fresh, so a run of a few lives has fewer restarts
	// than the long-run rate says: each worker restarts once per life it
	// completes.
	count, _ := v.Metric("all.count") // per repeat
	if workers := rec.Input.Workers; workers > 0 && rec.Recycling.RequestsPerLife > 0 {
		out.PredictedRestarts = float64(workers) * math.Floor(count.Value/float64(workers)/rec.Recycling.RequestsPerLife)
	}
	out.RateWithin = abs(out.Restarts-out.PredictedRestarts) <= math.Max(1, tol*out.PredictedRestarts)
	if e, ok := v.Metric("errors.ratio"); ok {
		out.ErrorRatio = e.Value
	}
	if p, ok := v.Metric("all.p99"); ok {
		out.P99 = p.Value
	}
	out.PredictedErrors, out.PredictedP99 = rec.Recycling.ErrorRatio, rec.Recycling.P99
	return out, nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
