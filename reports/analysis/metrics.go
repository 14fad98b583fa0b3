package analysis

import (
	"math"
	"sort"
	"strings"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
	"github.com/sawtooth-dev/sawtooth/reports/stats"
)

// Units of Metric.Unit and directions of Metric.Better, as the metric
// catalogue (internal/metric) defines them.
const (
	UnitSeconds    = metric.UnitSeconds
	UnitRatio      = metric.UnitRatio      // a fraction, 0.001 is 0.1%
	UnitBytes      = metric.UnitBytes      // bytes
	UnitBytesMin   = metric.UnitBytesMin   // bytes per minute
	UnitBytesReq   = metric.UnitBytesReq   // bytes per request
	UnitRate       = metric.UnitRate       // requests per second
	UnitCount      = metric.UnitCount      // a number of things
	UnitR2         = metric.UnitR2         // coefficient of determination, 0..1
	UnitPercentCPU = metric.UnitPercentCPU // percent of one core
	UnitPerRestart = metric.UnitPerRestart // a number of things per restart
	BetterLower    = metric.Lower          // Metric.Better: smaller values are better
	BetterHigher   = metric.Higher         // larger values are better
)

// Metric is one named number of a run or a variant. Its name, unit and
// direction are those of the metric catalogue (internal/metric), whose
// names a scenario's thresholds use (see docs/reports.md for the list).
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

// measure returns the metric called name with value v, its unit and
// direction from the catalogue. A per-class metric of a class no scenario
// could name (results imported from vegeta, whose attack name may hold a
// dot or a reserved word) takes the definition of its suffix.
func measure(name string, v float64) Metric {
	d, ok := metric.Lookup(name)
	if i := strings.LastIndexByte(name, '.'); !ok && i >= 0 {
		d, _ = metric.Lookup(metric.PlaceholderClass + name[i:])
	}
	return Metric{Name: name, Unit: d.Unit, Value: v, Better: d.Better}
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
	add := func(name string, v float64) { out = append(out, measure(name, v)) }
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
		add(p+"count", float64(c.Count))
		add(p+"rps", c.Throughput)
		if c.Count == 0 {
			continue // no error ratio or latency of no requests
		}
		add(p+"errors", c.ErrorRatio)
		add(p+"mean", c.Latency.Mean)
		add(p+"p50", c.Latency.P50)
		add(p+"p90", c.Latency.P90)
		add(p+"p99", c.Latency.P99)
		add(p+"p999", c.Latency.P999)
		add(p+"max", c.Latency.Max)
	}
	if all.Count > 0 {
		add("errors.count", float64(all.Count-all.OK))
		add("errors.ratio", all.ErrorRatio)
		for _, k := range sortedKeys(all.Errors) {
			add("errors."+k, float64(all.Errors[k]))
		}
	}
	out = append(out, reuseMetrics(ordered)...)
	return append(out, windowMetrics(rec)...)
}

// processMetrics returns the metrics of one run that are not computed
// from requests: memory, restarts, loop lag and the harness's health.
func processMetrics(s *RunSummary) []Metric {
	var out []Metric
	add := func(name string, v float64) { out = append(out, measure(name, v)) }
	m := s.Memory
	if m.Samples > 0 {
		if m.PSSAvailable {
			add("memory.pss.peak", float64(m.PeakPSS))
			add("memory.pss.final", float64(m.FinalPSS))
			if m.PSSSlope.Defined() {
				add("memory.pss.slope", m.PSSSlope.Slope)
				add("memory.pss.slope_r2", m.PSSSlope.R2)
			}
		}
		add("memory.rss.peak", float64(m.PeakRSS))
		add("memory.rss.final", float64(m.FinalRSS))
		if m.Workers > 0 {
			add("memory.worker_rss.peak", float64(m.PeakWorkerRSS))
			if m.PSSAvailable {
				add("memory.worker_pss.peak", float64(m.PeakWorkerPSS))
			}
		}
		if m.RequestsMethod != "" && m.WorkerRSSPerRequest.Defined() {
			add("memory.worker_rss.per_request", m.WorkerRSSPerRequest.Slope)
			add("memory.worker_rss.per_request_r2", m.WorkerRSSPerRequest.R2)
		}
	}
	r := s.Restarts
	add("restarts.count", float64(r.Count))
	add("restarts.max_concurrent", float64(r.MaxConcurrent))
	if r.replaced() > 0 {
		add("restarts.replace_mean", r.ReplaceMean)
		add("restarts.replace_max", r.ReplaceMax)
	}
	for _, k := range sortedKeys(r.ByReason) {
		add("restarts.reason."+k, float64(r.ByReason[k]))
	}
	if s.Lag.measured() {
		add("lag.p99", s.Lag.P99)
		add("lag.mean", s.Lag.Mean)
	}
	h := s.Harness
	if h.RequestedRate > 0 { // no open-model phase: there was no rate to keep
		add("harness.requested_rate", h.RequestedRate)
		add("harness.achieved_rate", h.AchievedRate)
	}
	add("harness.send_lag_p99", h.SendLagP99)
	add("harness.cpu_percent", h.CPUPercent)
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
	m := measure(name, 0)
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
