package scenarios

import "github.com/sawtooth-dev/sawtooth/internal/units"

// Plan asks the report for a capacity plan: the recycling settings that
// keep each worker's RSS under WorkerRSSBudget (docs/plan.md).
type Plan struct {
	// WorkerRSSBudget is the size no worker's RSS may exceed, e.g. "300MiB".
	WorkerRSSBudget string `yaml:"worker_rss_budget" json:"worker_rss_budget"`
	// Margin is kept free under the budget (default 5% of it).
	Margin string `yaml:"margin,omitempty" json:"margin,omitempty"`
	// Variant is the variant planned from (default the first).
	Variant string `yaml:"variant,omitempty" json:"variant,omitempty"`
}

// Budget returns the budget and margin in bytes (margin 0 when not set).
// Validate has checked them.
func (p *Plan) Budget() (budget, margin int64) {
	budget, _ = units.ParseSize(p.WorkerRSSBudget)
	if p.Margin != "" {
		margin, _ = units.ParseSize(p.Margin)
	}
	return budget, margin
}

// validatePlan checks the plan block: a budget above 0, a margin below it,
// a variant that exists (when the variants are listed).
func validatePlan(s *Scenario, at func(path, format string, args ...any)) {
	p := s.Plan
	if p == nil {
		return
	}
	b, err := units.ParseSize(p.WorkerRSSBudget)
	if err != nil || b <= 0 {
		at("plan.worker_rss_budget", "got %q, want a size above 0 such as 300MiB", p.WorkerRSSBudget)
		return
	}
	if p.Margin != "" {
		if m, err := units.ParseSize(p.Margin); err != nil || m <= 0 || m >= b {
			at("plan.margin", "got %q, want a size above 0 and below the budget %s", p.Margin, p.WorkerRSSBudget)
		}
	}
	if p.Variant != "" && len(s.Variants) > 0 {
		for _, v := range s.Variants {
			if v.Name == p.Variant {
				return
			}
		}
		at("plan.variant", "unknown variant %q", p.Variant)
	}
}
