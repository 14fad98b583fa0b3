package integration

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

// planScenario leaks 256 KiB on every request of the built-in server.
const planScenario = `name: plan-test
target:
  builtin: {workers: "2", worker_model: sync, leak_per_request: 256KiB}
traffic:
  - {name: light, weight: 1, path: /light}
phases:
  - {name: steady, duration: 6s, rate: 40}
sample: {interval: 100ms, warmup: 1s}
`

const planLeak = 256 << 10

// sawtooth runs the sawtooth binary with args in its own process group,
// killed with it if it outlives ctx, and returns its standard output.
func sawtooth(t *testing.T, ctx context.Context, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(ctx, sawtoothBinary(t), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sawtooth %s: %v\n%s\n%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}

// firstRSS is the median over workers of their first sampled RSS: the
// base of a fresh worker, measured without the fit.
func firstRSS(t *testing.T, runDir string) float64 {
	t.Helper()
	first := map[int]int64{}
	if err := rundir.EachMemory(filepath.Join(runDir, rundir.MemoryFile), func(m rundir.MemorySample) error {
		if _, ok := first[m.PID]; !ok && m.Role == "worker" {
			first[m.PID] = m.RSS
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var xs []float64
	for _, v := range first {
		xs = append(xs, float64(v))
	}
	sort.Float64s(xs)
	if len(xs) == 0 {
		t.Fatal("no worker sampled")
	}
	return xs[len(xs)/2]
}

// A run with a known leak (256 KiB per request) and base (each worker's
// first sample): "sawtooth plan" recommends max_requests within 10% of
// (budget - base - margin) / leak, and --verify, running the scenario
// again with it, keeps every worker under the budget.
func TestPlanVerify(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(file, []byte(planScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := sawtooth(t, ctx, "run", "--out", dir, "--ci", file)
	var runDir string
	for _, line := range strings.Split(string(out), "\n") {
		if d, ok := strings.CutPrefix(line, "run directory: "); ok {
			runDir = strings.TrimSpace(d)
		}
	}
	if runDir == "" {
		t.Fatalf("no run directory in the output of sawtooth run:\n%s", out)
	}
	base := firstRSS(t, filepath.Join(runDir, "default", "1"))
	const budget, margin = 36 << 20, 2 << 20
	js := sawtooth(t, ctx, "plan", runDir, "--worker-rss-budget", "36MiB", "--margin", "2MiB", "--format", "json", "--verify")
	var got struct {
		MaxRequests int64 `json:"max_requests"`
		Jitter      int64 `json:"max_requests_jitter"`
		Input       struct {
			Base, Leak float64
		} `json:"input"`
		Verify struct {
			PeakWorkerRSS     float64 `json:"peak_worker_rss"`
			BudgetHeld        bool    `json:"budget_held"`
			Restarts          float64 `json:"restarts"`
			RestartsPerSecond float64 `json:"restarts_per_second"`
			Predicted         float64 `json:"predicted_restarts_per_second"`
		} `json:"verify"`
	}
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatalf("plan --format json: %v\n%s", err, js)
	}
	want := (budget - base - margin) / planLeak
	t.Logf("base %.1f MiB (first samples) vs %.1f MiB (fit); leak %.0f B/req (fit) vs %d; max_requests %d jitter %d, want %.0f ±10%%",
		base/(1<<20), got.Input.Base/(1<<20), got.Input.Leak, planLeak, got.MaxRequests, got.Jitter, want)
	t.Logf("verify: peak worker RSS %.1f MiB (budget 36 MiB), %.0f restarts, %.3f/s measured vs %.3f/s predicted",
		got.Verify.PeakWorkerRSS/(1<<20), got.Verify.Restarts, got.Verify.RestartsPerSecond, got.Verify.Predicted)
	if math.Abs(float64(got.MaxRequests)/want-1) > 0.10 {
		t.Errorf("max_requests = %d, want %.0f ±10%%", got.MaxRequests, want)
	}
	if !got.Verify.BudgetHeld || got.Verify.PeakWorkerRSS > budget {
		t.Errorf("verify: peak worker RSS %.1f MiB, want ≤ 36 MiB", got.Verify.PeakWorkerRSS/(1<<20))
	}
	if got.Verify.Restarts < 2 {
		t.Errorf("verify: %.0f restarts, want workers recycled (the budget held only if they were)", got.Verify.Restarts)
	}
}
