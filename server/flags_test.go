package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sawtooth-dev/sawtooth/scenarios"
	"github.com/sawtooth-dev/sawtooth/server/loop"
	"github.com/sawtooth-dev/sawtooth/server/serveflags"
	"github.com/sawtooth-dev/sawtooth/server/worker"
)

// parseServe parses serve arguments (--name=value, --name value, and a
// bare --name for a boolean) into a Config, as cmd/sawtooth's serve
// command does, without running anything.
func parseServe(args ...string) (Config, error) {
	set := map[string]string{}
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(args[i], "--"), "=")
		f, ok := serveflags.Lookup(name)
		switch {
		case !strings.HasPrefix(args[i], "--"):
			return Config{}, fmt.Errorf("unexpected argument %q", args[i])
		case !ok || strings.Contains(name, "_"):
			return Config{}, fmt.Errorf("flag provided but not defined: %s", args[i])
		case !hasValue && f.Type == serveflags.Bool:
			value = "true"
		case !hasValue:
			if i+1 == len(args) {
				return Config{}, fmt.Errorf("--%s needs a value", name)
			}
			i++
			value = args[i]
		}
		set[name] = value
	}
	return ConfigFromValues(set)
}

// TestScenarioFlagsMatchServe checks that every builtin flag a scenario may
// set is a flag of "sawtooth serve", and that the scenario validator's
// loop-only flags are exactly those serve refuses with another worker model,
// so "sawtooth validate" refuses what the run would.
func TestScenarioFlagsMatchServe(t *testing.T) {
	values := map[string]string{
		"workers": "2", "threads": "2", "max_requests": "5", "max_requests_jitter": "1",
		"max_rss": "1GiB", "max_lifetime": "1m", "max_lifetime_jitter": "1s", "timeout": "5s",
		"graceful_timeout": "5s", "keepalive": "3s", "overlap": "true", "leak_per_request": "1KiB", "seed": "3",
		"offload": "threads", "offload_workers": "2", "switch_interval": "5ms", "gil": "false",
		"lag_interval": "10ms", "lag_threshold": "100ms", "lose_context": "true",
	}
	for _, name := range scenarios.BuiltinFlags() {
		if name == "worker_model" {
			continue
		}
		v, ok := values[name]
		if !ok {
			t.Errorf("no test value for builtin flag %s", name)
			continue
		}
		if err := scenarios.CheckBuiltinFlag(name, v); err != nil {
			t.Errorf("test value %s=%s: %v", name, v, err)
		}
		flag := scenarios.BuiltinArgs(map[string]string{name: v})[0]
		if _, err := parseServe("--worker-model=loop", flag); err != nil {
			t.Errorf("serve --worker-model=loop %s: %v", flag, err)
		}
		_, err := parseServe("--worker-model="+scenarios.DefaultWorkerModel, flag)
		if loopOnly := scenarios.LoopOnlyFlag(name); loopOnly != (err != nil) {
			t.Errorf("serve --worker-model=%s %s: err = %v, but scenarios.LoopOnlyFlag = %v", scenarios.DefaultWorkerModel, flag, err, loopOnly)
		} else if err != nil && !strings.Contains(err.Error(), "only with --worker-model loop") {
			t.Errorf("serve %s: %v", flag, err)
		}
	}
	if DefaultModel != scenarios.DefaultWorkerModel {
		t.Errorf("serve's default model %q, scenarios' %q", DefaultModel, scenarios.DefaultWorkerModel)
	}
}

// TestFlagDefaults: the flag table's defaults are the library's (the
// server, worker and loop packages' Default constants), and a value
// outside a flag's bounds is refused naming the flag.
func TestFlagDefaults(t *testing.T) {
	cfg, err := ConfigFromValues(map[string]string{"worker-model": "loop"})
	if err != nil {
		t.Fatal(err)
	}
	l, d := *cfg.Worker.Loop, loop.DefaultConfig()
	if cfg.Bind != DefaultBind || cfg.AdminBind != DefaultAdminBind || cfg.Workers != DefaultWorkers || cfg.Timeout != DefaultTimeout ||
		cfg.Worker.Threads != worker.DefaultThreads || cfg.Worker.GracefulTimeout != worker.DefaultGracefulTimeout ||
		cfg.Worker.KeepAlive != worker.DefaultKeepAlive || l != d {
		t.Errorf("flag defaults give %+v, loop %+v; want the packages' defaults (loop %+v)", cfg, l, d)
	}
	for args, want := range map[string]string{
		fmt.Sprintf("--offload-workers=%d", loop.MaxOffloadWorkers+1): "--offload-workers: got",
		"--workers=0":        "want an integer ≥ 1",
		"--seed=-1":          "--seed: got \"-1\", want an integer ≥ 0",
		"--keepalive=0":      "--keepalive: got \"0\", want a duration > 0",
		"--max-rss=lots":     "--max-rss: got \"lots\", want a size",
		"--bogus-flag=1":     "not defined",
		"--gil=maybe":        "--gil: got \"maybe\", want true or false",
		"--lag-interval=1us": "a duration of at least 1ms",
	} {
		_, err := parseServe("--worker-model=loop", args)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", args, err, want)
		}
	}
}
