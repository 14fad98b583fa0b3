package loop

import (
	"fmt"
	"time"

	"github.com/sawtooth-dev/sawtooth/server/serveflags"
)

// Where heavy routes run in a loop worker (Config.Offload).
const (
	// OffloadNone runs heavy work on the loop itself.
	OffloadNone = "none"
	// OffloadThreads runs heavy work on a pool of goroutines that behave
	// like CPython threads: CPU work must hold the GIL.
	OffloadThreads = "threads"
	// OffloadProcesses runs heavy work in child processes; the job and its
	// payload cross a pipe.
	OffloadProcesses = "processes"
)

// Config is the loop model's configuration, one field per command-line flag
// of `sawtooth serve --worker-model loop`. It is JSON-serialisable so a master
// can hand it to its workers; durations are encoded as integer nanoseconds.
//
// The zero value is not the default: start from DefaultConfig, which in
// particular sets GIL to true.
type Config struct {
	// Offload is where /cpu, /block and /regex run: "none", "threads" or
	// "processes" (--offload).
	Offload string `json:"offload"`
	// OffloadWorkers is the number of threads or child processes (--offload-workers).
	OffloadWorkers int `json:"offload_workers"`
	// SwitchInterval is how long a thread waiting for the GIL waits before it
	// asks the holder to drop it (--switch-interval, CPython's
	// sys.getswitchinterval(), default 5ms).
	SwitchInterval time.Duration `json:"switch_interval"`
	// GIL makes offloaded CPU work hold the GIL (--gil). False models work
	// that releases it, such as NumPy.
	GIL bool `json:"gil"`
	// LagInterval is the period of the lag probe (--lag-interval, default 10ms).
	LagInterval time.Duration `json:"lag_interval"`
	// LagThreshold is the lag above which a warning with a stack dump is
	// logged (--lag-threshold, default 100ms).
	LagThreshold time.Duration `json:"lag_threshold"`
	// DumpInterval is the minimum time between two stack dumps (default 1s).
	DumpInterval time.Duration `json:"dump_interval"`
	// LoseContext drops the request id on its way into offloaded work, the
	// contextvars bug of run_in_executor (--lose-context).
	LoseContext bool `json:"lose_context"`
}

// DefaultConfig returns the defaults: no offload, 4 offload workers, a 5ms
// switch interval, the GIL on, a 10ms lag probe, a 100ms lag threshold and at
// most one stack dump per second.
func DefaultConfig() Config {
	return Config{
		Offload:        OffloadNone,
		OffloadWorkers: 4,
		SwitchInterval: 5 * time.Millisecond,
		GIL:            true,
		LagInterval:    10 * time.Millisecond,
		LagThreshold:   100 * time.Millisecond,
		DumpInterval:   time.Second,
	}
}

// MaxOffloadWorkers bounds Config.OffloadWorkers.
const MaxOffloadWorkers = serveflags.MaxOffloadWorkers

// Validate reports the first invalid field of c, naming the flag and what
// was expected. Zero durations, a zero worker count and an empty Offload are
// valid: New replaces them with the defaults.
func (c Config) Validate() error {
	switch c.Offload {
	case "", OffloadNone, OffloadThreads, OffloadProcesses:
	default:
		return fmt.Errorf("loop config: offload %q: want none, threads or processes", c.Offload)
	}
	if c.OffloadWorkers < 0 || c.OffloadWorkers > MaxOffloadWorkers {
		return fmt.Errorf("loop config: offload-workers %d: want an integer in [1, %d]", c.OffloadWorkers, MaxOffloadWorkers)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"switch-interval", c.SwitchInterval},
		{"lag-interval", c.LagInterval},
		{"lag-threshold", c.LagThreshold},
		{"dump-interval", c.DumpInterval},
	} {
		if d.v < 0 {
			return fmt.Errorf("loop config: %s %v: want a positive duration", d.name, d.v)
		}
	}
	return nil
}

// withDefaults returns c with zero fields replaced by DefaultConfig's.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Offload == "" {
		c.Offload = d.Offload
	}
	if c.OffloadWorkers == 0 {
		c.OffloadWorkers = d.OffloadWorkers
	}
	if c.SwitchInterval == 0 {
		c.SwitchInterval = d.SwitchInterval
	}
	if c.LagInterval == 0 {
		c.LagInterval = d.LagInterval
	}
	if c.LagThreshold == 0 {
		c.LagThreshold = d.LagThreshold
	}
	if c.DumpInterval == 0 {
		c.DumpInterval = d.DumpInterval
	}
	return c
}
