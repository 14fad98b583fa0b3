package analysis

import (
	"fmt"
	"maps"
	"strconv"

	"github.com/sawtooth-dev/sawtooth/reports/plan"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// PlanVariant is the name of the variant "sawtooth plan --verify" runs
// with the recommended settings.
const PlanVariant = "plan"

// Variant returns the summary of the variant called name.
func (r *Report) Variant(name string) (*VariantSummary, bool) {
	v := r.variant(name)
	return v, v != nil
}

// VerifyScenario returns the run's scenario with two variants: variant
// as it ran, and PlanVariant, the same with rec's max_requests and
// jitter. A built-in target takes its max_requests and
// max_requests_jitter flags; a command target needs a "max_requests"
// variable, and "max_requests_jitter" or "jitter" for the jitter.
func (r *Report) VerifyScenario(variant string, rec plan.Recommendation) (*scenarios.Scenario, error) {
	if r.Scenario == nil {
		return nil, fmt.Errorf("%s has no scenario.yaml to run again", r.Dir)
	}
	v := r.variant(variant)
	if v == nil {
		return nil, fmt.Errorf("%q is not a variant of this run", variant)
	}
	s := *r.Scenario
	s.Plan = nil
	s.Matrix = nil
	maxReq, jitter := "max_requests", "max_requests_jitter"
	if s.Target.URL != nil {
		return nil, fmt.Errorf("the target is a url target, which sawtooth does not start or configure: set max_requests %d and jitter %d on the server yourself, then run the scenario again and compare", rec.MaxRequests, rec.Jitter)
	}
	if c := s.Target.Command; c != nil {
		if _, ok := c.Vars[maxReq]; !ok {
			return nil, fmt.Errorf("the command target has no %q variable to set (vars: %v)", maxReq, sortedKeys(c.Vars))
		}
		if _, ok := c.Vars[jitter]; !ok {
			jitter = "jitter"
			if _, ok := c.Vars[jitter]; !ok {
				return nil, fmt.Errorf("the command target has no \"max_requests_jitter\" or \"jitter\" variable to set (vars: %v)", sortedKeys(c.Vars))
			}
		}
	}
	set := maps.Clone(v.Set)
	if set == nil {
		set = map[string]string{}
	}
	planned := maps.Clone(set)
	planned[maxReq] = strconv.FormatInt(rec.MaxRequests, 10)
	planned[jitter] = strconv.FormatInt(rec.Jitter, 10)
	name := variant
	if name == PlanVariant {
		name = variant + "-measured"
	}
	s.Variants = []scenarios.Variant{{Name: name, Set: set}, {Name: PlanVariant, Set: planned}}
	return &s, nil
}
