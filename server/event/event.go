// Package event is the schema of the built-in server's lifecycle event
// stream (the admin listener's /events, one JSON object per line): the
// server writes it and the runner reads it.
package event

import "time"

// Event is one worker lifecycle event, as streamed by the admin listener's
// /events, one JSON object per line. Every field is always present; zero
// means not applicable or unknown.
type Event struct {
	// Time is when the master saw the event (RFC 3339 with nanoseconds).
	Time time.Time `json:"time"`
	// Pid is the worker's process id.
	Pid int `json:"pid"`
	// Event is "spawn", "ready", "retiring" or "exit".
	Event string `json:"event"`
	// Reason is why the worker is retiring or exited: max_requests,
	// max_rss, max_lifetime, timeout, crash, signal, shutdown, restart or
	// scale_down. Empty for spawn and ready.
	Reason string `json:"reason"`
	// Requests is the number of requests the worker had served, as last
	// reported (exact in retiring events the worker sends itself).
	Requests int64 `json:"requests"`
	// RSS is the worker's resident set size in bytes when it retired or as
	// last reported before exit; 0 if unknown.
	RSS int64 `json:"rss"`
	// Limit is the worker's drawn max_requests limit (max_requests plus
	// its jitter); 0 when max_requests is off.
	Limit int64 `json:"limit"`
	// Message is the human-readable log line of the event.
	Message string `json:"message"`
}

// Event names.
const (
	Spawn    = "spawn"
	Ready    = "ready"
	Retiring = "retiring"
	Exit     = "exit"
)
