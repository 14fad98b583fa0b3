// Package rundir defines sawtooth's run directory: the files a run writes
// and reports read, their Go types, and streaming writers and readers for
// them. The format is documented in docs/run-directory.md and versioned by
// FormatVersion.
//
// A run directory looks like this:
//
//	runs/<UTC time>-<scenario>/
//	  scenario.yaml            the scenario as run, after defaults and --set
//	  thresholds.json          the scenario's thresholds, ready to evaluate (Threshold)
//	  meta.json                Meta
//	  <variant>/<repeat>/      one per variant and repeat (repeats count from 1)
//	    run.json               RunInfo, with the harness's own health
//	    results.bin            vegeta results; Result.Attack is the request class
//	    timeline.csv           TimelineRow per interval and class
//	    memory.csv             MemorySample per sample and pid
//	    memory-proc.csv        the same from /proc, when memory.csv came from Prometheus
//	    events.jsonl           Event per line
//	    metrics.csv            MetricSample per scraped series and sample
//	    target.log             the target's stdout and stderr
//
// Times inside a variant/repeat directory ("t" columns) are seconds since
// RunInfo.Start, the moment the attack began.
package rundir

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FormatVersion is the version of the run directory format. It changes
// when a file's meaning changes incompatibly.
const FormatVersion = 1

// File names inside a run directory.
const (
	ScenarioFile = "scenario.yaml"
	MetaFile     = "meta.json"
	// ThresholdsFile holds the scenario's thresholds (WriteThresholds),
	// so that reports need not parse scenario.yaml to evaluate them.
	ThresholdsFile = "thresholds.json"
	RunFile        = "run.json"
	ResultsFile    = "results.bin"
	TimelineFile   = "timeline.csv"
	MemoryFile     = "memory.csv"
	// MemoryProcFile holds the /proc sampler's rows, in memory.csv's
	// format, when memory.csv comes from Prometheus for a target
	// sawtooth started (so the two can be compared).
	MemoryProcFile = "memory-proc.csv"
	EventsFile     = "events.jsonl"
	MetricsFile    = "metrics.csv"
	TargetLog      = "target.log"
)

// Meta describes a whole run: every variant and repeat of one scenario.
type Meta struct {
	FormatVersion int       `json:"format_version"`
	ToolVersion   string    `json:"tool_version"`
	GoVersion     string    `json:"go_version"`
	Host          string    `json:"host"`
	CommandLine   []string  `json:"command_line"`
	Scenario      string    `json:"scenario"`
	Seed          int64     `json:"seed"`
	Quick         bool      `json:"quick,omitempty"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	// Partial is true when the run was interrupted or failed before every
	// variant and repeat finished; Reason says why.
	Partial bool     `json:"partial"`
	Reason  string   `json:"reason,omitempty"`
	Runs    []RunRef `json:"runs"`
	// Shard marks the run of one shard of a sharded run (nil otherwise).
	Shard *ShardInfo `json:"shard,omitempty"`
	// Merged says which shards "sawtooth merge" made this run from (nil
	// for a run one process recorded).
	Merged *MergeInfo `json:"merged,omitempty"`
}

// RunRef names one variant and repeat and its directory, relative to the
// run directory.
type RunRef struct {
	Variant string `json:"variant"`
	Repeat  int    `json:"repeat"`
	Dir     string `json:"dir"`
}

// RunInfo describes one variant and repeat.
type RunInfo struct {
	Variant string `json:"variant"`
	Repeat  int    `json:"repeat"`
	// Params are a matrix variant's swept values (empty otherwise).
	Params map[string]string `json:"params,omitempty"`
	// Set are the variant's overrides of the target.
	Set map[string]string `json:"set,omitempty"`
	// Target is the argv the target was started with.
	Target []string `json:"target"`
	// BaseURL is where traffic went.
	BaseURL string    `json:"base_url"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	// Phases are the phases as run, with their offsets.
	Phases  []PhaseInfo `json:"phases"`
	Partial bool        `json:"partial"`
	Error   string      `json:"error,omitempty"`
	// NoResults says why there is no results.bin: no request was sent
	// (the run ended before the attack began). vegeta cannot read an
	// empty results stream, so none is left behind.
	NoResults string  `json:"no_results,omitempty"`
	Harness   Harness `json:"harness"`
	// Probes are the health probes' results and the orchestrator's
	// verdict on them (see ProbeStats).
	Probes []ProbeStats `json:"probes,omitempty"`
	// Client is the client model of the run (nil in runs recorded before
	// sawtooth had one, which did not measure reuse failures).
	Client *ClientInfo `json:"client,omitempty"`
	// TargetKind is "builtin", "command" or "url" (a server sawtooth did
	// not start; Target is then empty).
	TargetKind string `json:"target_kind,omitempty"`
	// Memory says where memory.csv came from when not from /proc.
	Memory *MemorySource `json:"memory_source,omitempty"`
	// Shard marks one shard's run (nil otherwise); Late is set there.
	Shard *ShardInfo `json:"shard,omitempty"`
}

