package reports

import (
	"math"
	"sort"
	"strings"

	"github.com/sawtooth-dev/sawtooth/reports/stats"
)

// Units of Metric.Unit.
const (
	UnitSeconds    = "s"
	UnitRatio      = "ratio"     // a fraction, 0.001 is 0.1%
	UnitBytes      = "B"         // bytes
	UnitBytesMin   = "B/min"     // bytes per minute
	UnitBytesReq   = "B/req"     // bytes per request
	UnitRate       = "req/s"     // requests per second
	UnitCount      = "count"     // a number of things
	UnitR2         = "r2"        // coefficient of determination, 0..1
	UnitPercentCPU = "%cpu"      // percent of one core
	UnitPerRestart = "1/restart" // a number of things per restart
	BetterLower    = "lower"     // Metric.Better: smaller values are better
	BetterHigher   = "higher"    // larger values are better
)

// Metric is one named number of a run or a variant. Names are those a
// scenario's thresholds use (see docs/reports.md for the full list).
type Metric struct {
	Name string `json:"name"`
	// Unit is the base unit of Value: s, ratio, B, B/min, B/req, req/s,
	// count, r2, %cpu or 1/restart.
	Unit  string  `json:"unit"`
	Value float64 `json:"value"`
	// Better is "lower" or "higher" when a change is an improvement or a
	// regression, "" for numbers that only describe the run.
	Better string `json:"better,omitempty"`
	// Spread is the per-repeat values, for a variant run more than once.
	Spread *stats.Spread `json:"spread,omitempty"`
	// Pooled is true when Value is computed from every repeat's requests
	// together; otherwise it is the median of the repeats' values.
	Pooled bool `json:"pooled,omitempty"`
}

// Metrics that were not measured are absent. A variant's metric list
// holds only numbers that were measured: a percentile of no requests,
// the loop lag of a run whose histogram was never scraped or never
// observed anything, the replacement time of no restarts or the slope
// of too few samples are left out rather than set to 0, so that every
// format shows them as Unmeasured and no comparison or threshold reads
// them as zero. Counts by kind (errors.KIND, restarts.reason.REASON) are
// the exception: a kind that never occurred was counted 0 times
// (zeroWhenAbsent).

// requestMetrics returns the metrics computed from requests: per class
// (all first), errors, and the cost of recycling (windowMetrics).
func requestMetrics(classes []ClassStats, rec RecyclingCost) []Metric {
	var out []Metric
	add := func(name, unit string, v float64, better string) {
		out = append(out, Metric{Name: name, Unit: unit, Value: v, Better: better})
	}
	ordered := make([]ClassStats, 0, len(classes))
	for _, c := range classes {
		if c.Class == AllClass {
			ordered = append([]ClassStats{c}, ordered...)
		} else {
			ordered = append(ordered, c)
		}
	}
	var all ClassStats
	for _, c := range ordered {
		if c.Class == AllClass {
			all = c
		}
		p := c.Class + "."
		add(p+"count", UnitCount, float64(c.Count), "")
		add(p+"rps", UnitRate, c.Throughput, BetterHigher)
		if c.Count == 0 {
			continue // no error ratio or latency of no requests
		}
		add(p+"errors", UnitRatio, c.ErrorRatio, BetterLower)
		add(p+"mean", UnitSeconds, c.Latency.Mean, BetterLower)
		add(p+"p50", UnitSeconds, c.Latency.P50, BetterLower)
		add(p+"p90", UnitSeconds, c.Latency.P90, BetterLower)
		add(p+"p99", UnitSeconds, c.Latency.P99, BetterLower)
		add(p+"p999", UnitSeconds, c.Latency.P999, BetterLower)
		add(p+"max", UnitSeconds, c.Latency.Max, BetterLower)
	}
	if all.Count > 0 {
		add("errors.count", UnitCount, float64(all.Count-all.OK), BetterLower)
		add("errors.ratio", UnitRatio, all.ErrorRatio, BetterLower)
		for _, k := range sortedKeys(all.Errors) {
			add("errors."+k, UnitCount, float64(all.Errors[k]), BetterLower)
		}
	}
	out = append(out, reuseMetrics(ordered)...)
	return append(out, windowMetrics(rec)...)
}

