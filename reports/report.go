// Package reports reads a sawtooth run directory and turns it into
// numbers, comparisons and documents: per-variant statistics merged over
// repeats (latency percentiles per request class, throughput, errors by
// kind, memory and its leak slope, worker restarts, the cost of
// recycling, loop lag), a side-by-side comparison with significance
// tests, threshold verdicts, and the terminal table, report.md,
// summary.json, report.html and plots/ that present them.
//
// It works like benchstat: read the files (readRun), compute (Build),
// format (Table, Markdown, JSON, HTML). Everything is rebuilt from the
// run directory alone, so `sawtooth report RUN_DIR` can redo it later.
package reports

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/reports/runread"
	"github.com/sawtooth-dev/sawtooth/reports/stats"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// SummarySchema and SummaryVersion identify the summary.json format
// (docs/reports.md). The version changes when a field's meaning changes
// incompatibly; fields may be added within a version.
const (
	SummarySchema  = "sawtooth.summary"
	SummaryVersion = 3
)

// Files a report writes into the run directory.
const (
	SummaryFile  = "summary.json"
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
	PlotsDir     = "plots"
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

// Summary is everything a report says, as written to summary.json.
type Summary struct {
	Schema      string    `json:"schema"`
	Version     int       `json:"version"`
	Scenario    string    `json:"scenario"`
	Description string    `json:"description,omitempty"`
	ToolVersion string    `json:"tool_version,omitempty"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Seed        int64     `json:"seed"`
	Quick       bool      `json:"quick,omitempty"`
	Partial     bool      `json:"partial,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	// Baseline is the reference variant of Comparison; Alpha the
	// significance level of its tests.
	Baseline   string           `json:"baseline"`
	Alpha      float64          `json:"alpha"`
	Variants   []VariantSummary `json:"variants"`
	Comparison []Delta          `json:"comparison,omitempty"`
	Thresholds []Verdict        `json:"thresholds,omitempty"`
	// Findings say what the run found, variant by variant, from the
	// numbers above (see findings.go); every report opens with them.
	Findings []Finding `json:"findings"`
	// Warnings are problems with the measurement itself: the harness
	// could not keep the rate, a closed-model phase, a partial run.
	Warnings []string `json:"warnings,omitempty"`
	// Plan is the recommendation asked for by the scenario's plan block.
	Plan *PlanSection `json:"plan,omitempty"`
	// HiddenErrors are the sentences every report leads with when a
	// retrying client had reuse failures: what a client that does not
	// retry would have lost (reuse.go).
	HiddenErrors []string `json:"hidden_errors,omitempty"`
	// Notes say how the numbers were measured when not as usual, e.g.
	// memory read from Prometheus instead of /proc.
	Notes []string `json:"notes,omitempty"`
}

// VariantSummary is one variant merged over its repeats.
type VariantSummary struct {
	Name    string            `json:"name"`
	Params  map[string]string `json:"params,omitempty"`
	Set     map[string]string `json:"set,omitempty"`
	Repeats int               `json:"repeats"`
	Partial bool              `json:"partial,omitempty"`
	// Headline is the four numbers every report leads with.
	Headline Headline `json:"headline"`
	// Classes and Recycling pool every repeat's requests.
	Classes   []ClassStats  `json:"classes"`
	Recycling RecyclingCost `json:"recycling"`
	// Metrics are the variant's numbers by name (see Metric).
	Metrics []Metric `json:"metrics"`
	// Runs are the repeats, each as in its own summary.json.
	Runs []RunSummary `json:"runs"`
	// Leak is the per-class leak fit pooled over the repeats.
	Leak *LeakStats `json:"leak,omitempty"`
}

// Metric returns the variant's metric called name.
// A metric that was not measured is absent (ok false), except counts by
// kind (errors.KIND, restarts.reason.REASON), which are 0 when absent.
func (v *VariantSummary) Metric(name string) (Metric, bool) {
	if m, ok := lookup(v.Metrics, name); ok {
		return m, true
	}
	return absentMetric(name, v.Repeats)
}

// Delta compares one metric of a variant with the baseline's.
type Delta struct {
	Variant string  `json:"variant"`
	Metric  string  `json:"metric"`
	Unit    string  `json:"unit"`
	Better  string  `json:"better"`
	Base    float64 `json:"base"`
	Value   float64 `json:"value"`
	// Ratio is Value/Base; absent when Base is 0 and Value is not.
	Ratio *float64 `json:"ratio,omitempty"`
	// Test is the Mann-Whitney U test of the repeats (Tested is false
	// with fewer than 3 repeats on either side).
	Test stats.Comparison `json:"test"`
	// Change is "better", "worse", "same" (within noise: not significant
	// when tested, or equal) by the metric's direction.
	Change string `json:"change"`
}

// Verdict is one threshold evaluated for one variant.
type Verdict struct {
	Variant   string `json:"variant"`
	Threshold string `json:"threshold"`
	Metric    string `json:"metric"`
	Op        string `json:"op"`
	// Limit and Measured are in the metric's base unit (Unit).
	Limit    float64 `json:"limit"`
	Measured float64 `json:"measured"`
	Unit     string  `json:"unit"`
	Pass     bool    `json:"pass"`
	// Error says why the threshold could not be evaluated (a metric not
	// measured in this run); such a verdict fails.
	Error string `json:"error,omitempty"`
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

// compareVariants compares every directional metric of v with base's
// that both measured.
func compareVariants(base, v *VariantSummary, label string, alpha float64) []Delta {
	var out []Delta
	names := make([]string, 0, len(v.Metrics))
	seen := map[string]bool{}
	for _, ms := range [][]Metric{v.Metrics, base.Metrics} {
		for _, m := range ms {
			if m.Better != "" && !seen[m.Name] {
				seen[m.Name] = true
				names = append(names, m.Name)
			}
		}
	}
	for _, name := range names {
		b, okb := base.Metric(name)
		m, okm := v.Metric(name)
		if okb && okm {
			out = append(out, newDelta(label, b, m, alpha))
		}
	}
	return out
}

func newDelta(label string, b, m Metric, alpha float64) Delta {
	d := Delta{Variant: label, Metric: m.Name, Unit: m.Unit, Better: m.Better, Base: b.Value, Value: m.Value,
		Test: stats.Compare(b.values(), m.values(), alpha)}
	if q := ratio(b.Value, m.Value); !math.IsNaN(q) {
		d.Ratio = &q
	}
	d.Change = "same"
	meaningful := d.Test.Significant
	if !d.Test.Tested {
		meaningful = beyondNoise(b.Value, m.Value, m.Unit)
	}
	if m.Value != b.Value && meaningful {
		if (m.Value < b.Value) == (m.Better == BetterLower) {
			d.Change = "better"
		} else {
			d.Change = "worse"
		}
	}
	return d
}

// NoiseFloor is the relative change below which an untested difference
// (fewer than 3 repeats on a side) counts as noise: neither better nor
// worse, and not coloured.
const NoiseFloor = 0.10

// beyondNoise reports whether an untested change from base to v is large
// enough to mean something: at least NoiseFloor of base and more than the
// absolute floor of its unit (1 ms, 0.1 percentage point, 1 MiB).
func beyondNoise(base, v float64, unit string) bool {
	diff := math.Abs(v - base)
	if diff <= floor(unit) {
		return false
	}
	return base == 0 || diff >= NoiseFloor*math.Abs(base)
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
