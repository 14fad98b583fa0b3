package worker

import (
	"fmt"
	"time"

	"github.com/sawtooth-dev/sawtooth/server/loop"
)

// Config is everything a worker process needs to know. The master fills one
// per worker (drawing the jittered limits) and passes it to the child as
// JSON, so a new knob is one more field here and one more flag in the master.
// Zero values mean "off" or "default".
type Config struct {
	// Slot numbers the worker's place in the pool, 1-based; a replacement
	// takes the slot of the worker it replaces.
	Slot int `json:"slot"`
	// Model names the worker model: "sync", "threads", or one a Registry
	// adds (e.g. "loop").
	Model string `json:"model"`
	// Threads is the number of requests a threads worker serves at once.
	Threads int `json:"threads,omitempty"`
	// MaxRequests is this worker's request limit (max_requests plus its
	// drawn jitter); 0 disables.
	MaxRequests int64 `json:"max_requests,omitempty"`
	// MaxRSS is the resident set size in bytes past which the worker
	// retires; 0 disables.
	MaxRSS int64 `json:"max_rss,omitempty"`
	// MaxLifetime is this worker's lifetime (with its drawn jitter) after
	// which it retires; 0 disables.
	MaxLifetime time.Duration `json:"max_lifetime,omitempty"`
	// GracefulTimeout bounds how long a retiring worker waits for in-flight
	// requests before it exits anyway.
	GracefulTimeout time.Duration `json:"graceful_timeout,omitempty"`
	// Heartbeat is the interval between heartbeats to the master.
	Heartbeat time.Duration `json:"heartbeat,omitempty"`
	// LeakPerRequest is leaked (retained and touched) on every request,
	// whatever the route.
	LeakPerRequest int64 `json:"leak_per_request,omitempty"`
	// KeepAlive is how long an idle keep-alive connection of a threads or
	// loop worker is kept open (gunicorn's --keep-alive); 0 means
	// DefaultKeepAlive.
	KeepAlive time.Duration `json:"keepalive,omitempty"`
	// Overlap makes a worker that reaches a limit keep serving until the
	// master, having started its replacement, tells it to retire.
	Overlap bool `json:"overlap,omitempty"`
	// Loop configures the "loop" model (offload, GIL, lag monitor); nil
	// means loop.DefaultConfig(). Other models ignore it.
	Loop *loop.Config `json:"loop,omitempty"`
}

// Defaults for zero Config fields.
const (
	DefaultThreads         = 4
	DefaultGracefulTimeout = 30 * time.Second
	DefaultHeartbeat       = time.Second
	DefaultKeepAlive       = 2 * time.Second
)

func (c Config) keepAlive() time.Duration {
	if c.KeepAlive <= 0 {
		return DefaultKeepAlive
	}
	return c.KeepAlive
}

func (c Config) threads() int {
	if c.Threads <= 0 {
		return DefaultThreads
	}
	return c.Threads
}

// loopConfig returns the loop model's configuration, defaults filled in.
func (c Config) loopConfig() loop.Config {
	if c.Loop == nil {
		return loop.DefaultConfig()
	}
	return *c.Loop
}

func (c Config) gracefulTimeout() time.Duration {
	if c.GracefulTimeout <= 0 {
		return DefaultGracefulTimeout
	}
	return c.GracefulTimeout
}

func (c Config) heartbeat() time.Duration {
	if c.Heartbeat <= 0 {
		return DefaultHeartbeat
	}
	return c.Heartbeat
}

// Validate checks c against the models in reg.
func (c Config) Validate(reg Registry) error {
	if _, ok := reg[c.Model]; !ok {
		return fmt.Errorf("unknown worker model %q: want one of %s", c.Model, reg.NamesList())
	}
	switch {
	case c.Threads < 0:
		return fmt.Errorf("threads %d: want an integer ≥ 1", c.Threads)
	case c.MaxRequests < 0:
		return fmt.Errorf("max_requests %d: want an integer ≥ 0", c.MaxRequests)
	case c.MaxRSS < 0:
		return fmt.Errorf("max_rss %d: want a size ≥ 0", c.MaxRSS)
	case c.MaxLifetime < 0:
		return fmt.Errorf("max_lifetime %v: want a duration ≥ 0", c.MaxLifetime)
	case c.GracefulTimeout < 0:
		return fmt.Errorf("graceful_timeout %v: want a duration ≥ 0", c.GracefulTimeout)
	case c.KeepAlive < 0:
		return fmt.Errorf("keepalive %v: want a duration ≥ 0", c.KeepAlive)
	case c.LeakPerRequest < 0:
		return fmt.Errorf("leak_per_request %d: want a size ≥ 0", c.LeakPerRequest)
	}
	if c.Loop != nil {
		return c.Loop.Validate()
	}
	return nil
}
