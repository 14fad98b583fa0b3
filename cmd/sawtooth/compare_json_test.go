package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// TestCompareJSON checks "compare --format json" on a run compared with
// itself: valid JSON with every delta, no regression, exit 0.
func TestCompareJSON(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "compare", "../../reports/testdata/run", "../../reports/testdata/run", "--format", "json")
	cmd.Env = append(os.Environ(), cliEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("compare: %v\n%s", err, out)
	}
	var res compareJSON
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if res.Scenario != "fixture" || len(res.Deltas) < 10 || res.Regressions == nil || len(res.Regressions) != 0 || res.MaxRegression != 0.1 {
		t.Errorf("result: scenario %q, %d deltas, regressions %v, max %v", res.Scenario, len(res.Deltas), res.Regressions, res.MaxRegression)
	}
	for _, d := range res.Deltas {
		if d.Change != "same" {
			t.Errorf("%s %s: change %q comparing a run with itself", d.Variant, d.Metric, d.Change)
		}
	}
}
