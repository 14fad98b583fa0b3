package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// The runner tests' common setup: scenarios, options, running one and
// reading what it recorded. The helpers that start real servers
// (Prometheus, "sawtooth serve") are in prom_helpers_test.go.

// fakeScenario is a command target running the fake server.
func fakeScenario(extra ...string) *scenarios.Scenario {
	argv := append([]string{fakeBin, "-port={{port}}"}, extra...)
	return &scenarios.Scenario{
		Name: "fake",
		Target: scenarios.Target{Command: &scenarios.Command{
			Argv:    argv,
			BaseURL: scenarios.DefaultBaseURL,
			Vars:    map[string]string{"ignore": "-ignore-term=false", "escape": "-escape=false"},
			Ready:   scenarios.Ready{URL: "/healthz", Timeout: scenarios.Duration(10 * time.Second)},
			Stop:    scenarios.Stop{Signal: "TERM", Grace: scenarios.Duration(500 * time.Millisecond)},
			Events: []scenarios.LogPattern{
				{Pattern: `Booting worker with pid: (?P<pid>\d+)`, Event: "spawn"},
			},
		}},
		Traffic: []scenarios.RequestClass{
			{Name: "hello", Weight: 3, Method: "GET", Path: "/"},
			{Name: "slow", Weight: 1, Method: "GET", Path: "/?ms=5"},
		},
		Phases: []scenarios.Phase{{Name: "steady", Duration: scenarios.Duration(1500 * time.Millisecond), Rate: &scenarios.Rate{From: 40, To: 40}}},
		Sample: scenarios.Sample{
			Interval: scenarios.Duration(100 * time.Millisecond),
			Metrics:  []scenarios.MetricsSource{{URL: "{{base_url}}/metrics"}},
		},
		Repeat: 1,
	}
}

// steady is one phase of d at a constant rate.
func steady(name string, d time.Duration, rate float64) scenarios.Phase {
	return scenarios.Phase{Name: name, Duration: scenarios.Duration(d), Rate: &scenarios.Rate{From: rate, To: rate}}
}

// get is a GET request class of weight 1.
func get(name, path string) scenarios.RequestClass {
	return scenarios.RequestClass{Name: name, Weight: 1, Method: "GET", Path: path}
}

// parseScenario parses the scenario yml, named file in errors.
func parseScenario(t *testing.T, file, yml string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse([]byte(yml), file)
	if err != nil {
		t.Fatalf("scenario %s:\n%s\n%v", file, yml, err)
	}
	return s
}

// urlScenario parses a URL-target scenario for base with the given
// sample block and phases (YAML, indented for their keys).
func urlScenario(t *testing.T, base, sample, phases string) *scenarios.Scenario {
	t.Helper()
	yml := fmt.Sprintf(`name: url-prom
target:
  url:
    base_url: %s
    ready: {url: /healthz, timeout: 10s}
traffic:
  - {name: light, weight: 1, path: /light}
phases:
%s
sample:
%s
`, base, phases, sample)
	return parseScenario(t, "url-prom.yaml", yml)
}

// testOptions are the options of a test's run: a fresh directory, seed
// 7, the test's sawtooth binary and a 5s request timeout.
func testOptions(t *testing.T) Options {
	return Options{Dir: filepath.Join(t.TempDir(), "run"), Seed: 7, Binary: sawtoothBin, Timeout: 5 * time.Second, CommandLine: []string{"test"}}
}

// runOK runs s with opt, failing the test if the run fails, and opens
// its run directory.
func runOK(t *testing.T, s *scenarios.Scenario, opt Options) (Result, *rundir.Dir) {
	t.Helper()
	res, err := Run(context.Background(), s, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res, openDir(t, res.Dir)
}

// openDir opens the run directory dir (of a run that may have failed).
func openDir(t *testing.T, dir string) *rundir.Dir {
	t.Helper()
	d, err := rundir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// runInfo reads the run.json of ref.
func runInfo(t *testing.T, d *rundir.Dir, ref rundir.RunRef) rundir.RunInfo {
	t.Helper()
	ri, err := d.RunInfo(ref)
	if err != nil {
		t.Fatal(err)
	}
	return ri
}

// readMemory returns the memory rows of one run.
func readMemory(t *testing.T, d *rundir.Dir, ref rundir.RunRef) []rundir.MemorySample {
	t.Helper()
	return readMemoryFile(t, d.File(ref, rundir.MemoryFile))
}

// readMemoryFile returns the rows of the memory CSV at path
// (memory.csv or memory-proc.csv).
func readMemoryFile(t *testing.T, path string) []rundir.MemorySample {
	t.Helper()
	var rows []rundir.MemorySample
	if err := rundir.EachMemory(path, func(s rundir.MemorySample) error {
		rows = append(rows, s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// readEvents returns the events of one run.
func readEvents(t *testing.T, d *rundir.Dir, ref rundir.RunRef) []rundir.Event {
	t.Helper()
	var evs []rundir.Event
	if err := rundir.EachEvent(d.File(ref, rundir.EventsFile), func(e rundir.Event) error {
		evs = append(evs, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

// eachResult calls fn with every result of ref's results.bin.
func eachResult(t *testing.T, d *rundir.Dir, ref rundir.RunRef, fn func(*vegeta.Result)) {
	t.Helper()
	if err := rundir.EachResult(d.File(ref, rundir.ResultsFile), func(r *vegeta.Result) error {
		fn(r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// eachTimeline calls fn with every row of ref's timeline.csv.
func eachTimeline(t *testing.T, d *rundir.Dir, ref rundir.RunRef, fn func(rundir.TimelineRow)) {
	t.Helper()
	if err := rundir.EachTimeline(d.File(ref, rundir.TimelineFile), func(r rundir.TimelineRow) error {
		fn(r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// readResults decodes a results.bin.
func readResults(t *testing.T, path string) []vegeta.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var out []vegeta.Result
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			return out
		}
		out = append(out, r)
	}
}

// targetLog returns ref's target.log.
func targetLog(t *testing.T, d *rundir.Dir, ref rundir.RunRef) string {
	t.Helper()
	b, err := os.ReadFile(d.File(ref, rundir.TargetLog))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// killSampled kills, when the test ends, every process of mem still
// alive (cleanup after a failed test).
func killSampled(t *testing.T, mem []rundir.MemorySample) {
	t.Cleanup(func() {
		var pids []int
		for _, m := range mem {
			pids = append(pids, m.PID)
		}
		killAll(pids)
	})
}

// alive reports whether pid is a live, non-zombie process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// killAll kills every listed pid that is still alive (cleanup after a
// failed test).
func killAll(pids []int) {
	for _, p := range pids {
		if alive(p) {
			syscall.Kill(p, syscall.SIGKILL)
		}
	}
}