// processMetrics returns the metrics of one run that are not computed
// from requests: memory, restarts, loop lag and the harness's health.
func processMetrics(s *RunSummary) []Metric {
	var out []Metric
	add := func(name, unit string, v float64, better string) {
		out = append(out, Metric{Name: name, Unit: unit, Value: v, Better: better})
	}
	m := s.Memory
	if m.Samples > 0 {
		if m.PSSAvailable {
			add("memory.pss.peak", UnitBytes, float64(m.PeakPSS), BetterLower)
			add("memory.pss.final", UnitBytes, float64(m.FinalPSS), BetterLower)
			if m.PSSSlope.Defined() {
				add("memory.pss.slope", UnitBytesMin, m.PSSSlope.Slope, BetterLower)
				add("memory.pss.slope_r2", UnitR2, m.PSSSlope.R2, "")
			}
		}
		add("memory.rss.peak", UnitBytes, float64(m.PeakRSS), BetterLower)
		add("memory.rss.final", UnitBytes, float64(m.FinalRSS), BetterLower)
		if m.Workers > 0 {
			add("memory.worker_rss.peak", UnitBytes, float64(m.PeakWorkerRSS), BetterLower)
			if m.PSSAvailable {
				add("memory.worker_pss.peak", UnitBytes, float64(m.PeakWorkerPSS), BetterLower)
			}
		}
		if m.RequestsMethod != "" && m.WorkerRSSPerRequest.Defined() {
			add("memory.worker_rss.per_request", UnitBytesReq, m.WorkerRSSPerRequest.Slope, BetterLower)
			add("memory.worker_rss.per_request_r2", UnitR2, m.WorkerRSSPerRequest.R2, "")
		}
	}
	r := s.Restarts
	add("restarts.count", UnitCount, float64(r.Count), "")
	add("restarts.max_concurrent", UnitCount, float64(r.MaxConcurrent), BetterLower)
	if r.replaced() > 0 {
		add("restarts.replace_mean", UnitSeconds, r.ReplaceMean, BetterLower)
		add("restarts.replace_max", UnitSeconds, r.ReplaceMax, BetterLower)
	}
	for _, k := range sortedKeys(r.ByReason) {
		add("restarts.reason."+k, UnitCount, float64(r.ByReason[k]), "")
	}
	if s.Lag.measured() {
		add("lag.p99", UnitSeconds, s.Lag.P99, BetterLower)
		add("lag.mean", UnitSeconds, s.Lag.Mean, BetterLower)
	}
	h := s.Harness
	if h.RequestedRate > 0 { // no open-model phase: there was no rate to keep
		add("harness.requested_rate", UnitRate, h.RequestedRate, "")
		add("harness.achieved_rate", UnitRate, h.AchievedRate, "")
	}
	add("harness.send_lag_p99", UnitSeconds, h.SendLagP99, "")
	add("harness.cpu_percent", UnitPercentCPU, h.CPUPercent, "")
	return append(out, probeMetrics(s)...)
}

// runMetrics returns every metric of one run.
func runMetrics(s *RunSummary) []Metric {
	return append(append(requestMetrics(s.Classes, s.Recycling), processMetrics(s)...), leakMetrics(s.Leak)...)
}

// mergeMetrics combines the metrics of a variant's repeats: pooled values
// for request metrics (counts as the mean per repeat), the median across
// repeats for the rest, and the per-repeat values as the spread. A
// metric missing from a repeat was not measured there and does not count
// towards its median or spread, except counts by kind (an error kind a
// repeat never saw), which count as 0.
func mergeMetrics(pooled []Metric, perRun [][]Metric) []Metric {
	var order []Metric
	index := map[string]int{}
	note := func(m Metric) {
		if _, ok := index[m.Name]; !ok {
			index[m.Name] = len(order)
			order = append(order, Metric{Name: m.Name, Unit: m.Unit, Better: m.Better})
		}
	}
	for _, m := range pooled {
		note(m)
	}
	for _, ms := range perRun {
		for _, m := range ms {
			note(m)
		}
	}
	pooledVal := map[string]float64{}
	for _, m := range pooled {
		pooledVal[m.Name] = m.Value
	}
	out := make([]Metric, len(order))
	for i, m := range order {
		var vals []float64
		for _, ms := range perRun {
			if x, ok := lookup(ms, m.Name); ok {
				vals = append(vals, x.Value)
			} else if zeroWhenAbsent(m.Name) {
				vals = append(vals, 0)
			}
		}
		sp := stats.NewSpread(vals)
		if v, ok := pooledVal[m.Name]; ok {
			m.Value, m.Pooled = v, true
			if m.Unit == UnitCount && len(perRun) > 0 {
				// A count is per run: the mean over repeats.
				m.Value /= float64(len(perRun))
			}
		} else {
			m.Value = sp.Median
		}
		if len(vals) > 1 {
			m.Spread = &sp
		}
		out[i] = m
	}
	return out
}

// zeroWhenAbsent reports whether a metric missing from a run means 0
// rather than "not measured": counts by kind, which list only the kinds
// that occurred.
func zeroWhenAbsent(name string) bool {
	if rest, ok := strings.CutPrefix(name, "errors."); ok {
		return rest != "count" && rest != "ratio"
	}
	return strings.HasPrefix(name, "restarts.reason.")
}

// absentMetric is the metric a variant without it has: zero for counts by
// kind (with a zero per repeat), nothing otherwise.
func absentMetric(name string, repeats int) (Metric, bool) {
	if !zeroWhenAbsent(name) {
		return Metric{}, false
	}
	m := Metric{Name: name, Unit: UnitCount}
	if strings.HasPrefix(name, "errors.") {
		m.Better = BetterLower
	}
	if repeats > 1 {
		sp := stats.NewSpread(make([]float64, repeats))
		m.Spread = &sp
	}
	return m, true
}

// lookup returns the metric called name in ms.
func lookup(ms []Metric, name string) (Metric, bool) {
	for _, m := range ms {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// values returns the per-repeat values of a metric (its value alone when
// it has no spread).
func (m Metric) values() []float64 {
	if m.Spread != nil {
		return m.Spread.Values
	}
	return []float64{m.Value}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ratio returns v/base, or NaN when base is 0 (and v is not).
func ratio(base, v float64) float64 {
	if base == 0 {
		if v == 0 {
			return 1
		}
		return math.NaN()
	}
	return v / base
}
