package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// Binaries built once for all tests.
var (
	sawtoothBin string // cmd/sawtooth, for builtin targets and the CLI
	fakeBin     string // testdata/fakeserver, for command targets
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "runner-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sawtoothBin = filepath.Join(dir, "sawtooth")
	fakeBin = filepath.Join(dir, "fakeserver")
	for _, b := range [][2]string{{sawtoothBin, "../cmd/sawtooth"}, {fakeBin, "./testdata/fakeserver"}} {
		out, err := exec.Command("go", "build", "-o", b[0], b[1]).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b[1], err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	// Every test stops its targets; a process still running one of the
	// test binaries is an orphan the runner failed to kill (or a failed
	// test left behind): kill it, and fail the package.
	if left := leftovers(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "processes outlived the tests: %v\n", left)
		killAll(left)
		code = max(code, 1)
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// leftovers returns the live processes running sawtoothBin or fakeBin.
func leftovers() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink("/proc/" + e.Name() + "/exe")
		if err == nil && (exe == sawtoothBin || exe == fakeBin) && alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// Test 4 of the issue: a command target is started, sampled and stopped
// with no orphans — politely, and when it ignores SIGTERM and forks
// children, one of which leaves the process group.
func TestCommandTargetNoOrphans(t *testing.T) {
	s := fakeScenario("-children=2", "{{ignore}}", "{{escape}}")
	s.Variants = []scenarios.Variant{
		{Name: "polite"},
		{Name: "stubborn", Set: map[string]string{"ignore": "-ignore-term=true", "escape": "-escape=true"}},
	}
	_, d := runOK(t, s, testOptions(t))
	if d.Meta.Partial || len(d.Meta.Runs) != 2 || d.Meta.Seed != 7 {
		t.Fatalf("meta = %+v", d.Meta)
	}
	for _, ref := range d.Meta.Runs {
		t.Run(ref.Variant, func(t *testing.T) {
			mem := readMemory(t, d, ref)
			pids := map[int]string{}
			for _, m := range mem {
				pids[m.PID] = m.Role
			}
			var all []int
			for p := range pids {
				all = append(all, p)
			}
			t.Cleanup(func() { killAll(all) })
			wantWorkers := 2
			if ref.Variant == "stubborn" {
				wantWorkers = 3
			}
			var master, workers int
			for _, role := range pids {
				switch role {
				case "master":
					master++
				case "worker":
					workers++
				}
			}
			if master != 1 || workers != wantWorkers {
				t.Errorf("sampled %d master and %d workers (%v), want 1 and %d", master, workers, pids, wantWorkers)
			}
			for _, p := range all {
				if alive(p) {
					t.Errorf("process %d (%s) survived the stop", p, pids[p])
				}
			}
			// Every child announced in the log is an event with its pid,
			// and the tree sampler saw it spawn and exit.
			evs := readEvents(t, d, ref)
			logged := map[int]bool{}
			tree := map[string]map[int]bool{"spawn": {}, "exit": {}}
			for _, e := range evs {
				switch e.Source {
				case "log":
					logged[e.PID] = true
				case "tree":
					tree[e.Event][e.PID] = true
				}
			}
			for p, role := range pids {
				if role == "worker" && !logged[p] {
					t.Errorf("worker %d has no log event", p)
				}
				if !tree["spawn"][p] || !tree["exit"][p] {
					t.Errorf("process %d: tree spawn %v, exit %v; want both", p, tree["spawn"][p], tree["exit"][p])
				}
			}
			ri := runInfo(t, d, ref)
			if ri.Partial || ri.Error != "" || len(ri.Phases) != 1 {
				t.Errorf("run.json: partial %v error %q phases %+v", ri.Partial, ri.Error, ri.Phases)
			}
			// 40 req/s for 1.5 s, every result tagged with its class.
			classes := map[string]int{}
			n := 0
			eachResult(t, d, ref, func(r *vegeta.Result) {
				n++
				classes[r.Attack]++
				if strings.Contains(r.URL, "#") || r.Code != 200 {
					t.Errorf("result %d: URL %q code %d", r.Seq, r.URL, r.Code)
				}
			})
			if n < 55 || n > 61 || classes["hello"] == 0 || classes["slow"] == 0 || len(classes) != 2 {
				t.Errorf("%d results by class %v, want 60 of hello and slow", n, classes)
			}
			if ri.Harness.Requests != int64(n) {
				t.Errorf("harness counted %d requests, results.bin has %d", ri.Harness.Requests, n)
			}
			// The timeline's "all" rows add up to every result.
			var total int64
			eachTimeline(t, d, ref, func(r rundir.TimelineRow) {
				if r.Class == "all" {
					total += r.Count
				}
			})
			if total != int64(n) {
				t.Errorf("timeline counts %d requests, results.bin %d", total, n)
			}
			var metrics []string
			if err := rundir.EachMetric(d.File(ref, rundir.MetricsFile), func(m rundir.MetricSample) error {
				metrics = append(metrics, m.Metric+"{"+m.Labels+"}")
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`fake_requests_total{path="/"}`, `fake_lag_seconds_bucket{le="0.1"}`, `fake_lag_seconds_bucket{le="+Inf"}`, `fake_lag_seconds_count{}`} {
				if !slices.Contains(metrics, want) {
					t.Errorf("metrics.csv has no %s", want)
				}
			}
			if log := targetLog(t, d, ref); !strings.Contains(log, "fake server line 3") {
				t.Errorf("target.log lacks the target's output:\n%s", log)
			}
		})
	}
}

// Test 5 of the issue: a target that never becomes ready fails within its
// timeout with the tail of its log in the error; so does one that exits.
func TestTargetNeverReady(t *testing.T) {
	for _, tc := range []struct {
		mode, want string
	}{
		{"never", "not ready after 1s"},
		{"exit", "exited before it was ready"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			s := fakeScenario("-mode="+tc.mode, "-lines=30")
			s.Target.Command.Ready.Timeout = scenarios.Duration(time.Second)
			opt := testOptions(t)
			start := time.Now()
			res, err := Run(context.Background(), s, opt)
			took := time.Since(start)
			if err == nil {
				t.Fatal("Run succeeded")
			}
			msg := err.Error()
			for _, want := range []string{tc.want, "fake server line 30", "fake server line 12"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
			if strings.Contains(msg, "fake server line 10\n") {
				t.Errorf("error shows more than the last 20 lines:\n%s", msg)
			}
			// A generous safety bound: the timeout is 1 s.
			if took > 20*time.Second {
				t.Errorf("took %v to fail", took)
			}
			d := openDir(t, res.Dir)
			if !d.Meta.Partial || !strings.Contains(d.Meta.Reason, tc.want) {
				t.Errorf("meta: partial %v reason %q", d.Meta.Partial, d.Meta.Reason)
			}
			ri, err := d.RunInfo(d.Meta.Runs[0])
			if err != nil || !strings.Contains(ri.Error, tc.want) {
				t.Errorf("run.json error %q (%v)", ri.Error, err)
			}
			if _, err := os.Stat(d.File(d.Meta.Runs[0], rundir.ResultsFile)); !errors.Is(err, os.ErrNotExist) || ri.NoResults == "" {
				t.Errorf("results.bin: %v, no_results %q; want no file and a reason", err, ri.NoResults)
			}
			for _, e := range readEvents(t, d, d.Meta.Runs[0]) {
				if e.Event == "retry" {
					t.Errorf("a target that failed for another reason than its port was restarted: %+v", e)
				}
			}
		})
	}
}

// A command target whose free port another process takes before it binds
// it is started once more on new ports, and the run goes on.
func TestPortTakenRetry(t *testing.T) {
	s := fakeScenario("-collide-once=" + filepath.Join(t.TempDir(), "collided"))
	_, d := runOK(t, s, testOptions(t))
	ref := d.Meta.Runs[0]
	killSampled(t, readMemory(t, d, ref))
	retries := 0
	for _, e := range readEvents(t, d, ref) {
		if e.Source == "runner" && e.Event == "retry" {
			retries++
		}
	}
	if retries != 1 {
		t.Errorf("%d retry events, want 1", retries)
	}
	if log := targetLog(t, d, ref); !strings.Contains(log, "address already in use") {
		t.Errorf("target.log lacks the first start's bind error:\n%s", log)
	}
	ri, err := d.RunInfo(ref)
	if err != nil || ri.Error != "" || d.Meta.Partial {
		t.Fatalf("run.json error %q (%v), meta partial %v", ri.Error, err, d.Meta.Partial)
	}
	n := 0
	eachResult(t, d, ref, func(r *vegeta.Result) {
		if r.Code == 200 {
			n++
		}
	})
	if n < 55 {
		t.Errorf("%d requests answered 200, want about 60", n)
	}
}

func TestBadVariant(t *testing.T) {
	_, err := Run(context.Background(), fakeScenario(), Options{Dir: t.TempDir(), Variants: []string{"nope"}})
	if err == nil || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "default") {
		t.Errorf("err = %v", err)
	}
}

// Test 6 of the issue: Ctrl-C during "sawtooth run" stops the attack and
// the target, exits 130 and leaves a run directory marked partial whose
// results.bin vegeta reads, with its library and its own CLI.
func TestInterruptedRun(t *testing.T) {
	dir := t.TempDir()
	yml := fmt.Sprintf(`name: interrupted
target:
  command:
    argv: [%q, "-port={{port}}", "-children=1"]
    ready: {url: /healthz, timeout: 10s}
    stop: {grace: 1s}
traffic:
  - {name: hello, weight: 1, path: /}
phases:
  - {name: long, duration: 60s, rate: 50}
sample:
  interval: 100ms
`, fakeBin)
	path := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "runs")
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(sawtoothBin, "run", "--ci", "--out", out, path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	// Wait until results are being written, then interrupt.
	var results string
	for deadline := time.Now().Add(30 * time.Second); ; {
		m, _ := filepath.Glob(filepath.Join(out, "*-interrupted", "default", "1", rundir.ResultsFile))
		if len(m) == 1 {
			if st, err := os.Stat(m[0]); err == nil && st.Size() > 0 {
				results = m[0]
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no results after 30s; stderr:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want status 130; stderr:\n%s", err, stderr.String())
	}
	runDir := filepath.Dir(filepath.Dir(filepath.Dir(results)))
	if !strings.Contains(stdout.String(), runDir) {
		t.Errorf("stdout does not name the run directory %s:\n%s", runDir, stdout.String())
	}
	d := openDir(t, runDir)
	if !d.Meta.Partial || d.Meta.Reason != "interrupted" || len(d.Meta.Runs) != 1 {
		t.Errorf("meta: %+v", d.Meta)
	}
	ri, err := d.RunInfo(d.Meta.Runs[0])
	if err != nil || !ri.Partial {
		t.Errorf("run.json partial %v (%v)", ri.Partial, err)
	}
	for _, p := range readMemory(t, d, d.Meta.Runs[0]) {
		if alive(p.PID) {
			t.Errorf("target process %d survived", p.PID)
			syscall.Kill(p.PID, syscall.SIGKILL)
		}
	}
	// Decode as "vegeta report" does.
	f, err := os.Open(results)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var m vegeta.Metrics
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			break
		}
		m.Add(&r)
	}
	m.Close()
	if m.Requests < 50 || m.Success < 0.99 {
		t.Errorf("decoded %d requests, success %.3f", m.Requests, m.Success)
	}
	// And with vegeta's own CLI, built from the module cache.
	vegetaBin := filepath.Join(dir, "vegeta")
	if b, err := exec.Command("go", "build", "-o", vegetaBin, "github.com/tsenart/vegeta/v12").CombinedOutput(); err != nil {
		t.Fatalf("build vegeta: %v\n%s", err, b)
	}
	rep, err := exec.Command(vegetaBin, "report", results).CombinedOutput()
	if err != nil || !strings.Contains(string(rep), "Requests") || !slices.Contains(strings.Fields(string(rep)), fmt.Sprintf("%d,", m.Requests)) {
		t.Errorf("vegeta report: %v\n%s", err, rep)
	}
}

// TestNeverReadyNoOrphans checks that a target that never becomes ready
// leaves no child behind, even one that left its process group (setsid)
// before any memory sample was taken: the tree is tracked from the start.
func TestNeverReadyNoOrphans(t *testing.T) {
	s := fakeScenario("-mode=never", "-children=1", "-escape=true")
	s.Target.Command.Ready.Timeout = scenarios.Duration(time.Second)
	res, err := Run(context.Background(), s, testOptions(t))
	if err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Fatalf("Run: %v, want not ready", err)
	}
	d := openDir(t, res.Dir)
	var kids []int
	for _, e := range readEvents(t, d, d.Meta.Runs[0]) {
		if e.Source == "log" && e.Event == "spawn" {
			kids = append(kids, e.PID)
		}
	}
	t.Cleanup(func() { killAll(kids) })
	if len(kids) != 2 {
		t.Fatalf("log events name children %v, want 2", kids)
	}
	for _, p := range kids {
		if alive(p) {
			t.Errorf("child %d survived a target that never became ready", p)
		}
	}
}

// TestInterruptedWhileStarting checks that a run interrupted while its
// target starts leaves no empty results.bin (which vegeta cannot read) and
// says why in run.json.
func TestInterruptedWhileStarting(t *testing.T) {
	s := fakeScenario("-mode=never")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, s, testOptions(t))
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run: %v, want ErrInterrupted", err)
	}
	d := openDir(t, res.Dir)
	ref := d.Meta.Runs[0]
	ri := runInfo(t, d, ref)
	if _, err := os.Stat(d.File(ref, rundir.ResultsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("results.bin: %v, want no file", err)
	}
	if !ri.Partial || !strings.Contains(ri.NoResults, "no request was sent") {
		t.Errorf("run.json: partial %v, no_results %q", ri.Partial, ri.NoResults)
	}
}
