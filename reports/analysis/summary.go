package analysis

import (
	"encoding/json"
	"time"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
	"github.com/sawtooth-dev/sawtooth/reports/stats"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// AllClass is the name of the pseudo-class that aggregates every class.
const AllClass = metric.AllClass

// LagMetric is the loop-lag histogram of the built-in server. Other
// targets' histograms are used when their name contains "loop_lag".
const LagMetric = metric.LoopLag

// ClassStats are the request numbers of one request class (or "all").
// Latencies are seconds and include failed requests, as vegeta's do.
type ClassStats struct {
	Class string `json:"class"`
	Count int64  `json:"count"`
	OK    int64  `json:"ok"`
	// Rate is requests sent per second of load; Throughput is successful
	// responses per second of load.
	Rate       float64 `json:"rate"`
	Throughput float64 `json:"throughput"`
	// SuccessRatio and ErrorRatio are fractions of Count.
	SuccessRatio float64 `json:"success_ratio"`
	ErrorRatio   float64 `json:"error_ratio"`
	// Errors counts failures by kind: "http_<status>", "conn_refused",
	// "conn_reset", "conn_closed", "timeout", "other".
	Errors  map[string]int64 `json:"errors,omitempty"`
	Latency Latency          `json:"latency"`
	// ReuseFailures counts requests with an attempt that failed on a
	// reused keep-alive connection before any response byte (reuse.go);
	// absent when the run did not measure them.
	ReuseFailures *int64 `json:"reuse_failures,omitempty"`
}

// Latency summarises a latency sample, in seconds. Percentiles use the
// nearest-rank method over a histogram of logarithmic buckets: within 1%
// of the exact value from 1 µs to 1 h. Mean and Max are exact.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// MemoryStats are the memory numbers of one run. Totals are sums over
// every process of the target's tree at one sample; sizes are bytes.
type MemoryStats struct {
	Samples  int   `json:"samples"`
	PeakPSS  int64 `json:"peak_pss"`
	FinalPSS int64 `json:"final_pss"`
	PeakRSS  int64 `json:"peak_rss"`
	FinalRSS int64 `json:"final_rss"`
	// PSSAvailable is false when smaps_rollup could not be read; PSS
	// numbers are then 0.
	PSSAvailable bool `json:"pss_available"`
	// PeakWorkerRSS and PeakWorkerPSS are the largest single worker.
	PeakWorkerRSS int64 `json:"peak_worker_rss"`
	PeakWorkerPSS int64 `json:"peak_worker_pss"`
	Workers       int   `json:"workers"`
	// PSSSlope fits total PSS (bytes) against time (minutes): Slope is
	// bytes per minute.
	PSSSlope stats.Fit `json:"pss_slope"`
	// WorkerRSSPerRequest fits each worker's RSS (bytes) against the
	// requests it had served, one common slope for all workers (each
	// worker centred on its own means): Slope is bytes per request.
	WorkerRSSPerRequest stats.Fit `json:"worker_rss_per_request"`
	// RequestsMethod says how requests served were known: "headers"
	// (each response's X-Worker-Pid and X-Worker-Requests headers: the
	// worker's own count, by completion time), "exit_events" (the exit
	// event's request count, spread over the worker's life in proportion
	// to the load), "load_share" (the load divided evenly among live
	// workers, for workers without an exit count, e.g. those alive at the
	// end), several of them joined by "+" in that order when workers
	// needed different ones (e.g. "exit_events+load_share"), or "" (no
	// worker samples).
	RequestsMethod string `json:"requests_method,omitempty"`
}

// Exit is one worker exit from the start of the attack until the target
// was stopped.
type Exit struct {
	T        float64 `json:"t"`
	PID      int     `json:"pid"`
	Reason   string  `json:"reason"`
	Requests int64   `json:"requests,omitempty"`
	// Source is the most precise source that saw the exit ("server",
	// "log", "tree" or "prometheus"), whose time T is.
	Source string `json:"source,omitempty"`
	// Replacement is the pid that replaced it (0 if none was seen) and
	// ReadyAfter the seconds from the exit until the replacement was
	// ready (0 when it was ready before the exit, as with --overlap).
	Replacement int     `json:"replacement,omitempty"`
	ReadyAfter  float64 `json:"ready_after"`
}

// RestartStats are the worker restarts of one run.
type RestartStats struct {
	Count    int            `json:"count"`
	ByReason map[string]int `json:"by_reason,omitempty"`
	// MaxConcurrent is the most workers restarting at once. A worker is
	// restarting from its retiring event (or its exit when none was
	// recorded) until its replacement is ready.
	MaxConcurrent int `json:"max_concurrent"`
	// ReplaceMean and ReplaceMax are seconds from an exit to the
	// replacement being ready, over exits that were replaced.
	ReplaceMean float64 `json:"replace_mean"`
	ReplaceMax  float64 `json:"replace_max"`
	// Source is the most precise event source that saw any of the exits:
	// "server", "log", "tree" or "prometheus". The sources are merged: an exit seen by
	// several is counted once, at the time of the most precise.
	Source string `json:"source,omitempty"`
	Exits  []Exit `json:"exits,omitempty"`
	// Windows are the restart windows, one per exit (see RestartWindow).
	Windows []RestartWindow `json:"windows,omitempty"`
}

// GroupStats are the requests inside or outside the restart windows.
type GroupStats struct {
	Count      int64            `json:"count"`
	Errors     int64            `json:"errors"`
	ErrorRatio float64          `json:"error_ratio"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	Latency    Latency          `json:"latency"`
}

// LagStats is the event-loop lag from the scraped histogram, in seconds,
// over the whole run (bucket increases between the first and last scrape).
type LagStats struct {
	Metric string  `json:"metric"`
	Count  float64 `json:"count"`
	Mean   float64 `json:"mean"`
	P50    float64 `json:"p50"`
	P99    float64 `json:"p99"`
}

// RunSummary is the numbers of one variant and repeat; it is what the
// per-run summary.json holds.
type RunSummary struct {
	Variant string            `json:"variant"`
	Repeat  int               `json:"repeat"`
	Params  map[string]string `json:"params,omitempty"`
	Partial bool              `json:"partial,omitempty"`
	Error   string            `json:"error,omitempty"`
	// Duration is the seconds of load; rates divide by it.
	Duration float64 `json:"duration"`
	// ClosedModel is true when a phase used a fixed concurrency, whose
	// latencies hide queueing delay.
	ClosedModel bool           `json:"closed_model,omitempty"`
	Classes     []ClassStats   `json:"classes"`
	Memory      MemoryStats    `json:"memory"`
	Restarts    RestartStats   `json:"restarts"`
	Recycling   RecyclingCost  `json:"recycling"`
	Lag         *LagStats      `json:"lag,omitempty"`
	Harness     rundir.Harness `json:"harness"`
	// Probes are the health probes' results and verdicts (run.json's).
	Probes []rundir.ProbeStats `json:"probes,omitempty"`
	// Leak splits worker memory growth by request class (leakfit.go);
	// absent when no response named its worker.
	Leak *LeakStats `json:"leak,omitempty"`
	// Client is the client model of the run, from run.json.
	Client *rundir.ClientInfo `json:"client,omitempty"`
}

// replaced is the number of exits whose replacement was seen, over which
// ReplaceMean and ReplaceMax are taken.
func (r RestartStats) replaced() int {
	n := 0
	for _, x := range r.Exits {
		if x.Replacement != 0 {
			n++
		}
	}
	return n
}

// MarshalJSON leaves out replace_mean and replace_max when no exit was
// replaced: they were not measured, which is not 0.
func (r RestartStats) MarshalJSON() ([]byte, error) {
	type plain RestartStats
	out := struct {
		plain
		ReplaceMean *float64 `json:"replace_mean,omitempty"`
		ReplaceMax  *float64 `json:"replace_max,omitempty"`
	}{plain: plain(r)}
	if r.replaced() > 0 {
		out.ReplaceMean, out.ReplaceMax = &r.ReplaceMean, &r.ReplaceMax
	}
	return json.Marshal(out)
}

// MarshalJSON leaves out error_ratio and latency when the group has no
// requests.
func (g GroupStats) MarshalJSON() ([]byte, error) {
	type plain GroupStats
	out := struct {
		plain
		ErrorRatio *float64 `json:"error_ratio,omitempty"`
		Latency    *Latency `json:"latency,omitempty"`
	}{plain: plain(g)}
	if g.Count > 0 {
		out.ErrorRatio, out.Latency = &g.ErrorRatio, &g.Latency
	}
	return json.Marshal(out)
}

// measured reports whether loop lag was scraped and observed anything.
func (l *LagStats) measured() bool { return l != nil && l.Count > 0 }

// MarshalJSON leaves out mean, p50 and p99 when the histogram observed
// nothing.
func (l LagStats) MarshalJSON() ([]byte, error) {
	type plain LagStats
	out := struct {
		plain
		Mean *float64 `json:"mean,omitempty"`
		P50  *float64 `json:"p50,omitempty"`
		P99  *float64 `json:"p99,omitempty"`
	}{plain: plain(l)}
	if l.Count > 0 {
		out.Mean, out.P50, out.P99 = &l.Mean, &l.P50, &l.P99
	}
	return json.Marshal(out)
}

// SummarySchema and SummaryVersion identify the summary.json format
// (docs/reports.md). The version changes when a field's meaning changes
// incompatibly; fields may be added within a version.
const (
	SummarySchema  = "sawtooth.summary"
	SummaryVersion = 3
)

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

// RunFileSummary is the per variant/repeat summary.json.
type RunFileSummary struct {
	Schema  string `json:"schema"`
	Version int    `json:"version"`
	RunSummary
	Metrics []Metric `json:"metrics"`
}
