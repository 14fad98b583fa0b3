package scenarios

import "time"

// Scenario is one experiment: a target, the traffic sent to it, the phases
// that pace that traffic, and the variants of the target to compare.
// The YAML field names are the struct tags; docs/scenarios.md documents them.
type Scenario struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`

	Target Target `yaml:"target" json:"target"`
	// Traffic and Phases are the single stream of a scenario without
	// Streams (required then, not allowed with Streams).
	Traffic []RequestClass `yaml:"traffic,omitempty" json:"traffic,omitempty"`
	Phases  []Phase        `yaml:"phases,omitempty" json:"phases,omitempty"`
	// Streams are several traffic streams sent at the same time, each
	// with its own classes and phases (see StreamList).
	Streams []Stream `yaml:"streams,omitempty" json:"streams,omitempty"`
	// Probes are health checks sent on their own schedule, as a load
	// balancer or kubelet sends them.
	Probes []Probe `yaml:"probes,omitempty" json:"probes,omitempty"`
	Sample Sample  `yaml:"sample,omitempty" json:"sample,omitempty"`
	// Client is the harness's HTTP client model (client.go), shared by
	// every stream.
	Client Client `yaml:"client,omitempty" json:"client,omitempty"`

	// Variants are the configurations compared side by side. Each is the
	// target with Set applied. With neither Variants nor Matrix, the
	// scenario has one variant named "default".
	Variants []Variant `yaml:"variants,omitempty" json:"variants,omitempty"`
	// Matrix generates variants from the cartesian product of its
	// parameter lists, in key order of the file, e.g.
	// max_requests: [0, 100] × workers: [2, 4] gives four variants named
	// "max_requests=0,workers=2" and so on.
	Matrix Matrix `yaml:"matrix,omitempty" json:"matrix,omitempty"`

	// Repeat is how many times each variant runs (default 1).
	Repeat int `yaml:"repeat,omitempty" json:"repeat,omitempty"`

	// Thresholds are pass/fail conditions evaluated per variant, such as
	// "light.p99 < 50ms" or "errors.ratio < 0.1%".
	Thresholds []Threshold `yaml:"thresholds,omitempty" json:"thresholds,omitempty"`

	// Plan asks the report for the recycling settings that keep each
	// worker under a memory budget (docs/plan.md).
	Plan *Plan `yaml:"plan,omitempty" json:"plan,omitempty"`

	// File is the path the scenario was loaded from ("" for embedded
	// scenarios, which use "embedded:NAME.yaml" in errors).
	File string `yaml:"-" json:"-"`
}

// Target says what to run and drive. Exactly one of Builtin, Command and
// URL is set.
type Target struct {
	// Builtin runs "sawtooth serve" with these flags: keys are flag names
	// with underscores ("max_requests", "worker_model", "leak_per_request"),
	// values are scalars as they would be written on the command line.
	// The runner picks the --bind and --admin-bind ports.
	Builtin map[string]string `yaml:"builtin,omitempty" json:"builtin,omitempty"`
	// Command runs an external server such as gunicorn or uvicorn.
	Command *Command `yaml:"command,omitempty" json:"command,omitempty"`
	// URL drives a server that is already running and that sawtooth
	// neither starts nor stops (see URLTarget).
	URL *URLTarget `yaml:"url,omitempty" json:"url,omitempty"`
	// WorkerHeader is the response header that names the worker (its
	// pid) that served a request, which the per-class leak fit reads;
	// default DefaultWorkerHeader.
	WorkerHeader string `yaml:"worker_header,omitempty" json:"worker_header,omitempty"`
}

// DefaultWorkerHeader is the worker id header the built-in server and the
// testdata apps send.
const DefaultWorkerHeader = "X-Worker-Pid"

// WorkerIDHeader returns the target's worker header, or the default.
func (t Target) WorkerIDHeader() string {
	if t.WorkerHeader == "" {
		return DefaultWorkerHeader
	}
	return t.WorkerHeader
}

// Command is an external target started without a shell. Argv, Env values,
// Dir, Ready.URL and BaseURL may contain placeholders "{{name}}": {{port}}
// (a free port the runner picks), {{admin_port}}, {{base_url}}, and every
// key of Vars as overridden by the variant's Set.
type Command struct {
	Argv    []string          `yaml:"argv" json:"argv"`
	Env     map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	Dir     string            `yaml:"dir,omitempty" json:"dir,omitempty"`
	Vars    map[string]string `yaml:"vars,omitempty" json:"vars,omitempty"`
	BaseURL string            `yaml:"base_url,omitempty" json:"base_url,omitempty"` // default http://127.0.0.1:{{port}}
	Ready   Ready             `yaml:"ready,omitempty" json:"ready,omitempty"`
	Stop    Stop              `yaml:"stop,omitempty" json:"stop,omitempty"`
	Events  []LogPattern      `yaml:"events,omitempty" json:"events,omitempty"`
}

// Ready says how to tell that a target is serving.
type Ready struct {
	// URL is polled until it answers 2xx; a path is relative to BaseURL.
	// Default "/".
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// Timeout bounds the wait (default 30s).
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Stop says how to stop a target: Signal to the process the runner
// started, then SIGKILL to its whole process group once it has exited or
// after Grace.
type Stop struct {
	Signal string   `yaml:"signal,omitempty" json:"signal,omitempty"` // default TERM
	Grace  Duration `yaml:"grace,omitempty" json:"grace,omitempty"`   // default 10s
}

// LogPattern turns matching lines of the target's output into events.
// Named groups "pid", "reason" and "requests" fill the event's fields.
type LogPattern struct {
	Pattern string `yaml:"pattern" json:"pattern"`
	// Event is the event name: "spawn", "exit", "retiring" or any word.
	Event string `yaml:"event" json:"event"`
	// Reason is a fixed reason for the event when the pattern has no
	// "reason" group, e.g. "max_requests".
	Reason string `yaml:"reason,omitempty" json:"reason,omitempty"`
}

// RequestClass is one named kind of request in the traffic mix. Reports
// group results by class name.
type RequestClass struct {
	Name    string            `yaml:"name" json:"name"`
	Weight  float64           `yaml:"weight" json:"weight"`
	Method  string            `yaml:"method,omitempty" json:"method,omitempty"` // default GET
	Path    string            `yaml:"path" json:"path"`                         // path and query, relative to the base URL
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Body is sent inline; BodyFile names a file (relative to the scenario
	// file) whose contents are sent. At most one is set.
	Body     string `yaml:"body,omitempty" json:"body,omitempty"`
	BodyFile string `yaml:"body_file,omitempty" json:"body_file,omitempty"`
	// Timeout bounds this class's requests instead of the client's.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Phase is one stretch of the load. Exactly one of Rate and Concurrency is
// set. Rate is the open model (requests are sent on schedule whether or not
// earlier ones have answered); Concurrency is the closed model (N clients
// sending back to back, which hides queueing delay from the latencies).
type Phase struct {
	Name        string   `yaml:"name,omitempty" json:"name,omitempty"` // default "phase N"
	Duration    Duration `yaml:"duration" json:"duration"`
	Rate        *Rate    `yaml:"rate,omitempty" json:"rate,omitempty"`
	Concurrency int      `yaml:"concurrency,omitempty" json:"concurrency,omitempty"`
	// Arrival is how an open-model phase spaces its requests: "uniform"
	// (evenly, the default) or "poisson" (exponential gaps with the
	// phase's mean rate, seeded by --seed).
	Arrival string `yaml:"arrival,omitempty" json:"arrival,omitempty"`
	// Mix overrides the weights of request classes, by name, during this
	// phase; classes it does not name keep their traffic weight. A phase
	// that changes the mix lets a report tell which class leaks.
	Mix map[string]float64 `yaml:"mix,omitempty" json:"mix,omitempty"`
}

// Rate is requests per second: a constant ("rate: 200") or a linear ramp
// ("rate: {from: 50, to: 400}").
type Rate struct {
	From float64 `yaml:"from" json:"from"`
	To   float64 `yaml:"to" json:"to"`
}

// Sample configures what is recorded alongside the load.
type Sample struct {
	// Interval is the memory sampling and metrics scraping period
	// (default 250ms).
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// Metrics lists Prometheus endpoints to scrape.
	Metrics []MetricsSource `yaml:"metrics,omitempty" json:"metrics,omitempty"`
	// Warmup leaves the memory samples of the first Warmup of load out of
	// the per-class leak fit: a fresh worker's runtime grows for a while
	// (caches, pools, a heap reaching its first goal) without leaking.
	Warmup Duration `yaml:"warmup,omitempty" json:"warmup,omitempty"`
	// Prometheus reads the workers' memory and restarts from a Prometheus
	// server instead of /proc (see PrometheusSource).
	Prometheus *PrometheusSource `yaml:"prometheus,omitempty" json:"prometheus,omitempty"`
}

// MetricsSource is a Prometheus text endpoint and the metric families to
// keep from it (all when Names is empty). URL may use the placeholders of
// Command, plus {{admin_url}} for the built-in server's admin listener.
type MetricsSource struct {
	URL   string   `yaml:"url" json:"url"`
	Names []string `yaml:"names,omitempty" json:"names,omitempty"`
}

// Variant is one configuration of the target.
type Variant struct {
	Name string `yaml:"name" json:"name"`
	// Set overrides builtin flags or command Vars.
	Set map[string]string `yaml:"set,omitempty" json:"set,omitempty"`
	// Client overrides fields of the scenario's client block
	// (Scenario.ClientFor resolves them).
	Client *Client `yaml:"client,omitempty" json:"client,omitempty"`
	// Params holds the swept values for a variant generated from a Matrix
	// (empty otherwise); reports plot trade-offs against them.
	Params map[string]string `yaml:"-" json:"params,omitempty"`
}

// Matrix is a list of parameters, each with the values to sweep, in the
// order they appear in the file.
type Matrix []MatrixParam

// MatrixParam is one swept parameter.
type MatrixParam struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Threshold is a pass/fail condition: Metric Op Value, e.g.
// "light.p99 < 50ms". Metric names are documented in docs/scenarios.md:
// CLASS.{mean,p50,p90,p99,p999,max} and all.{...} (durations),
// CLASS.rps and all.rps (requests/s), CLASS.errors and errors.ratio
// (ratios), errors.count, memory.{pss,rss}.peak and memory.worker_rss.peak
// (sizes), memory.pss.slope (size per minute), restarts.count,
// restarts.max_concurrent (counts), lag.p99 (duration).
type Threshold struct {
	// Expr is the condition as written.
	Expr   string `json:"expr"`
	Metric string `json:"metric"`
	// Op is one of <, <=, >, >=, ==, !=.
	Op string `json:"op"`
	// Value is in the metric's base unit: seconds for durations, a
	// fraction for ratios (0.1% is 0.001), bytes for sizes, bytes per
	// minute for slopes, requests per second for rates.
	Value float64 `json:"value"`
	// Unit is the unit as written ("ms", "%", "MiB/min", "" for none).
	Unit string `json:"unit"`
	// Line and Column locate Expr in its file (0 when not from a file).
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
}

// Duration is a time.Duration written as "250ms", "5s" or "2m" in YAML
// and JSON.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