// MemorySource describes memory read from a Prometheus server instead of
// /proc.
type MemorySource struct {
	// Source is "prometheus".
	Source string `json:"source"`
	URL    string `json:"url"`
	// MemoryQuery gives one series per worker; WorkerLabel names them.
	MemoryQuery string `json:"memory_query"`
	WorkerLabel string `json:"worker_label"`
	// RestartsQuery is the counter of worker exits ("" when none).
	RestartsQuery string `json:"restarts_query,omitempty"`
	// Step is the query resolution and ScrapeInterval Prometheus's, in
	// seconds (0 when it could not be read).
	Step           float64 `json:"step"`
	ScrapeInterval float64 `json:"scrape_interval"`
	// Series is the number of worker series found.
	Series int `json:"series"`
	// Labels maps the pids of memory.csv to worker label values when
	// those are not pids (pods, instances), numbered from 1.
	Labels map[string]string `json:"labels,omitempty"`
	// Restarts is how much the restarts counter rose during the run
	// (absent without a restarts query); RestartsUnmatched of those
	// ended no worker series (workers that lived less than a scrape).
	Restarts          *int `json:"restarts,omitempty"`
	RestartsUnmatched int  `json:"restarts_unmatched,omitempty"`
	// Warnings are caveats, e.g. a scrape interval long against the run.
	Warnings []string `json:"warnings,omitempty"`
	// Error is why memory could not be read ("" when it was).
	Error string `json:"error,omitempty"`
}

// PhaseInfo is one phase as run. Start and End are seconds since
// RunInfo.Start.
type PhaseInfo struct {
	Name        string  `json:"name"`
	Start       float64 `json:"start"`
	End         float64 `json:"end"`
	RateFrom    float64 `json:"rate_from,omitempty"`
	RateTo      float64 `json:"rate_to,omitempty"`
	Concurrency int     `json:"concurrency,omitempty"`
	// Stream is the phase's stream in a scenario with several ("" for
	// the single stream).
	Stream string `json:"stream,omitempty"`
}

// Harness is the load generator's own health during one run, so a report
// can say when latencies were not really measured at the requested rate.
type Harness struct {
	Requests int64 `json:"requests"`
	// RequestedRate and AchievedRate are mean requests per second over
	// the open-model phases (0 when there were none).
	RequestedRate float64 `json:"requested_rate"`
	AchievedRate  float64 `json:"achieved_rate"`
	// SendLagP99 and SendLagMax are the delay, in seconds, between when
	// requests were due to be sent and when they were sent.
	SendLagP99 float64 `json:"send_lag_p99"`
	SendLagMax float64 `json:"send_lag_max"`
	// CPUSeconds is the harness's CPU time during the run; CPUPercent is
	// that as a percentage of one core.
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPercent float64 `json:"cpu_percent"`
	// MaxRSS is the harness's peak resident set in bytes.
	MaxRSS int64 `json:"max_rss"`
	// Warnings are problems the harness noticed, e.g. that it could not
	// keep the requested rate.
	Warnings []string `json:"warnings,omitempty"`
	// Streams are the rates and send lag of each stream, in a scenario
	// with several; the fields above then sum the rates over the streams.
	Streams []StreamHarness `json:"streams,omitempty"`
}

// StreamHarness is one stream's requested and achieved rates (mean
// requests per second over its open-model phases) and send lag (seconds).
type StreamHarness struct {
	Name          string  `json:"name"`
	Requests      int64   `json:"requests"`
	RequestedRate float64 `json:"requested_rate"`
	AchievedRate  float64 `json:"achieved_rate"`
	SendLagP99    float64 `json:"send_lag_p99"`
	SendLagMax    float64 `json:"send_lag_max"`
}

