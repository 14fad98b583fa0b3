package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestExitStatus checks the exit statuses the CLI promises: 0 ok, 2 for
// bad usage or input, whether flags come before or after the arguments.
func TestExitStatus(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\ntraffic: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	nan := filepath.Join(t.TempDir(), "nan.yaml")
	data, err := os.ReadFile("../../scenarios/shipped/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nan, []byte(strings.Replace(string(data), "rate: 120\n", "rate: .nan\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"validate", "quickstart"}, 0},
		{[]string{"validate", "quickstart", "--set", "max_requests=5", "--set", "workers=3"}, 0},
		{[]string{"validate", "--set", "max_requests=-5", "quickstart"}, 2},
		{[]string{"validate", "quickstart", "--set", "max_requests=-5"}, 2},
		{[]string{"validate", "quickstart", "--set", "bogus=1"}, 2},
		{[]string{"validate", bad}, 2},
		{[]string{"validate", nan}, 2},
		{[]string{"validate", "offload", "--set", "worker_model=sync"}, 2},
		{[]string{"run", nan}, 2},
		{[]string{"report", "--alpha", "NaN", "../../reports/testdata/run"}, 2},
		{[]string{"compare", "--alpha", "NaN", "../../reports/testdata/run", "../../reports/testdata/run"}, 2},
		{[]string{"validate"}, 2},
		{[]string{"run", "no-such-scenario"}, 2},
		{[]string{"report", "--format", "pdf", "x"}, 2},
		{[]string{"report", filepath.Join(t.TempDir(), "no-run")}, 2},
		{[]string{"report", "--baseline", "nope", "../../reports/testdata/run"}, 2},
		{[]string{"compare", "../../reports/testdata/run", filepath.Join(t.TempDir(), "no-run")}, 2},
		{[]string{"plan", "../../reports/testdata/run"}, 2},
		{[]string{"plan", "../../reports/testdata/run", "--worker-rss-budget", "lots"}, 2},
		{[]string{"plan", "../../reports/testdata/run", "--worker-rss-budget", "300MiB", "--format", "pdf"}, 2},
		{[]string{"plan", filepath.Join(t.TempDir(), "no-run"), "--worker-rss-budget", "300MiB"}, 2},
		{[]string{"plan", "../../reports/testdata/run", "--worker-rss-budget", "300MiB"}, 1}, // no-recycling: no worker header
		{[]string{"plan", "../../reports/testdata/run", "--worker-rss-budget", "300MiB", "--variant", "max-requests", "--format", "json"}, 0},
		{[]string{"serve", "--workers", "-1"}, 2},
		{[]string{"serve", "--worker-model", "bogus"}, 2},
		{[]string{"serve", "--max-rss", "12 parsecs"}, 2},
		{[]string{"--no-such-flag"}, 2},
	} {
		got := exitCode(t, tc.args...)
		if got != tc.want {
			t.Errorf("sawtooth %q: exit %d, want %d", tc.args, got, tc.want)
		}
	}
}

// TestUnknownCommand checks that an unknown command exits 2.
func TestUnknownCommand(t *testing.T) {
	if got := exitCode(t, "bogus"); got != 2 {
		t.Errorf("sawtooth bogus: exit %d, want 2", got)
	}
}

// exitCode runs the CLI with args and returns its exit status, whether run
// returned it or urfave/cli called cli.OsExiter (which it does for some
// usage errors instead of returning).
func exitCode(t *testing.T, args ...string) int {
	t.Helper()
	exited := -1
	old := cli.OsExiter
	cli.OsExiter = func(code int) { exited = code }
	defer func() { cli.OsExiter = old }()
	got := run(append([]string{"sawtooth"}, args...))
	if exited >= 0 {
		return exited
	}
	return got
}
