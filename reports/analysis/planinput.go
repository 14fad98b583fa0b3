package analysis

import (
	"fmt"
	"math"
	"strconv"

	"github.com/sawtooth-dev/sawtooth/reports/plan"
)

// CostSource measures the cost of one worker restart of a variant for
// the capacity plan. ReplacementCost is the one there is today; the
// restart-window analysis can replace it without touching the plan.
type CostSource interface {
	RestartCost(v *VariantSummary) plan.Cost
}

// ReplacementCost takes a restart to last from a worker's exit to its
// replacement being ready (restarts.replace_mean), and its errors and p99
// from the restart-window analysis: the excess errors per restart
// (recycle.errors_per_restart) and the p99 of requests in flight inside a
// window against the others'.
type ReplacementCost struct{}

// RestartCost implements CostSource.
func (ReplacementCost) RestartCost(v *VariantSummary) plan.Cost {
	rc := v.Recycling
	window, ok := v.Metric("restarts.replace_mean")
	if rc.Restarts <= 0 || !ok {
		return plan.Cost{Source: "no restart in the run"}
	}
	c := plan.Cost{Measured: true, Source: "exit to replacement ready (restarts.replace_mean); errors and p99 inside restart windows",
		Window: window.Value, NearWindow: rc.Covered / float64(rc.Restarts) / 2,
		NearP99: rc.InWindow.Latency.P99, OtherP99: rc.OutWindow.Latency.P99}
	if rc.ErrorsPerRestart != nil {
		c.ErrorsPerRestart = math.Max(0, *rc.ErrorsPerRestart)
	} else {
		c.ErrorsPerRestart = float64(rc.InWindow.Errors) / float64(rc.Restarts)
	}
	return c
}

// PlanOptions configure Report.Plan. Sizes are bytes.
type PlanOptions struct {
	Budget float64
	// Margin is kept free under the budget; 5% of it when 0.
	Margin float64
	// Rate is the requests per second to plan for; the variant's
	// measured throughput when 0.
	Rate float64
	// Cost measures a restart; ReplacementCost when nil.
	Cost CostSource
}

// DefaultMargin is the share of the budget kept free when no margin is
// given: the noise of a worker's RSS about its fitted line.
const DefaultMargin = 0.05

// Plan recommends recycling settings for variant (the first when empty)
// that keep each worker's RSS under opts.Budget.
func (r *Report) Plan(variant string, opts PlanOptions) (plan.Recommendation, error) {
	in, err := r.PlanInput(variant, opts)
	if err != nil {
		return plan.Recommendation{}, err
	}
	return plan.Recommend(in)
}

// PlanInput measures the plan's input from a variant.
func (r *Report) PlanInput(variant string, opts PlanOptions) (plan.Input, error) {
	if variant == "" {
		variant = r.Summary.Variants[0].Name
	}
	v := r.variant(variant)
	if v == nil {
		return plan.Input{}, fmt.Errorf("plan: %q is not a variant of this run (variants: %v)", variant, r.variantNames())
	}
	if v.Leak == nil || v.Leak.RSS.Mix == nil {
		return plan.Input{}, fmt.Errorf("plan: variant %s has no per-worker leak fit: no response named its worker (header %s), or too few memory samples", variant, r.workerHeader())
	}
	if opts.Cost == nil {
		opts.Cost = ReplacementCost{}
	}
	if opts.Margin == 0 {
		opts.Margin = DefaultMargin * opts.Budget
	}
	f := v.Leak.RSS
	in := plan.Input{Budget: opts.Budget, Margin: opts.Margin, Base: f.Base, Rate: opts.Rate, Cost: opts.Cost.RestartCost(v)}
	if in.Rate == 0 {
		if all, ok := v.Metric("all.rps"); ok {
			in.Rate = all.Value
		}
	}
	in.Workers = r.workers(v)
	in.Leak, in.LeakHigh, in.WorstLeak = f.Mix.Value, f.Mix.High, f.Mix.High
	in.LeakSource = "one slope over all requests (the run's mix)"
	if f.Identifiable {
		weights := r.trafficWeights(f)
		var leak, high, worst float64
		for _, c := range f.Classes {
			leak += weights[c.Class] * c.PerRequest.Value
			high += weights[c.Class] * c.PerRequest.High
			worst = math.Max(worst, c.PerRequest.High)
		}
		in.Leak, in.LeakHigh, in.WorstLeak = leak, high, worst
		in.LeakSource = "per-class leaks weighted by the traffic mix"
	}
	return in, nil
}

// trafficWeights are the classes' shares of the scenario's traffic (the
// run's shares when the scenario is not known, or has several streams,
// whose classes' shares depend on each stream's rate).
func (r *Report) trafficWeights(f LeakFit) map[string]float64 {
	w := map[string]float64{}
	if r.Scenario != nil && len(r.Scenario.Streams) == 0 {
		sum := 0.0
		for _, c := range r.Scenario.Traffic {
			sum += c.Weight
		}
		for _, c := range r.Scenario.Traffic {
			w[c.Name] = c.Weight / sum
		}
		return w
	}
	for _, c := range f.Classes {
		w[c.Class] = c.Share
	}
	return w
}

// workers returns the number of workers of a variant: its "workers"
// setting, the target's, or else the worker lives the first repeat fitted.
func (r *Report) workers(v *VariantSummary) int {
	if n, err := strconv.Atoi(v.Set["workers"]); err == nil && n > 0 {
		return n
	}
	if r.Scenario != nil {
		t := r.Scenario.Target
		val := t.Builtin["workers"]
		if t.Command != nil {
			val = t.Command.Vars["workers"]
		}
		if n, err := strconv.Atoi(val); err == nil && n > 0 {
			return n
		}
	}
	if len(v.Runs) > 0 && v.Runs[0].Leak != nil {
		return v.Runs[0].Leak.RSS.Lives
	}
	return 1
}

func (r *Report) workerHeader() string {
	if r.Scenario != nil {
		return r.Scenario.Target.WorkerIDHeader()
	}
	return HeaderWorkerPid
}
