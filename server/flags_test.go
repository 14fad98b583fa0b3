package server

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// TestScenarioFlagsMatchServe checks that every builtin flag a scenario may
// set is a flag of "sawtooth serve", and that the scenario validator's
// loop-only flags are exactly those serve refuses with another worker model,
// so "sawtooth validate" refuses what the run would.
func TestScenarioFlagsMatchServe(t *testing.T) {
	values := map[string]string{
		"workers": "2", "threads": "2", "max_requests": "5", "max_requests_jitter": "1",
		"max_rss": "1GiB", "max_lifetime": "1m", "max_lifetime_jitter": "1s", "timeout": "5s",
		"graceful_timeout": "5s", "overlap": "true", "leak_per_request": "1KiB", "seed": "3",
		"offload": "threads", "offload_workers": "2", "switch_interval": "5ms", "gil": "false",
		"lag_interval": "10ms", "lag_threshold": "100ms", "lose_context": "true",
	}
	parse := func(args ...string) error {
		var err error
		app := &cli.App{Name: "sawtooth", Commands: []*cli.Command{{
			Name:  "serve",
			Flags: Command().Flags,
			Action: func(c *cli.Context) error {
				_, err = configFromFlags(c)
				return nil
			},
		}}}
		if rerr := app.Run(append([]string{"sawtooth", "serve"}, args...)); rerr != nil {
			return rerr
		}
		return err
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
		if err := parse("--worker-model=loop", flag); err != nil {
			t.Errorf("serve --worker-model=loop %s: %v", flag, err)
		}
		err := parse("--worker-model="+scenarios.DefaultWorkerModel, flag)
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
