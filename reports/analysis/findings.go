package analysis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/internal/units"
	"github.com/sawtooth-dev/sawtooth/reports/stats"
)

// Finding is one sentence of what a run found, generated from its
// numbers; every report opens with them.
type Finding struct {
	Variant string `json:"variant"`
	Text    string `json:"text"`
	// Metrics are the names of the numbers the sentence rests on.
	Metrics []string `json:"metrics"`
}

// findings states, per variant, what it changed against the baseline in
// memory, latency, errors and restarts (the baseline alone for a
// single-variant run), then calls out every recycling policy that never
// acted.
func (r *Report) findings() []Finding {
	var out []Finding
	order := r.OrderedVariants()
	base := order[0]
	if len(order) == 1 {
		out = append(out, describe(base))
	}
	for _, v := range order[1:] {
		out = append(out, r.against(base, v))
	}
	for _, v := range order {
		if f, ok := r.idlePolicy(v); ok {
			out = append(out, f)
		}
	}
	return append(out, r.probeFindings()...)
}

// memoryMetric is the memory number findings lead with: total peak PSS,
// or peak RSS where PSS could not be read.
func memoryMetric(v *VariantSummary) (string, string) {
	if _, ok := v.Metric("memory.pss.peak"); ok {
		return "memory.pss.peak", "peak PSS"
	}
	return "memory.rss.peak", "peak RSS"
}

// describe is the finding of a run's only variant: its numbers alone.
func describe(v *VariantSummary) Finding {
	f := Finding{Variant: v.Name}
	var parts []string
	mem, label := memoryMetric(v)
	if m, ok := v.Metric(mem); ok {
		s := label + " " + FormatValue(m.Value, m.Unit)
		f.Metrics = append(f.Metrics, mem)
		if sl, ok := v.Metric("memory.pss.slope"); ok && mem == "memory.pss.peak" {
			s += ", growing " + FormatValue(sl.Value, sl.Unit)
			f.Metrics = append(f.Metrics, sl.Name)
		}
		parts = append(parts, s)
	}
	if m, ok := v.Metric(AllClass + ".p99"); ok {
		parts = append(parts, "p99 "+FormatValue(m.Value, m.Unit))
		f.Metrics = append(f.Metrics, m.Name)
	}
	if m, ok := v.Metric("errors.ratio"); ok {
		parts = append(parts, "errors "+FormatValue(m.Value, m.Unit))
		f.Metrics = append(f.Metrics, m.Name)
	}
	parts = append(parts, restartPhrase(v, &f))
	f.Text = v.Name + ": " + strings.Join(parts, "; ") + "."
	return f
}

// against is the finding of variant v against the baseline.
func (r *Report) against(base, v *VariantSummary) Finding {
	f := Finding{Variant: v.Name}
	var parts []string
	add := func(label, name string) {
		if d, ok := r.delta(v.Name, name); ok {
			parts = append(parts, label+" "+changePhrase(d))
			f.Metrics = append(f.Metrics, name)
		}
	}
	mem, label := memoryMetric(v)
	add(label, mem)
	add("p99", AllClass+".p99")
	// The class whose p99 worsened most, when it did more than all's.
	worst, worstW := "", 0.0
	if d, ok := r.delta(v.Name, AllClass+".p99"); ok {
		worstW = math.Max(0, d.Worsening())
	}
	for _, c := range v.Classes {
		if d, ok := r.delta(v.Name, c.Class+".p99"); ok && c.Class != AllClass && d.Worsening() > worstW+0.01 {
			worst, worstW = c.Class, d.Worsening()
		}
	}
	if worst != "" {
		add(worst+" p99", worst+".p99")
	}
	add("errors", "errors.ratio")
	parts = append(parts, restartPhrase(v, &f))
	head := v.Name + " against " + base.Name
	if n := min(v.Repeats, base.Repeats); n < stats.MinRepeats {
		rep := "repeats"
		if n == 1 {
			rep = "repeat"
		}
		head += fmt.Sprintf(" (untested: %d %s, a test needs %d)", n, rep, stats.MinRepeats)
	}
	f.Text = head + ": " + strings.Join(parts, "; ") + "."
	return f
}

// delta returns the comparison of variant's metric with the baseline's.
func (r *Report) delta(variant, metric string) (Delta, bool) {
	for _, d := range r.Summary.Comparison {
		if d.Variant == variant && d.Metric == metric {
			return d, true
		}
	}
	return Delta{}, false
}

// changePhrase says how a number changed and whether that is known:
// "311 MiB → 77.3 MiB (×0.25, significant, p=0.10)".
func changePhrase(d Delta) string {
	s := FormatValue(d.Base, d.Unit) + " → " + FormatValue(d.Value, d.Unit)
	var how []string
	if d.Ratio != nil && d.Base != d.Value {
		how = append(how, "×"+FormatRatio(*d.Ratio))
	}
	switch {
	case d.Base == d.Value:
		how = append(how, "unchanged")
	case !d.Test.Tested:
		// The sentence says so once.
	case d.Test.Significant:
		how = append(how, fmt.Sprintf("significant, p=%.2f", d.Test.P))
	default:
		how = append(how, fmt.Sprintf("not significant, p=%.2f", d.Test.P))
	}
	if len(how) == 0 {
		return s
	}
	return s + " (" + strings.Join(how, ", ") + ")"
}

