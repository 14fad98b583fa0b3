package rundir

// ClientInfo is the client model one run used (run.json's "client"), as
// resolved from the scenario's client block, the variant's overrides and
// sawtooth run --timeout. Its presence also says that the run measured
// reuse failures (timeline.csv's reuse_failures column).
type ClientInfo struct {
	// Retry is whether net/http could re-send a request after a reuse
	// failure (Go's default) or not (as wrk).
	Retry     bool `json:"retry"`
	KeepAlive bool `json:"keepalive"`
	// Connections is the most connections at once (0: no limit).
	Connections int `json:"connections,omitempty"`
	// Timeout is the per-request timeout in seconds; ClassTimeouts the
	// classes with their own.
	Timeout       float64            `json:"timeout"`
	ClassTimeouts map[string]float64 `json:"class_timeouts,omitempty"`
	// MaxBody is the response bytes kept per request in results.bin (-1:
	// all).
	MaxBody int64 `json:"max_body"`
	HTTP2   bool  `json:"http2"`
}
