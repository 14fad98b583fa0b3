package integration

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/internal/hist"
	"github.com/sawtooth-dev/sawtooth/reports"
	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/attack"
)

const (
	shardRate     = 200.0
	shardDuration = 10 * time.Second
	shardCount    = 4
)

const shardScenario = `name: sharded
target:
  url:
    base_url: http://127.0.0.1:%d
    ready: {url: /healthz, timeout: 20s}
traffic:
  - {name: light, weight: 9, path: /light}
  - {name: other, weight: 1, path: "/light?n=2"}
phases:
  - {name: steady, duration: 10s, rate: 200}
`

// freeTCPPort returns a port on 127.0.0.1 that nothing listens on now.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startGroup starts the sawtooth binary with args in its own process
// group, killed with it when the test ends.
func startGroup(t *testing.T, ctx context.Context, out *strings.Builder, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, sawtoothBinary(t), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if out != nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return cmd
}

// exitCode runs the sawtooth binary and returns its exit status and
// output.
func exitCode(t *testing.T, ctx context.Context, args ...string) (int, string) {
	t.Helper()
	var out strings.Builder
	cmd := startGroup(t, ctx, &out, args...)
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	}
	t.Fatalf("sawtooth %s: %v", strings.Join(args, " "), err)
	return -1, ""
}

var runDirLine = regexp.MustCompile(`(?m)^run directory: (.+)$`)

// Four shard processes with one --start-at against one "sawtooth serve"
// send, merged, the single process's schedule: the request count within
// 1% of rate × duration, each second within 5% of the rate, and the
// merged report's percentiles those of the shards' raw results put
// together. merge refuses a missing or doubled shard with exit 2.
func TestShardedRunMerged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := t.TempDir()
	port := freeTCPPort(t)
	serve := startGroup(t, ctx, nil, "serve", "--bind", fmt.Sprintf("127.0.0.1:%d", port),
		"--admin-bind", fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t)), "--workers", "2")
	defer func() {
		syscall.Kill(-serve.Process.Pid, syscall.SIGTERM)
		serve.Wait()
	}()
	sc := filepath.Join(root, "sharded.yaml")
	if err := os.WriteFile(sc, []byte(fmt.Sprintf(shardScenario, port)), 0o644); err != nil {
		t.Fatal(err)
	}

	startAt := time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339Nano)
	dirs := make([]string, shardCount)
	var wg sync.WaitGroup
	errs := make([]error, shardCount)
	for i := range shardCount {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out := exitCode(t, ctx, "run", sc, "--shard", fmt.Sprintf("%d/%d", i, shardCount), "--start-at", startAt,
				"--ci", "--out", filepath.Join(root, fmt.Sprintf("shard%d", i)))
			m := runDirLine.FindStringSubmatch(out)
			if code != 0 || m == nil {
				errs[i] = fmt.Errorf("shard %d: exit %d\n%s", i, code, out)
				return
			}
			dirs[i] = strings.TrimSpace(m[1])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	if code, out := exitCode(t, ctx, "merge", dirs[0], dirs[1], dirs[2], "--out", filepath.Join(root, "missing")); code != 2 || !strings.Contains(out, "shard 3 of 4 missing") {
		t.Errorf("merge without shard 3: exit %d, want 2 saying it is missing:\n%s", code, out)
	}
	if code, out := exitCode(t, ctx, "merge", dirs[0], dirs[1], dirs[2], dirs[3], dirs[1], "--out", filepath.Join(root, "twice")); code != 2 || !strings.Contains(out, "given twice") {
		t.Errorf("merge with shard 1 twice: exit %d, want 2 saying so:\n%s", code, out)
	}
	merged := filepath.Join(root, "merged")
	if code, out := exitCode(t, ctx, "merge", dirs[3], dirs[1], dirs[0], dirs[2], "--out", merged); code != 0 {
		t.Fatalf("merge: exit %d\n%s", code, out)
	}

	ref := rundir.RunPath("default", 1)
	var raw hist.Histogram
	for _, d := range dirs {
		for _, r := range results(t, filepath.Join(d, ref)) {
			raw.Record(r.Latency)
		}
	}
	got := results(t, filepath.Join(merged, ref))
	want := shardRate * shardDuration.Seconds()
	t.Logf("merged: %d requests (want %.0f), raw %d", len(got), want, raw.Count())
	if n := float64(len(got)); math.Abs(n-want) > 0.01*want || int64(len(got)) != raw.Count() {
		t.Errorf("merged run has %d requests, the shards %d; want both within 1%% of %.0f", len(got), raw.Count(), want)
	}
	// The classes are the single process's: class(k) from --seed 1 and k.
	tg, err := attack.NewTargeter([]attack.Class{{Name: "light", Weight: 9, URL: "http://127.0.0.1/light"}, {Name: "other", Weight: 1, URL: "http://127.0.0.1/light?n=2"}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantLight := 0
	for k := range uint64(want) {
		if tg.ClassAt(nil, 1, k) == 0 {
			wantLight++
		}
	}
	gotLight := 0
	for _, r := range got {
		if r.Attack == "light" {
			gotLight++
		}
	}
	t.Logf("class light: %d of the merged run's requests, %d of the single-process plan's", gotLight, wantLight)
	if missed := int(want) - len(got); gotLight < wantLight-max(missed, 0) || gotLight > wantLight {
		t.Errorf("merged run has %d light requests, the single-process plan %d (%d requests missing)", gotLight, wantLight, max(missed, 0))
	}

	var bad []string
	lo, hi := math.Inf(1), math.Inf(-1)
	if err := rundir.EachTimeline(filepath.Join(merged, ref, rundir.TimelineFile), func(row rundir.TimelineRow) error {
		if row.Class != "all" || row.T >= shardDuration.Seconds() {
			return nil
		}
		rate := float64(row.Count) / row.Interval
		lo, hi = math.Min(lo, rate), math.Max(hi, rate)
		if math.Abs(rate-shardRate) > 0.05*shardRate {
			bad = append(bad, fmt.Sprintf("t=%gs: %.0f req/s", row.T, rate))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("merged per-second rate from %.0f to %.0f req/s", lo, hi)
	if len(bad) > 0 {
		t.Errorf("merged per-second rate off by more than 5%% of %.0f req/s: %s", shardRate, strings.Join(bad, ", "))
	}

	rep, err := reports.Build(merged, reports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all := class(t, variant(t, rep, "default"), analysis.AllClass)
	for _, q := range []struct {
		name string
		got  float64
		q    float64
	}{{"p50", all.Latency.P50, 0.5}, {"p90", all.Latency.P90, 0.9}, {"p99", all.Latency.P99, 0.99}, {"p99.9", all.Latency.P999, 0.999}} {
		if w := raw.Quantile(q.q).Seconds(); q.got != w {
			t.Errorf("merged report %s = %v, from the shards' raw results %v", q.name, q.got, w)
		}
	}
	if all.Count != raw.Count() {
		t.Errorf("merged report counts %d requests, the shards' results %d", all.Count, raw.Count())
	}
	t.Logf("merged p50 %.3fms p99 %.3fms", 1000*all.Latency.P50, 1000*all.Latency.P99)
}
