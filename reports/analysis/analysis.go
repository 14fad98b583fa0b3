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
	// Scenario is the scenario as run; nil when scenario.yaml is absent
	// or no longer validates. ScenarioText is scenario.yaml as written.
	Scenario     *scenarios.Scenario
	ScenarioText []byte
	runs         map[string][]*run // by variant name
	// pooled is every repeat's requests of class all, by variant name.
	pooled map[string]*sample
}

// Build reads the run directory dir (package runread) and computes its
// report.
func Build(dir string, opts Options) (*Report, error) {
	d, err := runread.Open(dir)
	if err != nil {
		return nil, err
	}
	if opts.Alpha == 0 {
		opts.Alpha = stats.DefaultAlpha
	}
	rep := &Report{Dir: dir, Scenario: d.Scenario, ScenarioText: d.ScenarioText, runs: map[string][]*run{}, pooled: map[string]*sample{}}
	rep.Summary = newSummary(d, opts.Alpha)
	s := &rep.Summary
	lo := leakOptions{header: scenarios.DefaultWorkerHeader}
	if rep.Scenario != nil {
		lo = leakOptions{header: rep.Scenario.Target.WorkerIDHeader(), warmup: rep.Scenario.Sample.Warmup.D().Seconds()}
	}
	for _, name := range d.Variants() {
		if err := rep.addVariant(d, name, lo); err != nil {
			return nil, err
		}
	}
	if len(s.Variants) == 0 {
		return nil, fmt.Errorf("run directory %s: no variant was recorded", dir)
	}
	s.Warnings = dedupe(s.Warnings)
	s.HiddenErrors = hiddenErrors(s.Variants)
	s.Notes = dedupe(s.Notes)
	if err := rep.compareWithBaseline(opts); err != nil {
		return nil, err
	}
	s.Findings = rep.findings()
	s.Thresholds, s.Warnings = thresholdVerdicts(d, s.Variants, s.Warnings)
	if rep.Scenario != nil {
		s.Plan = rep.planSection()
	}
	return rep, nil
}

// newSummary is the summary of d before any variant is added.
func newSummary(d *runread.Dir, alpha float64) Summary {
	m := d.Meta
	s := Summary{Schema: SummarySchema, Version: SummaryVersion, Scenario: m.Scenario, ToolVersion: m.ToolVersion,
		Start: m.Start, End: m.End, Seed: m.Seed, Quick: m.Quick, Partial: m.Partial, Reason: m.Reason, Alpha: alpha}
	if m.Partial {
		s.Warnings = append(s.Warnings, "the run is partial: "+orDefault(m.Reason, "it did not finish"))
	}
	if d.Scenario != nil {
		s.Description = d.Scenario.Description
	}
	return s
}

// addVariant reads and analyses every repeat of variant name and adds
// the variant, merged over them, to the summary; nothing when none of
// its repeats was recorded.
func (r *Report) addVariant(d *runread.Dir, name string, lo leakOptions) error {
	s := &r.Summary
	v := VariantSummary{Name: name}
	p := pool{classes: map[string]*sample{}, in: &sample{}, out: &sample{}}
	for _, ref := range d.Meta.Runs {
		if ref.Variant != name {
			continue
		}
		run, err := readRun(d, ref, lo)
		if err != nil {
			if d.Meta.Partial && errors.Is(err, os.ErrNotExist) {
				s.Warnings = append(s.Warnings, fmt.Sprintf("%s repeat %d was not recorded", name, ref.Repeat))
				continue
			}
			return fmt.Errorf("%s repeat %d: %w", name, ref.Repeat, err)
		}
		run.summary.Leak = fitLeaks(run.lives, r.leakClasses(run.classes), lo.header)
		r.runs[name] = append(r.runs[name], run)
		v.Params, v.Set = run.info.Params, run.info.Set
		v.Partial = v.Partial || run.info.Partial
		v.Runs = append(v.Runs, run.summary)
		p.add(run)
		s.Warnings = append(s.Warnings, runWarnings(run)...)
		if n := memorySourceNote(fmt.Sprintf("%s repeat %d", name, ref.Repeat), run.info.Memory); n != "" {
			s.Notes = append(s.Notes, n)
		}
	}
	if len(v.Runs) == 0 {
		return nil
	}
	v.Repeats = len(v.Runs)
	v.Classes = classList(p.classes, p.duration)
	r.pooled[name] = p.classes[AllClass]
	v.Recycling = recyclingCost(p.in, p.out, p.restarts, p.cov, p.duration)
	v.Leak = fitLeaks(p.lives, r.leakClasses(p.classes), lo.header)
	v.Metrics = mergeMetrics(append(requestMetrics(v.Classes, v.Recycling), leakMetrics(v.Leak)...), p.perRun)
	v.Headline = headline(&v)
	s.Variants = append(s.Variants, v)
	return nil
}

// pool merges the repeats of a variant: their requests by class and
// inside or outside restart windows, their restarts, covered and load
// seconds, per-run metrics and worker lives.
type pool struct {
	classes       map[string]*sample
	in, out       *sample
	restarts      int
	cov, duration float64
	perRun        [][]Metric
	lives         []leakLife
}

// add merges one analysed repeat.
func (p *pool) add(r *run) {
	p.lives = append(p.lives, r.lives...)
	for c, cs := range r.classes {
		if p.classes[c] == nil {
			p.classes[c] = &sample{}
		}
		p.classes[c].merge(cs)
	}
	p.in.merge(r.in)
	p.out.merge(r.out)
	p.restarts += r.summary.Restarts.Count
	p.cov += r.summary.Recycling.Covered
	p.duration += r.summary.Duration
	p.perRun = append(p.perRun, runMetrics(&r.summary))
}

// compareWithBaseline sets the summary's baseline, opts.Baseline or the
// first variant, and compares every other variant with it.
func (r *Report) compareWithBaseline(opts Options) error {
	s := &r.Summary
	s.Baseline = s.Variants[0].Name
	if opts.Baseline != "" {
		if r.variant(opts.Baseline) == nil {
			return fmt.Errorf("baseline %q is not a variant of this run (variants: %s)", opts.Baseline, strings.Join(r.variantNames(), ", "))
		}
		s.Baseline = opts.Baseline
	}
	base := r.variant(s.Baseline)
	for i := range s.Variants {
		if s.Variants[i].Name != s.Baseline {
			s.Comparison = append(s.Comparison, compareVariants(base, &s.Variants[i], s.Variants[i].Name, opts.Alpha)...)
		}
	}
	return nil
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

// OrderedVariants returns the variants with the baseline first.
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
