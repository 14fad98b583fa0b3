package analysis

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/sawtooth-dev/sawtooth/reports/runread"
	"github.com/sawtooth-dev/sawtooth/reports/stats"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// Options configure Build.
type Options struct {
	// Baseline is the variant the others are compared with; the first
	// variant that ran when empty.
	Baseline string
	// Alpha is the significance level of the U test; stats.DefaultAlpha
	// when 0.
	Alpha float64
}

// Report is a built report of one run directory.
type Report struct {
	// Dir is the run directory.
	Dir     string
	Summary Summary
	// Scenario is the scenario as run; nil when scenario.yaml is absent.
	Scenario *scenarios.Scenario
	runs     map[string][]*run // by variant name
	// pooled is every repeat's requests of class all, by variant name.
	pooled map[string]*sample
}

// Build reads the run directory dir and computes its report. It does
// not write anything; see WriteFiles.
func Build(dir string, opts Options) (*Report, error) {
	d, err := runread.Open(dir)
	if err != nil {
		return nil, err
	}
	if opts.Alpha == 0 {
		opts.Alpha = stats.DefaultAlpha
	}
	rep := &Report{Dir: dir, Scenario: d.Scenario, runs: map[string][]*run{}, pooled: map[string]*sample{}}
	m := d.Meta
	s := &rep.Summary
	*s = Summary{Schema: SummarySchema, Version: SummaryVersion, Scenario: m.Scenario, ToolVersion: m.ToolVersion,
		Start: m.Start, End: m.End, Seed: m.Seed, Quick: m.Quick, Partial: m.Partial, Reason: m.Reason, Alpha: opts.Alpha}
	if m.Partial {
		s.Warnings = append(s.Warnings, "the run is partial: "+orDefault(m.Reason, "it did not finish"))
	}
	if d.Scenario != nil {
		s.Description = d.Scenario.Description
	}

	lo := leakOptions{header: scenarios.DefaultWorkerHeader}
	if rep.Scenario != nil {
		lo = leakOptions{header: rep.Scenario.Target.WorkerIDHeader(), warmup: rep.Scenario.Sample.Warmup.D().Seconds()}
	}
	for _, name := range d.Variants() {
		v := VariantSummary{Name: name}
		var lives []leakLife
		pooledClasses := map[string]*sample{}
		in, out := &sample{}, &sample{}
		var restarts int
		var cov float64
		var duration float64
		var perRun [][]Metric
		for _, ref := range d.Meta.Runs {
			if ref.Variant != name {
				continue
			}
			r, err := readRun(d, ref, lo)
			if err != nil {
				if m.Partial && errors.Is(err, os.ErrNotExist) {
					s.Warnings = append(s.Warnings, fmt.Sprintf("%s repeat %d was not recorded", name, ref.Repeat))
					continue
				}
				return nil, fmt.Errorf("%s repeat %d: %w", name, ref.Repeat, err)
			}
			r.summary.Leak = fitLeaks(r.lives, rep.leakClasses(r.classes), lo.header)
			lives = append(lives, r.lives...)
			rep.runs[name] = append(rep.runs[name], r)
			v.Params, v.Set = r.info.Params, r.info.Set
			v.Partial = v.Partial || r.info.Partial
			v.Runs = append(v.Runs, r.summary)
			for c, cs := range r.classes {
				if pooledClasses[c] == nil {
					pooledClasses[c] = &sample{}
				}
				pooledClasses[c].merge(cs)
			}
			in.merge(r.in)
			out.merge(r.out)
			restarts += r.summary.Restarts.Count
			cov += r.summary.Recycling.Covered
			duration += r.summary.Duration
			perRun = append(perRun, runMetrics(&r.summary))
			s.Warnings = append(s.Warnings, runWarnings(r)...)
			if n := memorySourceNote(fmt.Sprintf("%s repeat %d", name, ref.Repeat), r.info.Memory); n != "" {
				s.Notes = append(s.Notes, n)
			}
		}
		if len(v.Runs) == 0 {
			continue
		}
		v.Repeats = len(v.Runs)
		v.Classes = classList(pooledClasses, duration)
		rep.pooled[name] = pooledClasses[AllClass]
		v.Recycling = recyclingCost(in, out, restarts, cov, duration)
		v.Leak = fitLeaks(lives, rep.leakClasses(pooledClasses), lo.header)
		v.Metrics = mergeMetrics(append(requestMetrics(v.Classes, v.Recycling), leakMetrics(v.Leak)...), perRun)
		v.Headline = headline(&v)
		s.Variants = append(s.Variants, v)
	}
	if len(s.Variants) == 0 {
		return nil, fmt.Errorf("run directory %s: no variant was recorded", dir)
	}
	s.Warnings = dedupe(s.Warnings)
	s.HiddenErrors = hiddenErrors(s.Variants)
	s.Notes = dedupe(s.Notes)
	s.Baseline = s.Variants[0].Name
	if opts.Baseline != "" {
		if rep.variant(opts.Baseline) == nil {
			return nil, fmt.Errorf("baseline %q is not a variant of this run (variants: %s)", opts.Baseline, strings.Join(rep.variantNames(), ", "))
		}
		s.Baseline = opts.Baseline
	}
	base := rep.variant(s.Baseline)
	for i := range s.Variants {
		if s.Variants[i].Name != s.Baseline {
			s.Comparison = append(s.Comparison, compareVariants(base, &s.Variants[i], s.Variants[i].Name, opts.Alpha)...)
		}
	}
	s.Findings = rep.findings()
	s.Thresholds, s.Warnings = thresholdVerdicts(d, s.Variants, s.Warnings)
	if rep.Scenario != nil {
		s.Plan = rep.planSection()
	}
	return rep, nil
}

