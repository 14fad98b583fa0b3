package analysis

import (
	"github.com/sawtooth-dev/sawtooth/reports/plan"
)

// PlanSection is the recommendation of a scenario's plan block.
type PlanSection struct {
	Variant string `json:"variant"`
	// Recommendation is absent, and Error says why, when no plan could be
	// made.
	Recommendation *plan.Recommendation `json:"recommendation,omitempty"`
	Error          string               `json:"error,omitempty"`
}

// Lines returns the section as text lines.
func (p *PlanSection) Lines() []string {
	if p.Recommendation == nil {
		return []string{"no plan: " + p.Error}
	}
	return p.Recommendation.Text()
}

// planSection computes the scenario's plan block, if it has one.
func (r *Report) planSection() *PlanSection {
	if r.Scenario == nil || r.Scenario.Plan == nil {
		return nil
	}
	p := r.Scenario.Plan
	budget, margin := p.Budget()
	ps := &PlanSection{Variant: p.Variant}
	if ps.Variant == "" || r.variant(ps.Variant) == nil {
		ps.Variant = r.Summary.Variants[0].Name
	}
	rec, err := r.Plan(ps.Variant, PlanOptions{Budget: float64(budget), Margin: float64(margin)})
	if err != nil {
		ps.Error = err.Error()
		return ps
	}
	ps.Recommendation = &rec
	return ps
}
