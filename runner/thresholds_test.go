package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// TestRecordsThresholds: a run records its scenario's thresholds in
// thresholds.json, parsed (metric, op, limit in the base unit), so that
// reports need not parse scenario.yaml to evaluate them.
func TestRecordsThresholds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	yml := fmt.Sprintf(`name: thresholds
target:
  url:
    base_url: %s
traffic: [{name: light, weight: 1, path: /}]
phases: [{duration: 500ms, rate: 20}]
thresholds: ["light.p99 < 250ms", "errors.ratio <= 1%%"]
`, srv.URL)
	s, err := scenarios.Parse([]byte(yml), "thresholds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Dir: filepath.Join(t.TempDir(), "run"), Seed: 7, Timeout: 5 * time.Second, CommandLine: []string{"test"}}
	res, err := Run(context.Background(), s, opt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rundir.ReadThresholds(filepath.Join(res.Dir, rundir.ThresholdsFile))
	if err != nil {
		t.Fatal(err)
	}
	want := []rundir.Threshold{
		{Expr: "light.p99 < 250ms", Metric: "light.p99", Op: "<", Limit: 0.25},
		{Expr: "errors.ratio <= 1%", Metric: "errors.ratio", Op: "<=", Limit: 0.01},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("thresholds.json = %+v, want %+v", got, want)
	}
}