// leakClasses are the classes the leak fit splits by: the scenario's
// classes (of every stream) when it is known (so that a class that was never served
// is asked for, and refused), otherwise those of the results.
func (r *Report) leakClasses(seen map[string]*sample) []string {
	var out []string
	if r.Scenario != nil {
		return r.Scenario.ClassNames()
	}
	for c := range seen {
		if c != AllClass {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// dedupe returns ws without repeated lines, in their first order.
func dedupe(ws []string) []string {
	seen := map[string]bool{}
	out := ws[:0]
	for _, w := range ws {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// runWarnings are the problems with one run's measurement. Whether the
// harness kept its rate is the runner's call (run.json's harness warnings),
// made once where the schedule is known.
func runWarnings(r *run) []string {
	id := fmt.Sprintf("%s repeat %d", r.summary.Variant, r.summary.Repeat)
	var out []string
	for _, w := range r.info.Harness.Warnings {
		out = append(out, id+": "+w)
	}
	if r.summary.ClosedModel {
		out = append(out, id+": a closed-model phase (fixed concurrency) hides queueing delay from the latencies")
	}
	if r.info.Partial {
		out = append(out, id+": partial: "+orDefault(r.info.Error, "interrupted"))
	}
	out = append(out, memorySourceWarnings(id, r.info.Memory)...)
	if n, err := strconv.Atoi(r.info.Set["max_requests"]); err == nil && n > 0 && r.summary.Restarts.Count == 0 {
		var sent int64
		for _, c := range r.summary.Classes {
			if c.Class == AllClass {
				sent = c.Count
			}
		}
		out = append(out, fmt.Sprintf("%s: sets max_requests %d but no worker was recycled (%d requests in all): the run was too short to measure recycling; run it longer (without --quick) or lower max_requests", id, n, sent))
	}
	return out
}

// Failed returns the thresholds that do not hold (or could not be
// evaluated), in the order they were evaluated.
func (r *Report) Failed() []Verdict {
	var out []Verdict
	for _, v := range r.Summary.Thresholds {
		if !v.Pass {
			out = append(out, v)
		}
	}
	return out
}

func (r *Report) variant(name string) *VariantSummary {
	for i := range r.Summary.Variants {
		if r.Summary.Variants[i].Name == name {
			return &r.Summary.Variants[i]
		}
	}
	return nil
}

func (r *Report) variantNames() []string {
	var names []string
	for _, v := range r.Summary.Variants {
		names = append(names, v.Name)
	}
	return names
}

// thresholdVerdicts evaluates d's thresholds for every variant, after a
// failed verdict when they could not all be read. A scenario that no
// longer validates, when the thresholds did not come from it, only adds a
// warning to warnings.
func thresholdVerdicts(d *runread.Dir, variants []VariantSummary, warnings []string) ([]Verdict, []string) {
	var out []Verdict
	th := d.Thresholds
	if th.Err != nil {
		// The thresholds that could be read still count.
		out = append(out, Verdict{Variant: "*", Threshold: th.Source, Error: th.Err.Error()})
	}
	if d.ScenarioErr != nil && th.Source != rundir.ScenarioFile {
		warnings = append(warnings, fmt.Sprintf("%s no longer validates, so its description and plan are left out (the thresholds are %s's): %v", rundir.ScenarioFile, rundir.ThresholdsFile, d.ScenarioErr))
	}
	for i := range variants {
		out = append(out, evaluate(th.List, &variants[i])...)
	}
	return out, warnings
}

// readRun reads and analyses one variant and repeat of d.
func readRun(d *runread.Dir, ref rundir.RunRef, lo leakOptions) (*run, error) {
	rr, err := d.Run(ref)
	if err != nil {
		return nil, err
	}
	return analyseRun(rr, lo)
}

// evaluate checks thresholds against a variant's merged metrics.
func evaluate(ths []rundir.Threshold, v *VariantSummary) []Verdict {
	var out []Verdict
	for _, th := range ths {
		vd := Verdict{Variant: v.Name, Threshold: th.Expr, Metric: th.Metric, Op: th.Op, Limit: th.Limit}
		m, ok := v.Metric(th.Metric)
		if !ok {
			vd.Error = fmt.Sprintf("%s was not measured in this run", th.Metric)
		} else {
			vd.Measured, vd.Unit = m.Value, m.Unit
			vd.Pass = th.Holds(m.Value)
		}
		out = append(out, vd)
	}
	return out
}

// orderedVariants returns the variants with the baseline first.
func (r *Report) OrderedVariants() []*VariantSummary {
	s := &r.Summary
	order := []*VariantSummary{r.variant(s.Baseline)}
	for i := range s.Variants {
		if s.Variants[i].Name != s.Baseline {
			order = append(order, &s.Variants[i])
		}
	}
	return order
}

// RunFiles returns the per-run summary.json of every variant and repeat,
// variant by variant in the order they ran.
func (r *Report) RunFiles() []RunFileSummary {
	var out []RunFileSummary
	for _, v := range r.Summary.Variants {
		for _, run := range r.runs[v.Name] {
			out = append(out, RunFileSummary{Schema: SummarySchema + ".run", Version: SummaryVersion, RunSummary: run.summary, Metrics: runMetrics(&run.summary)})
		}
	}
	return out
}
