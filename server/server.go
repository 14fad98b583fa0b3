// Package server is the recycling server behind "sawtooth serve": a pre-fork
// master that binds the listening socket once and re-executes its own binary
// as worker processes that inherit it (package server/worker), respawns and
// recycles them the way gunicorn and uWSGI do (max_requests with jitter,
// max_rss, max_lifetime, timeout, graceful timeout, optional overlap), and
// serves Prometheus metrics and a lifecycle event stream on an admin
// listener.
//
// Binaries that embed the server call RunChild first thing in main, so the
// re-executed binary becomes a worker.
package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/sawtooth-dev/sawtooth/server/loop"
	"github.com/sawtooth-dev/sawtooth/server/worker"
)

// Config is the master's configuration.
type Config struct {
	// Bind is the listen address of the workers, e.g. "127.0.0.1:8000";
	// port 0 picks a free port.
	Bind string
	// AdminBind is the admin listener's address, or "" / "off" for none.
	AdminBind string
	// Workers is the number of worker processes.
	Workers int
	// Worker is the template of every worker's configuration: Model,
	// Threads, MaxRSS, GracefulTimeout, KeepAlive, LeakPerRequest, Overlap and any
	// model-specific field. The master sets Slot, MaxRequests, MaxLifetime
	// and Heartbeat per worker.
	Worker worker.Config
	// MaxRequests and MaxRequestsJitter: each worker retires after
	// MaxRequests + a uniform draw from [0, MaxRequestsJitter] requests;
	// 0 disables.
	MaxRequests, MaxRequestsJitter int64
	// MaxLifetime and MaxLifetimeJitter: each worker retires after
	// MaxLifetime + a uniform draw from [0, MaxLifetimeJitter]; 0 disables.
	MaxLifetime, MaxLifetimeJitter time.Duration
	// Timeout: a worker that sends no heartbeat for this long is killed
	// (SIGKILL); 0 disables.
	Timeout time.Duration
	// Seed seeds the jitter draws; 0 picks a random seed (logged).
	Seed uint64
	// ReadyFile, if set, is written (atomically) once the first Workers
	// workers are ready: a JSON object with pid, bind and admin.
	ReadyFile string
	// Models are the worker models that may be named in Worker.Model;
	// nil means the registry RunChild's workers use (sync, threads and
	// loop).
	Models worker.Registry
}

// Defaults of the serve command's flags.
const (
	DefaultBind      = "127.0.0.1:8000"
	DefaultAdminBind = "127.0.0.1:8001"
	DefaultWorkers   = 2
	DefaultModel     = "sync"
	DefaultTimeout   = 30 * time.Second
)

// eventHistory is how many events /events replays to a new reader.
const eventHistory = 10000

func (c *Config) models() worker.Registry {
	if c.Models == nil {
		return registry()
	}
	return c.Models
}

// Validate checks c and returns an error naming the bad setting.
func (c *Config) Validate() error {
	var errs []error
	if c.Bind == "" {
		errs = append(errs, errors.New("--bind: want host:port, e.g. 127.0.0.1:8000"))
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("--workers %d: want an integer ≥ 1", c.Workers))
	}
	if _, ok := c.models()[c.Worker.Model]; !ok {
		errs = append(errs, fmt.Errorf("--worker-model %q: want one of %s", c.Worker.Model, c.models().NamesList()))
	}
	if c.Worker.Threads < 1 {
		errs = append(errs, fmt.Errorf("--threads %d: want an integer ≥ 1", c.Worker.Threads))
	}
	if c.MaxRequests < 0 {
		errs = append(errs, fmt.Errorf("--max-requests %d: want an integer ≥ 0 (0 disables)", c.MaxRequests))
	}
	if c.MaxRequestsJitter < 0 {
		errs = append(errs, fmt.Errorf("--max-requests-jitter %d: want an integer ≥ 0", c.MaxRequestsJitter))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--max-lifetime", c.MaxLifetime}, {"--max-lifetime-jitter", c.MaxLifetimeJitter},
		{"--timeout", c.Timeout}, {"--graceful-timeout", c.Worker.GracefulTimeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %v: want a duration ≥ 0", d.name, d.v))
		}
	}
	if c.Worker.KeepAlive <= 0 {
		errs = append(errs, fmt.Errorf("--keepalive %v: want a duration > 0, e.g. 2s", c.Worker.KeepAlive))
	}
	if c.Worker.MaxRSS < 0 {
		errs = append(errs, fmt.Errorf("--max-rss %d: want a size ≥ 0", c.Worker.MaxRSS))
	}
	if c.Worker.LeakPerRequest < 0 {
		errs = append(errs, fmt.Errorf("--leak-per-request %d: want a size ≥ 0", c.Worker.LeakPerRequest))
	}
	if l := c.Worker.Loop; l != nil {
		errs = append(errs, validateLoop(l)...)
	}
	return errors.Join(errs...)
}

// validateLoop checks the loop model's settings, naming their flags.
func validateLoop(l *loop.Config) []error {
	var errs []error
	switch l.Offload {
	case loop.OffloadNone, loop.OffloadThreads, loop.OffloadProcesses:
	default:
		errs = append(errs, fmt.Errorf("--offload %q: want none, threads or processes", l.Offload))
	}
	if l.OffloadWorkers < 1 || l.OffloadWorkers > loop.MaxOffloadWorkers {
		errs = append(errs, fmt.Errorf("--offload-workers %d: want an integer in [1, %d]", l.OffloadWorkers, loop.MaxOffloadWorkers))
	}
	if l.SwitchInterval <= 0 {
		errs = append(errs, fmt.Errorf("--switch-interval %v: want a duration > 0, e.g. 5ms", l.SwitchInterval))
	}
	if l.LagInterval < time.Millisecond {
		errs = append(errs, fmt.Errorf("--lag-interval %v: want a duration ≥ 1ms, e.g. 10ms", l.LagInterval))
	}
	if l.LagThreshold <= 0 {
		errs = append(errs, fmt.Errorf("--lag-threshold %v: want a duration > 0, e.g. 100ms", l.LagThreshold))
	}
	if len(errs) == 0 {
		if err := l.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// heartbeat is the interval at which workers report: a quarter of the
// timeout, at most a second, at least 50ms.
func (c *Config) heartbeat() time.Duration {
	if c.Timeout <= 0 {
		return time.Second
	}
	return min(max(c.Timeout/4, 50*time.Millisecond), time.Second)
}