// restartPhrase says how often workers restarted and what each restart
// cost, naming the metrics it uses in f.
func restartPhrase(v *VariantSummary, f *Finding) string {
	n, _ := v.Metric("restarts.count")
	f.Metrics = append(f.Metrics, "restarts.count")
	if n.Value == 0 {
		return "no restarts"
	}
	s := FormatValue(n.Value, UnitCount) + " restarts per run"
	e, okE := v.Metric("recycle.errors_per_restart")
	d, okD := v.Metric("recycle.delay_per_restart")
	if okE && okD {
		f.Metrics = append(f.Metrics, e.Name, d.Name)
		// A negative excess is noise: the requests inside did no worse.
		var cost []string
		if e.Value > 0 {
			cost = append(cost, FormatValue(e.Value, e.Unit)+" extra errors")
		}
		if d.Value > 0 {
			cost = append(cost, FormatValue(d.Value, d.Unit)+" of extra latency")
		}
		switch len(cost) {
		case 0:
			s += ", each with no measurable extra errors or latency"
		default:
			s += ", each costing " + strings.Join(cost, " and ")
		}
	}
	if v.Recycling.Share > NotAContrast {
		s += fmt.Sprintf(" (restart windows cover %s of the run: inside against outside is not a contrast)", FormatPercent(v.Recycling.Share))
		f.Metrics = append(f.Metrics, "recycle.window_share")
	}
	return s
}

// param returns the effective value of a target parameter for v: the
// variant's override, else the scenario's builtin flag or command var.
func (r *Report) param(v *VariantSummary, key string) string {
	if s, ok := v.Set[key]; ok {
		return s
	}
	if sc := r.Scenario; sc != nil {
		if s, ok := sc.Target.Builtin[key]; ok {
			return s
		}
		if sc.Target.Command != nil {
			return sc.Target.Command.Vars[key]
		}
	}
	return ""
}

// idlePolicy returns the finding of a variant whose recycling policy
// (max_requests, max_rss, max_lifetime) never restarted a worker, with
// what the run would have needed.
func (r *Report) idlePolicy(v *VariantSummary) (Finding, bool) {
	n, _ := v.Metric("restarts.count")
	if n.Value > 0 {
		return Finding{}, false
	}
	workers := 1
	if w, err := strconv.Atoi(r.param(v, "workers")); err == nil && w > 0 {
		workers = w
	}
	perWorker := 0.0
	if c, ok := v.Metric(AllClass + ".count"); ok {
		perWorker = c.Value / float64(workers)
	}
	f := Finding{Variant: v.Name, Metrics: []string{"restarts.count", AllClass + ".count"}}
	got := fmt.Sprintf("the run gave each of %d workers about %s requests", workers, FormatValue(perWorker, UnitCount))
	var why []string
	if mr, err := strconv.Atoi(r.param(v, "max_requests")); err == nil && mr > 0 {
		why = append(why, fmt.Sprintf("max_requests %d needs about %d requests per worker", mr, mr))
	}
	if limit, err := units.ParseSize(r.param(v, "max_rss")); err == nil && limit > 0 {
		s := "max_rss " + units.FormatSize(limit)
		pk, okP := v.Metric("memory.worker_rss.peak")
		pr, okR := v.Metric("memory.worker_rss.per_request")
		if okP {
			s += " was never reached (largest worker " + FormatValue(pk.Value, pk.Unit) + ")"
			f.Metrics = append(f.Metrics, pk.Name)
		}
		if okP && okR && pr.Value > 0 {
			need := perWorker + (float64(limit)-pk.Value)/pr.Value
			s += fmt.Sprintf(": at %s it needs about %s requests per worker", FormatValue(pr.Value, pr.Unit), FormatValue(math.Ceil(need), UnitCount))
			f.Metrics = append(f.Metrics, pr.Name)
		}
		why = append(why, s)
	}
	if d, err := time.ParseDuration(r.param(v, "max_lifetime")); err == nil && d > 0 {
		run := 0.0
		if len(v.Runs) > 0 {
			run = v.Runs[0].Duration
		}
		why = append(why, fmt.Sprintf("max_lifetime %v needs a run longer than %v (this one lasted %s)", d, d, FormatDuration(run)))
	}
	if len(why) == 0 {
		return Finding{}, false
	}
	f.Text = fmt.Sprintf("%s: its recycling policy never acted, no worker restarted, so the run is too short to show what the policy costs or saves: %s, and %s.",
		v.Name, strings.Join(why, "; "), got)
	return f, true
}
