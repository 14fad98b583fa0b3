package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/reports"
	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// python is Debian's interpreter, the one the packages are installed for.
const python = "/usr/bin/python3"

// requireTargets skips the test when the real servers are not installed,
// or fails it when CI is set (CI installs them, so missing is a bug).
func requireTargets(t *testing.T, servers ...string) {
	t.Helper()
	var missing []string
	for _, s := range servers {
		if _, err := os.Stat(s); err != nil {
			missing = append(missing, s)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", "import flask, fastapi, uvicorn, prometheus_client")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if err != nil {
		missing = append(missing, fmt.Sprintf("%s modules flask, fastapi, uvicorn, prometheus_client (%v: %s)", python, err, strings.TrimSpace(string(out))))
	}
	if len(missing) == 0 {
		return
	}
	msg := "real targets not installed: " + strings.Join(missing, "; ") + "; run `make deps` (scripts/deps.sh) to install the Debian packages"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// loadShipped loads the shipped scenario name, points it at this
// checkout's testdata/apps and applies sets ("key=value").
func loadShipped(t *testing.T, name string, sets ...string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Load(name)
	if err != nil {
		t.Fatalf("load shipped scenario %s: %v", name, err)
	}
	apps, err := filepath.Abs(filepath.Join("..", "testdata", "apps"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApplySet(append([]string{"apps=" + apps}, sets...)); err != nil {
		t.Fatalf("scenario %s: %v", name, err)
	}
	return s
}

// constantLoad replaces the scenario's phases with one open-model phase.
func constantLoad(s *scenarios.Scenario, rate float64, d time.Duration) {
	s.Phases = []scenarios.Phase{{Name: "test", Duration: scenarios.Duration(d), Rate: &scenarios.Rate{From: rate, To: rate}}}
}

// run runs the selected variants of s with the runner into a fresh run
// directory and builds its report. On failure it logs the end of each
// target's log.
func run(t *testing.T, s *scenarios.Scenario, variants ...string) (*reports.Report, runner.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ctx, interrupted := stopOnSignal(ctx)
	dir := filepath.Join(t.TempDir(), "run")
	opts := runner.Options{Dir: dir, Variants: variants, Seed: 1, Timeout: 20 * time.Second}
	if s.Target.Builtin != nil {
		opts.Binary = sawtoothBinary(t)
	}
	res, err := runner.Run(ctx, s, opts)
	interrupted()
	t.Cleanup(func() {
		if t.Failed() {
			logTargets(t, res)
		}
	})
	if err != nil {
		t.Fatalf("runner.Run %s: %v", s.Name, err)
	}
	for _, w := range res.Warnings {
		t.Logf("harness warning: %s", w)
	}
	rep, err := reports.Build(res.Dir, reports.Options{})
	if err != nil {
		t.Fatalf("reports.Build %s: %v", res.Dir, err)
	}
	return rep, res
}

// stopOnSignal returns a context that SIGINT or SIGTERM cancel, and a
// function to call once the runner has returned: if a signal came, it dies
// of it then. Without this, Ctrl-C would kill the test binary at once, and
// the target, in a process group of its own, would outlive it.
func stopOnSignal(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	got := make(chan os.Signal, 1)
	go func() {
		select {
		case sig := <-sigc:
			got <- sig
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(sigc)
		cancel()
		select {
		case sig := <-got:
			// The runner has stopped the target; end as interrupted.
			syscall.Kill(os.Getpid(), sig.(syscall.Signal))
			time.Sleep(time.Second)
			os.Exit(1)
		default:
		}
	}
}

// logTargets logs the last lines of every run's target.log.
func logTargets(t *testing.T, res runner.Result) {
	for _, ref := range res.Runs {
		b, err := os.ReadFile(filepath.Join(res.Dir, ref.Dir, rundir.TargetLog))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 30 {
			lines = lines[len(lines)-30:]
		}
		t.Logf("%s target.log (end):\n%s", ref.Dir, strings.Join(lines, "\n"))
	}
}

// variant returns the report's summary of the variant name.
func variant(t *testing.T, rep *reports.Report, name string) *analysis.VariantSummary {
	t.Helper()
	for i := range rep.Summary.Variants {
		if rep.Summary.Variants[i].Name == name {
			return &rep.Summary.Variants[i]
		}
	}
	t.Fatalf("report has no variant %q", name)
	return nil
}

// class returns the statistics of one request class of a variant.
func class(t *testing.T, v *analysis.VariantSummary, name string) analysis.ClassStats {
	t.Helper()
	for _, c := range v.Classes {
		if c.Class == name {
			return c
		}
	}
	t.Fatalf("variant %s has no request class %q", v.Name, name)
	return analysis.ClassStats{}
}

// runRef returns the directory of the first repeat of a variant.
func runRef(t *testing.T, res runner.Result, name string) string {
	t.Helper()
	for _, r := range res.Runs {
		if r.Variant == name {
			return filepath.Join(res.Dir, r.Dir)
		}
	}
	t.Fatalf("run has no variant %q", name)
	return ""
}

// events reads the events.jsonl of one run.
func events(t *testing.T, runDir string) []rundir.Event {
	t.Helper()
	var out []rundir.Event
	if err := rundir.EachEvent(filepath.Join(runDir, rundir.EventsFile), func(e rundir.Event) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// results reads the vegeta results of one run.
func results(t *testing.T, runDir string) []*vegeta.Result {
	t.Helper()
	var out []*vegeta.Result
	if err := rundir.EachResult(filepath.Join(runDir, rundir.ResultsFile), func(r *vegeta.Result) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// loadEnd returns when the load of one run ended, in seconds since it began.
func loadEnd(t *testing.T, runDir string) float64 {
	t.Helper()
	var info rundir.RunInfo
	if err := rundir.ReadJSON(filepath.Join(runDir, rundir.RunFile), &info); err != nil {
		t.Fatal(err)
	}
	end := 0.0
	for _, p := range info.Phases {
		end = max(end, p.End)
	}
	return end
}