// ProbeStats are one probe's results in one run and the verdict an
// orchestrator would have reached on them. Times are seconds since
// RunInfo.Start.
type ProbeStats struct {
	Name string `json:"name"`
	// Kind is "liveness" or "readiness".
	Kind             string  `json:"kind"`
	Path             string  `json:"path"`
	Every            float64 `json:"every"`
	Timeout          float64 `json:"timeout"`
	FailureThreshold int     `json:"failure_threshold"`
	SuccessThreshold int     `json:"success_threshold"`
	// Probes is the number sent, Failures those that timed out, failed to
	// connect or answered other than 2xx/3xx, LongestFailureRun the most
	// consecutive failures.
	Probes            int `json:"probes"`
	Failures          int `json:"failures"`
	LongestFailureRun int `json:"longest_failure_run"`
	// Restarts are the times a liveness probe reached FailureThreshold
	// consecutive failures: when the orchestrator would have restarted
	// the container (its counter starts again after each).
	Restarts []float64 `json:"restarts,omitempty"`
	// Unready are the stretches a readiness probe had the container out
	// of rotation: from FailureThreshold consecutive failures until
	// SuccessThreshold consecutive successes (or the end of the run);
	// UnreadySeconds is their total.
	Unready        []Interval `json:"unready,omitempty"`
	UnreadySeconds float64    `json:"unready_seconds"`
}

// Interval is a stretch of a run, in seconds since its start.
type Interval struct {
	From float64 `json:"from"`
	To   float64 `json:"to"`
}

// TimelineRow aggregates one interval of one request class. Latencies are
// seconds. Class "all" aggregates every class. ReuseFailures counts the
// requests with an attempt that failed on a reused keep-alive connection
// before any response byte, whether or not it was re-sent and then
// succeeded (0 in files written before the column existed).
type TimelineRow struct {
	T        float64 // interval start, seconds since the run began
	Interval float64 // interval length in seconds
	Class    string
	Count    int64
	OK       int64
	Errors   int64
	P50      float64
	P90      float64
	P99      float64
	Max      float64

	ReuseFailures int64
}

// TimelineHeader is the header row of timeline.csv. Readers also accept
// files without its last column, reuse_failures.
var TimelineHeader = []string{"t", "interval", "class", "count", "ok", "errors", "p50", "p90", "p99", "max", "reuse_failures"}

// MemorySample is one process's memory at one sample. Role is "master",
// "worker" or "other" (for command targets: "master" is the process the
// runner started, "worker" its direct children, "other" deeper ones).
type MemorySample struct {
	T    float64
	PID  int
	PPID int
	Role string
	RSS  int64   // bytes
	PSS  int64   // bytes; -1 when smaps_rollup could not be read
	CPU  float64 // cumulative user+system CPU seconds
}

// MemoryHeader is the header row of memory.csv.
var MemoryHeader = []string{"t", "pid", "ppid", "role", "rss", "pss", "cpu"}

// Event is one line of events.jsonl.
type Event struct {
	T    float64   `json:"t"`
	Time time.Time `json:"time"`
	// Source is where the event was seen: "server" (the built-in server's
	// /events), "tree" (the process-tree sampler), "log" (a target log
	// pattern), "prometheus" (worker series read from Prometheus) or
	// "runner" (phases, start and stop).
	Source string `json:"source"`
	// Event is "spawn", "ready", "retiring", "exit", "phase", "start",
	// "stop" or a log pattern's name.
	Event    string `json:"event"`
	PID      int    `json:"pid,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Requests int64  `json:"requests,omitempty"`
	RSS      int64  `json:"rss,omitempty"`
	Phase    string `json:"phase,omitempty"`
	Message  string `json:"message,omitempty"`
}

// MetricSample is one scraped value. Histograms and summaries are
// flattened as in the Prometheus text format: NAME_bucket with an "le"
// label, NAME_sum and NAME_count. Labels is the label set in text form,
// e.g. `le="0.1",pid="123"`, sorted by name.
type MetricSample struct {
	T      float64
	Metric string
	Labels string
	Value  float64
}

// MetricsHeader is the header row of metrics.csv.
var MetricsHeader = []string{"t", "metric", "labels", "value"}

// RunPath returns the directory of one variant and repeat relative to the
// run directory. Characters that cannot appear in a file name are
// replaced by '_'.
func RunPath(variant string, repeat int) string {
	clean := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, variant)
	if clean == "" || clean == "." || clean == ".." {
		clean = "_" + clean
	}
	return filepath.Join(clean, strconv.Itoa(repeat))
}

// WriteJSON writes v to path as indented JSON, atomically (a temporary
// file renamed into place), so a reader never sees half a file.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return WriteFile(path, append(b, '\n'))
}

// WriteFile writes data to path atomically: into a temporary file that
// os.CreateTemp makes in the same directory (a new name, opened O_EXCL, so
// a symlink planted at a fixed temporary name cannot redirect the write),
// which is then renamed over path. A symlink at path itself is replaced,
// not followed. The file is mode 0644; on failure no temporary is left.
func WriteFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Create creates the new file path for writing, refusing one that already
// exists (a symlink included), for the files a run streams into its new
// directory.
func Create(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// ReadJSON reads path into v.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}
