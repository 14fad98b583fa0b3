package server

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/internal/units"
	"github.com/sawtooth-dev/sawtooth/server/loop"
	"github.com/sawtooth-dev/sawtooth/server/serveflags"
	"github.com/sawtooth-dev/sawtooth/server/worker"
)

// ConfigFromValues builds and validates a Config from "sawtooth serve"
// flag values: set maps the flags given (by name, without dashes, as in
// serveflags.List) to their values as typed; a flag left out takes its
// default. The error names every bad flag.
func ConfigFromValues(set map[string]string) (Config, error) {
	var errs []string
	names := make([]string, 0, len(set))
	for name := range set {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f, ok := serveflags.Lookup(name)
		if !ok {
			errs = append(errs, fmt.Sprintf("unknown flag --%s", name))
		} else if msg := f.Check(set[name]); msg != "" {
			errs = append(errs, fmt.Sprintf("--%s: got %q, want %s", name, set[name], msg))
		}
	}
	v := values(set)
	cfg := Config{
		Bind:              v.str("bind"),
		AdminBind:         v.str("admin-bind"),
		Workers:           int(v.int("workers")),
		MaxRequests:       v.int("max-requests"),
		MaxRequestsJitter: v.int("max-requests-jitter"),
		MaxLifetime:       v.dur("max-lifetime"),
		MaxLifetimeJitter: v.dur("max-lifetime-jitter"),
		Timeout:           v.dur("timeout"),
		Seed:              v.uint("seed"),
		ReadyFile:         v.str("ready-file"),
		Worker: worker.Config{
			Model:           v.str("worker-model"),
			Threads:         int(v.int("threads")),
			GracefulTimeout: v.dur("graceful-timeout"),
			KeepAlive:       v.dur("keepalive"),
			Overlap:         v.bool("overlap"),
			MaxRSS:          v.size("max-rss"),
			LeakPerRequest:  v.size("leak-per-request"),
		},
	}
	if cfg.Worker.GracefulTimeout == 0 {
		cfg.Worker.GracefulTimeout = time.Nanosecond // 0 means "do not wait"
	}
	if err := loopFromValues(v, set, &cfg); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) == 0 {
		if err := cfg.Validate(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return cfg, nil
}

// loopFromValues sets cfg.Worker.Loop from the loop flags when the model
// is loop, and reports loop flags given with another model.
func loopFromValues(v values, set map[string]string, cfg *Config) error {
	if cfg.Worker.Model != "loop" {
		var given []string
		for _, f := range serveflags.List() {
			if _, ok := set[f.Name]; ok && f.LoopOnly {
				given = append(given, "--"+f.Name)
			}
		}
		if len(given) > 0 {
			return fmt.Errorf("%s: only with --worker-model loop (got --worker-model %s)", strings.Join(given, ", "), cfg.Worker.Model)
		}
		return nil
	}
	cfg.Worker.Loop = &loop.Config{
		Offload:        v.str("offload"),
		OffloadWorkers: int(v.int("offload-workers")),
		SwitchInterval: v.dur("switch-interval"),
		GIL:            v.bool("gil"),
		LagInterval:    v.dur("lag-interval"),
		LagThreshold:   v.dur("lag-threshold"),
		DumpInterval:   loop.DefaultConfig().DumpInterval,
		LoseContext:    v.bool("lose-context"),
	}
	return nil
}

// values reads flag values, falling back on each flag's default. A value
// that does not parse reads as zero: ConfigFromValues has reported it.
type values map[string]string

func (v values) str(name string) string {
	if s, ok := v[name]; ok {
		return strings.TrimSpace(s)
	}
	f, ok := serveflags.Lookup(name)
	if !ok {
		panic("server: no serve flag " + name)
	}
	return f.Default
}

func (v values) int(name string) int64 {
	n, _ := strconv.ParseInt(v.str(name), 10, 64)
	return n
}

func (v values) uint(name string) uint64 {
	n, _ := strconv.ParseUint(v.str(name), 10, 64)
	return n
}

func (v values) bool(name string) bool {
	b, _ := strconv.ParseBool(v.str(name))
	return b
}

func (v values) dur(name string) time.Duration {
	d, _ := serveflags.ParseDuration(v.str(name))
	return d
}

func (v values) size(name string) int64 {
	n, _ := units.ParseSize(v.str(name))
	return n
}
